// The arithmetic of a DaemonSet rolling update (upstream daemon/update.go
// rollingUpdate), pure: which old pods to delete and on which nodes to
// start new pods so that at most maxUnavailable nodes lack an available
// daemon pod (maxSurge 0: delete first, the manage pass recreates), or at
// most maxSurge nodes run a second, new pod next to the old one (maxSurge
// > 0: create first, delete the old pod once the new one is available).
import { isPodAvailable, scaledValueFromIntOrPercent, type DaemonSet, type Node, type Pod } from '@kube-lite/api';
import { isPodUpdated, nodeShouldRunDaemonPod } from './placement';

export interface RollingPlan {
  /** Old pods to delete now. */
  deletePods: Pod[];
  /** Nodes to start a new pod on next to the old one (surge). */
  createOnNodes: string[];
  maxSurge: number;
  maxUnavailable: number;
}

/** maxSurge and maxUnavailable resolved against the nodes that should run the pod (both round up; 0 and 0 means maxUnavailable 1). */
export function resolveRollingLimits(ds: DaemonSet, desiredNumberScheduled: number): { maxSurge: number; maxUnavailable: number } {
  const rolling = ds.spec?.updateStrategy?.rollingUpdate;
  const maxSurge = scaledValueFromIntOrPercent(rolling?.maxSurge ?? 0, desiredNumberScheduled, true);
  let maxUnavailable = scaledValueFromIntOrPercent(rolling?.maxUnavailable ?? 1, desiredNumberScheduled, true);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/** Whether the DaemonSet may run two pods on a node during an update (upstream AllowsSurge). */
export function allowsSurge(ds: DaemonSet): boolean {
  if (ds.spec?.updateStrategy?.type === 'OnDelete') return false;
  try {
    return scaledValueFromIntOrPercent(ds.spec?.updateStrategy?.rollingUpdate?.maxSurge ?? 0, 1, true) !== 0;
  } catch {
    return false;
  }
}

/** The node's new and old pod, ignoring terminating ones; undefined when it has two of either kind (the manage pass sorts that out). */
function podsOnNode(ds: DaemonSet, pods: readonly Pod[], hash: string): { newPod: Pod | undefined; oldPod: Pod | undefined } | undefined {
  let newPod: Pod | undefined;
  let oldPod: Pod | undefined;
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp !== undefined) continue;
    if (isPodUpdated(ds, pod, hash)) {
      if (newPod !== undefined) return undefined;
      newPod = pod;
    } else {
      if (oldPod !== undefined) return undefined;
      oldPod = pod;
    }
  }
  return { newPod, oldPod };
}

export function planRollingUpdate(ds: DaemonSet, nodes: readonly Node[], podsByNode: ReadonlyMap<string, Pod[]>, hash: string, nowMs: number): RollingPlan {
  const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
  const available = (pod: Pod): boolean => isPodAvailable(pod, minReadySeconds, nowMs);
  // Every node that should run the pod counts, with or without one.
  const byNode = new Map(podsByNode);
  let desired = 0;
  for (const node of nodes) {
    if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
    desired += 1;
    const name = node.metadata?.name ?? '';
    if (!byNode.has(name)) byNode.set(name, []);
  }
  const { maxSurge, maxUnavailable } = resolveRollingLimits(ds, desired);
  const nodeNames = [...byNode.keys()].sort();
  const deletePods: Pod[] = [];
  const createOnNodes: string[] = [];

  if (maxSurge === 0) {
    let unavailable = 0;
    const candidates: Pod[] = [];
    for (const nodeName of nodeNames) {
      const found = podsOnNode(ds, byNode.get(nodeName) ?? [], hash);
      if (found === undefined) {
        unavailable += 1;
        continue;
      }
      const { newPod, oldPod } = found;
      if ((newPod === undefined) === (oldPod === undefined)) unavailable += 1;
      else if (newPod !== undefined) {
        if (!available(newPod)) unavailable += 1;
      } else if (oldPod !== undefined) {
        // An old pod that is not available anyway may be replaced at no cost.
        if (!available(oldPod)) deletePods.push(oldPod);
        else candidates.push(oldPod);
      }
    }
    const budget = Math.max(0, maxUnavailable - unavailable);
    deletePods.push(...candidates.slice(0, budget));
    return { deletePods, createOnNodes, maxSurge, maxUnavailable };
  }

  // Surge: nodes already running a new pod that is not yet available use up the budget first.
  const nodesByName = new Map(nodes.map((node) => [node.metadata?.name ?? '', node]));
  let surging = 0;
  const found = new Map(nodeNames.map((nodeName) => [nodeName, podsOnNode(ds, byNode.get(nodeName) ?? [], hash)]));
  for (const pods of found.values()) if (pods?.newPod !== undefined && pods.oldPod !== undefined && !available(pods.newPod)) surging += 1;
  for (const nodeName of nodeNames) {
    const pods = found.get(nodeName);
    if (pods === undefined || pods.oldPod === undefined) continue;
    const { newPod, oldPod } = pods;
    if (newPod === undefined) {
      if (!available(oldPod)) {
        const node = nodesByName.get(nodeName);
        // An unavailable old pod on a node it no longer fits just goes; elsewhere it is replaced regardless of the budget.
        if (node === undefined || !nodeShouldRunDaemonPod(node, ds).shouldRun) deletePods.push(oldPod);
        else createOnNodes.push(nodeName);
      } else if (surging < maxSurge) {
        createOnNodes.push(nodeName);
        surging += 1;
      }
    } else if (available(newPod)) {
      deletePods.push(oldPod);
    }
  }
  return { deletePods, createOnNodes, maxSurge, maxUnavailable };
}
