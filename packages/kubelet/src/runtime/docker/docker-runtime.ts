// A ContainerRuntime on the Docker Engine API (dockerode over the daemon's
// socket). The shape is upstream dockershim's:
// - a pod sandbox is a tiny "pause" container on the cluster's Docker network:
//   it owns the pod's network namespace, so its IP on that network is the pod
//   IP, reachable from every node container on the same network;
// - the pod's containers join it (NetworkMode container:<sandbox>) and share
//   localhost, the pod IP and the hostname;
// - volumes are bind mounts of the directories the kubelet prepared, mapped to
//   the daemon's paths when the kubelet itself runs in a container (host-paths.ts);
//   the exceptions live in named volumes of the daemon, which a kubelet in a
//   container could not reach as paths: a PersistentVolume's data
//   (kube-lite-pv-<pv name>, kept when pods go) and memory-backed emptyDirs
//   (a tmpfs volume per pod, held by the sandbox, removed with the pod);
// - every object carries the pod's labels plus the node's name, and this
//   runtime only ever lists or touches objects of its own node: several
//   kubelets may share one daemon (the compose cluster), and a restarted
//   kubelet adopts exactly its own containers;
// - optionally, each new sandbox gets a route for the Service range via its
//   node, so pods reach ClusterIPs through the node's kube-proxy (service-route.ts).
// Logs are Docker's (json-file, bounded), read through the logs API.
import fs from 'node:fs';
import { PassThrough, Readable, pipeline, type Duplex } from 'node:stream';
import Docker from 'dockerode';
import { ContainerNotFoundError, ContainerStartError, ContainerStateError, RuntimeError, SandboxNotFoundError } from '../errors';
import { NODE_NAME_LABEL, POD_UID_LABEL, labelsMatch } from '../labels';
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
} from '../runtime';
import {
  CLUSTER_NETWORK_LABEL,
  SANDBOX_ID_LABEL,
  VOLUME_KIND_LABEL,
  containerCreateOptions,
  containerStatusFromInspect,
  defaultPullPolicy,
  memoryVolumeCreateOptions,
  ownershipLabels,
  persistentVolumeCreateOptions,
  sandboxCreateOptions,
  sandboxFromSummary,
  usageFromStats,
  type CreateContext,
} from './convert';
import { DockerDaemonError, PodNetworkSetupError } from './errors';
import { HostPathMapper, ownContainerId, type MountPair } from './host-paths';
import { DEFAULT_PULL_BACKOFF, ImagePuller, type PullBackOffOptions } from './image-puller';
import { serviceRoute, serviceRouteCommand, type ServiceRoute } from './service-route';
import { ByteLimiter, FrameDecoder, FrameMerger } from './streams';

export const DEFAULT_DOCKER_ENDPOINT = 'unix:///var/run/docker.sock';
/** Built by `npm run images` (deploy/Dockerfile, target pause). */
export const DEFAULT_PAUSE_IMAGE = 'kube-lite/pause:1.0';

export interface DockerRuntimeOptions {
  /** This node's name: stamped on every container, and the only containers this runtime lists or touches. */
  nodeName: string;
  /** The daemon: unix:///path, a socket path, or tcp://host:port; defaults to $DOCKER_HOST, else the standard socket. */
  endpoint?: string;
  /** Docker network pod sandboxes join (pod IPs come from it); defaults to the kubelet container's own network, else "bridge". */
  podNetwork?: string;
  /** Image of the sandbox container: anything that sleeps until stopped. */
  pauseImage?: string;
  /** Kubelet path -> daemon path for bind mounts; detected from the kubelet's own container when omitted. */
  hostPaths?: HostPathMapper;
  /** Cap of each of a container's two json-file log files. */
  logMaxSizeBytes?: number;
  /** Back-off between pulls of an image that failed to pull. */
  pullBackOff?: PullBackOffOptions;
  /** Delay before the event stream is reopened after the daemon closed it. */
  eventsReconnectMs?: number;
  /** A dockerode client to use instead of one built from `endpoint` (tests). */
  docker?: Docker;
  /**
   * A route every new sandbox gets: the Service range via this node's address
   * on the pod network, where the node's kube-proxy serves ClusterIPs. No route
   * when absent. connect() builds it from `serviceRouteCidr` and the kubelet's
   * own container address; the pause image needs `ip` (busybox's will do).
   */
  serviceRoute?: ServiceRoute;
  /** connect(): the Service range for `serviceRoute` (the kubelet's --service-route-cidr). */
  serviceRouteCidr?: string;
}

