// The client's view of each benchmark pod's start: when the create was sent
// and answered, when a watch event first showed it bound to a node, and when
// one first showed it Running with every container ready (upstream's
// "observed running"). Pure bookkeeping: the caller passes the times in.

/** The few pod fields the benchmark reads from API objects. */
export interface PodObservation {
  metadata?: { name?: string; resourceVersion?: string };
  spec?: { nodeName?: string; containers?: { name?: string }[] };
  status?: { phase?: string; containerStatuses?: { name?: string; ready?: boolean }[] };
}

export interface PodTimeline {
  name: string;
  /** Client clock just before the create request went out: where startup latency is measured from. */
  createSentMs: number;
  /** When the create answered 201. */
  createdMs?: number;
  /** First watch event with spec.nodeName set. */
  boundObservedMs?: number;
  /** First watch event with phase Running and all containers ready. */
  runningObservedMs?: number;
}

export interface StartupCounts {
  sent: number;
  created: number;
  bound: number;
  running: number;
}

/** Running, and a ready status for every container the spec declares (a pod with no statuses yet is not ready). */
export function isRunningAndReady(pod: PodObservation): boolean {
  if (pod.status?.phase !== 'Running') return false;
  const declared = pod.spec?.containers ?? [];
  const statuses = pod.status.containerStatuses ?? [];
  if (declared.length === 0) return false;
  return declared.every((container) => statuses.some((status) => status.name === container.name && status.ready === true));
}

export class DuplicatePodError extends Error {
  constructor(readonly podName: string) {
    super(`pod ${podName} was already recorded as sent; every benchmark pod needs its own name`);
    this.name = 'DuplicatePodError';
  }
}

export class StartupTracker {
  private readonly timelines = new Map<string, PodTimeline>();

  createSent(name: string, nowMs: number): void {
    if (this.timelines.has(name)) throw new DuplicatePodError(name);
    this.timelines.set(name, { name, createSentMs: nowMs });
  }

  createAnswered(name: string, nowMs: number): void {
    const timeline = this.timelines.get(name);
    if (timeline !== undefined && timeline.createdMs === undefined) timeline.createdMs = nowMs;
  }

  /**
   * Records one watch event's object. Returns true when this is the first
   * event showing the pod running and ready. Pods the benchmark did not
   * send (other workloads, an earlier run) are ignored.
   */
  observe(pod: PodObservation, nowMs: number): boolean {
    const timeline = this.timelines.get(pod.metadata?.name ?? '');
    if (timeline === undefined) return false;
    if (timeline.boundObservedMs === undefined && (pod.spec?.nodeName ?? '') !== '') timeline.boundObservedMs = nowMs;
    if (timeline.runningObservedMs !== undefined || !isRunningAndReady(pod)) return false;
    timeline.runningObservedMs = nowMs;
    // A pod can be seen running in the same event that first shows it bound.
    timeline.boundObservedMs ??= nowMs;
    return true;
  }

  counts(): StartupCounts {
    const all = [...this.timelines.values()];
    return {
      sent: all.length,
      created: all.filter((t) => t.createdMs !== undefined).length,
      bound: all.filter((t) => t.boundObservedMs !== undefined).length,
      running: all.filter((t) => t.runningObservedMs !== undefined).length,
    };
  }

  /** Every pod's timeline, in the order the creates were sent. */
  all(): PodTimeline[] {
    return [...this.timelines.values()];
  }

  /** Create-sent to observed-running, for the pods that got there. */
  startupLatenciesMs(): number[] {
    return this.all().flatMap((t) => (t.runningObservedMs === undefined ? [] : [t.runningObservedMs - t.createSentMs]));
  }
}
