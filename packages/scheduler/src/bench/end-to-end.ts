// One end-to-end case: N hollow nodes and M pending pods through the real
// API server and the real kube-scheduler binary. Two phases over the same
// cluster:
//   streaming: the scheduler runs while M pods are created as fast as the API
//              takes them; per pod, create sent -> spec.nodeName on the watch.
//   backlog:   the scheduler is stopped, M more pods are created, then a new
//              scheduler starts and drains them; its bind rate is what the
//              scheduler and the bind path sustain with creation out of the way.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from '@kube-lite/client';
import { BenchCluster } from './bench-cluster';
import { createHollowNodes, LeaseRenewer, type LeaseRenewerCounters } from './hollow-nodes';
import { inParallel } from './parallel';
import { PodWatch } from './pod-watch';
import { PodLatencyTracker, type PodLatencySummary } from './pod-latency-tracker';
import { cpuSecondsBetween, type CpuReading } from './process-cpu';
import { parseRequestTotals, requestTotalsBetween, type RequestTotals } from './request-metrics';
import { benchPod, RUN_LABEL } from './workload';

export interface EndToEndOptions {
  nodeCount: number;
  podCount: number;
  /** Create requests in flight at once, for nodes and pods. */
  createConcurrency: number;
  /** Pods scheduled before measuring, so both processes have compiled their hot paths. */
  warmupPods: number;
  /** Budget of the whole case (setup and both phases); a phase past it reports what it saw. */
  caseTimeoutMs: number;
  /** Where kube-apiserver and kube-scheduler write CPU profiles, when wanted. */
  cpuProfileDir?: string;
  /**
   * kube-apiserver --metric-resolution: how often it scrapes every Ready
   * node's kubelet. Hollow nodes have no kubelet, so each scrape only costs
   * a failed connection (and its TLS setup and log line) per node; at 1000
   * nodes every 15 s that was a fifth of the API server's CPU, none of it
   * scheduling. Default DEFAULT_METRIC_RESOLUTION: once at start, before the
   * nodes exist.
   */
  metricResolution?: string;
  /** Progress lines (stderr). */
  progress: (message: string) => void;
}

/** A stretch of a phase: its wall time, each process's CPU seconds, and the requests the API server served. */
export interface Segment {
  name: string;
  elapsedMs: number;
  /** CPU seconds per process (Linux; elsewhere only this process). */
  cpuSeconds: Map<string, number>;
  /** Requests per kind, as the API server counted them. */
  requests: Map<string, RequestTotals>;
}

export interface PhaseResult {
  summary: PodLatencySummary;
  /** The phase cut where its work changes (the backlog: creating, then draining). */
  segments: Segment[];
  /** Why the watch on the phase's pods ended and was resumed, each time (pods seen after a relist have late times). */
  watchEnds: string[];
  /** Why the phase ended early, when it did. */
  incomplete?: string;
}

export interface EndToEndResult {
  nodes: number;
  pods: number;
  /** Creating the nodes and their leases. */
  nodeSetupMs: number;
  streaming: PhaseResult;
  backlog: PhaseResult | undefined;
  leases: LeaseRenewerCounters;
}

/** Longer than any case: the API server scrapes the (absent) kubelets only at start. */
export const DEFAULT_METRIC_RESOLUTION = '24h';

/** How often a wait checks the deadline and the processes. */
const POLL_INTERVAL_MS = 200;

/** The phase's time is up or a process died; the message says which. */
class PhaseStopped extends Error {}

export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const deadlineMs = performance.now() + options.caseTimeoutMs;
  const { progress } = options;
  progress(`${options.nodeCount} nodes: starting etcd-lite and kube-apiserver`);
  const apiServerFlags = [`--metric-resolution=${options.metricResolution ?? DEFAULT_METRIC_RESOLUTION}`];
  const cluster = await BenchCluster.start(options.cpuProfileDir === undefined ? { apiServerFlags } : { apiServerFlags, cpuProfileDir: options.cpuProfileDir });
  let renewer: LeaseRenewer | undefined;
  try {
    const client = cluster.client;
    progress(`${options.nodeCount} nodes: creating the hollow nodes and their leases`);
    const setupStarted = performance.now();
    const leases = await createHollowNodes(client, options.nodeCount, options.createConcurrency);
    const nodeSetupMs = performance.now() - setupStarted;
    renewer = new LeaseRenewer(client, leases);
    renewer.start();

    let scheduler = cluster.startScheduler();
    progress(`${options.nodeCount} nodes: kube-scheduler started; warming up with ${options.warmupPods} pods`);
    await runPhase(cluster, 'warmup', async (phase) => {
      await phase.createPods(options.warmupPods, options.createConcurrency);
      await phase.waitForBound(options.warmupPods, deadlineMs);
    });

    progress(`${options.nodeCount} nodes: streaming ${options.podCount} pods`);
    const streaming = await runPhase(cluster, 'streaming', async (phase) => {
      await phase.createPods(options.podCount, options.createConcurrency);
      await phase.waitForBound(options.podCount, deadlineMs);
    });

    let backlog: PhaseResult | undefined;
    if (streaming.incomplete === undefined) {
      progress(`${options.nodeCount} nodes: backlog of ${options.podCount} pods with the scheduler stopped`);
      await scheduler.stop();
      backlog = await runPhase(cluster, 'backlog', async (phase) => {
        await phase.createPods(options.podCount, options.createConcurrency);
        await phase.cut('backlog: create, no scheduler');
        scheduler = cluster.startScheduler();
        await phase.waitForBound(options.podCount, deadlineMs);
      });
    }
    await scheduler.stop();
    return { nodes: options.nodeCount, pods: options.podCount, nodeSetupMs, streaming, backlog, leases: { ...renewer.counters } };
  } finally {
    await renewer?.stop();
    await cluster.stop();
  }
}

