// kube-lite's stand-in for the taints upstream's node lifecycle controller
// puts on nodes whose Ready condition is not True (TaintNodesByCondition):
// node.kubernetes.io/not-ready:NoSchedule when Ready=False and
// node.kubernetes.io/unreachable:NoSchedule when Ready=Unknown or missing.
// Upstream has no such filter (CheckNodeCondition was removed in 1.17); the
// scheduler relies on those taints. Reading the condition directly keeps
// pods off a dead node even before (or without) a controller tainting it,
// and the reason is worded exactly as TaintToleration would word the taint,
// so users read the same message as upstream. Pods tolerating the taint
// (e.g. DaemonSet pods) pass. A node already tainted is reported by
// TaintToleration, which runs first.
import { NOT_READY_TAINT_KEY, UNREACHABLE_TAINT_KEY, type Node, type Pod } from '@kube-lite/api';
import { ActionType, Status, type ClusterEventWithHint, type EnqueueExtensions, type FilterPlugin, type MaybeStatus } from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';
import { tolerationsTolerateTaint, untoleratedTaintReason } from '../helpers/tolerations';

export const NAME = 'NodeReady';

/** The taint key the node lifecycle controller would set for this node, or undefined when it is Ready. */
export function impliedNotReadyTaintKey(node: Node | undefined): string | undefined {
  // A plain loop, not find(): this runs for hundreds of nodes per pod, and the callback was a measurable share.
  let status: string | undefined;
  for (const condition of node?.status?.conditions ?? []) {
    if (condition.type !== 'Ready') continue;
    status = condition.status;
    break;
  }
  if (status === 'True') return undefined;
  return status === 'False' ? NOT_READY_TAINT_KEY : UNREACHABLE_TAINT_KEY;
}

function untoleratedKey(pod: Pod, node: Node | undefined): string | undefined {
  const key = impliedNotReadyTaintKey(node);
  if (key === undefined) return undefined;
  return tolerationsTolerateTaint(pod.spec?.tolerations, { key, effect: 'NoSchedule' }) ? undefined : key;
}

export class NodeReady implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: unknown, pod: PodInfo, node: NodeInfo): MaybeStatus {
    const key = untoleratedKey(pod.pod, node.node);
    return key === undefined ? undefined : Status.unresolvable(untoleratedTaintReason({ key }));
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      {
        event: { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeCondition },
        hint: (pod, _old, newNode) => (untoleratedKey(pod, newNode as Node) === undefined ? 'Queue' : 'QueueSkip'),
      },
    ];
  }
}

export function newNodeReady(): NodeReady {
  return new NodeReady();
}
