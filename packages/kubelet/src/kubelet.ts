// The kubelet wired to the API server: the node-local machinery (PodWorkers,
// KubeletServer) plus what makes this machine a node of the cluster:
//
// - registration: the Node object (labels, capacity, addresses, nodeInfo,
//   the kubelet API port), created again whenever someone deletes it;
// - heartbeat: every nodeStatusUpdateFrequency the Lease
//   kube-node-lease/<node> is renewed (owned by the Node, so it goes with it)
//   and the Node's conditions are computed; they are posted when they changed
//   or nodeStatusReportFrequency has passed, as upstream does;
// - pods: an informer on the pods bound to this node feeds the workers, which
//   start only once that informer has listed, so a restarted kubelet adopts
//   its containers instead of taking them for orphans;
// - events people read in `kubectl describe` for pods and the node.
//
// Nothing the API server does (or fails to do) throws out of here: failures
// are logged and retried on the next heartbeat or sync.
import fs from 'node:fs';
import os from 'node:os';
import { formatMicroTime, formatTime, semanticEqual, type Lease, type Node, type NodeCondition, type NodeStatus, type ObjectReference, type Pod } from '@kube-lite/api';
import { EventRecorder, isAlreadyExists, isConflict, isNotFound, silentLogger, type ApiClient, type Logger } from '@kube-lite/client';
import { ApiObjectSource, ApiStatusSink, InformerPodSource, InformerServiceSource } from './api-sources';
import { systemClock, type Clock, type TimerHandle } from './clock';
import type { PodEvent } from './pod-workers/context';
import { PodWorkers, type PodWorkersOptions } from './pod-workers/pod-workers';
import type { ContainerRuntime } from './runtime/runtime';
import { KubeletServer } from './server/server';

/** What the kubelet reports as its own version (Node status.nodeInfo.kubeletVersion). */
export const KUBELET_VERSION = 'v1.32.0-kube-lite';
/** Where node Leases live, as upstream. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';
export const OS_LABEL = 'kubernetes.io/os';
export const ARCH_LABEL = 'kubernetes.io/arch';

/** Facts about the machine for the Node object; describeMachine() reads them from the OS. */
export interface MachineInfo {
  cpuMillis: number;
  memoryBytes: number;
  machineID: string;
  systemUUID: string;
  bootID: string;
  kernelVersion: string;
  osImage: string;
  /** GOOS spelling: linux, darwin, windows. */
  operatingSystem: string;
  /** GOARCH spelling: amd64, arm64... */
  architecture: string;
}

