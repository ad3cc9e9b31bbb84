// The scheduling queue, in the shape of upstream's PriorityQueue:
// - activeQ: pods ready to be tried, a heap ordered by the QueueSort plugin;
// - backoffQ: pods that failed and wait out a per-pod exponential backoff
//   (1 s doubling to 10 s by default), ordered by when it ends;
// - unschedulablePods: pods no node fits; a cluster event that one of the
//   plugins which rejected them registered for (and whose hint says so)
//   moves them back, and a periodic flush retries those parked too long.
// Pods popped and not yet finished are "in flight": cluster events and pod
// updates arriving meanwhile are remembered, so a pod rejected because of a
// node that was fixed during its cycle is not parked until the next flush.
import { jsonEqual, type Pod } from '@kube-lite/api';
import { eventMatches, type ClusterEvent, type ClusterEventWithHint, type QueuedPodInfo } from '../framework';
import { newPodInfo, podName } from '../snapshot';
import { KeyedHeap } from './heap';

export interface SchedulingQueueOptions {
  /** QueueSort: true when `a` goes first (Framework.less). */
  less: (a: QueuedPodInfo, b: QueuedPodInfo) => boolean;
  /** Current time in ms; injected so tests drive time. */
  nowMs: () => number;
  /** Backoff after the first failed attempt (upstream podInitialBackoffSeconds, 1 s). */
  podInitialBackoffMs?: number;
  /** Cap of the doubling backoff (upstream podMaxBackoffSeconds, 10 s). */
  podMaxBackoffMs?: number;
  /** A pod parked in unschedulablePods longer than this is retried anyway (upstream 5 min). */
  podMaxInUnschedulablePodsDurationMs?: number;
  /** How often backoffQ is checked for pods whose backoff ended (upstream 1 s). */
  backoffFlushIntervalMs?: number;
  /** How often unschedulablePods is checked for pods parked too long (upstream 30 s). */
  unschedulableFlushIntervalMs?: number;
  /** The most pods the queue holds (all sub-queues and in-flight); add() refuses more. */
  maxPods?: number;
  /** The most cluster events remembered for in-flight pods; beyond it, in-flight pods are retried conservatively. */
  maxInFlightEvents?: number;
  /** Events each plugin registered (Framework.eventsByPlugin). */
  eventsByPlugin?: ReadonlyMap<string, readonly ClusterEventWithHint[]>;
}

interface InFlight {
  /** eventSequence when the pod was popped: later events happened during its cycle. */
  popSequence: number;
  /** The object the attempt is working with. */
  poppedPod: Pod;
  /** The newest object seen for the pod during its cycle. */
  latestPod: Pod | undefined;
  /** Its spec or labels changed during the cycle: retry rather than park. */
  updated: boolean;
  deleted: boolean;
}

interface RecordedEvent {
  sequence: number;
  event: ClusterEvent;
  oldObject: unknown;
  newObject: unknown;
}

export interface QueueCounts {
  active: number;
  backoff: number;
  unschedulable: number;
  inFlight: number;
}

/** Where a pod is in the queue, for tests and debugging. */
export type QueueLocation = 'active' | 'backoff' | 'unschedulable' | 'inFlight' | undefined;

/** Whether an update may change the scheduling outcome: anything but status and bookkeeping metadata. */
export function podUpdateMatters(oldPod: Pod, newPod: Pod): boolean {
  const strip = (pod: Pod) => ({
    spec: pod.spec,
    labels: pod.metadata?.labels,
    annotations: pod.metadata?.annotations,
    ownerReferences: pod.metadata?.ownerReferences,
  });
  return !jsonEqual(strip(oldPod), strip(newPod));
}

