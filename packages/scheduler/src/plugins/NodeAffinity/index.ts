// spec.nodeSelector and required node affinity filter nodes; preferred
// node affinity terms add their weights to a node's score (upstream NodeAffinity).
import type { Node, NodeSelectorTerm, Pod, PreferredSchedulingTerm } from '@kube-lite/api';
import {
  ActionType,
  Status,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type MaybeStatus,
  type NodeScore,
  type PreFilterPlugin,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';
import { defaultNormalizeScore } from '../helpers/normalize';
import { nodeSelectorMapMatches, nodeSelectorTermMatches, nodeSelectorTermsMatch } from '@kube-lite/api';

export const NAME = 'NodeAffinity';
export const REASON_POD = "node(s) didn't match Pod's node affinity/selector";
const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

interface RequiredAffinity {
  nodeSelector: Readonly<Record<string, string>> | undefined;
  /** Undefined when the pod has no required node affinity (an empty list matches nothing). */
  terms: readonly NodeSelectorTerm[] | undefined;
}

function requiredAffinity(pod: Pod): RequiredAffinity | undefined {
  const nodeSelector = pod.spec?.nodeSelector && Object.keys(pod.spec.nodeSelector).length > 0 ? pod.spec.nodeSelector : undefined;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!nodeSelector && !terms) return undefined;
  return { nodeSelector, terms };
}

function matches(required: RequiredAffinity, node: Node): boolean {
  if (required.nodeSelector && !nodeSelectorMapMatches(required.nodeSelector, node)) return false;
  if (required.terms && !nodeSelectorTermsMatch(required.terms, node)) return false;
  return true;
}

export class NodeAffinity implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;

  preFilter(state: CycleState, pod: PodInfo): MaybeStatus {
    const required = requiredAffinity(pod.pod);
    if (!required) return Status.skip();
    state.write(PRE_FILTER_KEY, required);
    return undefined;
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus {
    const required = state.read<RequiredAffinity>(PRE_FILTER_KEY) ?? requiredAffinity(pod.pod);
    if (!required || !node.node) return undefined;
    return matches(required, node.node) ? undefined : Status.unresolvable(REASON_POD);
  }

  preScore(state: CycleState, pod: PodInfo): MaybeStatus {
    const preferred = pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    // Upstream ignores terms of weight 0.
    const terms = preferred.filter((term) => term.weight !== 0);
    if (terms.length === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, terms);
    return undefined;
  }

  /** The sum of the weights of the preferred terms the node matches. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const terms = state.read<PreferredSchedulingTerm[]>(PRE_SCORE_KEY) ?? pod.pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    let total = 0;
    if (!node.node) return 0;
    for (const term of terms) if (nodeSelectorTermMatches(term.preference, node.node)) total += term.weight;
    return total;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): MaybeStatus {
    defaultNormalizeScore(scores, false);
    return undefined;
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeLabel },
        hint: (pod, _old, newNode) => {
          const required = requiredAffinity(pod);
          return !required || matches(required, newNode as Node) ? 'Queue' : 'QueueSkip';
        },
      },
    ];
  }
}

export function newNodeAffinity(): NodeAffinity {
  return new NodeAffinity();
}
