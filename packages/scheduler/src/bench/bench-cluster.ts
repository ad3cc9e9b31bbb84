// The control plane an end-to-end run needs, each part its own OS process as
// in a real cluster: a one-member etcd-lite, the kube-apiserver binary, and
// the kube-scheduler binary under its own identity (system:kube-scheduler,
// through a kubeconfig, as the launcher sets it up). The benchmark itself
// talks to the API server over gRPC as admin, as the components do.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { GrpcApiClient } from '@kube-lite/client';
import { startEtcdCluster, type EtcdCluster } from '@kube-lite/testing';
import { ownCpuSeconds, processCpuSeconds, type CpuReading } from './process-cpu';

/** A control-plane process did not start, or died while it was needed. */
export class BenchClusterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchClusterError';
  }
}

/** How long a process may take to say it serves. */
const START_TIMEOUT_MS = 60_000;
/** How long a process may take to exit after SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = 5_000;
/** Lines of a process's stderr kept to explain a failure. */
const LOG_TAIL_LINES = 40;

/** One child process with the tail of its stderr, stopped by its own handle. */
export class ComponentProcess {
  readonly logTail: string[] = [];
  private readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    private readonly child: ChildProcess,
    onLine?: (line: string) => void,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    let buffered = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      buffered += chunk;
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        this.logTail.push(line);
        if (this.logTail.length > LOG_TAIL_LINES) this.logTail.shift();
        onLine?.(line);
        newline = buffered.indexOf('\n');
      }
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves with the exit code once the process has ended. */
  whenExited(): Promise<number | null> {
    return this.exited;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await this.exited;
    clearTimeout(timer);
  }

  describe(): string {
    return `${this.name} (pid ${this.pid ?? '?'}) log tail:\n${this.logTail.join('\n')}`;
  }
}

function spawnNode(name: string, script: string, args: readonly string[], nodeFlags: readonly string[], onLine?: (line: string) => void): ComponentProcess {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  return new ComponentProcess(name, child, onLine);
}

/** Where a workspace package's built file is; the binaries are run, never imported (components share no code at run time). */
function builtFile(packageName: string, file: string): string {
  return join(dirname(require.resolve(`${packageName}/package.json`)), 'dist', file);
}

export interface RunningScheduler {
  readonly process: ComponentProcess;
  stop(): Promise<void>;
}

export interface BenchClusterOptions {
  /** When set, kube-apiserver and kube-scheduler write V8 CPU profiles (.cpuprofile) here when they exit. */
  cpuProfileDir?: string;
  /** More kube-apiserver flags (e.g. the fast profile's toleration seconds). */
  apiServerFlags?: readonly string[];
}

/** The name this process's CPU time is reported under. */
export const BENCH_PROCESS_NAME = 'bench client';

export class BenchCluster {
  private readonly schedulers = new Set<ComponentProcess>();
  private readonly components = new Set<ComponentProcess>();

  private constructor(
    private readonly directory: string,
    private readonly etcd: EtcdCluster,
    private readonly apiserver: ComponentProcess,
    /** `https://127.0.0.1:port` of the REST front end. */
    readonly url: string,
    /** `127.0.0.1:port` of the gRPC front end. */
    readonly grpcAddress: string,
    private readonly caPem: string,
    private readonly adminToken: string,
    private readonly schedulerKubeconfig: string,
    private readonly controllerManagerKubeconfig: string,
    private readonly nodeFlags: readonly string[],
    /** An admin client over gRPC. */
    readonly client: GrpcApiClient,
  ) {}

