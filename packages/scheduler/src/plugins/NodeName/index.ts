// A pod that names its node (spec.nodeName) fits only that node.
import { ActionType, Status, type ClusterEventWithHint, type EnqueueExtensions, type FilterPlugin, type MaybeStatus } from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';

export const NAME = 'NodeName';
export const REASON_NODE_NAME = "node(s) didn't match the requested node name";

export class NodeName implements FilterPlugin, EnqueueExtensions {
  readonly name = NAME;

  filter(_state: unknown, pod: PodInfo, node: NodeInfo): MaybeStatus {
    const wanted = pod.pod.spec?.nodeName;
    return !wanted || wanted === node.name ? undefined : Status.unresolvable(REASON_NODE_NAME);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [{ event: { resource: 'Node', actions: ActionType.Add } }];
  }
}

export function newNodeName(): NodeName {
  return new NodeName();
}
