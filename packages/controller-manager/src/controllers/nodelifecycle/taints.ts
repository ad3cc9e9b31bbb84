// Node taints the lifecycle controller manages, and toleration matching
// (upstream's v1helper ToleratesTaint), kept free of I/O for table tests.
import { NOT_READY_TAINT_KEY, UNREACHABLE_TAINT_KEY, type Node, type NodeCondition, type Taint, type Toleration } from '@kube-lite/api';

export { NOT_READY_TAINT_KEY, UNREACHABLE_TAINT_KEY };
export const MEMORY_PRESSURE_TAINT_KEY = 'node.kubernetes.io/memory-pressure';
export const DISK_PRESSURE_TAINT_KEY = 'node.kubernetes.io/disk-pressure';
export const PID_PRESSURE_TAINT_KEY = 'node.kubernetes.io/pid-pressure';
export const NETWORK_UNAVAILABLE_TAINT_KEY = 'node.kubernetes.io/network-unavailable';
export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';

/** Condition -> NoSchedule taint, as upstream's nodeConditionToTaintKeyStatusMap. */
const NO_SCHEDULE_BY_CONDITION: { type: string; status: NodeCondition['status']; key: string }[] = [
  { type: 'Ready', status: 'False', key: NOT_READY_TAINT_KEY },
  { type: 'Ready', status: 'Unknown', key: UNREACHABLE_TAINT_KEY },
  { type: 'MemoryPressure', status: 'True', key: MEMORY_PRESSURE_TAINT_KEY },
  { type: 'DiskPressure', status: 'True', key: DISK_PRESSURE_TAINT_KEY },
  { type: 'PIDPressure', status: 'True', key: PID_PRESSURE_TAINT_KEY },
  { type: 'NetworkUnavailable', status: 'True', key: NETWORK_UNAVAILABLE_TAINT_KEY },
];

const MANAGED: { key: string; effect: Taint['effect'] }[] = [
  { key: NOT_READY_TAINT_KEY, effect: 'NoExecute' },
  { key: UNREACHABLE_TAINT_KEY, effect: 'NoExecute' },
  ...NO_SCHEDULE_BY_CONDITION.map(({ key }) => ({ key, effect: 'NoSchedule' as const })),
  { key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' },
];

const isManaged = (taint: Taint): boolean => MANAGED.some((managed) => managed.key === taint.key && managed.effect === taint.effect);

/** The taints the node should carry given its conditions: its own taints kept, ours added or removed. `nowText` stamps new NoExecute taints. */
export function desiredTaints(node: Node, nowText: string): Taint[] {
  const conditions = node.status?.conditions ?? [];
  const status = (type: string): string | undefined => conditions.find((condition) => condition.type === type)?.status;
  const wanted: Taint[] = [];
  const ready = status('Ready');
  if (ready === 'False') wanted.push({ key: NOT_READY_TAINT_KEY, effect: 'NoExecute' });
  if (ready === 'Unknown') wanted.push({ key: UNREACHABLE_TAINT_KEY, effect: 'NoExecute' });
  for (const rule of NO_SCHEDULE_BY_CONDITION) if (status(rule.type) === rule.status) wanted.push({ key: rule.key, effect: 'NoSchedule' });
  if (node.spec?.unschedulable === true) wanted.push({ key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule' });
  const existing = node.spec?.taints ?? [];
  const kept = existing.filter((taint) => !isManaged(taint) || wanted.some((w) => w.key === taint.key && w.effect === taint.effect));
  for (const taint of wanted) {
    if (kept.some((k) => k.key === taint.key && k.effect === taint.effect)) continue;
    kept.push(taint.effect === 'NoExecute' ? { ...taint, timeAdded: nowText } : taint);
  }
  return kept;
}

/** Whether `toleration` tolerates `taint` (key, operator Exists/Equal, value, effect). */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  // An empty key with Exists tolerates everything.
  if (toleration.operator === 'Exists') return true;
  if (!toleration.key) return false;
  return (toleration.value ?? '') === (taint.value ?? '');
}

/**
 * When a pod on a node with these NoExecute taints must be evicted, in epoch
 * ms: now for a taint it does not tolerate, the taint's timeAdded plus the
 * matching toleration's tolerationSeconds, or never (Infinity).
 */
export function evictionDeadlineMs(taints: readonly Taint[], tolerations: readonly Toleration[], nowMs: number, taintAddedMs: (taint: Taint) => number): number {
  let deadline = Infinity;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const toleration = tolerations.find((candidate) => tolerates(candidate, taint));
    if (toleration === undefined) return nowMs;
    if (toleration.tolerationSeconds === undefined) continue;
    deadline = Math.min(deadline, taintAddedMs(taint) + Math.max(0, toleration.tolerationSeconds) * 1000);
  }
  return deadline;
}
