// A cluster of processes on this machine, built from the layout and the
// component table, remembered in <data-dir>/state.json. Every command
// (`up`, `down`, `status`, `stop-node`, ...) opens the cluster from its data
// dir; all but `up` need nothing but the state file, so they work from any
// shell, also after `up` was killed.
import fs from 'node:fs';
import path from 'node:path';
import {
  clusterComponents,
  resolveArguments,
  workerComponents,
  type BinaryName,
  type ComponentDefinition,
  type StartGroup,
} from '../components';
import {
  ClusterChangedError,
  ClusterNotRunningError,
  ComponentExitedError,
  DataDirInUseError,
  NoClusterError,
  NodeCredentialsError,
  ReadinessTimeoutError,
  UnknownComponentError,
  UnsupportedFlagError,
} from '../errors';
import {
  identify,
  isAlive,
  signalGroup,
  sleep,
  StateStore,
  stopProcessGroup,
  Supervisor,
  type ComponentRecord,
  type AbortCheck,
  type ComponentSpec,
  type SupervisorState,
} from '../supervisor';
import { listNodes, type ApiAccess, type NodeSummary } from './api';
import { acceptedFlagsOf, entryFileOf, findRepositoryRoot } from './binaries';
import { adminToken, ensureTokenFile, nodeIdentity, parseTokenFile, writeKubeconfigs } from './credentials';
import { ensureEncryptionConfig } from './encryption';
import { leaderEndpoint, memberStatus, type MemberStatus } from './etcd-status';
import { planLayout, possibleWorkerNames, type ClusterLayout, type ClusterOptions, type WorkerLayout } from './layout';
import { releaseMountsBelow } from './node-mounts';
import { findContainerProcesses } from './pod-processes';
import { checkBuilt, checkLoopbackAddresses, checkPortsFree, type PortClaim } from './preflight';

/** What the state file keeps beyond the components: enough to rebuild the layout. */
export interface ClusterRecord {
  options: ClusterOptions;
  /** Start group of each component, by name (stop order is the reverse). */
  groups: Record<string, StartGroup>;
}

export type ClusterState = SupervisorState<ClusterRecord>;

export interface LocalClusterOptions {
  /** Receives every line meant for the user. */
  report: (line: string) => void;
  /** SIGTERM-to-SIGKILL bound for a clean stop. */
  stopGraceMs?: number;
  /** How long `up` and `start-node` wait for nodes to turn Ready. */
  nodeReadyTimeoutMs?: number;
  /** The repository whose packages/<pkg>/dist/cli.js are run; found above this file by default. */
  repositoryRoot?: string;
}

export interface ComponentStatus {
  name: string;
  pid: number | undefined;
  /** running, stopped (on purpose), crashed (should run, does not) or never started. */
  state: 'running' | 'stopped' | 'crashed' | 'not started';
  endpoints: Record<string, string>;
}

export interface ClusterStatus {
  components: ComponentStatus[];
  etcd: (MemberStatus & { name: string; isLeader: boolean })[];
  /** Undefined with the reason when the API server could not be asked. */
  nodes: NodeSummary[] | { error: string };
}

const DEFAULT_STOP_GRACE_MS = 10_000;
const DEFAULT_NODE_READY_TIMEOUT_MS = 90_000;
const NODE_POLL_MS = 500;
const MONITOR_INTERVAL_MS = 1_000;
/** A stopped power-off kills container groups with SIGKILL; on `down` they get this long after SIGTERM. */
const CONTAINER_STOP_GRACE_MS = 5_000;

/** How a component is started: its definition and what its --help listed. */
interface StartPlan {
  definition: ComponentDefinition;
  accepted: ReadonlySet<string> | undefined;
}

export class LocalCluster {
  readonly layout: ClusterLayout;
  readonly store: StateStore<ClusterRecord>;
  readonly supervisor: Supervisor<ClusterRecord>;
  readonly repositoryRoot: string;
  private readonly report: (line: string) => void;
  private readonly nodeReadyTimeoutMs: number;
  /** By component name, from preflight; only the components this command starts. */
  private readonly plans = new Map<string, StartPlan>();

