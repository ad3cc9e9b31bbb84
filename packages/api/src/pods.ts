// Pod helpers shared by the scheduler, kubelet and controllers.
import { Quantity } from './quantity';
import type { Container, ContainerStatus, Pod, PodCondition, PodQOSClass, ResourceList } from './types/core';
import { parseTime } from './time';

export function getPodCondition(pod: Pod, type: string): PodCondition | undefined {
  return pod.status?.conditions?.find((condition) => condition.type === type);
}

/** True when the Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return getPodCondition(pod, 'Ready')?.status === 'True';
}

/** Ready for at least minReadySeconds at `nowMs` (upstream IsPodAvailable). */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs: number): boolean {
  const ready = getPodCondition(pod, 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(ready.lastTransitionTime ?? undefined);
  return since !== undefined && since + minReadySeconds * 1000 <= nowMs;
}

/** True for pods in a terminal phase. */
export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function getContainerStatus(pod: Pod, name: string): ContainerStatus | undefined {
  return [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])].find((s) => s.name === name);
}

export type ResourceTotals = Record<string, Quantity>;

function addList(into: ResourceTotals, list: ResourceList | undefined): void {
  for (const [name, value] of Object.entries(list ?? {})) {
    const quantity = Quantity.tryParse(value);
    if (!quantity) continue;
    into[name] = (into[name] ?? Quantity.zero(quantity.format)).add(quantity);
  }
}

function maxInto(into: ResourceTotals, other: ResourceTotals): void {
  for (const [name, quantity] of Object.entries(other)) {
    const current = into[name];
    if (!current || current.cmp(quantity) < 0) into[name] = quantity;
  }
}

function effectiveTotals(pod: Pod, pick: (container: Container) => ResourceList | undefined): ResourceTotals {
  const spec = pod.spec;
  const totals: ResourceTotals = {};
  for (const container of spec?.containers ?? []) addList(totals, pick(container));
  // Init containers run one at a time, before the app containers, except
  // sidecars (restartPolicy Always), which keep running alongside everything after them.
  const sidecars: ResourceTotals = {};
  const initPeak: ResourceTotals = {};
  for (const container of spec?.initContainers ?? []) {
    const own: ResourceTotals = {};
    addList(own, pick(container));
    if (container.restartPolicy === 'Always') {
      addList(totals, pick(container));
      addList(sidecars, pick(container));
      maxInto(initPeak, { ...sidecars });
    } else {
      const during: ResourceTotals = { ...own };
      for (const [name, quantity] of Object.entries(sidecars)) during[name] = (during[name] ?? Quantity.zero()).add(quantity);
      maxInto(initPeak, during);
    }
  }
  maxInto(totals, initPeak);
  addList(totals, spec?.overhead);
  return totals;
}

/** What the scheduler counts for a pod: effective requests by resource name (upstream resourcehelper.PodRequests). */
export function podResourceRequests(pod: Pod): ResourceTotals {
  return effectiveTotals(pod, (container) => container.resources?.requests);
}

/** Effective limits by resource name. */
export function podResourceLimits(pod: Pod): ResourceTotals {
  return effectiveTotals(pod, (container) => container.resources?.limits);
}

const QOS_RESOURCES = ['cpu', 'memory'];

/** The QoS class the kubelet and the API server assign (upstream GetPodQOS), from a defaulted pod. */
export function podQOSClass(pod: Pod): PodQOSClass {
  const requests: ResourceTotals = {};
  const limits: ResourceTotals = {};
  let guaranteed = true;
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  for (const container of containers) {
    for (const [name, value] of Object.entries(container.resources?.requests ?? {})) {
      const quantity = Quantity.tryParse(value);
      if (QOS_RESOURCES.includes(name) && quantity && quantity.sign() > 0) requests[name] = (requests[name] ?? Quantity.zero()).add(quantity);
    }
    const limitsFound = new Set<string>();
    for (const [name, value] of Object.entries(container.resources?.limits ?? {})) {
      const quantity = Quantity.tryParse(value);
      if (QOS_RESOURCES.includes(name) && quantity && quantity.sign() > 0) {
        limitsFound.add(name);
        limits[name] = (limits[name] ?? Quantity.zero()).add(quantity);
      }
    }
    if (!QOS_RESOURCES.every((name) => limitsFound.has(name))) guaranteed = false;
  }
  if (Object.keys(requests).length === 0 && Object.keys(limits).length === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, request] of Object.entries(requests)) {
      const limit = limits[name];
      if (!limit || !limit.equals(request)) guaranteed = false;
    }
  }
  return guaranteed && Object.keys(requests).length === Object.keys(limits).length ? 'Guaranteed' : 'Burstable';
}
