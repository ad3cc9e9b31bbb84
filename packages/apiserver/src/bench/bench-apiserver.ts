#!/usr/bin/env node
// `npm run bench:apiserver -- [--store etcd-lite|etcd|both] [--pods 10000]`
//
// Starts a one-member etcd-lite and/or real etcd 3.4 and the API server in
// this process, then drives the server over HTTPS as clients do: latency of
// create, get, update and cluster-wide lists of 1k and 10k pods, the delay
// from a write to its watch event at a churn of 20 objects/s, and the highest
// create rate with 32 requests in flight. Stores run one after the other on
// the same machine so their ratio holds. Progress goes to stderr, the table
// to stdout.

import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { etcdLiteAvailable, startEtcdCluster, type EtcdImplementation } from '@kube-lite/testing';
import { parsePortRange, parseServiceIpRange } from '../config';
import { startKubeApiServer } from '../kube-apiserver';
import { Logger } from '../server';

interface Client {
  call(method: string, path: string, body?: unknown): Promise<{ status: number; text: string }>;
  /** Opens a watch; onEvent gets each line's parsed object and the arrival time. */
  watch(path: string, onEvent: (event: { type: string; object: { metadata?: { name?: string } } }, atMs: number) => void): () => void;
  close(): void;
}

function client(url: string, token: string, caPem: string): Client {
  const agent = new Agent({ keepAlive: true, maxSockets: 64, ca: caPem });
  const base = new URL(url);
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', Accept: 'application/json' };
  return {
    call(method, path, body) {
      return new Promise((resolve, reject) => {
        const text = body === undefined ? undefined : JSON.stringify(body);
        const outgoing = request({ host: base.hostname, port: base.port, method, path, agent, headers: text === undefined ? headers : { ...headers, 'Content-Length': Buffer.byteLength(text) } }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          response.on('error', reject);
        });
        outgoing.on('error', reject);
        outgoing.end(text);
      });
    },
    watch(path, onEvent) {
      const outgoing = request({ host: base.hostname, port: base.port, method: 'GET', path, agent: new Agent({ ca: caPem }), headers }, (response) => {
        let buffered = '';
        response.on('data', (chunk: Buffer) => {
          const atMs = performance.now();
          buffered += chunk.toString('utf8');
          let newline = buffered.indexOf('\n');
          while (newline >= 0) {
            const line = buffered.slice(0, newline);
            buffered = buffered.slice(newline + 1);
            if (line.trim() !== '') onEvent(JSON.parse(line), atMs);
            newline = buffered.indexOf('\n');
          }
        });
        response.on('error', () => undefined);
      });
      outgoing.on('error', () => undefined);
      outgoing.end();
      return () => outgoing.destroy();
    },
    close: () => agent.destroy(),
  };
}

function podBody(name: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { app: 'bench', tier: 'web' } },
    spec: { containers: [{ name: 'app', image: 'registry.example/bench:1.0', ports: [{ containerPort: 8080 }], resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
  };
}

function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}

async function timed(operation: () => Promise<{ status: number; text: string }>, expected: number): Promise<number> {
  const started = performance.now();
  const result = await operation();
  const elapsed = performance.now() - started;
  if (result.status !== expected) throw new Error(`expected HTTP ${expected}, got ${result.status}: ${result.text.slice(0, 300)}`);
  return elapsed;
}

/** Runs `count` operations with `concurrency` in flight; returns the wall time in ms. */
async function inParallel(count: number, concurrency: number, operation: (index: number) => Promise<unknown>): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        await operation(index);
      }
    }),
  );
  return performance.now() - started;
}

