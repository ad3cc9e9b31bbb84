#!/usr/bin/env node
// `npm run bench:scheduler`: pods scheduled per second and the p50/p99
// scheduling latency for N hollow nodes, end to end through a one-member
// etcd-lite, the kube-apiserver binary and the kube-scheduler binary, next to
// the in-process scheduling cycle for the same N and pods (what the scheduler
// could do if the API cost nothing). A second table says where the
// end-to-end time goes. Progress goes to stderr, the tables to stdout.
//
//   node packages/scheduler/dist/bench/bench-scheduler.js [--nodes 100,1000] [--pods 1000]
//        [--concurrency 128] [--case-timeout-seconds 120] [--warmup-pods 50] [--seed 1]
//        [--cpu-profile-dir DIR]   (kube-apiserver and kube-scheduler write .cpuprofile files there)
//        [--metric-resolution 24h] (kube-apiserver's kubelet scrape interval; 15s as in a real cluster
//                                   scrapes the hollow nodes' absent kubelets)
//   node packages/scheduler/dist/bench/bench-scheduler.js --in-process [--nodes 100,1000] [--pods 2000]
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { BENCH_PROCESS_NAME } from './bench-cluster';
import { DEFAULT_METRIC_RESOLUTION, runEndToEnd, type EndToEndResult, type Segment } from './end-to-end';
import { runInProcess, type InProcessResult } from './in-process';
import { formatNumber, markdownTable } from './stats';

/** The target on this 2-core machine, for 1000 nodes. */
const TARGET_PODS_PER_SECOND = 300;
const TARGET_NODES = 1000;

/**
 * Creates in flight. With 32, creation itself stalls near 150 pods/s once
 * binds and lease renewals share the server (create p50 ~150 ms), so the run
 * would measure the client; 128 keeps creation ahead of scheduling, as
 * scheduler_perf's high-QPS client does.
 */
const DEFAULT_CREATE_CONCURRENCY = 128;

/** A flag value the benchmark cannot use; main prints the message and the usage, and exits 2. */
class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const USAGE =
  'usage: bench-scheduler [--nodes 100,1000] [--pods 1000] [--concurrency 128] [--case-timeout-seconds 120] [--warmup-pods 50] [--seed 1] [--cpu-profile-dir DIR] [--metric-resolution 24h]\n' +
  '       bench-scheduler --in-process [--nodes 100,1000] [--pods 2000] [--seed 1]';

interface Settings {
  inProcessOnly: boolean;
  nodeCounts: number[];
  podCount: number;
  concurrency: number;
  caseTimeoutMs: number;
  warmupPods: number;
  seed: number;
  cpuProfileDir: string | undefined;
  metricResolution: string;
}

function integerFlag(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new UsageError(`--${name}: "${text}" must be a whole number from ${min} to ${max}`);
  return value;
}

function parseSettings(argv: string[]): Settings {
  const { values } = parseArgs({
    args: argv,
    options: {
      'in-process': { type: 'boolean', default: false },
      nodes: { type: 'string', default: '100,1000' },
      pods: { type: 'string' },
      concurrency: { type: 'string', default: String(DEFAULT_CREATE_CONCURRENCY) },
      'case-timeout-seconds': { type: 'string', default: '120' },
      'warmup-pods': { type: 'string', default: '50' },
      seed: { type: 'string', default: '1' },
      'cpu-profile-dir': { type: 'string' },
      'metric-resolution': { type: 'string', default: DEFAULT_METRIC_RESOLUTION },
    },
  });
  const inProcessOnly = values['in-process'] ?? false;
  return {
    inProcessOnly,
    nodeCounts: (values.nodes ?? '').split(',').map((text) => integerFlag('nodes', text.trim(), 1, 5000)),
    podCount: integerFlag('pods', values.pods ?? (inProcessOnly ? '2000' : '1000'), 1, 20_000),
    concurrency: integerFlag('concurrency', values.concurrency ?? String(DEFAULT_CREATE_CONCURRENCY), 1, 256),
    caseTimeoutMs: integerFlag('case-timeout-seconds', values['case-timeout-seconds'] ?? '120', 10, 600) * 1000,
    warmupPods: integerFlag('warmup-pods', values['warmup-pods'] ?? '50', 1, 1000),
    seed: integerFlag('seed', values.seed ?? '1', 0, 2 ** 31),
    cpuProfileDir: values['cpu-profile-dir'],
    metricResolution: values['metric-resolution'] ?? DEFAULT_METRIC_RESOLUTION,
  };
}

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

