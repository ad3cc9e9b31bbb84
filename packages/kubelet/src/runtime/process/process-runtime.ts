// A ContainerRuntime that runs each container as a plain host process group.
//
// What a container is here:
// - a detached process group (`spawn(..., {detached: true})`) led by a tiny
//   /bin/sh wrapper that runs the container's argv, then records its exit
//   code in a file. The file is what lets a restarted kubelet learn how an
//   adopted container ended: it is not the process's parent any more.
// - stdout/stderr are named pipes (FIFOs) in the runtime directory, not pipes
//   to the kubelet: a kubelet restart does not break them. The kubelet reads
//   them and writes timestamped CRI log records; while no kubelet reads, a
//   chatty container blocks once the pipe buffer (64 KiB) is full.
// - the pod IP is a loopback address from the node's block (address-pool.ts);
//   the container learns it from POD_IP and must bind it itself. Nothing stops
//   a process from binding another address: there is no network isolation.
// - DNS: as root on Linux (podMountNamespaces 'auto'), each pod gets a mount
//   namespace of its own in which /etc/resolv.conf and /etc/hosts are the
//   pod's (mount-namespace.ts); containers and execs enter it through
//   nsenter. Everywhere, the pod's search list and options are in env
//   (LOCALDOMAIN, RES_OPTIONS); a nameserver that cannot be applied is
//   reported as a sandbox warning.
// - volumes are not mounted at their mountPath (that namespace changes only
//   the two resolver files). Each
//   mount is given as env KUBE_VOLUME_<VOLUME_NAME>=<host dir>, and the
//   container's default working directory is a per-container "root" directory
//   (KUBE_ROOT) holding a symlink at every mountPath, so `cat etc/config/x`
//   (relative) or `cat $KUBE_ROOT/etc/config/x` reads the volume. An absolute
//   workingDir inside a mountPath is translated to the volume's host directory.
//
// Startup cost matters (pods per second per node): the FIFOs come from a pool
// made in batches (fifo-pool.ts), so the wrapper is the only child process
// forked per container; state saves are coalesced (state-file.ts) and per-pod
// lookups go through a pod-uid index.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Readable, Writable } from 'node:stream';
import {
  AddressExhaustedError,
  ContainerNotFoundError,
  ContainerStateError,
  ImageNotKnownError,
  MountNamespaceError,
  SandboxNotFoundError,
  StdinNotAvailableError,
} from '../errors';
import { labelsMatch, POD_UID_LABEL } from '../labels';
import { LogLineSplitter, type LogStream } from '../log-format';
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
import { hostsFileText, resolvConfText, resolverEnvironment } from '../pod-files';
import { AddressPool } from './address-pool';
import { FifoPool } from './fifo-pool';
import { builtinImages, findImage, normalizeImageName, type ImageDefinition } from './images';
import { DEFAULT_LOG_ROTATION, LogFileWriter, readContainerLog, type LogRotation } from './log-files';
import { processAlive, processGroupMembers, readProcessStat } from './proc';
import { LabelIndex } from './label-index';
import { choosePodIsolation, MountNamespaces, readHostFacts, type PodMountNamespaceSetting } from './mount-namespace';
import { loadRuntimeState, RuntimeStateSaver, type ContainerRecord, type RuntimeStateData, type SandboxRecord } from './state-file';

export interface ProcessRuntimeOptions {
  /** Directory for the runtime's state file, pipes, exit codes and container root trees. */
  stateDirectory: string;
  /** The node's share of 127.0.0.0/8 that pod IPs come from, e.g. 127.1.0.0/16 for node 1. */
  podAddressBlock?: string;
  /** Image name -> default command; defaults to builtinImages(). */
  images?: Map<string, ImageDefinition>;
  /** When container log files rotate. */
  logRotation?: LogRotation;
  /** How often adopted containers (not children of this process) are checked for exit. */
  adoptedPollIntervalMs?: number;
  /** PATH given to containers that do not set their own. */
  defaultPath?: string;
  /**
   * 'auto': when the kubelet is root on Linux with util-linux, each pod gets a
   * mount namespace showing its own /etc/resolv.conf and /etc/hosts (the
   * kubelet binary's choice). 'off' (the default, for embedding and tests that
   * delete their directories freely): pods see the host's files, and their
   * DNS settings reach them only as env.
   */
  podMountNamespaces?: PodMountNamespaceSetting;
}

