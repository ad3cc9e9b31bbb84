#!/usr/bin/env node
// `npm run bench:etcd -- [--loads s,m,l] [--only etcd|etcd-lite]`
//
// Runs `etcdctl check perf` against a 3-member etcd-lite cluster and a
// 3-member real etcd with the same flags on the same machine, load by load and
// one implementation right after the other, so the ratio holds on a noisy
// machine. Each measurement gets a fresh cluster. Progress goes to stderr, the
// table to stdout. Each load runs about 60 s per implementation.

import { parseArgs } from 'node:util';
import * as os from 'node:os';
import { EtcdCluster, EtcdImplementation, etcdLiteAvailable, etcdLiteBinaryPath, startEtcdCluster } from '@kube-lite/testing';
import { CHECK_PERF_LOADS, CheckPerfLoad, parseCheckPerfOutput } from './check-perf';
import { BenchRow, formatTable } from './report';

const IMPLEMENTATIONS: readonly EtcdImplementation[] = ['etcd-lite', 'etcd'];
/** check perf writes for 60 s, then deletes its keys; this bounds a stuck run. */
const CHECK_PERF_TIMEOUT_MS = 180000;
const PROGRESS_INTERVAL_MS = 15000;

/** A bad command-line flag. */
class BenchUsageError extends Error {
  constructor(message: string) {
    super(`${message}\nusage: bench-etcd [--loads s,m,l] [--only etcd|etcd-lite]`);
    this.name = 'BenchUsageError';
  }
}

interface BenchOptions {
  loads: CheckPerfLoad[];
  implementations: EtcdImplementation[];
}

function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: { loads: { type: 'string', default: 's,m,l' }, only: { type: 'string' } },
  });
  const loads = (values.loads ?? '').split(',').filter((load) => load !== '');
  for (const load of loads) {
    if (!(CHECK_PERF_LOADS as readonly string[]).includes(load)) {
      throw new BenchUsageError(`unknown load "${load}" in --loads; allowed: ${CHECK_PERF_LOADS.join(', ')}`);
    }
  }
  if (loads.length === 0) throw new BenchUsageError('--loads names no load');
  const only = values.only;
  if (only !== undefined && !(IMPLEMENTATIONS as readonly string[]).includes(only)) {
    throw new BenchUsageError(`unknown implementation "${only}" in --only; allowed: ${IMPLEMENTATIONS.join(', ')}`);
  }
  const implementations = only === undefined ? [...IMPLEMENTATIONS] : [only as EtcdImplementation];
  if (implementations.includes('etcd-lite') && !etcdLiteAvailable()) {
    throw new BenchUsageError(`etcd-lite is not built (${etcdLiteBinaryPath()} missing): run \`npm run build\`, or pass --only etcd`);
  }
  return { loads: loads as CheckPerfLoad[], implementations };
}

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function measure(implementation: EtcdImplementation, load: CheckPerfLoad): Promise<BenchRow> {
  let cluster: EtcdCluster | undefined;
  try {
    progress(`${implementation}, load ${load}: starting a 3-member cluster`);
    cluster = await startEtcdCluster({ implementation, members: 3 });
    progress(`${implementation}, load ${load}: running etcdctl check perf --load=${load} (about 60 s)`);
    const startedMs = Date.now();
    const ticker = setInterval(() => progress(`${implementation}, load ${load}: ${Math.round((Date.now() - startedMs) / 1000)} s`), PROGRESS_INTERVAL_MS);
    const result = await cluster
      .etcdctl(['check', 'perf', `--load=${load}`], { commandTimeoutMs: CHECK_PERF_TIMEOUT_MS })
      .finally(() => clearInterval(ticker));
    // A FAIL verdict exits non-zero but still carries the measurements.
    const outcome = parseCheckPerfOutput(result.stdout + result.stderr);
    progress(`${implementation}, load ${load}: ${outcome.writesPerSecond} writes/s, ${outcome.passed ? 'PASS' : 'FAIL'}`);
    return { load, implementation, outcome };
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] ?? error.message : String(error);
    progress(`${implementation}, load ${load}: failed: ${error instanceof Error ? error.message : String(error)}`);
    return { load, implementation, outcome: { error: message } };
  } finally {
    await cluster?.stop();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  progress(`loads ${options.loads.join(',')}; implementations ${options.implementations.join(', ')}; ${os.cpus().length} cores`);
  const rows: BenchRow[] = [];
  for (const load of options.loads) {
    for (const implementation of options.implementations) rows.push(await measure(implementation, load));
  }
  console.log(formatTable(rows));
  if (rows.some((row) => 'error' in row.outcome)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
