// Upstream's replica calculator for resource metrics: from the pods'
// usage (in milli-units) and requests, the replica count that brings the
// average to the target. Pods being deleted or failed are ignored; pending
// pods, and for CPU pods not yet ready (or whose sample overlaps their
// readiness change during the first minutes), are left out and count as 0
// only when that makes a scale-up smaller; pods without a sample count as 0
// on a scale-up and as the full request (or target) on a scale-down, so
// missing figures never push harder than the figures we have. Within the
// tolerance nothing changes. No I/O and no clock of its own.

import { getPodCondition, parseQuantity, parseTime, type Pod } from '@kube-lite/api';

/** One pod's usage sample, as the metrics API reported it. */
export interface PodMetric {
  /** Usage in milli-units: millicores, or milli-bytes for memory. */
  valueMilli: number;
  timestampMs: number;
  windowMs: number;
}

/** By pod name. */
export type PodMetricsInfo = Map<string, PodMetric>;

/** How far the usage ratio may stray from 1 before the replica count changes, on each side. */
export interface Tolerances {
  scaleDown: number;
  scaleUp: number;
}

export interface ReplicaCalculatorSettings {
  tolerances: Tolerances;
  /** CPU samples of pods started this recently are trusted only once taken a whole window after readiness (--horizontal-pod-autoscaler-cpu-initialization-period). */
  cpuInitializationPeriodMs: number;
  /** A pod not ready and never ready since this long after its start is left out (--horizontal-pod-autoscaler-initial-readiness-delay). */
  initialReadinessDelayMs: number;
  nowMs: number;
}

/** The replica count could not be computed: the message goes into the HPA's conditions and events. */
export class ReplicaCalculationError extends Error {
  override readonly name = 'ReplicaCalculationError';
}

export interface ResourceReplicas {
  replicas: number;
  /** Average utilization of the requests, in percent (Utilization targets only). */
  utilizationPercent?: number;
  /** Average usage per pod, in milli-units. */
  averageMilli: number;
}

function isWithin(ratio: number, tolerances: Tolerances): boolean {
  return 1 - tolerances.scaleDown <= ratio && ratio <= 1 + tolerances.scaleUp;
}

interface PodGroups {
  readyPodCount: number;
  unready: Set<string>;
  missing: Set<string>;
  ignored: Set<string>;
}

function groupPods(pods: readonly Pod[], metrics: PodMetricsInfo, resource: string, settings: ReplicaCalculatorSettings): PodGroups {
  const groups: PodGroups = { readyPodCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    const name = pod.metadata?.name ?? '';
    if (pod.metadata?.deletionTimestamp || pod.status?.phase === 'Failed') {
      groups.ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      groups.unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (metric === undefined) {
      groups.missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const condition = getPodCondition(pod, 'Ready');
      const startMs = parseTime(pod.status?.startTime);
      let unready: boolean;
      if (condition === undefined || startMs === undefined) {
        unready = true;
      } else {
        const transitionMs = parseTime(condition.lastTransitionTime) ?? 0;
        if (startMs + settings.cpuInitializationPeriodMs > settings.nowMs) {
          // Still starting up: trust a sample only when taken a whole window after the last readiness change.
          unready = condition.status === 'False' || metric.timestampMs < transitionMs + metric.windowMs;
        } else {
          // Started long ago: leave it out only if it has never been ready.
          unready = condition.status === 'False' && startMs + settings.initialReadinessDelayMs > transitionMs;
        }
      }
      if (unready) {
        groups.unready.add(name);
        continue;
      }
    }
    groups.readyPodCount += 1;
  }
  return groups;
}

function withoutPods(metrics: PodMetricsInfo, names: ReadonlySet<string>): PodMetricsInfo {
  const result: PodMetricsInfo = new Map();
  for (const [name, metric] of metrics) if (!names.has(name)) result.set(name, metric);
  return result;
}

/** Requests of each pod for the resource, in milli-units; throws naming the first container without one. */
export function podRequests(pods: readonly Pod[], resource: string, container = ''): Map<string, number> {
  const requests = new Map<string, number>();
  for (const pod of pods) {
    const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((init) => init.restartPolicy === 'Always')];
    let sum = 0;
    for (const candidate of containers) {
      if (container !== '' && candidate.name !== container) continue;
      const request = candidate.resources?.requests?.[resource];
      if (request === undefined) throw new ReplicaCalculationError(`missing request for ${resource} in container ${candidate.name} of Pod ${pod.metadata?.name ?? ''}`);
      sum += milliValue(request);
    }
    requests.set(pod.metadata?.name ?? '', sum);
  }
  return requests;
}

/** A quantity in milli-units, rounded up as upstream's MilliValue. */
export function milliValue(quantity: string | number): number {
  const nanos = parseQuantity(quantity).nanos;
  const milli = nanos / 1_000_000n + (nanos % 1_000_000n > 0n ? 1n : 0n);
  return Number(milli);
}