  constructor(options: ClusterOptions, settings: LocalClusterOptions) {
    this.layout = planLayout(options);
    this.report = settings.report;
    this.nodeReadyTimeoutMs = settings.nodeReadyTimeoutMs ?? DEFAULT_NODE_READY_TIMEOUT_MS;
    this.repositoryRoot = settings.repositoryRoot ?? findRepositoryRoot();
    this.store = new StateStore(this.layout.files.stateFile);
    this.supervisor = new Supervisor(this.store, {
      logDirectory: this.layout.files.logDirectory,
      stopGraceMs: settings.stopGraceMs ?? DEFAULT_STOP_GRACE_MS,
      report: settings.report,
    });
  }

  /** Opens the cluster recorded in `dataDir` (for every command but `up`). */
  static open(dataDir: string, settings: LocalClusterOptions): LocalCluster {
    const options = LocalCluster.recordedOptions(dataDir);
    if (options === undefined) throw new NoClusterError(dataDir);
    return new LocalCluster(options, settings);
  }

  /** The options the cluster in `dataDir` last ran with (workers added by `add-node` included), if any ran there. */
  static recordedOptions(dataDir: string): ClusterOptions | undefined {
    const state = new StateStore<ClusterRecord>(path.join(dataDir, 'state.json')).read();
    return state === undefined ? undefined : { ...state.cluster.options, dataDir };
  }

  // ---- up ----------------------------------------------------------------

  /**
   * Preflight, then every component in order, each group ready before the
   * next starts, then the wait for all nodes to be Ready. On failure the
   * components already started are stopped again before the error is thrown.
   */
  async up(): Promise<void> {
    const previous = this.store.read();
    const stillRunning = (previous?.components ?? []).filter((record) => record.process !== undefined && isAlive(record.process));
    if (stillRunning.length > 0) throw new DataDirInUseError(this.layout.options.dataDir, stillRunning.map((r) => `${r.spec.name} pid ${r.process?.pid}`));

    const definitions = clusterComponents(this.layout);
    this.report(`kube-lite: preflight (data dir ${this.layout.options.dataDir})`);
    const specs = await this.preflight(definitions);

    fs.mkdirSync(this.layout.options.dataDir, { recursive: true });
    // Tokens for every node the subnet can hold: `add-node` needs no API server restart.
    const tokens = ensureTokenFile(this.layout, undefined, possibleWorkerNames(this.layout.options.subnet ?? 1));
    if (ensureEncryptionConfig(this.layout.files.encryptionConfig)) this.report(`  encryption at rest: new key for Secrets in ${this.layout.files.encryptionConfig}`);
    const groups: Record<string, StartGroup> = {};
    for (const definition of definitions) groups[definition.name] = definition.group;
    const state: ClusterState = {
      version: 1,
      launcher: identify(process.pid),
      components: specs.map((spec) => ({ spec, logFile: this.supervisor.logFileOf(spec.name), desired: 'stopped' })),
      cluster: { options: this.layout.options, groups },
    };
    this.store.write(state);

    try {
      const specsOf = (group: (g: StartGroup) => boolean): ComponentSpec[] => specs.filter((spec) => group(groups[spec.name] as StartGroup));
      const crashed = (): Error | undefined => this.crashedComponent();
      this.report('starting etcd (3 members)');
      await this.startComponents(specsOf((g) => g === 'etcd'), crashed);
      this.report('starting the control plane');
      await this.startComponents(specsOf((g) => g === 'apiserver'), crashed);
      writeKubeconfigs(this.layout, tokens, fs.readFileSync(this.layout.apiserver.caFile, 'utf8'));
      await this.startComponents(specsOf((g) => g === 'control-plane'), crashed);
      this.report(`starting ${this.layout.workers.length} worker node${this.layout.workers.length === 1 ? '' : 's'}`);
      await this.startComponents(specsOf((g) => g.startsWith('node:')), crashed);
      await this.waitNodesReady(this.layout.workers.map((worker) => worker.name));
    } catch (error) {
      this.reportFailure(error);
      this.report('stopping what was started...');
      await this.down({ quiet: true });
      await this.detachLauncher();
      throw error;
    }
  }

