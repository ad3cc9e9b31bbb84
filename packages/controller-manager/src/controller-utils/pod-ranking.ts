// Which pods a ReplicaSet deletes first when it scales down: the least
// valuable, in upstream's ActivePodsWithRanks order.
import { getPodCondition, isPodReady, parseTime, type Pod } from '@kube-lite/api';

/** Pods with a lower cost are deleted first (upstream's pod-deletion-cost annotation). */
export const POD_DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function deletionCost(pod: Pod): number {
  const value = Number(pod.metadata?.annotations?.[POD_DELETION_COST_ANNOTATION] ?? '0');
  return Number.isInteger(value) ? value : 0;
}

function restarts(pod: Pod): number {
  return Math.max(0, ...(pod.status?.containerStatuses ?? []).map((status) => status.restartCount));
}

/**
 * Negative when `a` should be deleted before `b`. `sameNodeCount` says how
 * many of the controller's pods share each pod's node: doubled-up pods go
 * first so the survivors stay spread.
 */
export function compareForDeletion(a: Pod, b: Pod, sameNodeCount: (pod: Pod) => number): number {
  // 1. Unassigned before assigned.
  const assignedA = a.spec?.nodeName ? 1 : 0;
  const assignedB = b.spec?.nodeName ? 1 : 0;
  if (assignedA !== assignedB) return assignedA - assignedB;
  // 2. Pending < Unknown < Running.
  const phaseA = PHASE_RANK[a.status?.phase ?? 'Pending'] ?? 0;
  const phaseB = PHASE_RANK[b.status?.phase ?? 'Pending'] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  // 3. Not ready before ready.
  const readyA = isPodReady(a) ? 1 : 0;
  const readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  // 4. Lower deletion cost first.
  if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
  // 5. Pods doubled up on a node first.
  if (sameNodeCount(a) !== sameNodeCount(b)) return sameNodeCount(b) - sameNodeCount(a);
  // 6. Ready for less time first.
  if (readyA === 1) {
    const sinceA = parseTime(getPodCondition(a, 'Ready')?.lastTransitionTime ?? undefined) ?? 0;
    const sinceB = parseTime(getPodCondition(b, 'Ready')?.lastTransitionTime ?? undefined) ?? 0;
    if (sinceA !== sinceB) return sinceB - sinceA;
  }
  // 7. More restarts first.
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  // 8. Newer first (no creation time counts as newest).
  const createdA = parseTime(a.metadata?.creationTimestamp ?? undefined) ?? Number.MAX_SAFE_INTEGER;
  const createdB = parseTime(b.metadata?.creationTimestamp ?? undefined) ?? Number.MAX_SAFE_INTEGER;
  if (createdA !== createdB) return createdB - createdA;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** The `count` pods to delete first. */
export function podsToDelete(pods: readonly Pod[], count: number): Pod[] {
  const perNode = new Map<string, number>();
  for (const pod of pods) {
    const node = pod.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const sameNode = (pod: Pod): number => (pod.spec?.nodeName ? (perNode.get(pod.spec.nodeName) ?? 0) : 0);
  return [...pods].sort((a, b) => compareForDeletion(a, b, sameNode)).slice(0, count);
}
