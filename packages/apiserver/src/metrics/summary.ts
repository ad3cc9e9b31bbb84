// The part of the kubelet's Summary API (GET /stats/summary) the metrics
// source reads, decoded defensively: a kubelet is another process, so a field
// of the wrong type drops that one sample instead of failing the scrape.

import { parseTime } from '@kube-lite/api';

/** One reading of a node or container: cumulative CPU and the memory working set at one instant. */
export interface UsageSample {
  /** When the kubelet read the counters (epoch ms). */
  timestampMs: number;
  /** CPU time used since the counter started, in core-nanoseconds. */
  cumulativeCpuNanoSeconds: number;
  memoryWorkingSetBytes: number;
  /** When the container started (epoch ms); undefined for nodes and when the kubelet does not say. */
  startMs?: number;
}

export interface PodSamples {
  namespace: string;
  name: string;
  uid: string;
  /** By container name. */
  containers: Map<string, UsageSample>;
}

/** What one successful scrape of one kubelet yields. */
export interface NodeSummary {
  nodeName: string;
  /** Undefined when the kubelet reported no usable node figures. */
  node: UsageSample | undefined;
  pods: PodSamples[];
}

/** The kubelet answered something that is not a Summary. */
export class SummaryDecodeError extends Error {
  override readonly name = 'SummaryDecodeError';
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A sample from a stats object with `cpu` and `memory`; undefined when a figure is missing. */
function sampleOf(stats: Record<string, unknown>, startTime: unknown): UsageSample | undefined {
  const cpu = record(stats['cpu']);
  const memory = record(stats['memory']);
  if (cpu === undefined || memory === undefined) return undefined;
  const timestampMs = parseTime(text(cpu['time']));
  const cumulativeCpuNanoSeconds = finiteNumber(cpu['usageCoreNanoSeconds']);
  const memoryWorkingSetBytes = finiteNumber(memory['workingSetBytes']);
  if (timestampMs === undefined || cumulativeCpuNanoSeconds === undefined || memoryWorkingSetBytes === undefined) return undefined;
  const sample: UsageSample = { timestampMs, cumulativeCpuNanoSeconds, memoryWorkingSetBytes };
  const startMs = parseTime(text(startTime));
  if (startMs !== undefined) sample.startMs = startMs;
  return sample;
}

/** Decodes a parsed /stats/summary body; `nodeName` is the Node the scrape was for (the body must agree). */
export function decodeSummary(nodeName: string, body: unknown): NodeSummary {
  const summary = record(body);
  const node = record(summary?.['node']);
  if (summary === undefined || node === undefined) throw new SummaryDecodeError(`the kubelet of node "${nodeName}" answered a body without "node"`);
  const reported = text(node['nodeName']);
  if (reported !== undefined && reported !== '' && reported !== nodeName) {
    throw new SummaryDecodeError(`the kubelet at the address of node "${nodeName}" reports node "${reported}"`);
  }
  const pods: PodSamples[] = [];
  const rawPods = Array.isArray(summary['pods']) ? (summary['pods'] as unknown[]) : [];
  for (const rawPod of rawPods) {
    const pod = record(rawPod);
    const reference = record(pod?.['podRef']);
    const name = text(reference?.['name']);
    const namespace = text(reference?.['namespace']);
    if (pod === undefined || name === undefined || namespace === undefined) continue;
    const containers = new Map<string, UsageSample>();
    const rawContainers = Array.isArray(pod['containers']) ? (pod['containers'] as unknown[]) : [];
    for (const rawContainer of rawContainers) {
      const container = record(rawContainer);
      const containerName = text(container?.['name']);
      if (container === undefined || containerName === undefined) continue;
      const sample = sampleOf(container, container['startTime']);
      if (sample !== undefined) containers.set(containerName, sample);
    }
    pods.push({ namespace, name, uid: text(reference?.['uid']) ?? '', containers });
  }
  const nodeSample = sampleOf(node, undefined);
  return { nodeName, node: nodeSample, pods };
}
