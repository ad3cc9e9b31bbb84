// Keeps pods off cordoned nodes (spec.unschedulable), unless the pod
// tolerates the node.kubernetes.io/unschedulable:NoSchedule taint, as upstream.
import { ActionType, Status, type ClusterEventWithHint, type EnqueueExtensions, type FilterPlugin, type MaybeStatus } from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';
import type { Node, Pod } from '@kube-lite/api';
import { tolerationsTolerateTaint } from '../helpers/tolerations';

export const NAME = 'NodeUnschedulable';
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';

function fits(pod: Pod, node: Node | undefined): boolean {
  if (!node?.spec?.unschedulable) return true;
  return tolerationsTolerateTaint(pod.spec?.tolerations, { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' });
}

export class NodeUnschedulable implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: unknown, pod: PodInfo, node: NodeInfo): MaybeStatus {
    return fits(pod.pod, node.node) ? undefined : Status.unresolvable(REASON_UNSCHEDULABLE);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [{ event: { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeTaint }, hint: (pod, _old, newNode) => (fits(pod, newNode as Node) ? 'Queue' : 'QueueSkip') }];
  }
}

export function newNodeUnschedulable(): NodeUnschedulable {
  return new NodeUnschedulable();
}