/** Reads the clocks a segment is measured with; close() ends it and starts the next. */
class SegmentClock {
  private constructor(
    private readonly cluster: BenchCluster,
    private startedMs: number,
    private cpu: Map<string, CpuReading>,
    private totals: Map<string, RequestTotals>,
  ) {}

  static async open(cluster: BenchCluster): Promise<SegmentClock> {
    const totals = parseRequestTotals(await cluster.metricsText());
    return new SegmentClock(cluster, performance.now(), cluster.cpuReadings(), totals);
  }

  async close(name: string): Promise<Segment> {
    const elapsedMs = performance.now() - this.startedMs;
    const cpu = this.cluster.cpuReadings();
    const totals = parseRequestTotals(await this.cluster.metricsText());
    const segment = { name, elapsedMs, cpuSeconds: cpuSecondsBetween(this.cpu, cpu), requests: requestTotalsBetween(this.totals, totals) };
    this.startedMs = performance.now();
    this.cpu = cpu;
    this.totals = totals;
    return segment;
  }
}

/** What a phase's body can do; pods it creates carry the phase's run label, which its watch selects. */
interface PhaseActions {
  createPods(count: number, concurrency: number): Promise<void>;
  /** Waits until `count` of the phase's pods are seen bound; ends the phase at the deadline or when a process died. */
  waitForBound(count: number, deadlineMs: number): Promise<void>;
  /** Ends the current segment under `name` and starts the next; the last one is named after the phase. */
  cut(name: string): Promise<void>;
}

/** Runs `body` with the phase's pods (label RUN_LABEL=runId) watched into a fresh tracker. */
async function runPhase(cluster: BenchCluster, runId: string, body: (phase: PhaseActions) => Promise<void>): Promise<PhaseResult> {
  const tracker = new PodLatencyTracker();
  const watch = new PodWatch(cluster.client, `${RUN_LABEL}=${runId}`, (type, pod, atMs) => tracker.observe(type, pod, atMs), () => performance.now());
  await watch.start();
  const clock = await SegmentClock.open(cluster);
  const segments: Segment[] = [];
  let incomplete: string | undefined;
  try {
    await body({
      createPods: (count, concurrency) => createPods(cluster.client, tracker, runId, count, concurrency),
      waitForBound: (count, deadlineMs) => waitForBound(cluster, tracker, count, deadlineMs),
      cut: async (name) => void segments.push(await clock.close(name)),
    });
  } catch (error) {
    if (!(error instanceof PhaseStopped)) throw error;
    incomplete = error.message;
  } finally {
    await watch.stop();
  }
  segments.push(await clock.close(segments.length === 0 ? runId : `${runId}: scheduler drain`));
  if (incomplete !== undefined && runId === 'warmup') throw new Error(`warm-up failed: ${incomplete}`);
  return { summary: tracker.summary(), segments, watchEnds: watch.endReasons, ...(incomplete === undefined ? {} : { incomplete }) };
}

async function createPods(client: ApiClient, tracker: PodLatencyTracker, runId: string, count: number, concurrency: number): Promise<void> {
  const pods = client.pods('default');
  await inParallel(count, concurrency, async (index) => {
    const name = `${runId}-${index}`;
    tracker.createSent(name, performance.now());
    await pods.create(benchPod(name, index, runId));
    tracker.createAcked(name, performance.now());
  });
}

/** Waits until `count` pods are seen bound; stops the phase at the deadline or when a process died. */
async function waitForBound(cluster: BenchCluster, tracker: PodLatencyTracker, count: number, deadlineMs: number): Promise<void> {
  let done = false;
  const allBound = tracker.whenBound(count).then(() => void (done = true));
  while (!done) {
    if (performance.now() >= deadlineMs) throw new PhaseStopped(`time is up: ${tracker.bound} of ${count} pods bound`);
    const failure = cluster.failure();
    if (failure !== undefined) throw new PhaseStopped(failure);
    await Promise.race([allBound, sleep(POLL_INTERVAL_MS)]);
  }
}
