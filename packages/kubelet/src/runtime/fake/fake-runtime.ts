// An in-memory ContainerRuntime for tests. Nothing runs: containers change
// state when the test says so (exitContainer) or as their script says at
// start, and every call the kubelet makes is written to a transcript (`calls`)
// that tests compare against the order upstream prescribes. Logs hold only
// what writeLog/logLines put there, and `follow` returns what exists now.
import { PassThrough, Readable } from 'node:stream';
import type { Clock } from '../../clock';
import { ContainerNotFoundError, ContainerStateError, RuntimeError, SandboxNotFoundError } from '../errors';
import { labelsMatch } from '../labels';
import { formatLogTimestamp, renderLogLine, selectLogLines, type LogRecord } from '../log-format';
import type {
  ContainerConfig,
  ContainerFilter,
  ContainerRuntime,
  ContainerStats,
  ContainerStatus,
  ExecOptions,
  ExecSession,
  LogOptions,
  PodSandbox,
  PodSandboxConfig,
  RuntimeEvent,
  SandboxFilter,
  SandboxWarning,
} from '../runtime';

/** How a fake container behaves; chosen per container name (and instance). */
export interface FakeContainerScript {
  /** Exit right after starting with this code; absent: keep running until told. */
  exitCodeOnStart?: number;
  /** Keep running after SIGTERM, so stopContainer has to SIGKILL after the timeout. */
  ignoresSigterm?: boolean;
  /** Lines written to stdout when it starts. */
  logLines?: string[];
  /** createContainer fails with this error. */
  createError?: RuntimeError;
}

export interface FakeExecResult {
  exitCode: number;
  stdout?: string;
  stderr?: string;
}

interface FakeContainer {
  status: ContainerStatus;
  config: ContainerConfig;
  script: FakeContainerScript;
  logs: LogRecord[];
  cpuNanoSeconds: number;
}

export interface FakeRuntimeOptions {
  /** Timestamps and the stop timeout come from it. */
  clock: Clock;
  /** First pod IP handed out; later ones count up in the last octet. */
  firstPodIP?: string;
}

export class FakeRuntime implements ContainerRuntime {
  readonly name = 'fake';
  /** Pretends to keep PV and memory volumes itself (as Docker does) when a test sets it. */
  managesVolumeStorage = false;
  /** Pretends to apply pod DNS (as Docker does) when a test sets it; the kubelet's DNS decisions then show in sandboxConfig(). */
  appliesPodDns = false;
  /** Given to every sandbox created from now on (PodSandbox.warnings), as the process runtime reports a resolv.conf it could not apply. */
  sandboxWarnings: SandboxWarning[] = [];
  /** Transcript of the calls that change state, e.g. "startContainer default/web/app#0". */
  readonly calls: string[] = [];
  /** Answers exec calls (probes, preStop hooks, kubectl exec); default exits 0. */
  execHandler: (container: ContainerStatus, command: string[]) => FakeExecResult | Promise<FakeExecResult> = () => ({ exitCode: 0 });

  private readonly clock: Clock;
  private readonly sandboxes = new Map<string, PodSandbox>();
  private readonly containers = new Map<string, FakeContainer>();
  private readonly sandboxConfigs = new Map<string, PodSandboxConfig>();
  private readonly scripts = new Map<string, (attempt: number) => FakeContainerScript>();
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private nextId = 1;
  private nextIpSuffix: number;
  private readonly ipPrefix: string;

  constructor(options: FakeRuntimeOptions) {
    this.clock = options.clock;
    const ip = (options.firstPodIP ?? '10.0.0.1').split('.');
    this.ipPrefix = ip.slice(0, 3).join('.');
    this.nextIpSuffix = Number(ip[3] ?? 1);
  }

  /** Scripts the container called `name` (in any pod); a function can vary it by restart count. */
  scriptContainer(name: string, script: FakeContainerScript | ((attempt: number) => FakeContainerScript)): void {
    this.scripts.set(name, typeof script === 'function' ? script : () => script);
  }

