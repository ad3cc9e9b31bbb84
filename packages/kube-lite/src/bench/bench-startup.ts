// Pod startup latency on a local cluster (kube-lite issue 6), in the shape of
// clusterloader2's node-throughput test: a 1-worker cluster of processes in a
// temporary data dir, pause-like pods created at a bounded rate, each timed
// from the client clock just before its create to the first watch event that
// shows it Running with every container ready (upstream's "observed running"
// SLI; creationTimestamp is only second-granular). Stops the cluster, then
// prints p50/p90/p99/max and the throughput beside the upstream SLO and the
// issue's target, and where the time went (from the component logs, read once
// the components have exited and so written every line). Bounded in total
// time (3 minutes by default, stopping the cluster included).
//
//   node packages/kube-lite/dist/bench/bench-startup.js [--pods 100] [--rate 20] [--image busybox|ml-serving]
//        [--max-in-flight 10] [--port-offset 3000] [--subnet 2] [--ingress-port 28080] [--budget-seconds 180] [--keep-data-dir]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalCluster } from '../cluster/local-cluster';
import { podLogTimes } from './component-logs';
import { summarize, type LatencySummary } from './latency-summary';
import { PodRequests, type PodWatcher } from './pod-requests';
import { stageBreakdown } from './stage-breakdown';
import { StartupTracker } from './startup-tracker';

/** Upstream's pod startup SLO: p99 <= 5 s for stateless pods with pre-pulled images. */
const UPSTREAM_SLO_P99_MS = 5_000;
/** kube-lite issue 6's target with the process runtime. */
const ISSUE_TARGET_P99_MS = 2_000;
const NAMESPACE = 'default';
const LABEL_KEY = 'kube-lite-bench';
const LABEL_VALUE = 'startup';
const PROGRESS_INTERVAL_MS = 2_000;
/** Kept back from the budget for stopping the cluster (containers get 5 s after SIGTERM). */
const STOP_RESERVE_MS = 30_000;

type ImageChoice = 'busybox' | 'ml-serving';

interface BenchOptions {
  pods: number;
  ratePerSecond: number;
  maxInFlight: number;
  image: ImageChoice;
  portOffset: number;
  subnet: number;
  ingressPort: number;
  budgetMs: number;
  keepDataDir: boolean;
}

/** A flag value out of range or malformed. */
class BenchOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchOptionError';
  }
}

/** The time budget ran out before the phase finished. */
class BudgetExceededError extends Error {
  constructor(readonly phase: string, budgetMs: number) {
    super(`${phase} did not finish within the benchmark's ${Math.round(budgetMs / 1000)} s budget`);
    this.name = 'BudgetExceededError';
  }
}