function verdict(nodes: number, podsPerSecond: number): string {
  if (nodes < TARGET_NODES) return '-';
  return podsPerSecond >= TARGET_PODS_PER_SECOND ? 'met' : 'MISSED';
}

function inProcessTable(rows: readonly InProcessResult[]): string {
  return markdownTable(
    ['nodes', 'pods', 'bound', 'pods/s', 'cycle p50 ms', 'cycle p99 ms', `target (>= ${TARGET_PODS_PER_SECOND} pods/s @${TARGET_NODES} nodes)`],
    rows.map((row) => [String(row.nodes), String(row.pods), String(row.bound), formatNumber(row.podsPerSecond), formatNumber(row.cycleP50Ms, 3), formatNumber(row.cycleP99Ms, 3), verdict(row.nodes, row.podsPerSecond)]),
  );
}

interface CaseResult {
  inProcess: InProcessResult;
  endToEnd: EndToEndResult;
  /** The machine's 1-minute load average at the start and the end of the case: how shared the cores were. */
  loadAverage: [number, number];
}

function summaryTable(results: readonly CaseResult[]): string {
  return markdownTable(
    ['nodes', 'pods', 'bound', 'pods/s', 'p50 ms', 'p99 ms', 'backlog drain pods/s', 'in-process pods/s', 'in-process cycle p99 ms', `target (>= ${TARGET_PODS_PER_SECOND} pods/s @${TARGET_NODES})`, 'load avg start/end'],
    results.map(({ inProcess, endToEnd, loadAverage }) => {
      const streaming = endToEnd.streaming.summary;
      return [
        String(endToEnd.nodes),
        String(endToEnd.pods),
        String(streaming.bound),
        formatNumber(streaming.podsPerSecond),
        formatNumber(streaming.endToEnd.p50Ms),
        formatNumber(streaming.endToEnd.p99Ms),
        endToEnd.backlog === undefined ? '-' : formatNumber(endToEnd.backlog.summary.bindRatePerSecond),
        formatNumber(inProcess.podsPerSecond),
        formatNumber(inProcess.cycleP99Ms, 3),
        verdict(endToEnd.nodes, streaming.podsPerSecond),
        loadAverage.map((load) => load.toFixed(1)).join(' / '),
      ];
    }),
  );
}

/** Where a streaming run's time went, from the benchmark's own clocks. */
function breakdownTable(results: readonly EndToEndResult[]): string {
  const pair = (p50: number, p99: number): string => `${formatNumber(p50)} / ${formatNumber(p99)}`;
  return markdownTable(
    [
      'nodes',
      'node setup s',
      'creates/s',
      'creates/s (backlog, no scheduler)',
      'watch ADDED seen/s',
      'create p50/p99 ms',
      'sent -> watch ADDED p50/p99 ms',
      'same, backlog (no scheduler)',
      'ADDED -> bound p50/p99 ms',
      'lease renewals ok/failed',
    ],
    results.map((result) => {
      const streaming = result.streaming.summary;
      return [
        String(result.nodes),
        formatNumber(result.nodeSetupMs / 1000, 1),
        formatNumber(streaming.createRatePerSecond),
        result.backlog === undefined ? '-' : formatNumber(result.backlog.summary.createRatePerSecond),
        formatNumber(streaming.watchAddedRatePerSecond),
        pair(streaming.create.p50Ms, streaming.create.p99Ms),
        pair(streaming.watchAdded.p50Ms, streaming.watchAdded.p99Ms),
        result.backlog === undefined ? '-' : pair(result.backlog.summary.watchAdded.p50Ms, result.backlog.summary.watchAdded.p99Ms),
        pair(streaming.addedToBound.p50Ms, streaming.addedToBound.p99Ms),
        `${result.leases.renewed}/${result.leases.failed}`,
      ];
    }),
  );
}

const CPU_COLUMNS = ['etcd-lite', 'kube-apiserver', 'kube-scheduler', BENCH_PROCESS_NAME];

function segmentsOf(result: EndToEndResult): Segment[] {
  return [...result.streaming.segments, ...(result.backlog?.segments ?? [])];
}