export interface KubeletOptions {
  client: ApiClient;
  /** The Node's name; every pod with this spec.nodeName runs here. */
  nodeName: string;
  /** The address the API server and other nodes reach this node at (InternalIP, each pod's status.hostIP). */
  nodeIP: string;
  /** The Hostname address and the kubernetes.io/hostname label; the node name by default. */
  hostname?: string;
  runtime: ContainerRuntime;
  /** nodeInfo.containerRuntimeVersion, e.g. "process://1" or "docker://27.1.1"; "<runtime name>://1" by default. */
  containerRuntimeVersion?: string;
  /** The kubelet's --root-dir: pod volumes and container logs. */
  rootDirectory: string;
  /** Port of the kubelet API (upstream 10250); 0 picks a free one. The bound port goes into the Node's daemonEndpoints. */
  port: number;
  /** Address the kubelet API listens on; 0.0.0.0 by default. */
  address?: string;
  /** Serve the kubelet API over HTTPS with this certificate; plain HTTP without. */
  tls?: { certificate: string | Buffer; key: string | Buffer };
  /**
   * PEM of the CA whose client certificates the kubelet API accepts (--client-ca-file): the cluster CA, which
   * issued the API server's kubelet client certificate. Needs tls. With neither this nor apiToken the API is open.
   */
  clientCaPem?: string | Buffer;
  /** Bearer token the kubelet API also accepts instead of a client certificate. */
  apiToken?: string;
  /** Create the Node object (and again when it is deleted); true by default. Without it the Node must be made by someone else. */
  registerNode?: boolean;
  /** How often the Lease is renewed and the Node's status computed; 10 s by default. */
  nodeStatusUpdateFrequencyMs?: number;
  /** Longest time between Node status posts when nothing changed; 5 minutes by default (the Lease is the heartbeat). */
  nodeStatusReportFrequencyMs?: number;
  /** The Lease's leaseDurationSeconds: how long the node counts as alive without a renewal; 40 by default. */
  nodeLeaseDurationSeconds?: number;
  /** Capacity overrides; the machine's CPUs, memory and 110 pods by default. */
  capacity?: { cpuMillis?: number; memoryBytes?: number; pods?: number };
  /** The machine as reported in the Node; describeMachine() by default. */
  machine?: MachineInfo;
  /** Extra labels for the Node on registration (upstream --node-labels). */
  nodeLabels?: Record<string, string>;
  /** Timers and timestamps; the system clock by default, a ManualClock in tests. */
  clock?: Clock;
  logger?: Logger;
  /** IPs of the cluster DNS servers (upstream --cluster-dns) that ClusterFirst pods resolve with; none: they use the node's resolver. */
  clusterDns?: string[];
  /** The cluster's DNS domain (upstream --cluster-domain); cluster.local by default. */
  clusterDomain?: string;
  /** Passed to PodWorkers as they are (tests shorten the relist, replace the probe runner...). */
  workers?: Pick<PodWorkersOptions, 'relistPeriodMs' | 'backOff' | 'probeRunner'>;
}

const DEFAULT_MAX_PODS = 110;

function goArchitecture(arch: string): string {
  const names: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return names[arch] ?? arch;
}

function goOperatingSystem(platform: string): string {
  return platform === 'win32' ? 'windows' : platform;
}

function readFirstLine(path: string): string {
  try {
    return fs.readFileSync(path, 'utf8').split('\n')[0]?.trim() ?? '';
  } catch {
    // Not every machine has every file (containers lack DMI, macOS lacks /proc): report it empty, as upstream does.
    return '';
  }
}

function osImage(): string {
  try {
    const release = fs.readFileSync('/etc/os-release', 'utf8');
    const match = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(release);
    if (match?.[1]) return match[1];
  } catch {
    // Falls back to what Node knows below.
  }
  return os.version();
}

/** The machine this process runs on. */
export function describeMachine(): MachineInfo {
  return {
    cpuMillis: os.cpus().length * 1000,
    memoryBytes: os.totalmem(),
    machineID: readFirstLine('/etc/machine-id'),
    systemUUID: readFirstLine('/sys/class/dmi/id/product_uuid'),
    bootID: readFirstLine('/proc/sys/kernel/random/boot_id'),
    kernelVersion: os.release(),
    osImage: osImage(),
    operatingSystem: goOperatingSystem(process.platform),
    architecture: goArchitecture(process.arch),
  };
}