/** How the runtime gives pods their DNS settings, and why (see choosePodIsolation). */
export interface PodIsolation {
  mode: 'mount-namespace' | 'environment';
  reason: string;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// $0 is the exit-code file, "$@" the container's argv. The shell first
// records its pid (the process group) beside it, for a kubelet that crashed
// before its state file named the container. The trap makes the shell outlive
// a SIGTERM sent to the group, so it can record the exit code; a trap with a
// command (not '') is reset in the child, which sees SIGTERM.
const WRAPPER_SCRIPT = 'echo "$$" > "${0%/*}/pid"; trap : TERM; "$@"; code=$?; echo "$code" > "$0"; exit "$code"';
/** In each container directory: the container's record, written before its process starts. */
const RECORD_FILE = 'record.json';
/** In each container directory: the wrapper's pid, written by the wrapper itself. */
const PID_FILE = 'pid';

function signalExitCode(signal: NodeJS.Signals | null): number {
  const number = signal ? os.constants.signals[signal] : undefined;
  return number ? 128 + number : 255;
}

function exitReason(exitCode: number): string {
  return exitCode === 0 ? 'Completed' : 'Error';
}

/** Environment variable name for a volume: KUBE_VOLUME_ + upper-cased name, other characters as '_'. */
export function volumeEnvName(volumeName: string): string {
  return `KUBE_VOLUME_${volumeName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findExecutable(command: string, searchPath: string, workingDir: string): string | undefined {
  if (command.includes('/')) {
    const candidate = path.resolve(workingDir, command);
    return isExecutable(candidate) ? candidate : undefined;
  }
  for (const directory of searchPath.split(':')) {
    if (directory && isExecutable(path.join(directory, command))) return path.join(directory, command);
  }
  return undefined;
}

interface LiveContainer {
  child?: ChildProcess;
  sockets: net.Socket[];
  writer?: LogFileWriter;
  pollTimer?: NodeJS.Timeout;
  exited: Promise<void>;
  markExited: () => void;
  finishing: boolean;
}

export class ProcessRuntime implements ContainerRuntime {
  readonly name = 'process';
  private readonly stateFile: string;
  private readonly pool: AddressPool;
  private readonly images: Map<string, ImageDefinition>;
  private readonly rotation: LogRotation;
  private readonly pollIntervalMs: number;
  private readonly defaultPath: string;
  private readonly state: RuntimeStateData;
  private readonly saver: RuntimeStateSaver;
  private readonly sandboxesById = new Map<string, SandboxRecord>();
  private readonly containersById = new Map<string, ContainerRecord>();
  private readonly sandboxesByPod = new LabelIndex(POD_UID_LABEL);
  private readonly containersByPod = new LabelIndex(POD_UID_LABEL);
  /** Container ids per sandbox id: a sandbox's containers are found even when they do not carry the pod-uid label. */
  private readonly containersBySandbox = new Map<string, Set<string>>();
  private readonly live = new Map<string, LiveContainer>();
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private readonly cpuSamples = new Map<string, { timeMs: number; cpuNanoSeconds: number }>();
  private readonly fifos: FifoPool;
  /** Present in mount-namespace mode. */
  private readonly namespaces: MountNamespaces | undefined;
  /** Sandbox ids whose namespace is known to exist, and creations in flight (one at a time per sandbox). */
  private readonly namespacesSeen = new Set<string>();
  private readonly namespaceCreations = new Map<string, Promise<boolean>>();
  private closed = false;
  readonly appliesPodDns = true;
  /** The mode chosen at construction, and why: the kubelet logs it once. */
  readonly podIsolation: PodIsolation;

  constructor(private readonly options: ProcessRuntimeOptions) {
    this.stateFile = path.join(options.stateDirectory, 'state.json');
    this.pool = new AddressPool(options.podAddressBlock ?? '127.1.0.0/16');
    this.images = options.images ?? builtinImages();
    this.rotation = options.logRotation ?? DEFAULT_LOG_ROTATION;
    this.pollIntervalMs = options.adoptedPollIntervalMs ?? 1000;
    this.defaultPath = options.defaultPath ?? DEFAULT_PATH;
    this.state = loadRuntimeState(this.stateFile);
    this.saver = new RuntimeStateSaver(this.stateFile, () => this.state);
    // FIFOs an earlier kubelet made ahead and never used; each runtime pools in a directory of its own.
    const fifoPoolParent = path.join(options.stateDirectory, 'fifo-pool');
    fs.rmSync(fifoPoolParent, { recursive: true, force: true });
    this.fifos = new FifoPool(path.join(fifoPoolParent, randomBytes(4).toString('hex')));
    const decision = choosePodIsolation(options.podMountNamespaces ?? 'off', readHostFacts(process.env.PATH ?? this.defaultPath));
    let namespaces: MountNamespaces | undefined;
    let isolation: PodIsolation = { mode: decision.mode, reason: decision.reason };
    if (decision.mode === 'mount-namespace') {
      namespaces = new MountNamespaces(path.join(options.stateDirectory, 'mount-namespaces'), decision.tools, this.defaultPath);
      try {
        namespaces.prepare();
      } catch (error) {
        if (!(error instanceof MountNamespaceError)) throw error;
        namespaces = undefined;
        isolation = { mode: 'environment', reason: error.message };
      }
    }
    this.namespaces = namespaces;
    this.podIsolation = isolation;
    for (const sandbox of this.state.sandboxes) this.indexSandbox(sandbox);
    for (const record of this.state.containers) this.indexContainer(record);
    this.recoverContainersMissingFromState();
    this.adoptRunningContainers();
  }

  /** Image names that run without a command. */
  knownImages(): string[] {
    return [...this.images.keys()].sort();
  }

  // ---- sandboxes ----

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    const inUse = new Set(this.state.sandboxes.map((sandbox) => sandbox.ip));
    const allocation = this.pool.allocate(inUse, this.state.nextAddressIndex);
    if (!allocation) throw new AddressExhaustedError(this.pool.block);
    const id = randomBytes(16).toString('hex');
    this.state.nextAddressIndex = allocation.nextIndex;
    const sandbox: SandboxRecord = {
      id,
      name: config.name,
      namespace: config.namespace,
      uid: config.uid,
      attempt: config.attempt,
      state: 'ready',
      createdAtMs: Date.now(),
      ip: allocation.address,
      labels: { ...config.labels },
      annotations: { ...(config.annotations ?? {}), hostname: config.hostname },
      logDirectory: config.logDirectory,
      ...(config.dns ? { dns: structuredClone(config.dns) } : {}),
    };
    // Recorded before anything is awaited: a sandbox created meanwhile sees its IP as taken.
    this.state.sandboxes.push(sandbox);
    this.indexSandbox(sandbox);
    await fs.promises.mkdir(config.logDirectory, { recursive: true });
    const warnings = await this.applyPodFiles(sandbox, config);
    if (warnings.length > 0) sandbox.warnings = warnings;
    this.save();
    return id;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandbox(sandboxId);
    const running = this.sandboxContainers(sandbox).filter((record) => record.status.state === 'running');
    await Promise.all(running.map((record) => this.stopContainer(record.status.id, 0)));
    sandbox.state = 'notready';
    this.save();
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    const sandbox = this.sandboxesById.get(sandboxId);
    if (!sandbox) return;
    for (const record of this.sandboxContainers(sandbox)) await this.removeContainer(record.status.id);
    if (sandbox.mountNamespace && this.namespaces) await this.namespaces.remove(sandboxId);
    this.namespacesSeen.delete(sandboxId);
    await fs.promises.rm(this.sandboxDirectory(sandboxId), { recursive: true, force: true });
    this.state.sandboxes = this.state.sandboxes.filter((candidate) => candidate.id !== sandboxId);
    this.sandboxesById.delete(sandboxId);
    this.sandboxesByPod.delete(sandboxId, sandbox.labels);
    this.save();
  }

  async listPodSandboxes(filter: SandboxFilter = {}): Promise<PodSandbox[]> {
    return this.sandboxCandidates(filter)
      .filter((sandbox) => (!filter.id || sandbox.id === filter.id) && (!filter.state || sandbox.state === filter.state) && labelsMatch(sandbox.labels, filter.labels))
      .map((sandbox) => publicSandbox(sandbox));
  }

  // ---- containers ----

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const sandbox = this.sandbox(sandboxId);
    let argv: string[];
    let imageRef = `process-image://${normalizeImageName(config.image)}`;
    if (config.command.length > 0) {
      argv = [...config.command, ...config.args];
    } else {
      const image = findImage(this.images, config.image);
      if (!image) throw new ImageNotKnownError(config.image, this.knownImages());
      argv = [...image.command, ...(config.args.length > 0 ? config.args : image.args)];
      imageRef = `process-image://${normalizeImageName(config.image)}@${image.command.join(' ') || image.args.join(' ')}`;
    }
    const id = randomBytes(16).toString('hex');
    const directory = this.containerDirectory(id);
    const root = path.join(directory, 'root');
    await fs.promises.mkdir(root, { recursive: true });
    await this.fifos.take(['stdout', 'stderr'].map((stream) => path.join(directory, `${stream}.fifo`)));

    // The symlink tree standing in for mounts (see the file comment).
    for (const mount of config.mounts) {
      const link = path.join(root, path.normalize(`/${mount.containerPath}`));
      fs.mkdirSync(path.dirname(link), { recursive: true });
      fs.rmSync(link, { force: true, recursive: true });
      fs.symlinkSync(mount.hostPath, link);
    }
    const env: Record<string, string> = { PATH: this.defaultPath, HOME: '/root', HOSTNAME: sandbox.annotations.hostname ?? sandbox.name, ...resolverEnvironment(sandbox.dns) };
    for (const variable of config.env) env[variable.name] = variable.value;
    env.POD_IP ??= sandbox.ip;
    env.KUBE_ROOT = root;
    for (const mount of config.mounts) env[volumeEnvName(mount.volumeName)] = mount.hostPath;
    const workingDir = this.resolveWorkingDir(config, root);

    const record: ContainerRecord = {
      status: {
        id,
        sandboxId,
        name: config.name,
        attempt: config.attempt,
        image: config.image,
        imageRef,
        state: 'created',
        createdAtMs: Date.now(),
        labels: { ...config.labels },
        annotations: { ...(config.annotations ?? {}) },
        logPath: path.join(sandbox.logDirectory, config.logPath),
      },
      config: structuredClone(config),
      argv,
      env,
      workingDir,
    };
    // Written ahead of the start: state saves are coalesced, and a kubelet that dies before the next one lands
    // must still be able to tell what a running process in this directory is (recoverContainersMissingFromState).
    await fs.promises.writeFile(path.join(directory, RECORD_FILE), JSON.stringify(record));
    this.state.containers.push(record);
    this.indexContainer(record);
    this.save();
    return id;
  }