  /** Makes a running container exit now, as if its process ended. */
  exitContainer(containerId: string, exitCode: number, reason?: string): void {
    const container = this.mustGet(containerId);
    if (container.status.state !== 'running') throw new ContainerStateError(containerId, container.status.state, 'exit');
    this.finish(container, exitCode, reason);
  }

  /** Writes a line to a container's stdout. */
  writeLog(containerId: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
    const timeMs = this.clock.nowMs();
    this.mustGet(containerId).logs.push({ timeMs, timestamp: formatLogTimestamp(timeMs), stream, full: true, content: line });
  }

  /** Adds CPU time to a container, for stats tests. */
  addCpuTime(containerId: string, nanoSeconds: number): void {
    this.mustGet(containerId).cpuNanoSeconds += nanoSeconds;
  }

  /** The config a sandbox was created with (what the kubelet asked for). */
  sandboxConfig(sandboxId: string): PodSandboxConfig | undefined {
    return this.sandboxConfigs.get(sandboxId);
  }

  /** The config a container was created with. */
  containerConfig(containerId: string): ContainerConfig {
    return this.mustGet(containerId).config;
  }

  /** Short, stable name of a container for transcripts: namespace/pod/container#attempt. */
  describe(containerId: string): string {
    const container = this.containers.get(containerId);
    if (!container) return containerId;
    const sandbox = this.sandboxes.get(container.status.sandboxId);
    return `${sandbox?.namespace}/${sandbox?.name}/${container.status.name}#${container.status.attempt}`;
  }

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const id = `sandbox-${this.nextId++}`;
    this.sandboxes.set(id, {
      id,
      name: config.name,
      namespace: config.namespace,
      uid: config.uid,
      attempt: config.attempt,
      state: 'ready',
      createdAtMs: this.clock.nowMs(),
      ip: `${this.ipPrefix}.${this.nextIpSuffix++}`,
      labels: { ...config.labels },
      annotations: { ...(config.annotations ?? {}) },
      logDirectory: config.logDirectory,
      ...(this.sandboxWarnings.length > 0 ? { warnings: structuredClone(this.sandboxWarnings) } : {}),
    });
    this.sandboxConfigs.set(id, structuredClone(config));
    this.calls.push(`runPodSandbox ${config.namespace}/${config.name}`);
    return id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) throw new SandboxNotFoundError(sandboxId);
    this.calls.push(`stopPodSandbox ${sandbox.namespace}/${sandbox.name}`);
    for (const container of this.containers.values()) {
      if (container.status.sandboxId === sandboxId && container.status.state === 'running') this.finish(container, 137);
    }
    sandbox.state = 'notready';
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) return;
    this.calls.push(`removePodSandbox ${sandbox.namespace}/${sandbox.name}`);
    for (const [id, container] of this.containers) if (container.status.sandboxId === sandboxId) this.containers.delete(id);
    this.sandboxes.delete(sandboxId);
    this.sandboxConfigs.delete(sandboxId);
  }

  async listPodSandboxes(filter: SandboxFilter = {}): Promise<PodSandbox[]> {
    return [...this.sandboxes.values()]
      .filter((sandbox) => (!filter.id || sandbox.id === filter.id) && (!filter.state || sandbox.state === filter.state) && labelsMatch(sandbox.labels, filter.labels))
      .map((sandbox) => ({ ...sandbox, labels: { ...sandbox.labels } }));
  }

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const sandbox = this.sandboxes.get(sandboxId);
    if (!sandbox) throw new SandboxNotFoundError(sandboxId);
    const script = this.scripts.get(config.name)?.(config.attempt) ?? {};
    if (script.createError) {
      this.calls.push(`createContainer ${sandbox.namespace}/${sandbox.name}/${config.name}#${config.attempt} failed: ${script.createError.reason}`);
      throw script.createError;
    }
    const id = `container-${this.nextId++}`;
    this.containers.set(id, {
      config,
      script,
      logs: [],
      cpuNanoSeconds: 0,
      status: {
        id,
        sandboxId,
        name: config.name,
        attempt: config.attempt,
        image: config.image,
        imageRef: `fake://${config.image}`,
        state: 'created',
        createdAtMs: this.clock.nowMs(),
        labels: { ...config.labels },
        annotations: { ...(config.annotations ?? {}) },
        logPath: `${sandbox.logDirectory}/${config.logPath}`,
      },
    });
    this.calls.push(`createContainer ${this.describe(id)}`);
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const container = this.mustGet(containerId);
    if (container.status.state !== 'created') throw new ContainerStateError(containerId, container.status.state, 'start');
    container.status.state = 'running';
    container.status.startedAtMs = this.clock.nowMs();
    this.calls.push(`startContainer ${this.describe(containerId)}`);
    for (const line of container.script.logLines ?? []) this.writeLog(containerId, line);
    this.emit({ type: 'ContainerStarted', containerId, labels: container.status.labels });
    if (container.script.exitCodeOnStart !== undefined) this.finish(container, container.script.exitCodeOnStart);
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const container = this.mustGet(containerId);
    if (container.status.state !== 'running') return;
    this.calls.push(`stopContainer ${this.describe(containerId)} timeout=${timeoutSeconds}s`);
    this.calls.push(`signal ${this.describe(containerId)} SIGTERM`);
    if (!container.script.ignoresSigterm) {
      this.finish(container, 143);
      return;
    }
    if (timeoutSeconds > 0) await this.clock.sleep(timeoutSeconds * 1000);
    if (container.status.state !== 'running') return;
    this.calls.push(`signal ${this.describe(containerId)} SIGKILL`);
    this.finish(container, 137);
  }

  async removeContainer(containerId: string): Promise<void> {
    if (!this.containers.has(containerId)) return;
    this.calls.push(`removeContainer ${this.describe(containerId)}`);
    this.containers.delete(containerId);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<ContainerStatus[]> {
    return [...this.containers.values()]
      .map((container) => container.status)
      .filter(
        (status) =>
          (!filter.id || status.id === filter.id) &&
          (!filter.sandboxId || status.sandboxId === filter.sandboxId) &&
          (!filter.state || status.state === filter.state) &&
          labelsMatch(status.labels, filter.labels),
      )
      .map((status) => ({ ...status }));
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    return { ...this.mustGet(containerId).status };
  }

  async containerLogs(containerId: string, options: LogOptions): Promise<Readable> {
    const container = this.mustGet(containerId);
    let text = selectLogLines(container.logs, options)
      .map((line) => renderLogLine(line, options.timestamps))
      .join('');
    if (options.limitBytes !== undefined) text = Buffer.from(text).subarray(0, options.limitBytes).toString();
    return Readable.from([Buffer.from(text)]);
  }

  async exec(containerId: string, options: ExecOptions): Promise<ExecSession> {
    const container = this.mustGet(containerId);
    if (container.status.state !== 'running') throw new ContainerStateError(containerId, container.status.state, 'exec in');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const exited = Promise.resolve(this.execHandler({ ...container.status }, options.command)).then((result) => {
      stdout.end(result.stdout ?? '');
      stderr.end(result.stderr ?? '');
      return { exitCode: result.exitCode };
    });
    return { stdin: options.stdin ? new PassThrough() : undefined, stdout, stderr, resize: () => undefined, kill: () => undefined, exited };
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const container = this.mustGet(containerId);
    return { containerId, timestampMs: this.clock.nowMs(), cpuUsageCoreNanoSeconds: container.cpuNanoSeconds, cpuUsageNanoCores: 0, memoryWorkingSetBytes: 1024 * 1024 };
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private finish(container: FakeContainer, exitCode: number, reason?: string): void {
    container.status.state = 'exited';
    container.status.exitCode = exitCode;
    container.status.finishedAtMs = this.clock.nowMs();
    container.status.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    this.calls.push(`exited ${this.describe(container.status.id)} code=${exitCode}`);
    this.emit({ type: 'ContainerExited', containerId: container.status.id, labels: container.status.labels });
  }

  private emit(event: RuntimeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  private mustGet(containerId: string): FakeContainer {
    const container = this.containers.get(containerId);
    if (!container) throw new ContainerNotFoundError(containerId);
    return container;
  }
}