export class SchedulingQueue {
  private readonly activeQ: KeyedHeap<QueuedPodInfo>;
  private readonly backoffQ: KeyedHeap<QueuedPodInfo>;
  private readonly unschedulablePods = new Map<string, QueuedPodInfo>();
  private readonly inFlight = new Map<string, InFlight>();
  private eventLog: RecordedEvent[] = [];
  private eventSequence = 0;
  /** Pods popped before this sequence lost their event history to an overflow. */
  private overflowSequence = -1;
  private readonly waiters: ((info: QueuedPodInfo | undefined) => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxUnschedulableMs: number;
  private readonly maxPods: number;
  private readonly maxInFlightEvents: number;
  private eventsByPlugin: ReadonlyMap<string, readonly ClusterEventWithHint[]>;
  /** Pods refused by add() because the queue was full. */
  droppedPods = 0;

  constructor(private readonly options: SchedulingQueueOptions) {
    this.initialBackoffMs = options.podInitialBackoffMs ?? 1000;
    this.maxBackoffMs = options.podMaxBackoffMs ?? 10_000;
    this.maxUnschedulableMs = options.podMaxInUnschedulablePodsDurationMs ?? 5 * 60_000;
    this.maxPods = options.maxPods ?? 100_000;
    this.maxInFlightEvents = options.maxInFlightEvents ?? 10_000;
    this.eventsByPlugin = options.eventsByPlugin ?? new Map();
    this.activeQ = new KeyedHeap(options.less);
    this.backoffQ = new KeyedHeap((a, b) => {
      const expiryA = this.backoffExpiryMs(a);
      const expiryB = this.backoffExpiryMs(b);
      return expiryA < expiryB || (expiryA === expiryB && options.less(a, b));
    });
  }

  setEventsByPlugin(events: ReadonlyMap<string, readonly ClusterEventWithHint[]>): void {
    this.eventsByPlugin = events;
  }

  /** Starts the periodic flushes (timers are unref'd: they never keep the process alive). */
  start(): void {
    if (this.timers.length > 0 || this.closed) return;
    const every = (ms: number, run: () => void) => {
      const timer = setInterval(run, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(this.options.backoffFlushIntervalMs ?? 1000, () => this.flushBackoffCompleted());
    every(this.options.unschedulableFlushIntervalMs ?? 30_000, () => this.flushUnschedulablePodsLeftover());
  }

  /** Stops the timers; pending and future pop() calls resolve to undefined. */
  close(): void {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  // ---- pods coming from the informer ----

  /** A new pending pod. Returns false when the queue is full (the pod is dropped; a resync brings it back). */
  add(pod: Pod): boolean {
    const key = podName(pod);
    if (this.locate(key) !== undefined) {
      this.update(undefined, pod);
      return true;
    }
    if (this.size() >= this.maxPods) {
      this.droppedPods++;
      return false;
    }
    const now = this.options.nowMs();
    this.pushActive({ podInfo: newPodInfo(pod), timestampMs: now, initialAttemptTimestampMs: now, attempts: 0, unschedulablePlugins: new Set() });
    return true;
  }

  /** A pending pod changed. An update that may help moves it out of unschedulablePods. */
  update(oldPod: Pod | undefined, newPod: Pod): void {
    const key = podName(newPod);
    const flight = this.inFlight.get(key);
    if (flight) {
      const previous = flight.latestPod ?? oldPod ?? flight.poppedPod;
      flight.updated ||= podUpdateMatters(previous, newPod);
      flight.latestPod = newPod;
      return;
    }
    const active = this.activeQ.get(key);
    if (active) {
      this.activeQ.push(key, { ...active, podInfo: newPodInfo(newPod) });
      return;
    }
    const backoff = this.backoffQ.get(key);
    if (backoff) {
      this.backoffQ.push(key, { ...backoff, podInfo: newPodInfo(newPod) });
      return;
    }
    const parked = this.unschedulablePods.get(key);
    if (parked) {
      const updated = { ...parked, podInfo: newPodInfo(newPod) };
      if (podUpdateMatters(oldPod ?? parked.podInfo.pod, newPod)) {
        this.unschedulablePods.delete(key);
        this.moveToActiveOrBackoff(key, updated);
      } else {
        this.unschedulablePods.set(key, updated);
      }
      return;
    }
    this.add(newPod);
  }

  /** The pod was deleted or got bound elsewhere: forget it everywhere. */
  delete(pod: Pod): void {
    const key = podName(pod);
    this.activeQ.delete(key);
    this.backoffQ.delete(key);
    this.unschedulablePods.delete(key);
    const flight = this.inFlight.get(key);
    if (flight) flight.deleted = true;
  }

  // ---- the scheduling loop's side ----

  /** The next pod to schedule; waits until there is one. Resolves undefined once the queue is closed. */
  pop(): Promise<QueuedPodInfo | undefined> {
    const info = this.tryPop();
    if (info || this.closed) return Promise.resolve(info);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next pod if one is ready now. */
  tryPop(): QueuedPodInfo | undefined {
    if (this.closed) return undefined;
    const info = this.activeQ.pop();
    if (!info) return undefined;
    return this.markInFlight(info);
  }

  private markInFlight(info: QueuedPodInfo): QueuedPodInfo {
    info.attempts++;
    this.inFlight.set(podName(info.podInfo.pod), { popSequence: this.eventSequence, poppedPod: info.podInfo.pod, latestPod: undefined, updated: false, deleted: false });
    return info;
  }

  /**
   * Puts back a pod whose attempt failed (upstream AddUnschedulableIfNotPresent).
   * With no rejecting plugins (an error) it backs off; if something relevant
   * happened during its cycle it is retried after its backoff; otherwise it is
   * parked in unschedulablePods until an event moves it.
   */
  addUnschedulableIfNotPresent(info: QueuedPodInfo): void {
    const key = podName(info.podInfo.pod);
    const flight = this.inFlight.get(key);
    this.inFlight.delete(key);
    try {
      if (flight?.deleted) return;
      if (this.activeQ.has(key) || this.backoffQ.has(key) || this.unschedulablePods.has(key)) return;
      const requeued: QueuedPodInfo = { ...info, timestampMs: this.options.nowMs() };
      if (flight?.latestPod) requeued.podInfo = newPodInfo(flight.latestPod);
      if (requeued.unschedulablePlugins.size === 0 || flight?.updated || (flight && this.eventDuringFlight(requeued, flight))) {
        this.moveToActiveOrBackoff(key, requeued);
      } else {
        this.unschedulablePods.set(key, requeued);
      }
    } finally {
      this.trimEventLog();
    }
  }

  /** The pod's attempt ended for good (bound, or dropped): stop tracking it. */
  done(pod: Pod): void {
    this.inFlight.delete(podName(pod));
    this.trimEventLog();
  }

  // ---- cluster events ----

  /** Moves the unschedulable pods the event may help (per their rejecting plugins' registrations and hints). */
  onClusterEvent(event: ClusterEvent, oldObject?: unknown, newObject?: unknown): void {
    if (this.inFlight.size > 0) {
      this.eventSequence++;
      this.eventLog.push({ sequence: this.eventSequence, event, oldObject, newObject });
      if (this.eventLog.length > this.maxInFlightEvents) {
        this.eventLog = [];
        this.overflowSequence = this.eventSequence;
      }
    }
    for (const [key, info] of this.unschedulablePods) {
      if (!this.eventMayHelp(info, event, oldObject, newObject)) continue;
      this.unschedulablePods.delete(key);
      this.moveToActiveOrBackoff(key, info);
    }
  }

  /** Moves pods whose backoff has ended to activeQ (upstream flushBackoffQCompleted, every second). */
  flushBackoffCompleted(): void {
    const now = this.options.nowMs();
    for (;;) {
      const head = this.backoffQ.peek();
      if (!head || this.backoffExpiryMs(head) > now) return;
      this.backoffQ.pop();
      this.pushActive(head);
    }
  }

  /** Retries pods parked longer than podMaxInUnschedulablePodsDuration (upstream flushUnschedulablePodsLeftover). */
  flushUnschedulablePodsLeftover(): void {
    const now = this.options.nowMs();
    for (const [key, info] of this.unschedulablePods) {
      if (now - info.timestampMs <= this.maxUnschedulableMs) continue;
      this.unschedulablePods.delete(key);
      this.moveToActiveOrBackoff(key, info);
    }
  }

  // ---- inspection ----

  counts(): QueueCounts {
    return { active: this.activeQ.size, backoff: this.backoffQ.size, unschedulable: this.unschedulablePods.size, inFlight: this.inFlight.size };
  }

  size(): number {
    return this.activeQ.size + this.backoffQ.size + this.unschedulablePods.size + this.inFlight.size;
  }

  /** Where the pod (namespace/name) is. */
  locate(key: string): QueueLocation {
    if (this.activeQ.has(key)) return 'active';
    if (this.backoffQ.has(key)) return 'backoff';
    if (this.unschedulablePods.has(key)) return 'unschedulable';
    if (this.inFlight.has(key)) return 'inFlight';
    return undefined;
  }

  /** Pending pods, for a /debug endpoint or tests. */
  pendingPods(): QueuedPodInfo[] {
    return [...this.activeQ.values(), ...this.backoffQ.values(), ...this.unschedulablePods.values()];
  }

  /** initial * 2^(attempts-1), capped (upstream calculateBackoffDuration). */
  backoffDurationMs(info: QueuedPodInfo): number {
    let duration = this.initialBackoffMs;
    for (let i = 1; i < info.attempts; i++) {
      if (duration > this.maxBackoffMs - duration) return this.maxBackoffMs;
      duration += duration;
    }
    return duration;
  }

  backoffExpiryMs(info: QueuedPodInfo): number {
    return info.attempts === 0 ? info.timestampMs : info.timestampMs + this.backoffDurationMs(info);
  }

  // ---- internals ----

  private pushActive(info: QueuedPodInfo): void {
    const waiter = this.waiters.shift();
    if (waiter) {
      // Someone is already waiting: hand the pod over without a heap round trip.
      this.activeQ.push(podName(info.podInfo.pod), info);
      const next = this.activeQ.pop() as QueuedPodInfo;
      waiter(this.markInFlight(next));
      return;
    }
    this.activeQ.push(podName(info.podInfo.pod), info);
  }

  private moveToActiveOrBackoff(key: string, info: QueuedPodInfo): void {
    if (this.backoffExpiryMs(info) > this.options.nowMs()) this.backoffQ.push(key, info);
    else this.pushActive(info);
  }

  private eventMayHelp(info: QueuedPodInfo, event: ClusterEvent, oldObject: unknown, newObject: unknown): boolean {
    // Rejected by an error or by nothing we know: any event is worth a retry.
    if (info.unschedulablePlugins.size === 0) return true;
    for (const plugin of info.unschedulablePlugins) {
      for (const registration of this.eventsByPlugin.get(plugin) ?? []) {
        if (!eventMatches(registration.event, event)) continue;
        if (!registration.hint) return true;
        try {
          if (registration.hint(info.podInfo.pod, oldObject, newObject) === 'Queue') return true;
        } catch {
          // A failing hint must not strand the pod: retry it, as upstream does.
          return true;
        }
      }
    }
    return false;
  }

  private eventDuringFlight(info: QueuedPodInfo, flight: InFlight): boolean {
    if (flight.popSequence < this.overflowSequence) return true;
    for (const recorded of this.eventLog) {
      if (recorded.sequence <= flight.popSequence) continue;
      if (this.eventMayHelp(info, recorded.event, recorded.oldObject, recorded.newObject)) return true;
    }
    return false;
  }

  private trimEventLog(): void {
    if (this.inFlight.size === 0) {
      this.eventLog = [];
      return;
    }
    let oldest = Infinity;
    for (const flight of this.inFlight.values()) if (flight.popSequence < oldest) oldest = flight.popSequence;
    const firstKept = this.eventLog.findIndex((recorded) => recorded.sequence > oldest);
    if (firstKept > 0) this.eventLog = this.eventLog.slice(firstKept);
    else if (firstKept < 0) this.eventLog = [];
  }
}
