// Cluster events that may make an unschedulable pod schedulable, and the
// hints plugins give the queue about them (upstream's EnqueueExtensions and
// QueueingHint), so a pod is retried only when something relevant changed.
import { jsonEqual, type Node, type Pod } from '@kube-lite/api';

export type EventResource =
  /** Nodes. */
  | 'Node'
  /** Pods bound to a node (their deletion frees resources and ports). */
  | 'AssignedPod'
  /** Pods not bound yet (an update of the pod itself). */
  | 'UnscheduledPod'
  /** Claims, volumes and classes: a pod waiting for its storage may fit once they change. */
  | 'PersistentVolumeClaim'
  | 'PersistentVolume'
  | 'StorageClass';

/** Bit flags, so a plugin registers several actions at once and a node update can carry several. */
export const ActionType = {
  Add: 1,
  Delete: 2,
  UpdateNodeAllocatable: 4,
  UpdateNodeLabel: 8,
  /** Taints, and spec.unschedulable, which upstream also files under taints. */
  UpdateNodeTaint: 16,
  UpdateNodeCondition: 32,
  UpdateNodeAnnotation: 64,
  UpdatePodLabel: 128,
  UpdatePodScaleDown: 256,
  /** Any other change of a pod's spec. */
  UpdatePodOther: 512,
} as const;
/** Any update. */
export const UPDATE_ACTIONS = 4 | 8 | 16 | 32 | 64 | 128 | 256 | 512;
export const ALL_ACTIONS = 1 | 2 | UPDATE_ACTIONS;

export interface ClusterEvent {
  resource: EventResource;
  /** A combination of ActionType flags. */
  actions: number;
  /** For logs and metrics, e.g. "NodeAdd". */
  label?: string;
}

/** What a plugin tells the queue about one event for one pod it rejected. */
export type QueueingHint = 'Queue' | 'QueueSkip';

export type QueueingHintFunction = (pod: Pod, oldObject: unknown, newObject: unknown) => QueueingHint;

export interface ClusterEventWithHint {
  event: ClusterEvent;
  /** Absent: every matching event requeues the pod. */
  hint?: QueueingHintFunction;
}

/** True when `incoming` is one of the events `registered` asks for. */
export function eventMatches(registered: ClusterEvent, incoming: ClusterEvent): boolean {
  return registered.resource === incoming.resource && (registered.actions & incoming.actions) !== 0;
}

function conditionStatuses(node: Node | undefined): string {
  return (node?.status?.conditions ?? [])
    .map((condition) => `${condition.type}=${condition.status}`)
    .sort()
    .join(',');
}

/** The actions a node update amounts to, for the scheduler (upstream nodeSchedulingPropertiesChange). */
export function nodeUpdateActions(oldNode: Node, newNode: Node): number {
  let actions = 0;
  if (!jsonEqual(oldNode.status?.allocatable ?? {}, newNode.status?.allocatable ?? {})) actions |= ActionType.UpdateNodeAllocatable;
  if (!jsonEqual(oldNode.metadata?.labels ?? {}, newNode.metadata?.labels ?? {})) actions |= ActionType.UpdateNodeLabel;
  if (
    !jsonEqual(oldNode.spec?.taints ?? [], newNode.spec?.taints ?? []) ||
    (oldNode.spec?.unschedulable ?? false) !== (newNode.spec?.unschedulable ?? false)
  ) {
    actions |= ActionType.UpdateNodeTaint;
  }
  if (conditionStatuses(oldNode) !== conditionStatuses(newNode)) actions |= ActionType.UpdateNodeCondition;
  if (!jsonEqual(oldNode.metadata?.annotations ?? {}, newNode.metadata?.annotations ?? {})) actions |= ActionType.UpdateNodeAnnotation;
  return actions;
}

export function nodeAddEvent(): ClusterEvent {
  return { resource: 'Node', actions: ActionType.Add, label: 'NodeAdd' };
}

export function nodeUpdateEvent(oldNode: Node, newNode: Node): ClusterEvent | undefined {
  const actions = nodeUpdateActions(oldNode, newNode);
  return actions === 0 ? undefined : { resource: 'Node', actions, label: 'NodeUpdate' };
}

/** A bound pod went away or terminated: its node has room again. */
export function assignedPodDeleteEvent(): ClusterEvent {
  return { resource: 'AssignedPod', actions: ActionType.Delete, label: 'AssignedPodDelete' };
}