  /** Checks binaries, flags, the node addresses and ports; returns the specs to start. */
  private async preflight(definitions: ComponentDefinition[], nodeIps: readonly string[] = this.layout.workers.map((worker) => worker.nodeIp)): Promise<ComponentSpec[]> {
    const binaries = [...new Set(definitions.map((definition) => definition.binary))];
    checkBuilt(binaries.map((binary) => entryFileOf(this.repositoryRoot, binary)));
    const accepted = new Map<BinaryName, Set<string> | undefined>();
    await Promise.all(binaries.map(async (binary) => accepted.set(binary, await acceptedFlagsOf(entryFileOf(this.repositoryRoot, binary)))));
    const specs: ComponentSpec[] = [];
    const notes = new Map<string, string>();
    for (const definition of definitions) {
      const plan: StartPlan = { definition, accepted: accepted.get(definition.binary), };
      const resolved = resolveArguments(definition, plan.accepted);
      if (resolved.unsupported.length > 0) throw new UnsupportedFlagError(definition.binary, resolved.unsupported);
      if (resolved.dropped.length > 0) notes.set(definition.binary, resolved.dropped.join(', '));
      this.plans.set(definition.name, plan);
      specs.push(this.specOf(plan));
    }
    for (const [binary, dropped] of notes) this.report(`  note: ${binary} does not accept ${dropped} (per its --help); starting it without`);
    await checkLoopbackAddresses(nodeIps);
    await checkPortsFree(definitions.flatMap((definition) => this.portClaims(definition)));
    return specs;
  }

  private specOf(plan: StartPlan): ComponentSpec {
    const { definition } = plan;
    const resolved = resolveArguments(definition, plan.accepted);
    return {
      name: definition.name,
      binary: definition.binary,
      entryFile: entryFileOf(this.repositoryRoot, definition.binary),
      args: resolved.args,
      workingDirectory: this.repositoryRoot,
      readiness: resolved.readiness,
      readyTimeoutMs: definition.readyTimeoutMs,
      endpoints: definition.endpoints,
    };
  }

  /** Starts the components together and waits until all are ready. */
  private async startComponents(specs: readonly ComponentSpec[], abortCheck?: AbortCheck): Promise<void> {
    await this.supervisor.startGroup(specs, abortCheck);
  }

  private portClaims(definition: { name: string; endpoints: Record<string, string> }): PortClaim[] {
    return Object.values(definition.endpoints).map((endpoint) => {
      const colon = endpoint.lastIndexOf(':');
      return { address: endpoint.slice(0, colon), port: Number(endpoint.slice(colon + 1)), wantedBy: definition.name };
    });
  }

  async waitNodesReady(names: readonly string[]): Promise<void> {
    const access = this.apiAccess();
    const startedMs = Date.now();
    const readySince = new Map<string, number>();
    let lastProblem = '';
    while (readySince.size < names.length) {
      if (Date.now() - startedMs > this.nodeReadyTimeoutMs) {
        const waiting = names.filter((name) => !readySince.has(name));
        throw new ReadinessTimeoutError(`node${waiting.length > 1 ? 's' : ''} ${waiting.join(', ')}`, this.nodeReadyTimeoutMs, lastProblem || 'not Ready', path.join(this.layout.files.logDirectory, `kubelet-${waiting[0]}.log`), []);
      }
      try {
        const nodes = await listNodes(access);
        for (const name of names) {
          const node = nodes.find((candidate) => candidate.name === name);
          if (node?.ready === 'True' && !readySince.has(name)) {
            readySince.set(name, Date.now());
            this.report(`  ${`node ${name}`.padEnd(28, ' ')} Ready (${((Date.now() - startedMs) / 1000).toFixed(1)} s)`);
          }
          if (node === undefined) lastProblem = `node ${name} not registered yet`;
          else if (node.ready !== 'True') lastProblem = `node ${name} Ready=${node.ready}`;
        }
      } catch (error) {
        lastProblem = (error as Error).message;
      }
      const crashed = this.crashedComponent();
      if (crashed !== undefined) throw crashed;
      if (readySince.size < names.length) await sleep(NODE_POLL_MS);
    }
  }

  /**
   * The first component that should run but has exited (an API server
   * failing right after it answered /readyz, a scheduler giving up on an
   * unreachable API server), so a wait fails at once instead of timing out.
   */
  crashedComponent(): ComponentExitedError | undefined {
    for (const record of this.store.read()?.components ?? []) {
      if (record.desired !== 'running' || record.process === undefined) continue;
      const exit = this.supervisor.exitDescription(record);
      if (exit !== undefined) return new ComponentExitedError(record.spec.name, exit, record.logFile, this.supervisor.lastLogLines(record));
    }
    return undefined;
  }

  apiAccess(): ApiAccess {
    const tokens = fs.existsSync(this.layout.files.tokenFile) ? parseTokenFile(fs.readFileSync(this.layout.files.tokenFile, 'utf8')) : [];
    return { url: this.layout.apiserver.url, caFile: this.layout.apiserver.caFile, token: adminToken(tokens) ?? '' };
  }

