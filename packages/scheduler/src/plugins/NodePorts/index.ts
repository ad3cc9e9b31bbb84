// A pod asking for host ports fits only where those ports are free (upstream NodePorts).
import { ActionType, Status, type ClusterEventWithHint, type CycleState, type EnqueueExtensions, type FilterPlugin, type MaybeStatus, type PreFilterPlugin } from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';

export const NAME = 'NodePorts';
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";

export class NodePorts implements PreFilterPlugin, FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  /** Pods without host ports skip the Filter (most pods). */
  preFilter(_state: CycleState, pod: PodInfo): MaybeStatus {
    return pod.hostPorts.length === 0 ? Status.skip() : undefined;
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus {
    for (const port of pod.hostPorts) if (node.usedPorts.conflicts(port)) return Status.unschedulable(REASON_PORTS);
    return undefined;
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [{ event: { resource: 'AssignedPod', actions: ActionType.Delete } }, { event: { resource: 'Node', actions: ActionType.Add } }];
  }
}

export function newNodePorts(): NodePorts {
  return new NodePorts();
}