/** "4" or "1500m", as a cpu quantity is written. */
function cpuQuantity(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** Memory in Ki, as upstream's cAdvisor-based capacity is written. */
function memoryQuantity(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

/** A Node condition without its times: what decides whether anything changed. */
type ConditionState = Pick<NodeCondition, 'type' | 'status' | 'reason' | 'message'>;

export class Kubelet {
  readonly nodeName: string;
  readonly workers: PodWorkers;
  private readonly client: ApiClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly machine: MachineInfo;
  private readonly hostname: string;
  private readonly registerNode: boolean;
  private readonly updateFrequencyMs: number;
  private readonly reportFrequencyMs: number;
  private readonly leaseDurationSeconds: number;
  private readonly podSource: InformerPodSource;
  private readonly serviceSource: InformerServiceSource;
  private readonly server: KubeletServer;
  private readonly recorder: EventRecorder;
  /** The uid of the Node this kubelet registered (or found); undefined until then and after the Node is deleted. */
  private nodeUid: string | undefined;
  private lease: Lease | undefined;
  private lastPosted: { status: unknown; atMs: number } | undefined;
  private lastReady: string | undefined;
  private boundPort = 0;
  private heartbeatTimer: TimerHandle | undefined;
  private heartbeatRunning: Promise<void> | undefined;
  private heartbeatAgain = false;
  private workersStarted: Promise<void> | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly options: KubeletOptions) {
    this.nodeName = options.nodeName;
    this.client = options.client;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.machine = options.machine ?? describeMachine();
    this.hostname = (options.hostname ?? options.nodeName).toLowerCase();
    this.registerNode = options.registerNode ?? true;
    this.updateFrequencyMs = options.nodeStatusUpdateFrequencyMs ?? 10_000;
    this.reportFrequencyMs = options.nodeStatusReportFrequencyMs ?? 5 * 60_000;
    this.leaseDurationSeconds = options.nodeLeaseDurationSeconds ?? 40;
    this.recorder = new EventRecorder({ client: this.client, component: 'kubelet', host: this.nodeName, nowMs: () => this.clock.nowMs(), logger: this.logger });
    this.podSource = new InformerPodSource({ client: this.client, nodeName: this.nodeName, logger: this.logger });
    const objects = new ApiObjectSource({ client: this.client, nowMs: () => this.clock.nowMs(), logger: this.logger });
    this.serviceSource = new InformerServiceSource({ client: this.client, logger: this.logger });
    this.workers = new PodWorkers({
      ...options.workers,
      nodeName: this.nodeName,
      hostIP: options.nodeIP,
      rootDirectory: options.rootDirectory,
      runtime: options.runtime,
      podSource: this.podSource,
      statusSink: new ApiStatusSink({ client: this.client, logger: this.logger }),
      secrets: objects,
      configMaps: objects,
      persistentVolumes: objects,
      services: this.serviceSource,
      ...(options.clusterDns === undefined ? {} : { clusterDnsServers: options.clusterDns }),
      ...(options.clusterDomain === undefined ? {} : { clusterDomain: options.clusterDomain }),
      clock: this.clock,
      nodeAllocatable: { cpuMillis: this.cpuMillis, memoryBytes: this.memoryBytes },
      log: (event, fields) => this.logger.info(event, fields),
      recordEvent: (pod, event) => this.recordPodEvent(pod, event),
    });
    this.server = new KubeletServer({
      nodeName: this.nodeName,
      runtime: options.runtime,
      locator: this.workers,
      port: options.port,
      ...(options.address === undefined ? {} : { host: options.address }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.clientCaPem === undefined ? {} : { clientCaPem: options.clientCaPem }),
      ...(options.apiToken === undefined ? {} : { token: options.apiToken }),
    });
  }

  private get cpuMillis(): number {
    return this.options.capacity?.cpuMillis ?? this.machine.cpuMillis;
  }

  private get memoryBytes(): number {
    return this.options.capacity?.memoryBytes ?? this.machine.memoryBytes;
  }

  /** The port the kubelet API listens on (after start). */
  get port(): number {
    return this.boundPort;
  }

  /** Whether this kubelet knows its Node exists (registered, or found when not registering). */
  get registered(): boolean {
    return this.nodeUid !== undefined;
  }

  /**
   * Starts the kubelet API (rejects if its port cannot be bound), then in the
   * background: registration, heartbeats, and the pod workers once the pods
   * bound to this node are listed. Never waits for the API server.
   */
  async start(): Promise<void> {
    if (this.started) throw new Error('Kubelet.start called twice');
    this.started = true;
    this.boundPort = await this.server.listen();
    this.logger.info('kubelet API listening', { port: this.boundPort, tls: this.options.tls !== undefined, authentication: this.authenticationMode() });
    this.recorder.record(this.nodeReference(), 'Normal', 'Starting', 'Starting kubelet.');
    this.podSource.run();
    this.serviceSource.run();
    this.workersStarted = this.startWorkersOnceListed();
    this.requestHeartbeat();
  }

  /** Resolves once the workers run (the pods of this node were listed); for tests and the CLI's log. */
  async whenWorkersStarted(): Promise<void> {
    await this.workersStarted;
  }

  /**
   * Stops serving, heartbeating and syncing. Containers keep running: the
   * next kubelet on this root directory adopts them.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.heartbeatTimer?.cancel();
    await this.server.close();
    await this.workers.stop();
    await this.podSource.stop();
    await this.serviceSource.stop();
    await this.workersStarted;
    // A heartbeat in flight and pending events are worth a moment, not a hung shutdown when the API server is away.
    await Promise.race([Promise.all([this.heartbeatRunning, this.recorder.close()]), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  }

  private async startWorkersOnceListed(): Promise<void> {
    if (!(await this.podSource.waitForSync())) return;
    if (this.stopped) return;
    await this.workers.start();
    this.logger.info('pod workers started', { pods: this.podSource.listPods().length });
  }

  // ---- heartbeat: registration, lease, node status ----

  /** Runs a heartbeat now (or right after the one running), then every nodeStatusUpdateFrequency. */
  private requestHeartbeat(): void {
    if (this.stopped) return;
    if (this.heartbeatRunning) {
      this.heartbeatAgain = true;
      return;
    }
    this.heartbeatTimer?.cancel();
    this.heartbeatRunning = this.heartbeat().finally(() => {
      this.heartbeatRunning = undefined;
      if (this.stopped) return;
      if (this.heartbeatAgain) {
        this.heartbeatAgain = false;
        this.requestHeartbeat();
      } else {
        this.heartbeatTimer = this.clock.setTimer(() => this.requestHeartbeat(), this.updateFrequencyMs);
      }
    });
  }

  private async heartbeat(): Promise<void> {
    try {
      const node = await this.ensureNode();
      await this.renewLease();
      if (node !== undefined) await this.syncNodeStatus(node);
    } catch (error) {
      // The API server is away or refused: the next heartbeat tries again.
      this.logger.warn('node heartbeat failed', { node: this.nodeName, error });
    }
  }

  /**
   * The Node as the API server has it, registered (again) when it is missing.
   * A GET per heartbeat, as upstream's status update does, is how a deleted
   * Node is noticed; undefined when there is none and registerNode is off.
   */
  private async ensureNode(): Promise<Node | undefined> {
    if (this.nodeUid !== undefined) {
      const current = await this.getNode('0');
      if (current?.metadata?.uid === this.nodeUid) return current;
      this.logger.warn(current === undefined ? 'node object was deleted' : 'node object was replaced', { node: this.nodeName, reregister: this.registerNode });
      this.nodeUid = undefined;
      this.lastPosted = undefined;
    }
    const node = this.registerNode ? await this.register() : await this.getNode('0');
    this.nodeUid = node?.metadata?.uid;
    return node;
  }

  private async getNode(resourceVersion?: string): Promise<Node | undefined> {
    try {
      return await this.client.nodes().get(this.nodeName, resourceVersion === undefined ? {} : { resourceVersion });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private nodeLabels(): Record<string, string> {
    return {
      ...this.options.nodeLabels,
      [HOSTNAME_LABEL]: this.hostname,
      [OS_LABEL]: this.machine.operatingSystem,
      [ARCH_LABEL]: this.machine.architecture,
    };
  }

  /** How callers of the kubelet API authenticate, for the start-up log line. */
  private authenticationMode(): string {
    const modes = [...(this.options.clientCaPem === undefined ? [] : ['client-certificate']), ...(this.options.apiToken === undefined ? [] : ['token'])];
    return modes.length === 0 ? 'none' : modes.join('+');
  }

  private nodeReference(): ObjectReference {
    // Upstream's node events name the node by uid = name; the Node's uid may not be known yet.
    return { kind: 'Node', apiVersion: 'v1', name: this.nodeName, uid: this.nodeName };
  }

  /** Everything the kubelet reports in the Node's status apart from conditions. */
  private reportedStatus(): Omit<NodeStatus, 'conditions'> {
    const resources = { cpu: cpuQuantity(this.cpuMillis), memory: memoryQuantity(this.memoryBytes), pods: String(this.options.capacity?.pods ?? DEFAULT_MAX_PODS) };
    return {
      capacity: { ...resources },
      allocatable: { ...resources },
      addresses: [
        { type: 'InternalIP', address: this.options.nodeIP },
        { type: 'Hostname', address: this.hostname },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.boundPort } },
      nodeInfo: {
        machineID: this.machine.machineID,
        systemUUID: this.machine.systemUUID,
        bootID: this.machine.bootID,
        kernelVersion: this.machine.kernelVersion,
        osImage: this.machine.osImage,
        containerRuntimeVersion: this.options.containerRuntimeVersion ?? `${this.options.runtime.name}://1`,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: this.machine.operatingSystem,
        architecture: this.machine.architecture,
      },
    };
  }

  private async conditionStates(): Promise<ConditionState[]> {
    let ready: ConditionState = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' };
    try {
      await this.options.runtime.listPodSandboxes();
    } catch (error) {
      ready = { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: `container runtime is down: ${(error as Error).message}` };
    }
    return [
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
      { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
      { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
      ready,
    ];
  }

  /** Conditions with heartbeat now, keeping each transition time unless the status flipped; others' conditions stay. */
  private mergeConditions(previous: NodeCondition[] | undefined, states: ConditionState[], nowMs: number): NodeCondition[] {
    const now = formatTime(nowMs);
    const ours = states.map((state) => {
      const before = previous?.find((condition) => condition.type === state.type);
      const lastTransitionTime = before && before.status === state.status && before.lastTransitionTime ? before.lastTransitionTime : now;
      return { ...state, lastHeartbeatTime: now, lastTransitionTime } as NodeCondition;
    });
    const types = new Set(states.map((state) => state.type));
    return [...ours, ...(previous ?? []).filter((condition) => !types.has(condition.type))];
  }

  private async register(): Promise<Node> {
    const nowMs = this.clock.nowMs();
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: this.nodeName, labels: this.nodeLabels() },
      spec: {},
      status: { ...this.reportedStatus(), conditions: this.mergeConditions(undefined, await this.conditionStates(), nowMs) },
    };
    try {
      const created = await this.client.nodes().create(node);
      this.logger.info('node registered', { node: this.nodeName, uid: created.metadata?.uid });
      return created;
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    // A Node of this name exists (an earlier run of this kubelet): take it over and bring its labels up to date.
    const existing = await this.client.nodes().get(this.nodeName);
    const labels = { ...existing.metadata?.labels, ...this.nodeLabels() };
    let current = existing;
    if (!semanticEqual(labels, existing.metadata?.labels)) {
      try {
        current = await this.client.nodes().update({ ...existing, metadata: { ...existing.metadata, labels } });
      } catch (error) {
        // Labels are caught up on the next registration; the Node is ours either way.
        this.logger.warn('could not update the labels of the existing node', { node: this.nodeName, error });
      }
    }
    this.lastPosted = undefined;
    this.logger.info('node already registered; using it', { node: this.nodeName, uid: current.metadata?.uid });
    return current;
  }

  private async renewLease(): Promise<void> {
    const leases = this.client.leases(NODE_LEASE_NAMESPACE);
    const nowMs = this.clock.nowMs();
    const ownerReferences = this.nodeUid === undefined ? undefined : [{ apiVersion: 'v1', kind: 'Node', name: this.nodeName, uid: this.nodeUid }];
    // Bounded: a lost race re-reads the Lease once and tries again; the next heartbeat takes over from there.
    for (let attempt = 0; attempt < 2; attempt++) {
      let base = this.lease;
      if (base === undefined) {
        try {
          base = await leases.get(this.nodeName);
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
      try {
        if (base === undefined) {
          this.lease = await leases.create({
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name: this.nodeName, namespace: NODE_LEASE_NAMESPACE, ...(ownerReferences ? { ownerReferences } : {}) },
            spec: { holderIdentity: this.nodeName, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: formatMicroTime(nowMs) },
          });
          this.logger.info('node lease created', { lease: `${NODE_LEASE_NAMESPACE}/${this.nodeName}` });
        } else {
          const metadata = { ...base.metadata, ...(ownerReferences ? { ownerReferences } : {}) };
          this.lease = await leases.update({ ...base, metadata, spec: { ...base.spec, holderIdentity: this.nodeName, leaseDurationSeconds: this.leaseDurationSeconds, renewTime: formatMicroTime(nowMs) } });
        }
        return;
      } catch (error) {
        this.lease = undefined;
        if (!isConflict(error) && !isNotFound(error) && !isAlreadyExists(error)) throw error;
      }
    }
  }

  private async syncNodeStatus(current: Node): Promise<void> {
    const states = await this.conditionStates();
    const reported = { ...this.reportedStatus(), conditions: states };
    const nowMs = this.clock.nowMs();
    if (this.lastPosted && semanticEqual(this.lastPosted.status, reported) && nowMs - this.lastPosted.atMs < this.reportFrequencyMs) return;
    const nodes = this.client.nodes();
    // The GET of this heartbeat may come from the API server's cache: a conflict means a fresher read is needed.
    let base: Node | undefined = current;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        base ??= await nodes.get(this.nodeName);
        if (base.metadata?.uid !== this.nodeUid) {
          // Deleted (and maybe recreated by someone else) since this heartbeat began: the next one sorts it out.
          this.requestHeartbeat();
          return;
        }
        const status: NodeStatus = { ...base.status, ...this.reportedStatus(), conditions: this.mergeConditions(base.status?.conditions, states, nowMs) };
        await nodes.updateStatus({ ...base, status });
        this.lastPosted = { status: reported, atMs: nowMs };
        this.reportReadiness(states);
        return;
      } catch (error) {
        if (isNotFound(error)) {
          this.requestHeartbeat();
          return;
        }
        if (!isConflict(error)) throw error;
        base = undefined;
      }
    }
  }

  /** A NodeReady / NodeNotReady event when readiness flips, as upstream's kubelet records. */
  private reportReadiness(states: ConditionState[]): void {
    const ready = states.find((state) => state.type === 'Ready')?.status;
    if (ready === undefined || ready === this.lastReady) return;
    this.lastReady = ready;
    const reason = ready === 'True' ? 'NodeReady' : 'NodeNotReady';
    this.recorder.record(this.nodeReference(), ready === 'True' ? 'Normal' : 'Warning', reason, `Node ${this.nodeName} status is now: ${reason}`);
    this.logger.info('node readiness changed', { node: this.nodeName, ready });
  }

  // ---- pod events ----

  private recordPodEvent(pod: Pod, event: PodEvent): void {
    const reference: ObjectReference = {
      kind: 'Pod',
      apiVersion: 'v1',
      namespace: pod.metadata?.namespace ?? 'default',
      name: pod.metadata?.name ?? '',
      ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
      ...(event.containerName === undefined ? {} : { fieldPath: this.containerFieldPath(pod, event.containerName) }),
    };
    this.recorder.record(reference, event.type, event.reason, event.message);
  }

  private containerFieldPath(pod: Pod, containerName: string): string {
    const init = pod.spec?.initContainers?.some((container) => container.name === containerName) ?? false;
    return `spec.${init ? 'initContainers' : 'containers'}{${containerName}}`;
  }
}
