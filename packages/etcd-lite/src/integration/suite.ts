// Shared scaffolding of the integration suites: which implementations to run
// (the real etcd always, etcd-lite once built), one cluster per suite file,
// and small helpers around etcdctl.

import type { ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import {
  EtcdCluster,
  EtcdClusterOptions,
  EtcdctlOptions,
  EtcdctlResult,
  EtcdImplementation,
  etcdLiteAvailable,
  parseEtcdctlJson,
  startEtcdCluster,
} from '@kube-lite/testing';

/**
 * The real etcd proves a suite tests etcd's behaviour; etcd-lite runs when its
 * binary is built, and ETCD_LITE_REQUIRED=1 turns a missing build into a
 * failed start instead of a skip (for CI after `npm run build`).
 */
export function implementationsUnderTest(): EtcdImplementation[] {
  const required = process.env['ETCD_LITE_REQUIRED'] === '1';
  return etcdLiteAvailable() || required ? ['etcd', 'etcd-lite'] : ['etcd'];
}

export type ClusterTest = (cluster: EtcdCluster) => Promise<void>;

export interface ClusterSuite {
  implementation: EtcdImplementation;
  /** The suite's cluster; only valid inside tests and hooks. */
  cluster(): EtcdCluster;
  /** Like jest's `it`, but a failure keeps the cluster's data dir and prints its logs. */
  test(name: string, body: ClusterTest, timeoutMs?: number): void;
}

const CLUSTER_START_TIMEOUT_MS = 60000;

/** One describe block per implementation, each sharing one cluster across its tests. */
export function describeEachImplementation(
  title: string,
  options: Omit<EtcdClusterOptions, 'implementation'>,
  body: (suite: ClusterSuite) => void,
): void {
  describe.each(implementationsUnderTest())(`%s: ${title}`, (implementation) => {
    let cluster: EtcdCluster | undefined;
    const current = (): EtcdCluster => {
      if (!cluster) throw new Error(`the ${implementation} cluster did not start; see the beforeAll failure`);
      return cluster;
    };
    beforeAll(async () => {
      cluster = await startEtcdCluster({ ...options, implementation });
    }, CLUSTER_START_TIMEOUT_MS);
    afterAll(async () => {
      await cluster?.stop();
    }, CLUSTER_START_TIMEOUT_MS);
    body({
      implementation,
      cluster: current,
      test: (name, testBody, timeoutMs) =>
        it(
          name,
          async () => {
            try {
              await testBody(current());
            } catch (error) {
              cluster?.markFailed();
              throw error;
            }
          },
          timeoutMs,
        ),
    });
  });
}

/** etcdctl exited non-zero where the test needed it to succeed. */
export class EtcdctlCommandError extends Error {
  constructor(args: readonly string[], result: EtcdctlResult) {
    super(`etcdctl ${args.join(' ')} exited ${String(result.code)}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    this.name = 'EtcdctlCommandError';
  }
}

/** Runs etcdctl and returns its stdout, failing the test with the full output if it exits non-zero. */
export async function etcdctlOk(cluster: EtcdCluster, args: readonly string[], options?: EtcdctlOptions): Promise<string> {
  const result = await cluster.etcdctl(args, options);
  if (result.code !== 0) throw new EtcdctlCommandError(args, result);
  return result.stdout;
}

/** Runs etcdctl with `-w json` and parses the answer (64-bit ids become decimal strings). */
export async function etcdctlJson<T>(cluster: EtcdCluster, args: readonly string[], options?: EtcdctlOptions): Promise<T> {
  return parseEtcdctlJson(await etcdctlOk(cluster, [...args, '-w', 'json'], options)) as T;
}

/** The store's current revision, from the header of a read. */
export async function currentRevision(cluster: EtcdCluster): Promise<number> {
  const response = await etcdctlJson<{ header: { revision: number } }>(cluster, ['get', '/integration/revision-probe']);
  return response.header.revision;
}

/** Text from etcdctl's base64 fields. */
export function fromBase64(text: string | undefined): string {
  return Buffer.from(text ?? '', 'base64').toString('utf8');
}

/** A 127.0.0.1 port nothing listens on right now (for a peer URL that is never started). */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls a condition until it holds, failing with the description after timeoutMs. */
export async function waitUntil(
  description: string | (() => string),
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const startedMs = Date.now();
  while (!(await condition())) {
    if (Date.now() - startedMs > timeoutMs) {
      const what = typeof description === 'string' ? description : description();
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await delay(50);
  }
}

/** A running `etcdctl watch` whose stdout is collected line by line. */
export class WatchProcess {
  private output = '';
  private errors = '';

  constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (this.errors += chunk.toString('utf8')));
  }

  static start(cluster: EtcdCluster, args: readonly string[]): WatchProcess {
    return new WatchProcess(cluster.spawnEtcdctl(['watch', ...args]));
  }

  /** Complete lines printed so far. */
  lines(): string[] {
    const complete = this.output.slice(0, this.output.lastIndexOf('\n') + 1);
    return complete === '' ? [] : complete.slice(0, -1).split('\n');
  }

  get stderr(): string {
    return this.errors;
  }

  async waitForLines(count: number, timeoutMs = 5000): Promise<string[]> {
    await waitUntil(
      () => `${count} watch lines (have ${JSON.stringify(this.lines())}, stderr ${JSON.stringify(this.errors)})`,
      () => this.lines().length >= count,
      timeoutMs,
    );
    return this.lines();
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}