  /** How to use the cluster, printed once it is up. */
  usage(): string[] {
    const kubeconfig = this.layout.files.adminKubeconfig;
    const { ingress } = this.layout;
    const dataDirFlag = this.layout.options.dataDir === path.resolve('.kube-lite') ? '' : ` --data-dir ${this.layout.options.dataDir}`;
    return [
      '',
      `kube-lite is up: 3 etcd members, the control plane and ${this.layout.workers.length} workers (${this.layout.options.runtime} runtime).`,
      '',
      `  export KUBECONFIG=${kubeconfig}`,
      '  kubectl get nodes',
      `  kubectl apply -f ${path.join(this.repositoryRoot, 'examples', 'lecture')}/`,
      `  curl http://${ingress.address}:${ingress.port}/app      # the ingress; it keeps answering while a worker is down`,
      ...this.dnsUsage(),
      '',
      `Logs: ${this.layout.files.logDirectory}/<component>.log`,
      `Try:  kube-lite status${dataDirFlag} | kube-lite stop-node worker-1${dataDirFlag} | kube-lite start-node worker-1${dataDirFlag}`,
      `      kube-lite add-node${dataDirFlag}      # one more worker`,
    ];
  }

  /** How pods (and the user) reach the cluster DNS in this cluster. */
  private dnsUsage(): string[] {
    const worker = this.layout.workers[0];
    if (worker === undefined || this.layout.options.runtime !== 'process') return [];
    if (this.layout.options.clusterDnsOnPort53 === true) return [`  (pods resolve Services by name: each node's cluster DNS on <node IP>:53 is their nameserver)`];
    return [`  dig @${worker.nodeIp} -p ${worker.dnsPort} kubernetes.default.svc.cluster.local   # the cluster DNS (pods' nameserver only when up runs as root)`];
  }

  /**
   * Stays attached: reports a component that dies while it should run (once,
   * with its last log lines; it is not restarted) until `stopSignal` resolves.
   */
  async watch(stopSignal: Promise<void>): Promise<void> {
    const reported = new Set<string>();
    let stopping = false;
    void stopSignal.then(() => (stopping = true));
    while (!stopping) {
      for (const record of this.store.read()?.components ?? []) {
        if (record.desired !== 'running' || record.process === undefined) continue;
        const key = `${record.spec.name}/${record.process.pid}`;
        if (reported.has(key)) continue;
        const exit = this.supervisor.exitDescription(record);
        if (exit === undefined) continue;
        reported.add(key);
        this.report(`!! ${record.spec.name} ${exit} (not restarted; "kube-lite down" then "up" to start over). Last lines of ${record.logFile}:`);
        for (const line of this.supervisor.lastLogLines(record)) this.report(`   | ${clip(line)}`);
      }
      await Promise.race([sleep(MONITOR_INTERVAL_MS), stopSignal]);
    }
  }

  async detachLauncher(): Promise<void> {
    await this.store.update((state) => {
      if (state.launcher?.pid === process.pid) delete state.launcher;
    });
  }

  private reportFailure(error: unknown): void {
    if (error instanceof ComponentExitedError || error instanceof ReadinessTimeoutError) {
      this.report(`!! ${error.message}`);
      for (const line of error.lastLogLines) this.report(`   | ${clip(line)}`);
    }
  }

  // ---- down --------------------------------------------------------------

  /** Stops everything in reverse start order: nodes (with their containers), control plane, API server, etcd. */
  async down(options: { quiet?: boolean } = {}): Promise<void> {
    const state = this.store.read();
    if (state === undefined) throw new NoClusterError(this.layout.options.dataDir);
    const phases: { isNodes: boolean; matches: (group: StartGroup) => boolean }[] = [
      { isNodes: true, matches: (g) => g.startsWith('node:') },
      { isNodes: false, matches: (g) => g === 'control-plane' },
      { isNodes: false, matches: (g) => g === 'apiserver' },
      { isNodes: false, matches: (g) => g === 'etcd' },
    ];
    if (options.quiet !== true) this.report(`kube-lite: stopping the cluster in ${this.layout.options.dataDir}`);
    for (const phase of phases) {
      const names = state.components.filter((record) => phase.matches(groupOf(state, record))).map((record) => record.spec.name);
      await Promise.all(names.map((name) => this.supervisor.stop(name, 'graceful')));
      // Containers run detached from their kubelet; without this they would outlive the cluster.
      if (phase.isNodes) {
        await Promise.all(this.layout.workers.map((worker) => this.stopContainers(worker, 'graceful')));
        // Then the pods' mount namespaces (root kubelets), so the data dir can be deleted; the next kubelet makes new ones.
        for (const worker of this.layout.workers) releaseMountsBelow(worker.rootDir);
      }
    }
    const launcher = state.launcher;
    if (launcher !== undefined && launcher.pid !== process.pid && isAlive(launcher)) {
      // The foreground `up` finds everything stopped and exits.
      try {
        process.kill(launcher.pid, 'SIGTERM');
      } catch {
        // It exited meanwhile.
      }
    }
    await this.store.update((current) => {
      if (current.launcher !== undefined && !isAlive(current.launcher)) delete current.launcher;
    });
    if (options.quiet !== true) this.report('kube-lite: stopped (state kept; "kube-lite up" starts it again)');
  }