/** CPU milliseconds per pod of each process, and how many of the machine's cores the run kept busy. */
function cpuTable(results: readonly EndToEndResult[]): string {
  const rows: string[][] = [];
  for (const result of results) {
    for (const segment of segmentsOf(result)) {
      if (segment.cpuSeconds.size === 0) continue;
      const total = [...segment.cpuSeconds.values()].reduce((sum, seconds) => sum + seconds, 0);
      rows.push([
        `${result.nodes} ${segment.name}`,
        formatNumber(segment.elapsedMs / 1000, 1),
        ...CPU_COLUMNS.map((name) => {
          const seconds = segment.cpuSeconds.get(name);
          return seconds === undefined ? '-' : formatNumber((seconds * 1000) / result.pods, 2);
        }),
        formatNumber((total * 1000) / result.pods, 2),
        formatNumber(total / (segment.elapsedMs / 1000), 2),
      ]);
    }
  }
  return markdownTable(['nodes, segment', 'wall s', ...CPU_COLUMNS.map((name) => `${name} cpu ms/pod`), 'all cpu ms/pod', 'cores busy'], rows);
}

/** The API server's own view of each segment: requests per kind, their rate and mean latency. */
function requestTable(results: readonly EndToEndResult[]): string {
  const rows: string[][] = [];
  for (const result of results) {
    for (const segment of segmentsOf(result)) {
      const seconds = segment.elapsedMs / 1000;
      const kinds = [...segment.requests.entries()].filter(([, totals]) => totals.count >= 10).sort((left, right) => right[1].count - left[1].count);
      for (const [kind, totals] of kinds) {
        rows.push([`${result.nodes} ${segment.name}`, kind, String(totals.count), formatNumber(totals.count / seconds), formatNumber((totals.sumSeconds / totals.count) * 1000, 1)]);
      }
    }
  }
  return markdownTable(['nodes, segment', 'request (server side)', 'count', 'per s', 'mean ms'], rows);
}

async function main(argv: string[]): Promise<number> {
  let settings: Settings;
  try {
    settings = parseSettings(argv);
  } catch (error) {
    if (!(error instanceof UsageError) && !(error instanceof TypeError)) throw error;
    process.stderr.write(`bench-scheduler: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  // A short warm-up so the JIT has compiled the hot paths before measuring.
  await runInProcess(Math.min(100, settings.nodeCounts[0] ?? 100), 200, settings.seed);
  if (settings.inProcessOnly) {
    const rows: InProcessResult[] = [];
    for (const nodes of settings.nodeCounts) rows.push(await runInProcess(nodes, settings.podCount, settings.seed));
    process.stdout.write(inProcessTable(rows));
    return 0;
  }
  const results: CaseResult[] = [];
  const notes: string[] = [];
  for (const nodes of settings.nodeCounts) {
    const loadAtStart = loadavg()[0] ?? NaN;
    const inProcess = await runInProcess(nodes, settings.podCount, settings.seed);
    const endToEnd = await runEndToEnd({
      nodeCount: nodes,
      podCount: settings.podCount,
      createConcurrency: settings.concurrency,
      warmupPods: settings.warmupPods,
      caseTimeoutMs: settings.caseTimeoutMs,
      ...(settings.cpuProfileDir === undefined ? {} : { cpuProfileDir: settings.cpuProfileDir }),
      metricResolution: settings.metricResolution,
      progress,
    });
    for (const [phase, result] of [['streaming', endToEnd.streaming], ['backlog', endToEnd.backlog]] as const) {
      if (result?.incomplete !== undefined) notes.push(`${nodes} nodes, ${phase}: stopped early: ${result.incomplete}`);
      if (result !== undefined && result.watchEnds.length > 0) notes.push(`${nodes} nodes, ${phase}: the pod watch was resumed ${result.watchEnds.length} times: ${result.watchEnds.join('; ')}`);
    }
    results.push({ inProcess, endToEnd, loadAverage: [loadAtStart, loadavg()[0] ?? NaN] });
  }
  process.stdout.write(
    `End to end (etcd-lite x1, kube-apiserver and kube-scheduler processes, ${settings.concurrency} creates in flight); latency = create sent -> spec.nodeName seen on a watch:\n\n`,
  );
  process.stdout.write(summaryTable(results));
  process.stdout.write('\nWhere the time goes (streaming phase unless marked):\n\n');
  process.stdout.write(breakdownTable(results.map((result) => result.endToEnd)));
  process.stdout.write('\n');
  process.stdout.write(requestTable(results.map((result) => result.endToEnd)));
  process.stdout.write('\n');
  process.stdout.write(cpuTable(results.map((result) => result.endToEnd)));
  for (const note of notes) process.stdout.write(`\nNOTE: ${note}\n`);
  return results.some(({ endToEnd }) => endToEnd.streaming.incomplete !== undefined || endToEnd.backlog?.incomplete !== undefined) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench-scheduler: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