function utilizationRatio(metrics: PodMetricsInfo, requests: Map<string, number>, targetPercent: number): { ratio: number; utilizationPercent: number; averageMilli: number } {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [name, metric] of metrics) {
    const request = requests.get(name);
    // Samples of pods we have no request for are extraneous (missing requests are caught before).
    if (request === undefined) continue;
    metricsTotal += metric.valueMilli;
    requestsTotal += request;
    entries += 1;
  }
  if (requestsTotal === 0) throw new ReplicaCalculationError('no metrics returned matched known pods');
  const utilizationPercent = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilizationPercent / targetPercent, utilizationPercent, averageMilli: Math.trunc(metricsTotal / entries) };
}

function usageRatio(metrics: PodMetricsInfo, targetMilli: number): { ratio: number; averageMilli: number } {
  let total = 0;
  for (const metric of metrics.values()) total += metric.valueMilli;
  const averageMilli = Math.trunc(total / metrics.size);
  return { ratio: averageMilli / targetMilli, averageMilli };
}

function noPods(): ReplicaCalculationError {
  return new ReplicaCalculationError('no pods returned by selector while calculating replica count');
}

function noMetrics(): ReplicaCalculationError {
  return new ReplicaCalculationError('did not receive metrics for targeted pods (pods might be unready)');
}

/** Replicas for a Utilization target (percent of the pods' requests). */
export function resourceReplicas(
  currentReplicas: number,
  targetPercent: number,
  resource: string,
  pods: readonly Pod[],
  podMetrics: PodMetricsInfo,
  settings: ReplicaCalculatorSettings,
): ResourceReplicas {
  if (pods.length === 0) throw noPods();
  const groups = groupPods(pods, podMetrics, resource, settings);
  let metrics = withoutPods(withoutPods(podMetrics, groups.ignored), groups.unready);
  if (metrics.size === 0) throw noMetrics();
  const requests = podRequests(pods, resource);
  const first = utilizationRatio(metrics, requests, targetPercent);
  const result = (replicas: number): ResourceReplicas => ({ replicas, utilizationPercent: first.utilizationPercent, averageMilli: first.averageMilli });
  const scaleUpWithUnready = groups.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (isWithin(first.ratio, settings.tolerances)) return result(currentReplicas);
    return result(Math.ceil(first.ratio * groups.readyPodCount));
  }
  metrics = new Map(metrics);
  if (groups.missing.size > 0) {
    // Scale down: the missing use their whole request (or the target, when above 100%); scale up: nothing.
    const fallbackPercent = first.ratio < 1 ? Math.max(100, targetPercent) : first.ratio > 1 ? 0 : undefined;
    if (fallbackPercent !== undefined) {
      for (const name of groups.missing) metrics.set(name, { valueMilli: Math.trunc(((requests.get(name) ?? 0) * fallbackPercent) / 100), timestampMs: 0, windowMs: 0 });
    }
  }
  if (scaleUpWithUnready) for (const name of groups.unready) metrics.set(name, { valueMilli: 0, timestampMs: 0, windowMs: 0 });
  const second = utilizationRatio(metrics, requests, targetPercent);
  if (isWithin(second.ratio, settings.tolerances) || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) return result(currentReplicas);
  const replicas = Math.ceil(second.ratio * metrics.size);
  // A different pod count must not turn the direction around.
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}

/** Replicas for an AverageValue target (usage per pod, in milli-units). */
export function rawResourceReplicas(
  currentReplicas: number,
  targetMilli: number,
  resource: string,
  pods: readonly Pod[],
  podMetrics: PodMetricsInfo,
  settings: ReplicaCalculatorSettings,
): ResourceReplicas {
  if (pods.length === 0) throw noPods();
  const groups = groupPods(pods, podMetrics, resource, settings);
  let metrics = withoutPods(withoutPods(podMetrics, groups.ignored), groups.unready);
  if (metrics.size === 0) throw noMetrics();
  const first = usageRatio(metrics, targetMilli);
  const result = (replicas: number): ResourceReplicas => ({ replicas, averageMilli: first.averageMilli });
  const scaleUpWithUnready = groups.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && groups.missing.size === 0) {
    if (isWithin(first.ratio, settings.tolerances)) return result(currentReplicas);
    return result(Math.ceil(first.ratio * groups.readyPodCount));
  }
  metrics = new Map(metrics);
  // Scale down: the missing use exactly the target; otherwise nothing.
  for (const name of groups.missing) metrics.set(name, { valueMilli: first.ratio < 1 ? targetMilli : 0, timestampMs: 0, windowMs: 0 });
  if (scaleUpWithUnready) for (const name of groups.unready) metrics.set(name, { valueMilli: 0, timestampMs: 0, windowMs: 0 });
  const second = usageRatio(metrics, targetMilli);
  if (isWithin(second.ratio, settings.tolerances) || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) return result(currentReplicas);
  const replicas = Math.ceil(second.ratio * metrics.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}