  /** Starts etcd-lite and the API server; the scheduler starts separately (startScheduler). */
  static async start(options: BenchClusterOptions = {}): Promise<BenchCluster> {
    const nodeFlags = options.cpuProfileDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`];
    const directory = mkdtempSync(join(tmpdir(), 'kube-lite-bench-scheduler-'));
    const adminToken = randomBytes(32).toString('base64url');
    const schedulerToken = randomBytes(32).toString('base64url');
    const controllerManagerToken = randomBytes(32).toString('base64url');
    const tokenFile = join(directory, 'tokens.csv');
    const tokens = [
      `${adminToken},admin,admin,system:masters`,
      `${schedulerToken},system:kube-scheduler,system:kube-scheduler`,
      `${controllerManagerToken},system:kube-controller-manager,system:kube-controller-manager`,
    ];
    writeFileSync(tokenFile, tokens.join('\n') + '\n', { mode: 0o600 });
    let etcd: EtcdCluster | undefined;
    let apiserver: ComponentProcess | undefined;
    try {
      etcd = await startEtcdCluster({ implementation: 'etcd-lite', members: 1, dataDir: join(directory, 'etcd') });
      let serving: ((fields: { url: string; grpcPort: number }) => void) | undefined;
      const servingSeen = new Promise<{ url: string; grpcPort: number }>((resolve) => (serving = resolve));
      apiserver = spawnNode(
        'kube-apiserver',
        builtFile('@kube-lite/apiserver', 'cli.js'),
        [
          `--etcd-servers=${etcd.members.map((member) => member.clientUrl).join(',')}`,
          '--secure-port=0',
          '--grpc-port=0',
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          `--cert-dir=${join(directory, 'pki')}`,
          `--token-auth-file=${tokenFile}`,
          ...(options.apiServerFlags ?? []),
        ],
        nodeFlags,
        (line) => {
          if (!line.includes('"serving"')) return;
          try {
            const fields = JSON.parse(line) as { msg?: string; url?: string; grpcPort?: number };
            if (fields.msg === 'serving' && fields.url !== undefined && fields.grpcPort !== undefined) serving?.({ url: fields.url, grpcPort: fields.grpcPort });
          } catch {
            // Not a log record of ours; the tail keeps it for the error message.
          }
        },
      );
      const started = apiserver;
      const { url, grpcPort } = await within(
        Promise.race([servingSeen, started.whenExited().then((code) => Promise.reject(new BenchClusterError(`kube-apiserver exited with code ${code}\n${started.describe()}`)))]),
        START_TIMEOUT_MS,
        () => new BenchClusterError(`kube-apiserver did not serve within ${START_TIMEOUT_MS} ms\n${started.describe()}`),
      );
      const caPem = readFileSync(join(directory, 'pki', 'ca.crt'), 'utf8');
      const grpcAddress = `127.0.0.1:${grpcPort}`;
      const schedulerKubeconfig = join(directory, 'kube-scheduler.kubeconfig');
      writeFileSync(schedulerKubeconfig, kubeconfigText(url, caPem, 'system:kube-scheduler', schedulerToken), { mode: 0o600 });
      const controllerManagerKubeconfig = join(directory, 'kube-controller-manager.kubeconfig');
      writeFileSync(controllerManagerKubeconfig, kubeconfigText(url, caPem, 'system:kube-controller-manager', controllerManagerToken), { mode: 0o600 });
      const client = new GrpcApiClient({ address: grpcAddress, token: adminToken, tls: { caPem } });
      return new BenchCluster(directory, etcd, started, url, grpcAddress, caPem, adminToken, schedulerKubeconfig, controllerManagerKubeconfig, nodeFlags, client);
    } catch (error) {
      await apiserver?.stop();
      await etcd?.stop();
      rmSync(directory, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Starts the kube-scheduler binary (no leader election) and resolves once
   * it runs; the caller learns it schedules when a first pod gets bound.
   */
  startScheduler(): RunningScheduler {
    const scheduler = spawnNode(
      'kube-scheduler',
      builtFile('@kube-lite/scheduler', 'cli.js'),
      [`--kubeconfig=${this.schedulerKubeconfig}`, `--master=${this.grpcAddress}`, '--leader-elect=false', '--log-level=warn'],
      this.nodeFlags,
    );
    this.schedulers.add(scheduler);
    return {
      process: scheduler,
      stop: async () => {
        await scheduler.stop();
        this.schedulers.delete(scheduler);
      },
    };
  }

  /** Starts the kube-controller-manager binary under its own identity (no leader election, no HTTP port) with more flags. */
  startControllerManager(flags: readonly string[] = []): ComponentProcess {
    const manager = spawnNode(
      'kube-controller-manager',
      builtFile('@kube-lite/controller-manager', 'cli.js'),
      [`--kubeconfig=${this.controllerManagerKubeconfig}`, `--master=${this.grpcAddress}`, '--leader-elect=false', '--port=0', ...flags],
      this.nodeFlags,
    );
    this.components.add(manager);
    return manager;
  }

  /** Says why the cluster cannot go on, when a process has died; undefined while all run. */
  failure(): string | undefined {
    for (const component of [this.apiserver, ...this.schedulers, ...this.components]) if (!component.running) return `${component.name} exited\n${component.describe()}`;
    return undefined;
  }

  /** CPU seconds so far of every process of the run (the etcd members, the API server, the running scheduler, this one). */
  cpuReadings(): Map<string, CpuReading> {
    const readings = new Map<string, CpuReading>();
    const add = (name: string, pid: number | undefined): void => {
      const seconds = processCpuSeconds(pid);
      if (pid !== undefined && seconds !== undefined) readings.set(name, { pid, seconds });
    };
    this.etcd.members.forEach((member, index) => add(this.etcd.members.length === 1 ? 'etcd-lite' : `etcd-lite ${index}`, member.pid));
    add('kube-apiserver', this.apiserver.pid);
    for (const scheduler of this.schedulers) if (scheduler.running) add('kube-scheduler', scheduler.pid);
    readings.set(BENCH_PROCESS_NAME, { pid: process.pid, seconds: ownCpuSeconds() });
    return readings;
  }

  /** The API server's Prometheus text. */
  metricsText(): Promise<string> {
    return new Promise((resolve, reject) => {
      const url = new URL('/metrics', this.url);
      const outgoing = request({ host: url.hostname, port: url.port, path: url.pathname, ca: this.caPem, headers: { Authorization: `Bearer ${this.adminToken}` } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          response.statusCode === 200 ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(new BenchClusterError(`GET /metrics answered HTTP ${response.statusCode}`)),
        );
        response.on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
  }

  async stop(): Promise<void> {
    this.client.close();
    for (const scheduler of this.schedulers) await scheduler.stop();
    for (const component of this.components) await component.stop();
    await this.apiserver.stop();
    await this.etcd.stop();
    rmSync(this.directory, { recursive: true, force: true });
  }
}

/** A kubeconfig for one token user (JSON, which YAML readers take too). */
function kubeconfigText(server: string, caPem: string, user: string, token: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bench', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'bench', context: { cluster: 'bench', user } }],
    'current-context': 'bench',
  });
}

/** Resolves as `promise` does, or rejects with `onTimeout()` after `timeoutMs`. */
export async function within<T>(promise: Promise<T>, timeoutMs: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(onTimeout()), timeoutMs)))]);
  } finally {
    clearTimeout(timer);
  }
}
