// In-process benchmark of the scheduling cycle: N nodes, M pods from a few
// Deployments, default plugins, a binder that answers at once. Prints pods/s
// and the p50/p99 latency of one scheduling cycle (filter + score + assume).
// The end-to-end figure through a real API server is measured elsewhere.
//
//   node packages/scheduler/dist/bench/bench-scheduler.js [--nodes 100,1000] [--pods 2000] [--seed 1]
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { newSchedulerCore } from '../scheduler';
import { makeNode, makePod } from '../test-fixtures';

/** The target on this 2-core machine, for 1000 nodes. */
const TARGET_PODS_PER_SECOND = 300;

interface Row {
  nodes: number;
  pods: number;
  scheduled: number;
  podsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** A small deterministic PRNG (mulberry32) so runs are comparable; the product code takes any random source. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}

async function runOnce(nodeCount: number, podCount: number, seed: number): Promise<Row> {
  let bound = 0;
  const { core, queue } = newSchedulerCore({ binder: { bind: async () => void bound++ }, random: seededRandom(seed), maxInFlightBinds: 1024 });
  for (let i = 0; i < nodeCount; i++) {
    core.onNodeAdd(makeNode(`node-${i}`, { cpu: '32', memory: '128Gi', pods: 110, labels: { 'topology.kubernetes.io/zone': `zone-${i % 3}` } }));
  }
  const deployments = 20;
  for (let i = 0; i < podCount; i++) {
    const app = `app-${i % deployments}`;
    core.onPodAdd(makePod(`${app}-${i}`, { ownerUid: `rs-${app}`, labels: { app }, cpu: '100m', memory: '128Mi' }));
  }
  const cycleMs: number[] = [];
  const started = performance.now();
  for (let info = queue.tryPop(); info; info = queue.tryPop()) {
    const before = performance.now();
    core.scheduleOne(info);
    cycleMs.push(performance.now() - before);
    // Let bind promises settle now and then, as the event loop would.
    if (core.inFlightBinds >= 1024) await core.settle();
  }
  await core.settle();
  const elapsedMs = performance.now() - started;
  cycleMs.sort((a, b) => a - b);
  return { nodes: nodeCount, pods: podCount, scheduled: bound, podsPerSecond: (bound / elapsedMs) * 1000, p50Ms: percentile(cycleMs, 0.5), p99Ms: percentile(cycleMs, 0.99) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { nodes: { type: 'string', default: '100,1000' }, pods: { type: 'string', default: '2000' }, seed: { type: 'string', default: '1' } } });
  const nodeCounts = values.nodes.split(',').map((n) => Number.parseInt(n, 10));
  const podCount = Number.parseInt(values.pods, 10);
  const seed = Number.parseInt(values.seed, 10);
  if (nodeCounts.some((n) => !(n > 0)) || !(podCount > 0) || !Number.isSafeInteger(seed)) {
    console.error('usage: bench-scheduler [--nodes 100,1000] [--pods 2000] [--seed 1]');
    process.exitCode = 2;
    return;
  }
  // A short warm-up so the JIT has compiled the hot paths before measuring.
  await runOnce(Math.min(100, nodeCounts[0] ?? 100), 200, seed);
  const rows: Row[] = [];
  for (const nodes of nodeCounts) rows.push(await runOnce(nodes, podCount, seed));
  const header = ['nodes', 'pods', 'bound', 'pods/s', 'cycle p50 ms', 'cycle p99 ms', `target (>= ${TARGET_PODS_PER_SECOND} pods/s @1000 nodes)`];
  const table = rows.map((row) => [
    String(row.nodes),
    String(row.pods),
    String(row.scheduled),
    row.podsPerSecond.toFixed(0),
    row.p50Ms.toFixed(3),
    row.p99Ms.toFixed(3),
    row.nodes >= 1000 ? (row.podsPerSecond >= TARGET_PODS_PER_SECOND ? 'met' : 'MISSED') : '-',
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...table.map((cells) => (cells[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(header));
  for (const cells of table) console.log(line(cells));
}

void main();
