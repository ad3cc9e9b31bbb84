// The scheduling cycle alone, in this process: N nodes, M pods of the shared
// workload, default plugins, a binder that answers at once. What the
// scheduler could do if the API server cost nothing.
import { performance } from 'node:perf_hooks';
import { newSchedulerCore } from '../scheduler';
import { percentile, perSecond } from './stats';
import { benchPod, hollowNode } from './workload';

export interface InProcessResult {
  nodes: number;
  pods: number;
  bound: number;
  podsPerSecond: number;
  /** One scheduling cycle (filter + score + assume), not the bind. */
  cycleP50Ms: number;
  cycleP99Ms: number;
}

/** A small deterministic PRNG (mulberry32) so runs are comparable; the product code takes any random source. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MAX_IN_FLIGHT_BINDS = 1024;

export async function runInProcess(nodeCount: number, podCount: number, seed: number): Promise<InProcessResult> {
  let bound = 0;
  const { core, queue } = newSchedulerCore({ binder: { bind: async () => void bound++ }, random: seededRandom(seed), maxInFlightBinds: MAX_IN_FLIGHT_BINDS });
  for (let index = 0; index < nodeCount; index++) {
    const node = hollowNode(index);
    core.onNodeAdd({ ...node, metadata: { ...node.metadata, uid: `uid-${node.metadata?.name}` } });
  }
  for (let index = 0; index < podCount; index++) {
    const pod = benchPod(`pod-${index}`, index, 'in-process');
    core.onPodAdd({ ...pod, metadata: { ...pod.metadata, uid: `uid-pod-${index}` } });
  }
  const cycleMs: number[] = [];
  const started = performance.now();
  for (let info = queue.tryPop(); info; info = queue.tryPop()) {
    const before = performance.now();
    core.scheduleOne(info);
    cycleMs.push(performance.now() - before);
    // Let bind promises settle now and then, as the event loop would.
    if (core.inFlightBinds >= MAX_IN_FLIGHT_BINDS) await core.settle();
  }
  await core.settle();
  const elapsedMs = performance.now() - started;
  return { nodes: nodeCount, pods: podCount, bound, podsPerSecond: perSecond(bound, elapsedMs), cycleP50Ms: percentile(cycleMs, 0.5), cycleP99Ms: percentile(cycleMs, 0.99) };
}