function progress(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

type Results = Map<string, string>;

const SAMPLES = 300;
const CHURN_PER_SECOND = 20;
const CHURN_SECONDS = 10;

async function benchStore(implementation: EtcdImplementation, totalPods: number): Promise<Results> {
  const results: Results = new Map();
  const directory = mkdtempSync(join(tmpdir(), 'kube-lite-bench-apiserver-'));
  const etcd = await startEtcdCluster({ implementation, members: 1 });
  const server = await startKubeApiServer({
    etcdServers: etcd.members.map((member) => member.clientUrl),
    securePort: 0,
    bindAddress: '127.0.0.1',
    advertiseAddress: '127.0.0.1',
    serviceClusterIpRange: parseServiceIpRange('10.96.0.0/12'),
    serviceNodePortRange: parsePortRange('30000-32767'),
    certDir: join(directory, 'pki'),
    verbosity: 0,
    logger: new Logger({ level: 'error' }),
  });
  const api = client(server.url, server.adminToken ?? '', server.caPem);
  const pods = '/api/v1/namespaces/default/pods';
  try {
    const record = (label: string, samples: number[]): void => {
      results.set(`${label} p50`, `${percentile(samples, 0.5).toFixed(1)} ms`);
      results.set(`${label} p99`, `${percentile(samples, 0.99).toFixed(1)} ms`);
    };
    progress(`${implementation}: create/get/update x${SAMPLES}`);
    const creates: number[] = [];
    for (let index = 0; index < SAMPLES; index++) creates.push(await timed(() => api.call('POST', pods, podBody(`single-${index}`)), 201));
    record('create', creates);
    const gets: number[] = [];
    for (let index = 0; index < SAMPLES; index++) gets.push(await timed(() => api.call('GET', `${pods}/single-${index}`), 200));
    record('get', gets);
    const updates: number[] = [];
    for (let index = 0; index < SAMPLES; index++) {
      // Read-modify-write, as controllers do; only the PUT is timed.
      const body = JSON.parse((await api.call('GET', `${pods}/single-${index}`)).text) as { metadata: { labels: Record<string, string> } };
      body.metadata.labels.round = '2';
      updates.push(await timed(() => api.call('PUT', `${pods}/single-${index}`, body), 200));
    }
    record('update (PUT)', updates);

    progress(`${implementation}: watch delay at ${CHURN_PER_SECOND} creates/s for ${CHURN_SECONDS} s`);
    const sentAt = new Map<string, number>();
    const delays: number[] = [];
    const churnLatencies: number[] = [];
    const list = JSON.parse((await api.call('GET', `${pods}?limit=1`)).text) as { metadata: { resourceVersion: string } };
    const stop = api.watch(`${pods}?watch=true&resourceVersion=${list.metadata.resourceVersion}&labelSelector=churn%3Dyes`, (event, atMs) => {
      const name = event.object.metadata?.name ?? '';
      const started = sentAt.get(name);
      if (event.type === 'ADDED' && started !== undefined) delays.push(atMs - started);
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const churnStarted = performance.now();
    const churn: Promise<void>[] = [];
    for (let index = 0; index < CHURN_PER_SECOND * CHURN_SECONDS; index++) {
      const due = churnStarted + (index * 1000) / CHURN_PER_SECOND;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const name = `churn-${index}`;
      const body = { ...podBody(name), metadata: { name, labels: { churn: 'yes' } } };
      sentAt.set(name, performance.now());
      churn.push(timed(() => api.call('POST', pods, body), 201).then((ms) => void churnLatencies.push(ms)));
    }
    await Promise.all(churn);
    await new Promise((resolve) => setTimeout(resolve, 500));
    stop();
    record(`create at ${CHURN_PER_SECOND}/s`, churnLatencies);
    record('watch delay', delays);
    results.set('watch events seen', `${delays.length}/${CHURN_PER_SECOND * CHURN_SECONDS}`);

    for (const target of [1000, totalPods]) {
      const existing = (JSON.parse((await api.call('GET', '/api/v1/pods?limit=1')).text) as { metadata: { remainingItemCount?: number } }).metadata.remainingItemCount ?? 0;
      const missing = Math.max(0, target - existing - 1);
      progress(`${implementation}: creating ${missing} pods (32 in flight) to reach ${target}`);
      const wallMs = await inParallel(missing, 32, async (index) => {
        const result = await api.call('POST', pods, podBody(`bulk-${target}-${index}`));
        if (result.status !== 201) throw new Error(`create failed: ${result.status} ${result.text.slice(0, 200)}`);
      });
      if (target === totalPods && missing > 0) results.set('max create rate (32 in flight)', `${Math.round((missing / wallMs) * 1000)} pods/s`);
      const lists: number[] = [];
      for (let round = 0; round < 5; round++) lists.push(await timed(() => api.call('GET', '/api/v1/pods'), 200));
      const count = (JSON.parse((await api.call('GET', '/api/v1/pods')).text) as { items: unknown[] }).items.length;
      const label = `list all pods (${count >= 1000 ? `${Math.round(count / 1000)}k` : count})`;
      results.set(`${label} p50`, `${percentile(lists, 0.5).toFixed(0)} ms`);
      results.set(`${label} max`, `${Math.max(...lists).toFixed(0)} ms`);
      const cached: number[] = [];
      for (let round = 0; round < 5; round++) cached.push(await timed(() => api.call('GET', '/api/v1/pods?resourceVersion=0'), 200));
      results.set(`${label} from cache p50`, `${percentile(cached, 0.5).toFixed(0)} ms`);
    }
  } finally {
    api.close();
    await server.stop();
    await etcd.stop();
    rmSync(directory, { recursive: true, force: true });
  }
  return results;
}

function printTable(columns: EtcdImplementation[], results: Map<EtcdImplementation, Results>): void {
  const labels = [...new Set(columns.flatMap((column) => [...(results.get(column)?.keys() ?? [])]))];
  const header = ['measurement', ...columns];
  const rows = labels.map((label) => [label, ...columns.map((column) => results.get(column)?.get(label) ?? '-')]);
  const widths = header.map((_, index) => Math.max(...[header, ...rows].map((row) => (row[index] ?? '').length)));
  const line = (row: string[]): string => `| ${row.map((cell, index) => (index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0))).join(' | ')} |`;
  process.stdout.write(`${line(header)}\n|${widths.map((width, index) => (index === 0 ? `${'-'.repeat(width + 2)}` : `${'-'.repeat(width + 1)}:`)).join('|')}|\n`);
  for (const row of rows) process.stdout.write(`${line(row)}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { store: { type: 'string', default: 'both' }, pods: { type: 'string', default: '10000' } } });
  const store = values.store ?? 'both';
  if (!['both', 'etcd', 'etcd-lite'].includes(store)) throw new Error(`--store: "${store}" is not one of etcd-lite, etcd, both`);
  const totalPods = Number(values.pods);
  if (!Number.isInteger(totalPods) || totalPods < 1000 || totalPods > 50_000) throw new Error('--pods: must be an integer from 1000 to 50000');
  let implementations: EtcdImplementation[] = store === 'both' ? ['etcd-lite', 'etcd'] : [store as EtcdImplementation];
  if (implementations.includes('etcd-lite') && !etcdLiteAvailable()) {
    if (store === 'etcd-lite') throw new Error('etcd-lite is not built: run `npm run build`');
    progress('etcd-lite is not built; measuring etcd only');
    implementations = implementations.filter((implementation) => implementation !== 'etcd-lite');
  }
  const results = new Map<EtcdImplementation, Results>();
  for (const implementation of implementations) results.set(implementation, await benchStore(implementation, totalPods));
  printTable(implementations, results);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench-apiserver: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    process.exit(1);
  },
);
