// NoSchedule and NoExecute taints keep out pods that do not tolerate them;
// PreferNoSchedule taints only lower a node's score (upstream TaintToleration).
import type { Node, Toleration } from '@kube-lite/api';
import {
  ActionType,
  Status,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type MaybeStatus,
  type NodeScore,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';
import { defaultNormalizeScore } from '../helpers/normalize';
import { findUntoleratedTaint, toleratesTaint, untoleratedTaintReason } from '../helpers/tolerations';

export const NAME = 'TaintToleration';
const PRE_SCORE_KEY = `PreScore${NAME}`;
const FILTER_EFFECTS = ['NoSchedule', 'NoExecute'] as const;

export class TaintToleration implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus {
    const taint = findUntoleratedTaint(node.node?.spec?.taints, pod.pod.spec?.tolerations, FILTER_EFFECTS);
    return taint ? Status.unresolvable(untoleratedTaintReason(taint)) : undefined;
  }

  /** Only tolerations that can tolerate PreferNoSchedule matter for scoring. */
  preScore(state: CycleState, pod: PodInfo): MaybeStatus {
    const tolerations = (pod.pod.spec?.tolerations ?? []).filter((t) => !t.effect || t.effect === 'PreferNoSchedule');
    state.write(PRE_SCORE_KEY, tolerations);
    return undefined;
  }

  /** The number of PreferNoSchedule taints the pod does not tolerate. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const tolerations = state.read<Toleration[]>(PRE_SCORE_KEY) ?? pod.pod.spec?.tolerations ?? [];
    let count = 0;
    for (const taint of node.node?.spec?.taints ?? []) {
      if (taint.effect !== 'PreferNoSchedule') continue;
      if (!tolerations.some((toleration) => toleratesTaint(toleration, taint))) count++;
    }
    return count;
  }

  /** Fewer intolerable taints is better. */
  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): MaybeStatus {
    defaultNormalizeScore(scores, true);
    return undefined;
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeTaint },
        hint: (pod, _old, newNode) => (findUntoleratedTaint((newNode as Node).spec?.taints, pod.spec?.tolerations, FILTER_EFFECTS) ? 'QueueSkip' : 'Queue'),
      },
    ];
  }
}

export function newTaintToleration(): TaintToleration {
  return new TaintToleration();
}