/** Time an exec of the runtime's own (the sandbox's route) may take before the sandbox is given up. */
const SETUP_EXEC_TIMEOUT_MS = 10_000;

/** dockerode options for an endpoint string. */
export function dockerConnection(endpoint: string): Docker.DockerOptions {
  if (endpoint.startsWith('unix://')) return { socketPath: endpoint.slice('unix://'.length) };
  if (endpoint.startsWith('/')) return { socketPath: endpoint };
  const match = /^(tcp|http|https):\/\/([^:/]+):(\d+)\/?$/.exec(endpoint);
  if (!match) throw new RuntimeError(`invalid Docker endpoint "${endpoint}": use unix:///var/run/docker.sock, a socket path or tcp://host:port`, 'InvalidEndpoint');
  return { host: match[2], port: Number(match[3]), protocol: match[1] === 'https' ? 'https' : 'http' };
}

interface DaemonFailure {
  statusCode?: number;
  json?: { message?: string };
  message?: string;
}

function statusCodeOf(error: unknown): number | undefined {
  return (error as DaemonFailure | undefined)?.statusCode;
}

function messageOf(error: unknown): string {
  const failure = error as DaemonFailure | undefined;
  const text = failure?.json?.message ?? failure?.message ?? String(error);
  return text.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
}

function since(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  return `${seconds}.${String((ms - seconds * 1000) * 1_000_000).padStart(9, '0')}`;
}

/** What the daemon reports for a container this runtime has seen, until its state changes. */
interface CachedStatus {
  dockerState: string;
  status: ContainerStatus;
}

const MAX_CACHED_STATUSES = 4096;