  private async stopContainers(worker: WorkerLayout, mode: 'graceful' | 'kill'): Promise<number> {
    const alive = findContainerProcesses(worker.rootDir).filter((container) => isAlive(container));
    if (mode === 'kill') {
      for (const container of alive) signalGroup(container, 'SIGKILL');
    } else {
      await Promise.all(alive.map((container) => stopProcessGroup(container, CONTAINER_STOP_GRACE_MS)));
    }
    return alive.length;
  }

  // ---- status ------------------------------------------------------------

  async status(): Promise<ClusterStatus> {
    const state = this.store.read();
    if (state === undefined) throw new NoClusterError(this.layout.options.dataDir);
    const components = state.components.map((record): ComponentStatus => {
      const alive = record.process !== undefined && isAlive(record.process);
      const componentState: ComponentStatus['state'] = alive ? 'running' : record.process === undefined ? 'not started' : record.desired === 'running' ? 'crashed' : 'stopped';
      return { name: record.spec.name, pid: alive ? record.process?.pid : undefined, state: componentState, endpoints: record.spec.endpoints };
    });
    const protoDirectory = path.join(this.repositoryRoot, 'proto', 'etcd');
    const statuses = await Promise.all(this.layout.etcd.map((member) => memberStatus(protoDirectory, member.clientUrl)));
    const leader = leaderEndpoint(statuses);
    const etcd = statuses.map((status, i) => ({ ...status, name: this.layout.etcd[i]?.name ?? '?', isLeader: status.endpoint === leader }));
    let nodes: ClusterStatus['nodes'];
    try {
      nodes = await listNodes(this.apiAccess());
    } catch (error) {
      nodes = { error: (error as Error).message };
    }
    return { components, etcd, nodes };
  }

  // ---- add-node ------------------------------------------------------------

  /**
   * One more worker for the running cluster: the next number, the same flags
   * as the others, recorded in the state file (so `down`, `up`, `status` and
   * `stop-node` know it). Waits until the node is Ready and returns its name.
   * When it cannot start, it is stopped and forgotten again.
   */
  async addNode(): Promise<string> {
    const state = this.store.read();
    if (state === undefined) throw new NoClusterError(this.layout.options.dataDir);
    const apiserver = state.components.find((record) => record.spec.name === 'kube-apiserver');
    if (apiserver?.process === undefined || !isAlive(apiserver.process)) throw new ClusterNotRunningError(this.layout.options.dataDir, 'add-node');
    const workersBefore = this.layout.workers.length;
    // planLayout refuses a worker the subnet has no pod block for.
    const grown = planLayout({ ...this.layout.options, workers: workersBefore + 1 });
    const worker = grown.workers[workersBefore] as WorkerLayout;
    const tokens = parseTokenFile(fs.readFileSync(this.layout.files.tokenFile, 'utf8'));
    if (!tokens.some((record) => record.user === nodeIdentity(worker.name).user)) throw new NodeCredentialsError(worker.name, this.layout.options.dataDir);

    const definitions = workerComponents(grown, worker);
    const specs = await this.preflight(definitions, [worker.nodeIp]);
    writeKubeconfigs(grown, tokens, fs.readFileSync(this.layout.apiserver.caFile, 'utf8'));
    await this.store.update((current) => {
      if (current.cluster.options.workers !== workersBefore) throw new ClusterChangedError(this.layout.options.dataDir, `it has ${current.cluster.options.workers} workers now, not ${workersBefore}`);
      current.cluster.options = { ...current.cluster.options, workers: workersBefore + 1 };
      for (const definition of definitions) current.cluster.groups[definition.name] = definition.group;
      for (const spec of specs) current.components.push({ spec, logFile: this.supervisor.logFileOf(spec.name), desired: 'stopped' });
    });
    this.report(`adding ${worker.name}: node IP ${worker.nodeIp}, kubelet port ${worker.kubeletPort}, root dir ${worker.rootDir}`);
    try {
      await this.startComponents(specs, () => this.crashedComponent());
      await this.waitNodesReady([worker.name]);
    } catch (error) {
      this.reportFailure(error);
      this.report(`stopping ${worker.name} again and forgetting it`);
      await Promise.all(specs.map((spec) => this.supervisor.stop(spec.name, 'graceful')));
      await this.stopContainers(worker, 'graceful');
      releaseMountsBelow(worker.rootDir);
      await this.store.update((current) => {
        current.components = current.components.filter((record) => !specs.some((spec) => spec.name === record.spec.name));
        for (const definition of definitions) delete current.cluster.groups[definition.name];
        if (current.cluster.options.workers === workersBefore + 1) current.cluster.options = { ...current.cluster.options, workers: workersBefore };
      });
      throw error;
    }
    return worker.name;
  }

