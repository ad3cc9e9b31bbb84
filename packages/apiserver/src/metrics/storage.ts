// Keeps the last two samples of every node and container, as metrics-server
// does, and turns them into usage: CPU is the rate of the cumulative counter
// between the two samples (so it needs two scrapes, or one scrape of a
// container that started since), memory is the newest working set. The
// window of a metric is the time between its two samples. Each scrape cycle
// replaces the whole picture: what a cycle did not report is gone.

import type { NodeSummary, UsageSample } from './summary';

/** Usage over one window. */
export interface Usage {
  /** The newer sample's time (epoch ms). */
  timestampMs: number;
  /** Time between the two samples. */
  windowMs: number;
  cpuNanoCores: number;
  memoryWorkingSetBytes: number;
}

export interface ContainerUsage {
  name: string;
  usage: Usage;
}

interface Series {
  last: UsageSample;
  previous: UsageSample | undefined;
}

interface PodSeries {
  uid: string;
  containers: Map<string, Series>;
}

export interface StorageOptions {
  /**
   * A container first seen this soon after it started is measured from its
   * start (counter at zero), so a new pod has metrics after one scrape.
   */
  freshContainerWindowMs: number;
}

function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The series after a new sample: the old newest becomes the previous one when the counter carried on. */
function advance(old: Series | undefined, sample: UsageSample, startPoint: UsageSample | undefined): Series {
  if (old !== undefined) {
    // The kubelet answered the same reading again: nothing new to rate against.
    if (sample.timestampMs === old.last.timestampMs && sample.startMs === old.last.startMs) return old;
    const continued = sample.timestampMs > old.last.timestampMs && sample.startMs === old.last.startMs && sample.cumulativeCpuNanoSeconds >= old.last.cumulativeCpuNanoSeconds;
    if (continued) return { last: sample, previous: old.last };
  }
  return { last: sample, previous: startPoint };
}

function usageOf(series: Series | undefined): Usage | undefined {
  if (series === undefined || series.previous === undefined) return undefined;
  const windowMs = series.last.timestampMs - series.previous.timestampMs;
  if (windowMs <= 0) return undefined;
  const cpuNanoSeconds = series.last.cumulativeCpuNanoSeconds - series.previous.cumulativeCpuNanoSeconds;
  return {
    timestampMs: series.last.timestampMs,
    windowMs,
    // core-ns per ms of wall time, times 1000, is core-ns per second: nanocores.
    cpuNanoCores: Math.max(0, Math.round((cpuNanoSeconds * 1000) / windowMs)),
    memoryWorkingSetBytes: series.last.memoryWorkingSetBytes,
  };
}

export class MetricsStorage {
  private nodes = new Map<string, Series>();
  private pods = new Map<string, PodSeries>();

  constructor(private readonly options: StorageOptions) {}

  /** Replaces the picture with one scrape cycle's summaries, rating each sample against the previous cycle's. */
  store(summaries: readonly NodeSummary[]): void {
    const nodes = new Map<string, Series>();
    const pods = new Map<string, PodSeries>();
    for (const summary of summaries) {
      if (summary.node !== undefined) nodes.set(summary.nodeName, advance(this.nodes.get(summary.nodeName), summary.node, undefined));
      for (const pod of summary.pods) {
        const key = podKey(pod.namespace, pod.name);
        const old = this.pods.get(key);
        // A pod recreated under the same name starts over.
        const oldContainers = old !== undefined && old.uid === pod.uid ? old.containers : new Map<string, Series>();
        const containers = new Map<string, Series>();
        for (const [name, sample] of pod.containers) containers.set(name, advance(oldContainers.get(name), sample, this.startPoint(sample)));
        pods.set(key, { uid: pod.uid, containers });
      }
    }
    this.nodes = nodes;
    this.pods = pods;
  }

  private startPoint(sample: UsageSample): UsageSample | undefined {
    if (sample.startMs === undefined) return undefined;
    const age = sample.timestampMs - sample.startMs;
    if (age <= 0 || age > this.options.freshContainerWindowMs) return undefined;
    return { timestampMs: sample.startMs, cumulativeCpuNanoSeconds: 0, memoryWorkingSetBytes: 0, startMs: sample.startMs };
  }

  nodeUsage(nodeName: string): Usage | undefined {
    return usageOf(this.nodes.get(nodeName));
  }

  /**
   * The pod's containers' usage, or undefined unless every container it
   * reported has a rate (a pod with half its figures would read low).
   */
  podUsage(namespace: string, name: string): { containers: ContainerUsage[]; timestampMs: number; windowMs: number } | undefined {
    const pod = this.pods.get(podKey(namespace, name));
    if (pod === undefined || pod.containers.size === 0) return undefined;
    const containers: ContainerUsage[] = [];
    let earliest: Usage | undefined;
    for (const [containerName, series] of pod.containers) {
      const usage = usageOf(series);
      if (usage === undefined) return undefined;
      containers.push({ name: containerName, usage });
      if (earliest === undefined || usage.timestampMs < earliest.timestampMs) earliest = usage;
    }
    if (earliest === undefined) return undefined;
    containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { containers, timestampMs: earliest.timestampMs, windowMs: earliest.windowMs };
  }
}