  async startContainer(containerId: string): Promise<void> {
    const record = this.record(containerId);
    if (record.status.state !== 'created') throw new ContainerStateError(containerId, record.status.state, 'start');
    const [command = '', ...rest] = record.argv;
    const executable = findExecutable(command, record.env.PATH ?? this.defaultPath, record.workingDir);
    if (!executable) {
      this.markStartError(record, `exec: "${command}": executable file not found in $PATH`);
      return;
    }
    if (!fs.existsSync(record.workingDir)) {
      this.markStartError(record, `chdir to ${record.workingDir}: no such directory`);
      return;
    }
    const directory = this.containerDirectory(containerId);
    const exitFile = path.join(directory, 'exit-code');
    fs.rmSync(exitFile, { force: true });
    // Open the write ends read-write: opening never blocks, and the container
    // keeps the pipes' buffers alive while no kubelet reads them.
    const [program = '', ...programArgs] = await this.inPodNamespace(record.status.sandboxId, ['/bin/sh', '-c', WRAPPER_SCRIPT, exitFile, executable, ...rest]);
    const stdout = fs.openSync(path.join(directory, 'stdout.fifo'), fs.constants.O_RDWR);
    const stderr = fs.openSync(path.join(directory, 'stderr.fifo'), fs.constants.O_RDWR);
    let child: ChildProcess;
    try {
      child = spawn(program, programArgs, {
        detached: true,
        cwd: record.workingDir,
        env: record.env,
        // stdin: true gets a pipe the kubelet holds (attachStdin); a restarted kubelet cannot reopen it, so the
        // container then reads end-of-file.
        stdio: [record.config.stdin ? 'pipe' : 'ignore', stdout, stderr],
      });
    } finally {
      fs.closeSync(stdout);
      fs.closeSync(stderr);
    }
    child.unref();
    const pid = child.pid;
    if (pid === undefined) {
      this.markStartError(record, 'the process could not be spawned');
      return;
    }
    record.status.state = 'running';
    record.status.pid = pid;
    record.status.startedAtMs = Date.now();
    record.processStartTicks = readProcessStat(pid)?.startTicks;
    const live = this.attach(record);
    live.child = child;
    child.on('exit', (code, signal) => {
      void this.onMainExit(record, code ?? signalExitCode(signal));
    });
    this.save();
    this.emit({ type: 'ContainerStarted', containerId, labels: record.status.labels });
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    const record = this.record(containerId);
    const live = this.live.get(containerId);
    if (record.status.state !== 'running' || !live || record.status.pid === undefined) return;
    const processGroup = record.status.pid;
    const exitedWithin = (ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        void live.exited.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    if (timeoutSeconds > 0) {
      signalGroup(processGroup, 'SIGTERM');
      if (await exitedWithin(timeoutSeconds * 1000)) return;
    }
    record.killed = true;
    signalGroup(processGroup, 'SIGKILL');
    await exitedWithin(10_000);
  }

  async removeContainer(containerId: string): Promise<void> {
    const record = this.containersById.get(containerId);
    if (!record) return;
    if (record.status.state === 'running') await this.stopContainer(containerId, 0);
    this.detach(containerId);
    fs.rmSync(this.containerDirectory(containerId), { recursive: true, force: true });
    for (const file of [record.status.logPath, ...rotatedSiblings(record.status.logPath)]) fs.rmSync(file, { force: true });
    this.state.containers = this.state.containers.filter((candidate) => candidate.status.id !== containerId);
    this.containersById.delete(containerId);
    this.containersByPod.delete(containerId, record.status.labels);
    const siblings = this.containersBySandbox.get(record.status.sandboxId);
    siblings?.delete(containerId);
    if (siblings?.size === 0) this.containersBySandbox.delete(record.status.sandboxId);
    this.cpuSamples.delete(containerId);
    this.save();
  }

  async listContainers(filter: ContainerFilter = {}): Promise<ContainerStatus[]> {
    return this.containerCandidates(filter)
      .map((record) => record.status)
      .filter(
        (status) =>
          (!filter.id || status.id === filter.id) &&
          (!filter.sandboxId || status.sandboxId === filter.sandboxId) &&
          (!filter.state || status.state === filter.state) &&
          labelsMatch(status.labels, filter.labels),
      )
      .map((status) => structuredClone(status));
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    return structuredClone(this.record(containerId).status);
  }

  async containerLogs(containerId: string, options: LogOptions): Promise<Readable> {
    const record = this.record(containerId);
    return readContainerLog(record.status.logPath, options, { isRunning: () => record.status.state === 'running' || this.live.get(containerId)?.finishing === true });
  }

  async attachStdin(containerId: string): Promise<Writable> {
    const record = this.record(containerId);
    if (record.status.state !== 'running') throw new ContainerStateError(containerId, record.status.state, 'attach to');
    if (!record.config.stdin) throw new StdinNotAvailableError(containerId, 'it was not created with stdin: true');
    const stdin = this.live.get(containerId)?.child?.stdin;
    if (!stdin || stdin.destroyed) throw new StdinNotAvailableError(containerId, 'its stdin pipe belonged to an earlier kubelet process');
    // A container that exited leaves writes failing with EPIPE: the attach ends with the container, not with an error.
    if (stdin.listenerCount('error') === 0) stdin.on('error', () => undefined);
    return new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        if (stdin.destroyed) return callback();
        stdin.write(chunk, () => callback());
      },
      // Detaching leaves the container's stdin open for the next attach (stdinOnce is not supported).
      final: (callback) => callback(),
    });
  }

  async exec(containerId: string, options: ExecOptions): Promise<ExecSession> {
    const record = this.record(containerId);
    if (record.status.state !== 'running') throw new ContainerStateError(containerId, record.status.state, 'exec in');
    const [command = '', ...args] = options.command;
    const executable = findExecutable(command, record.env.PATH ?? this.defaultPath, record.workingDir);
    if (!executable) {
      const stderr = Readable.from([Buffer.from(`exec: "${command}": executable file not found in $PATH\n`)]);
      return { stdin: undefined, stdout: Readable.from([]), stderr, resize: () => undefined, kill: () => undefined, exited: Promise.resolve({ exitCode: 127 }) };
    }
    const [program = '', ...programArgs] = await this.inPodNamespace(record.status.sandboxId, [executable, ...args]);
    return options.tty ? this.execWithTerminal(record, program, programArgs, options) : this.execWithPipes(record, program, programArgs, options);
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    const record = this.record(containerId);
    const timestampMs = Date.now();
    const members = record.status.state === 'running' && record.status.pid !== undefined ? processGroupMembers(record.status.pid) : [];
    const cpuNanoSeconds = members.reduce((sum, member) => sum + member.cpuNanoSeconds, 0);
    const memoryWorkingSetBytes = members.reduce((sum, member) => sum + member.residentBytes, 0);
    const previous = this.cpuSamples.get(containerId);
    this.cpuSamples.set(containerId, { timeMs: timestampMs, cpuNanoSeconds });
    const elapsedMs = previous ? timestampMs - previous.timeMs : 0;
    const cpuUsageNanoCores = previous && elapsedMs > 0 ? Math.max(0, Math.round(((cpuNanoSeconds - previous.cpuNanoSeconds) * 1000) / elapsedMs)) : 0;
    return { containerId, timestampMs, cpuUsageCoreNanoSeconds: cpuNanoSeconds, cpuUsageNanoCores, memoryWorkingSetBytes };
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops watching containers (they keep running) and waits until the state file holds every change. */
  async close(): Promise<void> {
    this.closed = true;
    for (const id of [...this.live.keys()]) this.detach(id);
    this.listeners.clear();
    await this.saver.flush();
  }

  // ---- internals ----

  /**
   * Writes the pod's resolv.conf and hosts file and, in mount-namespace mode,
   * creates its namespace. Returns what could not be applied: never an error,
   * the pod runs either way.
   */
  private async applyPodFiles(sandbox: SandboxRecord, config: PodSandboxConfig): Promise<SandboxWarning[]> {
    const dns = config.dns;
    if (!dns && !config.hosts) return [];
    const notApplied = (why: string): SandboxWarning[] =>
      dns && dns.servers.length > 0
        ? [
            {
              reason: 'DNSConfigForming',
              message:
                `the process runtime could not give this pod its own /etc/resolv.conf (${why}): its processes use the node's nameservers, ` +
                `not ${dns.servers.join(', ')}; the search list and options are in env (LOCALDOMAIN, RES_OPTIONS). ` +
                `Reach Services through the <SVC>_SERVICE_HOST and <SVC>_SERVICE_PORT variables, or ask the cluster DNS at ${dns.servers.join(', ')} directly.`,
            },
          ]
        : [];
    if (!this.namespaces) return notApplied(this.podIsolation.reason);
    const directory = this.sandboxDirectory(sandbox.id);
    await fs.promises.mkdir(directory, { recursive: true });
    const files: { resolvConf?: string; hosts?: string } = {};
    if (dns) {
      files.resolvConf = path.join(directory, 'resolv.conf');
      await fs.promises.writeFile(files.resolvConf, resolvConfText(dns));
    }
    if (config.hosts) {
      files.hosts = path.join(directory, 'hosts');
      await fs.promises.writeFile(files.hosts, hostsFileText(sandbox.ip, config.hostname, config.hosts));
    }
    try {
      await this.namespaces.create(sandbox.id, files);
    } catch (error) {
      if (!(error instanceof MountNamespaceError)) throw error;
      return notApplied(error.message);
    }
    sandbox.mountNamespace = true;
    this.namespacesSeen.add(sandbox.id);
    return [];
  }

  /**
   * argv as run for the sandbox: through nsenter into its namespace when it
   * has one. A namespace that went away while no container used it (`kube-lite
   * down` releases them) is created again from the files in the sandbox's
   * directory; when that fails, or this kubelet runs without namespaces, the
   * process runs on the host's files.
   */
  private async inPodNamespace(sandboxId: string, argv: string[]): Promise<string[]> {
    const sandbox = this.sandboxesById.get(sandboxId);
    const namespaces = this.namespaces;
    if (!sandbox?.mountNamespace || !namespaces) return argv;
    if (this.namespacesSeen.has(sandboxId)) return namespaces.enter(sandboxId, argv);
    let creation = this.namespaceCreations.get(sandboxId);
    if (!creation) {
      creation = this.restoreNamespace(namespaces, sandboxId).finally(() => this.namespaceCreations.delete(sandboxId));
      this.namespaceCreations.set(sandboxId, creation);
    }
    return (await creation) ? namespaces.enter(sandboxId, argv) : argv;
  }

  private async restoreNamespace(namespaces: MountNamespaces, sandboxId: string): Promise<boolean> {
    if (!namespaces.exists(sandboxId)) {
      const directory = this.sandboxDirectory(sandboxId);
      const existing = (file: string): string | undefined => (fs.existsSync(path.join(directory, file)) ? path.join(directory, file) : undefined);
      const resolvConf = existing('resolv.conf');
      const hosts = existing('hosts');
      try {
        await namespaces.create(sandboxId, { ...(resolvConf ? { resolvConf } : {}), ...(hosts ? { hosts } : {}) });
      } catch (error) {
        if (!(error instanceof MountNamespaceError)) throw error;
        return false;
      }
    }
    this.namespacesSeen.add(sandboxId);
    return true;
  }

  private sandboxDirectory(sandboxId: string): string {
    return path.join(this.options.stateDirectory, 'sandboxes', sandboxId);
  }

  private resolveWorkingDir(config: ContainerConfig, root: string): string {
    const wanted = config.workingDir;
    if (!wanted) return root;
    for (const mount of config.mounts) {
      const relative = path.relative(mount.containerPath, wanted);
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) return path.join(mount.hostPath, relative);
    }
    if (fs.existsSync(wanted)) return wanted;
    const inside = path.join(root, path.normalize(`/${wanted}`));
    fs.mkdirSync(inside, { recursive: true });
    return inside;
  }

  /** Starts reading the container's pipes into its log file. */
  private attach(record: ContainerRecord): LiveContainer {
    let markExited: () => void = () => undefined;
    const exited = new Promise<void>((resolve) => {
      markExited = resolve;
    });
    const live: LiveContainer = { sockets: [], exited, markExited, finishing: false };
    this.live.set(record.status.id, live);
    const writer = new LogFileWriter(record.status.logPath, this.rotation, Date.now);
    live.writer = writer;
    const directory = this.containerDirectory(record.status.id);
    for (const stream of ['stdout', 'stderr'] as LogStream[]) {
      const descriptor = fs.openSync(path.join(directory, `${stream}.fifo`), fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      const socket = new net.Socket({ fd: descriptor, readable: true, writable: false });
      const splitter = new LogLineSplitter(stream, (line) => writer.write(line.stream, line.full, line.content));
      socket.on('data', (chunk: Buffer) => splitter.push(chunk));
      socket.on('end', () => splitter.end());
      socket.on('error', () => undefined);
      socket.unref();
      live.sockets.push(socket);
    }
    return live;
  }

  private detach(containerId: string): void {
    const live = this.live.get(containerId);
    if (!live) return;
    if (live.pollTimer) clearInterval(live.pollTimer);
    for (const socket of live.sockets) socket.destroy();
    live.child?.removeAllListeners('exit');
    live.writer?.close();
    this.live.delete(containerId);
  }

  /** The container's main process ended: clean up its group, let the logs drain, record the exit. */
  private async onMainExit(record: ContainerRecord, fallbackExitCode: number): Promise<void> {
    const live = this.live.get(record.status.id);
    if (!live || live.finishing || record.status.state !== 'running') return;
    live.finishing = true;
    if (record.status.pid !== undefined) signalGroup(record.status.pid, 'SIGKILL');
    // Pipes reach end-of-file once every process holding them is gone; bounded in case one lingers.
    await Promise.race([
      Promise.all(live.sockets.map((socket) => (socket.readableEnded || socket.destroyed ? Promise.resolve() : new Promise((resolve) => socket.once('close', resolve))))),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]);
    if (this.closed || this.live.get(record.status.id) !== live) return;
    const recorded = readExitFile(path.join(this.containerDirectory(record.status.id), 'exit-code'));
    const exitCode = recorded ?? fallbackExitCode;
    record.status.state = 'exited';
    record.status.exitCode = exitCode;
    record.status.finishedAtMs = Date.now();
    record.status.reason = exitReason(exitCode);
    if (recorded === undefined && fallbackExitCode === 255) record.status.message = 'the process ended while no kubelet watched it; its exit code is unknown';
    this.detach(record.status.id);
    this.save();
    live.markExited();
    this.emit({ type: 'ContainerExited', containerId: record.status.id, labels: record.status.labels });
  }

  private markStartError(record: ContainerRecord, message: string): void {
    const now = Date.now();
    Object.assign(record.status, { state: 'exited', exitCode: 128, reason: 'StartError', message, startedAtMs: now, finishedAtMs: now });
    this.save();
    this.emit({ type: 'ContainerExited', containerId: record.status.id, labels: record.status.labels });
  }

  /**
   * After a kubelet crash: container directories whose process started after
   * the last state save landed. Saves are coalesced, so the state file may not
   * name such a container at all, or still show it as created. A live wrapper
   * (its pid file, checked against the process's KUBE_ROOT so a reused pid is
   * never taken for it) whose sandbox is known is adopted as running; one
   * that ran and ended is recorded as exited; anything else is killed and its
   * directory removed. Either way no process is left running unaccounted for,
   * and no container is started twice.
   */
  private recoverContainersMissingFromState(): void {
    const parent = path.join(this.options.stateDirectory, 'containers');
    let entries: string[];
    try {
      entries = fs.readdirSync(parent);
    } catch {
      return;
    }
    let changed = false;
    for (const id of entries) {
      const directory = path.join(parent, id);
      const known = this.containersById.get(id);
      if (known && known.status.state !== 'created') continue;
      const pid = readPidFile(path.join(directory, PID_FILE));
      const alive = pid !== undefined && isWrapperOf(pid, path.join(directory, 'root'));
      if (known) {
        // Saved as created; started (the wrapper wrote its pid) before the save of the start landed.
        if (pid === undefined) continue;
        if (alive) this.markRecoveredRunning(known, pid);
        else Object.assign(known.status, { state: 'exited', exitCode: readExitFile(path.join(directory, 'exit-code')) ?? 255, reason: 'Error', startedAtMs: known.status.createdAtMs, finishedAtMs: Date.now() });
        changed = true;
        continue;
      }
      const record = alive ? readRecordFile(path.join(directory, RECORD_FILE)) : undefined;
      if (alive && record?.status.id === id && this.sandboxesById.has(record.status.sandboxId)) {
        this.markRecoveredRunning(record, pid);
        this.state.containers.push(record);
        this.indexContainer(record);
      } else {
        if (alive) signalGroup(pid, 'SIGKILL');
        fs.rmSync(directory, { recursive: true, force: true });
      }
      changed = true;
    }
    if (changed) this.save();
  }

  private markRecoveredRunning(record: ContainerRecord, pid: number): void {
    record.status.state = 'running';
    record.status.pid = pid;
    record.status.startedAtMs ??= record.status.createdAtMs;
    record.processStartTicks = readProcessStat(pid)?.startTicks;
  }

  /** After a kubelet restart: keep reading and watching containers whose processes still run. */
  private adoptRunningContainers(): void {
    for (const record of this.state.containers) {
      if (record.status.state !== 'running' || record.status.pid === undefined) continue;
      const pid = record.status.pid;
      if (!processAlive(pid, record.processStartTicks)) {
        this.attach(record);
        void this.onMainExit(record, record.killed ? 137 : 255);
        continue;
      }
      const live = this.attach(record);
      live.pollTimer = setInterval(() => {
        if (!processAlive(pid, record.processStartTicks)) void this.onMainExit(record, record.killed ? 137 : 255);
      }, this.pollIntervalMs);
      live.pollTimer.unref();
    }
    this.save();
  }

  private execWithPipes(record: ContainerRecord, executable: string, args: string[], options: ExecOptions): ExecSession {
    const child = spawn(executable, args, { cwd: record.workingDir, env: record.env, detached: true, stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    const stdout = child.stdout ?? Readable.from([]);
    const stderr = child.stderr ?? Readable.from([]);
    const exited = new Promise<{ exitCode: number }>((resolve) => {
      child.once('error', () => resolve({ exitCode: 126 }));
      child.once('close', (code, signal) => resolve({ exitCode: code ?? signalExitCode(signal) }));
    });
    return {
      stdin: child.stdin ?? undefined,
      stdout,
      stderr,
      resize: () => undefined,
      kill: () => {
        if (child.pid !== undefined && child.exitCode === null) signalGroup(child.pid, 'SIGKILL');
      },
      exited,
    };
  }

  private execWithTerminal(record: ContainerRecord, executable: string, args: string[], options: ExecOptions): ExecSession {
    // Loaded lazily: node-pty is a native module, and only TTY exec needs it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pty = require('node-pty') as typeof import('node-pty');
    const terminal = pty.spawn(executable, args, { cwd: record.workingDir, env: record.env, cols: options.columns ?? 80, rows: options.rows ?? 24, name: 'xterm' });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stderr.end();
    terminal.onData((data) => stdout.write(data));
    const exited = new Promise<{ exitCode: number }>((resolve) => {
      terminal.onExit(({ exitCode, signal }) => {
        stdout.end();
        resolve({ exitCode: signal ? 128 + signal : exitCode });
      });
    });
    let stdin: PassThrough | undefined;
    if (options.stdin) {
      stdin = new PassThrough();
      stdin.on('data', (chunk: Buffer) => terminal.write(chunk.toString('utf8')));
      stdin.on('end', () => terminal.write('\x04'));
    }
    return {
      stdin,
      stdout,
      stderr,
      resize: (columns, rows) => terminal.resize(Math.max(1, columns), Math.max(1, rows)),
      kill: () => terminal.kill('SIGKILL'),
      exited,
    };
  }

  private containerDirectory(containerId: string): string {
    return path.join(this.options.stateDirectory, 'containers', containerId);
  }

  private indexSandbox(sandbox: SandboxRecord): void {
    this.sandboxesById.set(sandbox.id, sandbox);
    this.sandboxesByPod.add(sandbox.id, sandbox.labels);
  }

  private indexContainer(record: ContainerRecord): void {
    this.containersById.set(record.status.id, record);
    this.containersByPod.add(record.status.id, record.status.labels);
    let siblings = this.containersBySandbox.get(record.status.sandboxId);
    if (!siblings) {
      siblings = new Set();
      this.containersBySandbox.set(record.status.sandboxId, siblings);
    }
    siblings.add(record.status.id);
  }

  /** The sandboxes the filter can match: by id or pod uid through the indexes, else all. */
  private sandboxCandidates(filter: SandboxFilter): SandboxRecord[] {
    if (filter.id) {
      const sandbox = this.sandboxesById.get(filter.id);
      return sandbox ? [sandbox] : [];
    }
    const ids = this.sandboxesByPod.candidates(filter.labels);
    if (!ids) return this.state.sandboxes;
    return ids.flatMap((id) => this.sandboxesById.get(id) ?? []);
  }

  /** The containers the filter can match: by id or pod uid through the indexes, else all. */
  private containerCandidates(filter: ContainerFilter): ContainerRecord[] {
    if (filter.id) {
      const record = this.containersById.get(filter.id);
      return record ? [record] : [];
    }
    const ids = this.containersByPod.candidates(filter.labels);
    if (!ids) return this.state.containers;
    return ids.flatMap((id) => this.containersById.get(id) ?? []);
  }

  /** A sandbox's containers, whatever labels they carry. */
  private sandboxContainers(sandbox: PodSandbox): ContainerRecord[] {
    return [...(this.containersBySandbox.get(sandbox.id) ?? [])].flatMap((id) => this.containersById.get(id) ?? []);
  }

  private sandbox(sandboxId: string): SandboxRecord {
    const sandbox = this.sandboxesById.get(sandboxId);
    if (!sandbox) throw new SandboxNotFoundError(sandboxId);
    return sandbox;
  }

  private record(containerId: string): ContainerRecord {
    const record = this.containersById.get(containerId);
    if (!record) throw new ContainerNotFoundError(containerId);
    return record;
  }

  private save(): void {
    if (!this.closed) this.saver.request();
  }

  private emit(event: RuntimeEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

/** What listPodSandboxes reports: the record without the runtime's own fields. */
function publicSandbox(record: SandboxRecord): PodSandbox {
  const { dns: _dns, mountNamespace: _mountNamespace, ...sandbox } = record;
  return structuredClone(sandbox);
}

function signalGroup(processGroupId: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-processGroupId, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function readExitFile(file: string): number | undefined {
  try {
    const value = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

function readPidFile(file: string): number | undefined {
  try {
    const value = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(value) && value > 1 ? value : undefined;
  } catch {
    return undefined;
  }
}

function readRecordFile(file: string): ContainerRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(file, 'utf8')) as ContainerRecord;
    return typeof record.status?.id === 'string' && typeof record.status.sandboxId === 'string' ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` is a live container wrapper of the container whose root is `root` (its environment names it). */
function isWrapperOf(pid: number, root: string): boolean {
  if (!processAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(`KUBE_ROOT=${root}`);
  } catch {
    return false;
  }
}

function rotatedSiblings(logPath: string): string[] {
  try {
    const base = path.basename(logPath);
    return fs
      .readdirSync(path.dirname(logPath))
      .filter((entry) => entry.startsWith(`${base}.`))
      .map((entry) => path.join(path.dirname(logPath), entry));
  } catch {
    return [];
  }
}