  // ---- failures on demand --------------------------------------------------

  worker(name: string): WorkerLayout {
    const worker = this.layout.workers.find((candidate) => candidate.name === name);
    if (worker === undefined) throw new UnknownComponentError(name, 'node', this.layout.workers.map((w) => w.name));
    return worker;
  }

  etcdMemberName(name: string): string {
    const member = this.layout.etcd.find((candidate) => candidate.name === name);
    if (member === undefined) throw new UnknownComponentError(name, 'etcd member', this.layout.etcd.map((m) => m.name));
    return member.name;
  }

  /**
   * Power loss: SIGKILL the node's kubelet and kube-proxy and every container
   * process the kubelet started, all at once and without warning.
   * `graceful` instead shuts them down as `down` would.
   */
  async stopNode(name: string, graceful = false): Promise<void> {
    const worker = this.worker(name);
    const mode = graceful ? 'graceful' : 'kill';
    await Promise.all([`kubelet-${name}`, `kube-proxy-${name}`].map((component) => this.supervisor.stop(component, mode)));
    const containers = await this.stopContainers(worker, mode);
    this.report(`${name}: ${graceful ? 'shut down' : 'powered off (SIGKILL)'}: kubelet, kube-proxy and ${containers} container process${containers === 1 ? '' : 'es'}`);
  }

  /** Starts the node's kubelet and kube-proxy again with the same flags, and waits for the node to be Ready. */
  async startNode(name: string): Promise<void> {
    this.worker(name);
    await this.restart([`kubelet-${name}`, `kube-proxy-${name}`]);
    await this.waitNodesReady([name]);
  }

  async stopEtcd(name: string, graceful = false): Promise<void> {
    await this.supervisor.stop(this.etcdMemberName(name), graceful ? 'graceful' : 'kill');
  }

  async startEtcd(name: string): Promise<void> {
    await this.restart([this.etcdMemberName(name)]);
  }

  private async restart(names: string[]): Promise<void> {
    const state = this.store.read();
    if (state === undefined) throw new NoClusterError(this.layout.options.dataDir);
    const records = names.map((name) => {
      const record = state.components.find((candidate) => candidate.spec.name === name);
      if (record === undefined) throw new UnknownComponentError(name, 'component', state.components.map((c) => c.spec.name));
      return record;
    });
    const running = records.filter((record) => record.process !== undefined && isAlive(record.process));
    if (running.length > 0) {
      this.report(`already running: ${running.map((record) => `${record.spec.name} (pid ${record.process?.pid})`).join(', ')}`);
      return;
    }
    await checkPortsFree(records.flatMap((record) => this.portClaims(record.spec)));
    await this.supervisor.startGroup(records.map((record: ComponentRecord) => record.spec));
  }
}

/** Log lines are often long JSON records; the start of each is what a person scans. */
const CRASH_LINE_MAX_CHARS = 240;

function clip(line: string): string {
  return line.length > CRASH_LINE_MAX_CHARS ? `${line.slice(0, CRASH_LINE_MAX_CHARS)}...` : line;
}

function groupOf(state: ClusterState, record: ComponentRecord): StartGroup {
  return state.cluster.groups[record.spec.name] ?? 'etcd';
}