function wholeNumber(flag: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) throw new BenchOptionError(`--${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  return value;
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      pods: { type: 'string', default: '100' },
      rate: { type: 'string', default: '20' },
      'max-in-flight': { type: 'string', default: '10' },
      image: { type: 'string', default: 'busybox' },
      'port-offset': { type: 'string', default: '3000' },
      subnet: { type: 'string', default: '2' },
      'ingress-port': { type: 'string', default: '28080' },
      'budget-seconds': { type: 'string', default: '180' },
      'keep-data-dir': { type: 'boolean', default: false },
    },
  });
  if (values.image !== 'busybox' && values.image !== 'ml-serving') throw new BenchOptionError(`--image must be busybox or ml-serving, got "${values.image}"`);
  return {
    pods: wholeNumber('pods', values.pods, 1, 1000),
    ratePerSecond: wholeNumber('rate', values.rate, 1, 500),
    maxInFlight: wholeNumber('max-in-flight', values['max-in-flight'], 1, 100),
    image: values.image,
    portOffset: wholeNumber('port-offset', values['port-offset'], 0, 40_000),
    subnet: wholeNumber('subnet', values.subnet, 1, 2),
    ingressPort: wholeNumber('ingress-port', values['ingress-port'], 1, 65_535),
    budgetMs: wholeNumber('budget-seconds', values['budget-seconds'], 60, 1800) * 1000,
    keepDataDir: values['keep-data-dir'],
  };
}

/** The clusterloader2 node-throughput pod: one container doing nothing, no requests, no probes. */
function podManifest(name: string, image: ImageChoice): unknown {
  const container =
    image === 'busybox'
      ? { name: 'pause', image: 'busybox', command: ['sh', '-c', 'sleep 3600'] }
      : // ml-serving listens on its pod IP; without a readiness probe it is ready once started, like the busybox pod.
        { name: 'serving', image: 'ml-serving:1.0', env: [{ name: 'PORT', value: '8080' }] };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { [LABEL_KEY]: LABEL_VALUE } },
    spec: { containers: [container], terminationGracePeriodSeconds: 1 },
  };
}

const write = (line: string): void => void process.stdout.write(`${line}\n`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const seconds = (ms: number): string => (ms / 1000).toFixed(1);
const loadAverage = (): string => os.loadavg().map((load) => load.toFixed(2)).join(' ');

/** Rejects with BudgetExceededError at `deadlineMs` unless `work` settles first (the work itself is not cancelled). */
async function before<T>(deadlineMs: number, budgetMs: number, phase: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new BudgetExceededError(phase, budgetMs)), Math.max(0, deadlineMs - Date.now()));
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

interface CreateOutcome {
  failures: string[];
  lastSentMs: number;
}

/** Sends the creates at `ratePerSecond`, never more than `maxInFlight` unanswered, until done or past `deadlineMs`. */
async function createPods(requests: PodRequests, tracker: StartupTracker, options: BenchOptions, deadlineMs: number): Promise<CreateOutcome> {
  const failures: string[] = [];
  const inFlight = new Set<Promise<void>>();
  const firstDueMs = Date.now();
  let lastSentMs = firstDueMs;
  for (let index = 0; index < options.pods && Date.now() < deadlineMs; index++) {
    await sleep(firstDueMs + (index * 1000) / options.ratePerSecond - Date.now());
    while (inFlight.size >= options.maxInFlight) await Promise.race(inFlight);
    const name = `startup-${String(index).padStart(4, '0')}`;
    const manifest = podManifest(name, options.image);
    lastSentMs = Date.now();
    tracker.createSent(name, lastSentMs);
    const request: Promise<void> = requests.createPod(NAMESPACE, manifest).then(
      () => tracker.createAnswered(name, Date.now()),
      (error: unknown) => void failures.push(`${name}: ${(error as Error).message}`),
    );
    const tracked = request.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  }
  await Promise.all(inFlight);
  return { failures, lastSentMs };
}

function formatRow(label: string, cells: (string | number)[], widths: number[]): string {
  return [label.padEnd(widths[0] ?? 0), ...cells.map((cell, i) => String(cell).padStart(widths[i + 1] ?? 8))].join(' ');
}

function ms(value: number): string {
  return Number.isNaN(value) ? '-' : value.toFixed(0);
}

function printResults(options: BenchOptions, tracker: StartupTracker, summary: LatencySummary, throughput: number, stages: ReturnType<typeof stageBreakdown>): void {
  const what = options.image === 'busybox' ? "busybox `sh -c 'sleep 3600'`" : 'ml-serving:1.0';
  const counts = tracker.counts();
  write('');
  write(`pod startup latency: create sent -> watch shows Running with all containers ready`);
  write(`${options.pods} pods of ${what}, 1 worker, process runtime, created at ${options.ratePerSecond} pods/s (at most ${options.maxInFlight} in flight)`);
  write('');
  const widths = [16, 9, 8, 8, 8, 8, 8];
  write(formatRow('', ['pods', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'pods/s'], widths));
  write(formatRow('kube-lite', [`${counts.running}/${options.pods}`, ms(summary.p50Ms), ms(summary.p90Ms), ms(summary.p99Ms), ms(summary.maxMs), throughput.toFixed(1)], widths));
  write(formatRow('upstream SLO', ['', '', '', ms(UPSTREAM_SLO_P99_MS), '', ''], widths));
  write(formatRow('issue target', ['', '', '', ms(ISSUE_TARGET_P99_MS), '', ''], widths));
  write('');
  const allRan = counts.running === options.pods;
  const verdict = (limitMs: number): string => (allRan && summary.p99Ms <= limitMs ? 'met' : 'MISSED');
  write(`p99 ${ms(summary.p99Ms)} ms: issue target (<= ${ISSUE_TARGET_P99_MS} ms) ${verdict(ISSUE_TARGET_P99_MS)}, upstream SLO (<= ${UPSTREAM_SLO_P99_MS} ms) ${verdict(UPSTREAM_SLO_P99_MS)}${allRan ? '' : ` (only ${counts.running} of ${options.pods} pods ran)`}`);
  write('');
  write('where the time went (component logs; consecutive stages add up to the startup latency):');
  const stageWidths = [28, 5, 8, 8, 8, 8];
  write(formatRow('stage', ['pods', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], stageWidths));
  for (const stage of stages) {
    const stageSummary = summarize(stage.samplesMs);
    write(formatRow(stage.stage, [stageSummary.count, ms(stageSummary.p50Ms), ms(stageSummary.p90Ms), ms(stageSummary.p99Ms), ms(stageSummary.maxMs)], stageWidths));
  }
}

async function run(options: BenchOptions): Promise<number> {
  const startedMs = Date.now();
  const deadlineMs = startedMs + options.budgetMs;
  const workDeadlineMs = deadlineMs - STOP_RESERVE_MS;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-bench-startup-'));
  write(`bench:startup ${new Date(startedMs).toISOString()}: ${os.cpus().length} cpus, load average ${loadAverage()}, node ${process.version}, data dir ${dataDir}`);
  const cluster = new LocalCluster(
    { dataDir, workers: 1, runtime: 'process', ingressPort: options.ingressPort, portOffset: options.portOffset, subnet: options.subnet },
    { report: (line) => write(`  | ${line}`) },
  );

  let upSettled = false;
  let stopping: Promise<void> | undefined;
  const stopCluster = (): Promise<void> =>
    (stopping ??= (async () => {
      write(`stopping the cluster (${seconds(Date.now() - startedMs)} s in)`);
      await cluster.down({ quiet: true }).catch((error: unknown) => write(`  down: ${(error as Error).message}`));
      // Interrupted while starting: a second pass catches what was spawned during the first.
      if (!upSettled) await cluster.down({ quiet: true }).catch(() => undefined);
      await cluster.detachLauncher().catch(() => undefined);
    })());
  const onSignal = (signal: NodeJS.Signals): void => {
    write(`${signal}: stopping`);
    void stopCluster().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let requests: PodRequests | undefined;
  let watcher: PodWatcher | undefined;
  let progress: NodeJS.Timeout | undefined;
  let failed = true;
  try {
    write(`starting a 1-worker cluster (port offset ${options.portOffset}, subnet ${options.subnet}, ingress port ${options.ingressPort})`);
    await before(workDeadlineMs, options.budgetMs, 'starting the cluster', cluster.up().finally(() => (upSettled = true)));
    write(`cluster up in ${seconds(Date.now() - startedMs)} s; load average ${loadAverage()}`);

    requests = new PodRequests(cluster.apiAccess(), options.maxInFlight);
    const tracker = new StartupTracker();
    let allRunning: () => void = () => undefined;
    const allRunningSignal = new Promise<void>((resolve) => (allRunning = resolve));
    watcher = requests.watchPods(
      NAMESPACE,
      `${LABEL_KEY}=${LABEL_VALUE}`,
      (pod, nowMs) => {
        tracker.observe(pod, nowMs);
        if (tracker.counts().running === options.pods) allRunning();
      },
      (message) => write(`  ! ${message}`),
    );

    const createStartedMs = Date.now();
    progress = setInterval(() => {
      const counts = tracker.counts();
      write(`  ${seconds(Date.now() - createStartedMs).padStart(5)} s: sent ${counts.sent}, created ${counts.created}, bound ${counts.bound}, running ${counts.running} of ${options.pods}`);
    }, PROGRESS_INTERVAL_MS);
    write(`creating ${options.pods} pods at ${options.ratePerSecond} pods/s`);
    const outcome = await createPods(requests, tracker, options, workDeadlineMs);
    for (const failure of outcome.failures.slice(0, 5)) write(`  ! create failed: ${failure}`);
    if (outcome.failures.length > 5) write(`  ! ... and ${outcome.failures.length - 5} more failed creates`);
    const expected = options.pods - outcome.failures.length;
    if (tracker.counts().running < expected) {
      await before(workDeadlineMs, options.budgetMs, `waiting for ${expected} pods to run`, allRunningSignal).catch((error: unknown) => write(`  ! ${(error as Error).message}`));
    }
    clearInterval(progress);
    await watcher.stop();

    const timelines = tracker.all();
    const latenciesMs = tracker.startupLatenciesMs();
    const summary = summarize(latenciesMs);
    const lastRunningMs = Math.max(...timelines.map((t) => t.runningObservedMs ?? 0));
    const throughput = latenciesMs.length === 0 ? 0 : latenciesMs.length / ((lastRunningMs - createStartedMs) / 1000);
    const loadAtEnd = loadAverage();
    // The logs are complete only once the components have exited: the API server writes its lines in batches
    // (at the latest when it exits), and it may log a request after the watch event the benchmark already saw.
    requests.close();
    await stopCluster();
    const logs = cluster.layout.files.logDirectory;
    const readLog = (file: string): string => {
      const full = path.join(logs, file);
      return fs.existsSync(full) ? fs.readFileSync(full, 'utf8') : '';
    };
    const logTimes = podLogTimes(NAMESPACE, new Set(timelines.map((t) => t.name)), readLog('kube-apiserver.log'), readLog(`kubelet-${cluster.layout.workers[0]?.name ?? 'worker-1'}.log`));
    printResults(options, tracker, summary, throughput, stageBreakdown(timelines, logTimes));
    write('');
    write(`load average at the end ${loadAtEnd}`);
    failed = latenciesMs.length < options.pods;
  } catch (error) {
    write(`bench:startup failed: ${(error as Error).message}`);
  } finally {
    clearInterval(progress);
    await watcher?.stop().catch(() => undefined);
    requests?.close();
    await stopCluster();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (options.keepDataDir || failed) {
    write(`data dir kept: ${dataDir} (logs in ${cluster.layout.files.logDirectory})`);
  } else {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  write(`done in ${seconds(Date.now() - startedMs)} s`);
  return failed ? 1 : 0;
}

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`bench-startup: ${(error as Error).message}\n`);
    return 2;
  }
  return run(options);
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench-startup: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
