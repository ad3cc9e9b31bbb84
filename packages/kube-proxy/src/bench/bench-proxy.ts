// In-process benchmark of the userspace data path: HTTP requests/s and p99
// latency through a NodePort (userspace TCP proxy) and through the ingress
// controller, side by side with hitting the backends directly, all on
// loopback in one process so the ratios hold on a noisy machine.
//
//   node packages/kube-proxy/dist/bench/bench-proxy.js [--seconds 20] [--concurrency 32] [--backends 3]
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { buildServiceTable } from '../core/service-table';
import { IngressController } from '../ingress/ingress-controller';
import { endpointsOf, ingressOf, serviceOf } from '../test-fixtures';
import { UserspaceProxier } from '../userspace/userspace-proxier';

interface Row {
  path: string;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? 0;
}

function get(agent: http.Agent, host: string, port: number, headers: Record<string, string>): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get({ host, port, path: '/bench', agent, headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
      response.on('error', () => resolve(false));
    });
    request.on('error', () => resolve(false));
    request.setTimeout(5000, () => request.destroy());
  });
}

/** `concurrency` closed-loop clients for `seconds`; each target is picked in turn (direct: one per backend). */
async function load(name: string, targets: readonly { host: string; port: number }[], seconds: number, concurrency: number, headers: Record<string, string> = {}): Promise<Row> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const latenciesMs: number[] = [];
  let errors = 0;
  const deadline = performance.now() + seconds * 1000;
  const worker = async (index: number) => {
    const target = targets[index % targets.length] ?? { host: '127.0.0.1', port: 0 };
    while (performance.now() < deadline) {
      const started = performance.now();
      const ok = await get(agent, target.host, target.port, headers);
      if (ok) latenciesMs.push(performance.now() - started);
      else errors++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, (_, index) => worker(index)));
  const elapsedSeconds = (performance.now() - started) / 1000;
  agent.destroy();
  latenciesMs.sort((a, b) => a - b);
  return { path: name, requests: latenciesMs.length, errors, requestsPerSecond: latenciesMs.length / elapsedSeconds, p50Ms: percentile(latenciesMs, 0.5), p99Ms: percentile(latenciesMs, 0.99) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '20' }, concurrency: { type: 'string', default: '32' }, backends: { type: 'string', default: '3' } } });
  const seconds = Math.min(60, Math.max(1, Number(values.seconds)));
  const concurrency = Math.min(256, Math.max(1, Number(values.concurrency)));
  const backendCount = Math.min(8, Math.max(1, Number(values.backends)));
  const body = Buffer.alloc(256, 'x');
  const servers: http.Server[] = [];
  for (let index = 0; index < backendCount; index++) {
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(servers.length === 0 ? 0 : (servers[0]?.address() as AddressInfo).port, `127.0.2.${200 + index}`, () => resolve()));
    servers.push(server);
  }
  const backendPort = (servers[0]?.address() as AddressInfo).port;
  const backends = servers.map((_, index) => ({ host: `127.0.2.${200 + index}`, port: backendPort }));
  const nodeIP = '127.0.1.250';
  const nodePort = 32000 + Math.floor(Math.random() * 700);
  const service = serviceOf('bench', { type: 'NodePort', clusterIP: '10.97.250.1', ports: [{ name: 'http', port: 80, nodePort }] });
  const endpoints = endpointsOf('bench', [{ addresses: backends.map((backend) => ({ ip: backend.host })), ports: [{ name: 'http', port: backendPort }] }]);
  const proxier = new UserspaceProxier({ nodePortAddresses: [nodeIP], serviceAddress: () => undefined });
  await proxier.sync(buildServiceTable([service], [endpoints]));
  const ingress = new IngressController({ port: 0 });
  ingress.update([ingressOf('bench', { rules: [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'bench', port: { name: 'http' } } } }] } }] })], [service], [endpoints]);
  await ingress.start();
  const rows: Row[] = [];
  try {
    rows.push(await load('direct to backends', backends, seconds, concurrency));
    rows.push(await load('NodePort (userspace TCP proxy)', [{ host: nodeIP, port: nodePort }], seconds, concurrency));
    rows.push(await load('ingress controller (HTTP proxy)', [{ host: '127.0.0.1', port: ingress.port() }], seconds, concurrency, { host: 'bench.example' }));
  } finally {
    await ingress.stop();
    await proxier.stop();
    for (const server of servers) server.close();
  }
  const direct = rows[0]?.requestsPerSecond ?? 1;
  process.stdout.write(`kube-proxy data path: ${seconds} s per case, concurrency ${concurrency}, ${backendCount} backends, 256-byte responses, loopback, one process\n\n`);
  process.stdout.write(`${'path'.padEnd(34)} ${'req/s'.padStart(9)} ${'vs direct'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'errors'.padStart(7)}\n`);
  for (const row of rows) {
    process.stdout.write(
      `${row.path.padEnd(34)} ${row.requestsPerSecond.toFixed(0).padStart(9)} ${`${((row.requestsPerSecond / direct) * 100).toFixed(0)}%`.padStart(9)} ${row.p50Ms.toFixed(2).padStart(8)} ${row.p99Ms.toFixed(2).padStart(8)} ${String(row.errors).padStart(7)}\n`,
    );
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench-proxy: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