export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker';
  readonly managesVolumeStorage = true;
  readonly appliesPodDns = true;
  private readonly docker: Docker;
  private readonly context: CreateContext;
  private readonly puller: ImagePuller;
  private readonly listeners = new Set<(event: RuntimeEvent) => void>();
  private readonly statuses = new Map<string, CachedStatus>();
  private readonly cpuSamples = new Map<string, { timeMs: number; cpuNanoSeconds: number }>();
  private events: NodeJS.ReadableStream | undefined;
  private eventsTimer: NodeJS.Timeout | undefined;
  private closed = false;

  /**
   * Connects, checks the daemon answers, and detects what was not given: the
   * kubelet's own container (for paths and the default pod network).
   */
  static async connect(options: DockerRuntimeOptions): Promise<DockerRuntime> {
    const docker = options.docker ?? new Docker(dockerConnection(options.endpoint ?? process.env.DOCKER_HOST ?? DEFAULT_DOCKER_ENDPOINT));
    try {
      await docker.ping();
    } catch (error) {
      throw new DockerDaemonError('ping', `the daemon at ${options.endpoint ?? process.env.DOCKER_HOST ?? DEFAULT_DOCKER_ENDPOINT} does not answer: ${messageOf(error)}`, { cause: error });
    }
    let hostPaths = options.hostPaths;
    let podNetwork = options.podNetwork;
    const serviceRouteCidr = options.serviceRoute === undefined ? options.serviceRouteCidr || undefined : undefined;
    const self = hostPaths === undefined || podNetwork === undefined || serviceRouteCidr !== undefined ? await inspectOwnContainer(docker) : undefined;
    hostPaths ??= new HostPathMapper(self?.mounts ?? []);
    podNetwork ??= self?.networks[0]?.name ?? 'bridge';
    const network = await docker
      .getNetwork(podNetwork)
      .inspect()
      .catch((error: unknown) => {
        throw new DockerDaemonError('pod network', `network "${podNetwork}" not found: ${messageOf(error)}`, { cause: error });
      });
    const networkName = (network as { Name?: string }).Name ?? podNetwork;
    // The next hop is this node's own address on the pod network: the kubelet shares its container with kube-proxy.
    const route = options.serviceRoute ?? (serviceRouteCidr === undefined ? undefined : serviceRoute(serviceRouteCidr, self?.networks.find((entry) => entry.name === networkName)?.address));
    return new DockerRuntime({ ...options, docker, hostPaths, podNetwork: networkName, serviceRoute: route });
  }

  constructor(private readonly options: DockerRuntimeOptions) {
    this.docker = options.docker ?? new Docker(dockerConnection(options.endpoint ?? process.env.DOCKER_HOST ?? DEFAULT_DOCKER_ENDPOINT));
    const hostPaths = options.hostPaths ?? new HostPathMapper([]);
    this.context = {
      nodeName: options.nodeName,
      podNetwork: options.podNetwork ?? 'bridge',
      pauseImage: options.pauseImage ?? DEFAULT_PAUSE_IMAGE,
      hostPathOf: (kubeletPath) => hostPaths.toHost(kubeletPath),
      logMaxSizeBytes: options.logMaxSizeBytes ?? 10 * 1024 * 1024,
      ...(options.serviceRoute ? { serviceRoute: options.serviceRoute } : {}),
    };
    this.puller = new ImagePuller(
      {
        has: async (image) => {
          try {
            await this.docker.getImage(image).inspect();
            return true;
          } catch (error) {
            if (statusCodeOf(error) === 404) return false;
            throw new DockerDaemonError('image inspect', messageOf(error), { cause: error });
          }
        },
        pull: (image) => this.pull(image),
      },
      Date.now,
      options.pullBackOff ?? DEFAULT_PULL_BACKOFF,
    );
  }

  /** The network pod IPs come from. */
  get podNetwork(): string {
    return this.context.podNetwork;
  }

  // ---- sandboxes ----

  async runPodSandbox(config: PodSandboxConfig): Promise<string> {
    await this.puller.ensure(this.context.pauseImage, 'IfNotPresent');
    for (const volume of config.memoryVolumes ?? []) await this.ensureVolume(memoryVolumeCreateOptions(config.uid, volume, this.context));
    const created = await this.createReplacingStale(sandboxCreateOptions(config, this.context), 'create pod sandbox');
    try {
      await created.start();
    } catch (error) {
      await created.remove({ force: true }).catch(() => undefined);
      throw new DockerDaemonError('start pod sandbox', messageOf(error), { cause: error });
    }
    if (this.options.serviceRoute) {
      try {
        await this.addServiceRoute(created.id, this.options.serviceRoute);
      } catch (error) {
        // A pod that cannot reach its Services is not started: the kubelet retries with a new sandbox.
        await created.remove({ force: true }).catch(() => undefined);
        throw error;
      }
    }
    return created.id;
  }

  /** The route set in every new sandbox (undefined: none). */
  get serviceRoute(): ServiceRoute | undefined {
    return this.options.serviceRoute;
  }

  async stopPodSandbox(sandboxId: string): Promise<void> {
    await this.sandbox(sandboxId);
    const members = await this.listContainers({ sandboxId });
    await Promise.all(members.filter((member) => member.state === 'running').map((member) => this.stopContainer(member.id, 0)));
    await this.stopQuietly(sandboxId, 0);
  }

  async removePodSandbox(sandboxId: string): Promise<void> {
    for (const member of await this.listContainers({ sandboxId })) await this.removeContainer(member.id);
    const found = await this.summaries({ id: [sandboxId], label: this.ownLabels('podsandbox') });
    const sandbox = found.find((summary) => summary.Id === sandboxId);
    if (!sandbox) return;
    await this.docker
      .getContainer(sandboxId)
      .remove({ force: true, v: true })
      .catch((error: unknown) => {
        if (statusCodeOf(error) !== 404) throw new DockerDaemonError('remove pod sandbox', messageOf(error), { cause: error });
      });
    const uid = sandbox.Labels?.[POD_UID_LABEL];
    if (uid && (await this.listPodSandboxes({ labels: { [POD_UID_LABEL]: uid } })).length === 0) await this.removeMemoryVolumes(uid);
  }

  async listPodSandboxes(filter: SandboxFilter = {}): Promise<PodSandbox[]> {
    const summaries = await this.summaries({ label: [...this.ownLabels('podsandbox'), ...labelFilters(filter.labels)], ...(filter.id ? { id: [filter.id] } : {}) });
    return summaries
      .map((summary) => sandboxFromSummary(summary, this.context.podNetwork))
      .filter((sandbox) => (!filter.id || sandbox.id === filter.id) && (!filter.state || sandbox.state === filter.state));
  }

  // ---- containers ----

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    const sandbox = await this.sandbox(sandboxId);
    if (config.image.trim() === '') throw new RuntimeError(`container ${config.name} has no image`, 'InvalidImageName');
    await this.puller.ensure(config.image, config.imagePullPolicy ?? defaultPullPolicy(config.image));
    for (const mount of config.mounts) {
      // A PV's volume may be new to this daemon; a memory volume exists since the sandbox did (unless an older kubelet made it).
      if (mount.storage?.kind === 'persistentVolume') await this.ensurePersistentVolume(mount.storage.persistentVolumeName);
      else if (mount.storage?.kind === 'memory') await this.ensureVolume(memoryVolumeCreateOptions(sandbox.uid, { name: mount.volumeName }, this.context));
    }
    const created = await this.createReplacingStale(containerCreateOptions(sandbox, config, this.context), 'create container');
    return created.id;
  }

  async startContainer(containerId: string): Promise<void> {
    const before = await this.containerStatus(containerId);
    if (before.state !== 'created') throw new ContainerStateError(containerId, before.state, 'start');
    try {
      await this.docker.getContainer(containerId).start();
    } catch (error) {
      this.statuses.delete(containerId);
      // A start the container itself made fail (no such executable, bad working directory)
      // leaves it "created" with the error recorded: it is reported as exited with StartError.
      const after = await this.containerStatus(containerId).catch(() => undefined);
      if (after?.reason === 'StartError') {
        this.emit({ type: 'ContainerExited', containerId, labels: after.labels });
        return;
      }
      throw new ContainerStartError(containerId, messageOf(error), { cause: error });
    }
    this.statuses.delete(containerId);
  }

  async stopContainer(containerId: string, timeoutSeconds: number): Promise<void> {
    await this.containerStatus(containerId);
    await this.stopQuietly(containerId, timeoutSeconds);
    this.statuses.delete(containerId);
  }

  async removeContainer(containerId: string): Promise<void> {
    const found = await this.summaries({ id: [containerId], label: this.ownLabels('container') });
    if (found.some((summary) => summary.Id === containerId)) {
      await this.docker
        .getContainer(containerId)
        .remove({ force: true, v: true })
        .catch((error: unknown) => {
          if (statusCodeOf(error) !== 404) throw new DockerDaemonError('remove container', messageOf(error), { cause: error });
        });
    }
    this.statuses.delete(containerId);
    this.cpuSamples.delete(containerId);
  }

  async listContainers(filter: ContainerFilter = {}): Promise<ContainerStatus[]> {
    const labels = [...this.ownLabels('container'), ...labelFilters(filter.labels), ...(filter.sandboxId ? [`${SANDBOX_ID_LABEL}=${filter.sandboxId}`] : [])];
    const summaries = await this.summaries({ label: labels, ...(filter.id ? { id: [filter.id] } : {}) });
    const statuses = await Promise.all(summaries.filter((summary) => !filter.id || summary.Id === filter.id).map((summary) => this.statusOf(summary)));
    return statuses.filter((status): status is ContainerStatus => status !== undefined && (!filter.state || status.state === filter.state));
  }

  async containerStatus(containerId: string): Promise<ContainerStatus> {
    const inspect = await this.inspectOwn(containerId, 'container');
    const status = containerStatusFromInspect(inspect);
    this.remember(inspect.State.Status, status);
    return structuredClone(status);
  }

  async containerLogs(containerId: string, options: LogOptions): Promise<Readable> {
    const inspect = await this.inspectOwn(containerId, 'container');
    const request = {
      follow: options.follow ?? false,
      stdout: true,
      stderr: true,
      timestamps: options.timestamps ?? false,
      tail: options.tailLines !== undefined && options.tailLines >= 0 ? options.tailLines : 'all',
      ...(options.sinceMs !== undefined ? { since: since(options.sinceMs) } : {}),
    };
    let raw: Readable;
    try {
      // dockerode answers a Buffer without follow, a live stream with it.
      const answer = (await this.docker.getContainer(containerId).logs(request as Docker.ContainerLogsOptions & { follow: true })) as unknown;
      raw = Buffer.isBuffer(answer) ? Readable.from([answer]) : (answer as Readable);
    } catch (error) {
      throw new DockerDaemonError('logs', messageOf(error), { cause: error });
    }
    const stages: NodeJS.ReadWriteStream[] = [];
    if (!inspect.Config.Tty) stages.push(new FrameMerger());
    if (options.limitBytes !== undefined && options.limitBytes >= 0) stages.push(new ByteLimiter(options.limitBytes));
    if (stages.length === 0) return raw;
    const output = new PassThrough();
    pipeline([raw, ...stages, output] as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], () => undefined);
    return output;
  }

  async exec(containerId: string, options: ExecOptions): Promise<ExecSession> {
    const status = await this.containerStatus(containerId);
    if (status.state !== 'running') throw new ContainerStateError(containerId, status.state, 'exec in');
    let exec: Docker.Exec;
    let socket: Duplex;
    try {
      exec = await this.docker.getContainer(containerId).exec({ Cmd: options.command, AttachStdin: options.stdin, AttachStdout: true, AttachStderr: true, Tty: options.tty });
      socket = (await exec.start({ hijack: true, stdin: options.stdin, Tty: options.tty })) as Duplex;
    } catch (error) {
      throw new DockerDaemonError('exec', messageOf(error), { cause: error });
    }
    const resize = (columns: number, rows: number): void => {
      exec.resize({ w: Math.max(1, columns), h: Math.max(1, rows) }).catch(() => undefined);
    };
    if (options.tty && options.columns !== undefined && options.rows !== undefined) resize(options.columns, options.rows);

    const stdout = new PassThrough();
    const stderr = new PassThrough();
    if (options.tty) {
      socket.on('data', (chunk: Buffer) => stdout.write(chunk));
    } else {
      const decoder = new FrameDecoder((stream, payload) => (stream === 'stderr' ? stderr : stdout).write(payload));
      socket.on('data', (chunk: Buffer) => {
        try {
          decoder.push(chunk);
        } catch (error) {
          socket.destroy(error as Error);
        }
      });
    }
    let stdin: PassThrough | undefined;
    if (options.stdin) {
      stdin = new PassThrough();
      stdin.on('data', (chunk: Buffer) => socket.write(chunk));
      // End of input closes our half: the daemon closes the process's stdin.
      stdin.on('end', () => socket.end());
    }
    const exited = new Promise<{ exitCode: number }>((resolve) => {
      let settled = false;
      const finish = (): void => {
        if (settled) return;
        settled = true;
        stdout.end();
        stderr.end();
        void exitCodeOf(exec).then((exitCode) => resolve({ exitCode }));
      };
      socket.on('end', finish);
      socket.on('close', finish);
      socket.on('error', finish);
    });
    return { stdin, stdout, stderr, resize, kill: () => socket.destroy(), exited };
  }

  async containerStats(containerId: string): Promise<ContainerStats> {
    await this.inspectOwn(containerId, 'container');
    let stats: Docker.ContainerStats;
    try {
      // one-shot: answer at once instead of waiting for a second sample (API 1.41+).
      const options = { stream: false as const, 'one-shot': true };
      stats = (await this.docker.getContainer(containerId).stats(options)) as unknown as Docker.ContainerStats;
    } catch (error) {
      throw new DockerDaemonError('stats', messageOf(error), { cause: error });
    }
    const timestampMs = Date.now();
    const { cpuNanoSeconds, workingSetBytes } = usageFromStats(stats);
    const previous = this.cpuSamples.get(containerId);
    this.cpuSamples.set(containerId, { timeMs: timestampMs, cpuNanoSeconds });
    const elapsedMs = previous ? timestampMs - previous.timeMs : 0;
    const cpuUsageNanoCores = previous && elapsedMs > 0 ? Math.max(0, Math.round(((cpuNanoSeconds - previous.cpuNanoSeconds) * 1000) / elapsedMs)) : 0;
    return { containerId, timestampMs, cpuUsageCoreNanoSeconds: cpuNanoSeconds, cpuUsageNanoCores, memoryWorkingSetBytes: workingSetBytes };
  }

  subscribe(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.add(listener);
    this.openEvents();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.closeEvents();
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    this.closeEvents();
  }

  // ---- internals ----

  /**
   * Runs `ip route replace <range> via <node>` in the sandbox as root, with
   * the NET_ADMIN the sandbox was created with (not a privileged exec: a
   * daemon without every capability refuses those). The sandbox's own process
   * runs as nobody, and the pod's containers get their own capabilities.
   */
  private async addServiceRoute(sandboxId: string, route: ServiceRoute): Promise<void> {
    const command = serviceRouteCommand(route);
    let output = '';
    let exitCode: number;
    try {
      const exec = await this.docker.getContainer(sandboxId).exec({ Cmd: command, User: '0', AttachStdout: true, AttachStderr: true, Tty: false });
      const stream = (await exec.start({ hijack: true, stdin: false })) as Duplex;
      const decoder = new FrameDecoder((_stream, payload) => {
        if (output.length < 4096) output += payload.toString();
      });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          stream.destroy();
          reject(new Error(`no end within ${SETUP_EXEC_TIMEOUT_MS} ms`));
        }, SETUP_EXEC_TIMEOUT_MS);
        const finish = () => {
          clearTimeout(timer);
          resolve();
        };
        stream.on('data', (chunk: Buffer) => decoder.push(chunk));
        stream.on('end', finish);
        stream.on('close', finish);
        stream.on('error', finish);
      });
      exitCode = await exitCodeOf(exec);
    } catch (error) {
      throw new PodNetworkSetupError(`\`${command.join(' ')}\`: ${messageOf(error)}`, { cause: error });
    }
    if (exitCode !== 0) {
      const hint = exitCode === 127 || /not found|no such file/i.test(output) ? ` (the pause image ${this.context.pauseImage} needs \`ip\`, e.g. busybox's)` : '';
      throw new PodNetworkSetupError(`\`${command.join(' ')}\` exited ${exitCode}: ${output.trim() || 'no output'}${hint}`);
    }
  }

  private ownLabels(type: 'podsandbox' | 'container'): string[] {
    return labelFilters(ownershipLabels(this.context, type));
  }

  private async summaries(filters: Record<string, string[]>): Promise<Docker.ContainerInfo[]> {
    try {
      return await this.docker.listContainers({ all: true, filters });
    } catch (error) {
      throw new DockerDaemonError('list containers', messageOf(error), { cause: error });
    }
  }

  private async sandbox(sandboxId: string): Promise<PodSandbox> {
    const sandbox = (await this.listPodSandboxes({ id: sandboxId }))[0];
    if (!sandbox) throw new SandboxNotFoundError(sandboxId);
    return sandbox;
  }

  /** Inspects a container of this node and kind; anything else is "not found", as for another runtime. */
  private async inspectOwn(containerId: string, type: 'podsandbox' | 'container'): Promise<Docker.ContainerInspectInfo> {
    let inspect: Docker.ContainerInspectInfo;
    try {
      inspect = await this.docker.getContainer(containerId).inspect();
    } catch (error) {
      if (statusCodeOf(error) === 404) throw type === 'container' ? new ContainerNotFoundError(containerId) : new SandboxNotFoundError(containerId);
      throw new DockerDaemonError('inspect', messageOf(error), { cause: error });
    }
    const labels = inspect.Config.Labels ?? {};
    if (!labelsMatch(labels, ownershipLabels(this.context, type))) {
      throw type === 'container' ? new ContainerNotFoundError(containerId) : new SandboxNotFoundError(containerId);
    }
    return inspect;
  }

  /** Full status from the cache while Docker's state string is unchanged, else from a fresh inspect. */
  private async statusOf(summary: Docker.ContainerInfo): Promise<ContainerStatus | undefined> {
    const cached = this.statuses.get(summary.Id);
    if (cached && cached.dockerState === summary.State) return structuredClone(cached.status);
    try {
      const inspect = await this.docker.getContainer(summary.Id).inspect();
      const status = containerStatusFromInspect(inspect);
      this.remember(inspect.State.Status, status);
      return structuredClone(status);
    } catch (error) {
      if (statusCodeOf(error) === 404) return undefined; // removed between list and inspect
      throw new DockerDaemonError('inspect', messageOf(error), { cause: error });
    }
  }

  private remember(dockerState: string, status: ContainerStatus): void {
    if (this.statuses.size >= MAX_CACHED_STATUSES) this.statuses.clear();
    // A "created" container whose start failed looks the same in a listing: never cache it.
    if (dockerState === 'created') this.statuses.delete(status.id);
    else this.statuses.set(status.id, { dockerState, status: structuredClone(status) });
  }

  /** Creates; a leftover of this node with the same name (a crash between create and record) is removed first. */
  private async createReplacingStale(options: Docker.ContainerCreateOptions, operation: string): Promise<Docker.Container> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.docker.createContainer(options);
      } catch (error) {
        if (statusCodeOf(error) === 409 && attempt === 0 && options.name) {
          const stale = await this.docker.getContainer(options.name).inspect().catch(() => undefined);
          if (stale && labelsMatch(stale.Config.Labels ?? {}, { [NODE_NAME_LABEL]: this.context.nodeName, [CLUSTER_NETWORK_LABEL]: this.context.podNetwork }) && !stale.State.Running) {
            await this.docker.getContainer(stale.Id).remove({ force: true, v: true }).catch(() => undefined);
            continue;
          }
        }
        if (statusCodeOf(error) === 404) throw new RuntimeError(`${operation}: ${messageOf(error)}`, 'CreateContainerError', { cause: error });
        throw new DockerDaemonError(operation, messageOf(error), { cause: error });
      }
    }
  }

  /** Creates a named volume unless one of that name exists (whoever made it: a PV's data is shared by name); true when created. */
  private async ensureVolume(options: Docker.VolumeCreateOptions): Promise<boolean> {
    const name = options.Name ?? '';
    try {
      await this.docker.getVolume(name).inspect();
      return false;
    } catch (error) {
      if (statusCodeOf(error) !== 404) throw new DockerDaemonError('inspect volume', messageOf(error), { cause: error });
    }
    try {
      await this.docker.createVolume(options);
    } catch (error) {
      throw new DockerDaemonError(`create volume ${name}`, messageOf(error), { cause: error });
    }
    return true;
  }

  /**
   * A PV's named volume; a new one is made world-writable first (a new
   * volume's root is root's 0755), as the kubelet does for a PV directory, so
   * a container running as any user can write. That takes a short-lived
   * container of the pause image (which has chmod); should it fail, the empty
   * volume is removed so the next attempt starts over.
   */
  private async ensurePersistentVolume(persistentVolumeName: string): Promise<void> {
    const options = persistentVolumeCreateOptions(persistentVolumeName, this.context);
    if (!(await this.ensureVolume(options))) return;
    const name = options.Name ?? '';
    let helper: Docker.Container | undefined;
    try {
      await this.puller.ensure(this.context.pauseImage, 'IfNotPresent');
      helper = await this.docker.createContainer({
        Image: this.context.pauseImage,
        Entrypoint: ['chmod', '0777', '/volume'],
        User: '0:0',
        Labels: { [VOLUME_KIND_LABEL]: 'persistent-init', [NODE_NAME_LABEL]: this.context.nodeName, [CLUSTER_NETWORK_LABEL]: this.context.podNetwork },
        HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: name, Target: '/volume', VolumeOptions: { NoCopy: true } as Docker.MountSettings['VolumeOptions'] }] },
      });
      await helper.start();
      const result = (await helper.wait()) as { StatusCode?: number };
      if (result.StatusCode !== 0) throw new Error(`chmod exited with ${result.StatusCode}`);
    } catch (error) {
      await helper?.remove({ force: true }).catch(() => undefined);
      helper = undefined;
      await this.docker
        .getVolume(name)
        .remove()
        .catch(() => undefined);
      throw new DockerDaemonError(`prepare volume ${name}`, messageOf(error), { cause: error });
    } finally {
      await helper?.remove({ force: true }).catch(() => undefined);
    }
  }

  /** The pod's memory volumes, once no sandbox of the pod is left; a volume still in use stays for the next attempt. */
  private async removeMemoryVolumes(uid: string): Promise<void> {
    let volumes: Docker.VolumeInspectInfo[];
    try {
      const filters = { label: [`${VOLUME_KIND_LABEL}=memory`, `${POD_UID_LABEL}=${uid}`, `${NODE_NAME_LABEL}=${this.context.nodeName}`, `${CLUSTER_NETWORK_LABEL}=${this.context.podNetwork}`] };
      volumes = (await this.docker.listVolumes({ filters })).Volumes ?? [];
    } catch (error) {
      throw new DockerDaemonError('list volumes', messageOf(error), { cause: error });
    }
    for (const volume of volumes) {
      await this.docker
        .getVolume(volume.Name)
        .remove()
        .catch((error: unknown) => {
          if (statusCodeOf(error) !== 404 && statusCodeOf(error) !== 409) throw new DockerDaemonError(`remove volume ${volume.Name}`, messageOf(error), { cause: error });
        });
    }
  }

  private async stopQuietly(containerId: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(containerId).stop({ t: Math.max(0, Math.ceil(timeoutSeconds)) });
    } catch (error) {
      const code = statusCodeOf(error);
      if (code === 304 || code === 404) return; // already stopped, or gone
      throw new DockerDaemonError('stop', messageOf(error), { cause: error });
    }
  }

  private async pull(image: string): Promise<void> {
    const progress = await this.docker.pull(image);
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(progress, (error: Error | null, output: Array<{ error?: string }>) => {
        const failure = error ?? output.find((entry) => entry.error !== undefined)?.error;
        if (failure) reject(failure instanceof Error ? failure : new Error(failure));
        else resolve();
      });
    });
  }

  private emit(event: RuntimeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** The daemon's start/die events of this node's objects, reopened while anyone listens. */
  private openEvents(): void {
    if (this.events || this.eventsTimer || this.closed || this.listeners.size === 0) return;
    const filters = { type: ['container' as const], event: ['start', 'die'], label: [`${NODE_NAME_LABEL}=${this.context.nodeName}`, `${CLUSTER_NETWORK_LABEL}=${this.context.podNetwork}`] };
    this.docker.getEvents({ filters }).then(
      (stream) => {
        if (this.closed || this.listeners.size === 0) {
          (stream as Readable).destroy();
          return;
        }
        this.events = stream;
        let pending = '';
        stream.on('data', (chunk: Buffer) => {
          pending += chunk.toString('utf8');
          let newline = pending.indexOf('\n');
          while (newline >= 0) {
            this.onEvent(pending.slice(0, newline));
            pending = pending.slice(newline + 1);
            newline = pending.indexOf('\n');
          }
          if (pending.length > 1024 * 1024) pending = ''; // not line-delimited JSON: drop rather than grow
        });
        const reopen = (): void => {
          if (this.events !== stream) return;
          this.events = undefined;
          this.scheduleEvents();
        };
        stream.on('end', reopen);
        stream.on('close', reopen);
        stream.on('error', reopen);
      },
      () => this.scheduleEvents(),
    );
  }

  private scheduleEvents(): void {
    if (this.closed || this.eventsTimer) return;
    this.eventsTimer = setTimeout(() => {
      this.eventsTimer = undefined;
      this.openEvents();
    }, this.options.eventsReconnectMs ?? 1000);
    this.eventsTimer.unref();
  }

  private closeEvents(): void {
    if (this.eventsTimer) clearTimeout(this.eventsTimer);
    this.eventsTimer = undefined;
    const stream = this.events;
    this.events = undefined;
    (stream as Readable | undefined)?.destroy();
  }

  private onEvent(line: string): void {
    let event: { Action?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      return;
    }
    const containerId = event.Actor?.ID;
    const attributes = event.Actor?.Attributes ?? {};
    if (!containerId || attributes[NODE_NAME_LABEL] !== this.context.nodeName || attributes[CLUSTER_NETWORK_LABEL] !== this.context.podNetwork) return;
    this.statuses.delete(containerId);
    if (event.Action === 'start') this.emit({ type: 'ContainerStarted', containerId, labels: attributes });
    else if (event.Action === 'die') this.emit({ type: 'ContainerExited', containerId, labels: attributes });
  }
}

