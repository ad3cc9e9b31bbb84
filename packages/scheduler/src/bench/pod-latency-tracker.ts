// Per-pod timestamps of an end-to-end run, fed by the create calls and by a
// watch on the measured pods: when the create was sent, when the API server
// acknowledged it, when the watch first showed the pod, and when the watch
// first showed it with spec.nodeName set. Pure: the caller supplies times.
import type { Pod } from '@kube-lite/api';
import { percentile, perSecond } from './stats';

interface PodTimes {
  sentAtMs: number;
  ackedAtMs?: number;
  addedAtMs?: number;
  boundAtMs?: number;
}

/** Median and 99th percentile in milliseconds (NaN when there were no samples). */
export interface LatencySummary {
  p50Ms: number;
  p99Ms: number;
}

export interface PodLatencySummary {
  created: number;
  bound: number;
  /** Pods bound per second from the first create sent to the last bind seen: the end-to-end throughput. */
  podsPerSecond: number;
  /** Pods bound per second between the first and the last bind seen: the scheduler's drain rate, creation aside. */
  bindRatePerSecond: number;
  /** Creates acknowledged per second from the first sent to the last acknowledged. */
  createRatePerSecond: number;
  /** Pods first seen on the watch per second, between the first and the last seen: how fast the watch path delivers. */
  watchAddedRatePerSecond: number;
  /** Create sent -> spec.nodeName seen on the watch: the figure the issue asks for. */
  endToEnd: LatencySummary;
  /** Create sent -> acknowledged. */
  create: LatencySummary;
  /** Create sent -> first watch event (the API's write and fan-out delay). */
  watchAdded: LatencySummary;
  /** First watch event -> spec.nodeName seen (queueing, the scheduling cycle, the bind call and its watch event). */
  addedToBound: LatencySummary;
}

export class PodLatencyTracker {
  private readonly pods = new Map<string, PodTimes>();
  private boundCount = 0;
  private waiters: { count: number; resolve: () => void }[] = [];

  /** Call just before the create request goes out. */
  createSent(name: string, atMs: number): void {
    if (this.pods.has(name)) throw new Error(`bug: pod ${name} was sent twice`);
    this.pods.set(name, { sentAtMs: atMs });
  }

  /** Call when the create request answered successfully. */
  createAcked(name: string, atMs: number): void {
    const times = this.pods.get(name);
    if (times !== undefined) times.ackedAtMs = atMs;
  }

  /** Feeds one watch event; events of pods this tracker did not send are ignored. */
  observe(type: string, pod: Pod, atMs: number): void {
    const times = this.pods.get(pod.metadata?.name ?? '');
    if (times === undefined || type === 'DELETED' || type === 'BOOKMARK') return;
    times.addedAtMs ??= atMs;
    if (times.boundAtMs === undefined && pod.spec?.nodeName) {
      times.boundAtMs = atMs;
      this.boundCount++;
      this.wake();
    }
  }

  get bound(): number {
    return this.boundCount;
  }

  get sent(): number {
    return this.pods.size;
  }

  /** Resolves once `count` pods are seen bound (at once when already so). */
  whenBound(count: number): Promise<void> {
    if (this.boundCount >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  summary(): PodLatencySummary {
    const all = [...this.pods.values()];
    const endToEnd: number[] = [];
    const create: number[] = [];
    const watchAdded: number[] = [];
    const addedToBound: number[] = [];
    let firstSentMs = Infinity;
    let lastAckedMs = -Infinity;
    let firstAddedMs = Infinity;
    let lastAddedMs = -Infinity;
    let firstBoundMs = Infinity;
    let lastBoundMs = -Infinity;
    let acked = 0;
    for (const times of all) {
      firstSentMs = Math.min(firstSentMs, times.sentAtMs);
      if (times.ackedAtMs !== undefined) {
        acked++;
        lastAckedMs = Math.max(lastAckedMs, times.ackedAtMs);
        create.push(times.ackedAtMs - times.sentAtMs);
      }
      if (times.addedAtMs !== undefined) {
        firstAddedMs = Math.min(firstAddedMs, times.addedAtMs);
        lastAddedMs = Math.max(lastAddedMs, times.addedAtMs);
        watchAdded.push(times.addedAtMs - times.sentAtMs);
      }
      if (times.boundAtMs !== undefined) {
        firstBoundMs = Math.min(firstBoundMs, times.boundAtMs);
        lastBoundMs = Math.max(lastBoundMs, times.boundAtMs);
        endToEnd.push(times.boundAtMs - times.sentAtMs);
        if (times.addedAtMs !== undefined) addedToBound.push(times.boundAtMs - times.addedAtMs);
      }
    }
    const summarize = (samples: number[]): LatencySummary => ({ p50Ms: percentile(samples, 0.5), p99Ms: percentile(samples, 0.99) });
    return {
      created: acked,
      bound: this.boundCount,
      podsPerSecond: perSecond(this.boundCount, lastBoundMs - firstSentMs),
      // n binds span n-1 gaps.
      bindRatePerSecond: perSecond(this.boundCount - 1, lastBoundMs - firstBoundMs),
      createRatePerSecond: perSecond(acked, lastAckedMs - firstSentMs),
      watchAddedRatePerSecond: perSecond(watchAdded.length - 1, lastAddedMs - firstAddedMs),
      endToEnd: summarize(endToEnd),
      create: summarize(create),
      watchAdded: summarize(watchAdded),
      addedToBound: summarize(addedToBound),
    };
  }

  private wake(): void {
    const ready = this.waiters.filter((waiter) => waiter.count <= this.boundCount);
    if (ready.length === 0) return;
    this.waiters = this.waiters.filter((waiter) => waiter.count > this.boundCount);
    for (const waiter of ready) waiter.resolve();
  }
}