function labelFilters(labels: Record<string, string> | undefined): string[] {
  return Object.entries(labels ?? {}).map(([key, value]) => `${key}=${value}`);
}

/** The exit code once the daemon has seen the exec'd process end (bounded wait). */
async function exitCodeOf(exec: Docker.Exec): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      const state = await exec.inspect();
      if (!state.Running && state.ExitCode !== null) return state.ExitCode;
    } catch {
      return 255;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return 255;
}

/** The kubelet's own container: its mounts (for bind-mount paths) and networks with its address on each; undefined on a host. */
async function inspectOwnContainer(docker: Docker): Promise<{ mounts: MountPair[]; networks: { name: string; address: string | undefined }[] } | undefined> {
  let mountinfo: string;
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return undefined;
  }
  const id = ownContainerId(mountinfo);
  if (!id) return undefined;
  try {
    const self = await docker.getContainer(id).inspect();
    return {
      mounts: (self.Mounts ?? []).map((mount) => ({ source: mount.Source, destination: mount.Destination })),
      networks: Object.entries(self.NetworkSettings?.Networks ?? {}).map(([name, settings]) => ({ name, address: settings.IPAddress || undefined })),
    };
  } catch {
    // A container id from another daemon (docker-in-docker without the socket): paths as they are.
    return undefined;
  }
}
