// The kubelet's pod loop: one PodWorker per pod UID, fed by the PodSource
// (desired pods), the runtime's container events, and a periodic relist of
// the runtime that catches anything missed: containers of pods nobody wants
// any more are stopped and removed; containers labelled with the UID of a pod
// that is still wanted are adopted by that pod's worker (a restarted kubelet
// keeps its pods running).
import os from 'node:os';
import { loopbackServiceAddress, type Pod } from '@kube-lite/api';
import { systemClock, type Clock, type TimerHandle } from '../clock';
import { ProbeManager } from '../probes/probe-manager';
import type { HandlerRunner } from '../probes/prober';
import { CONTAINER_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../runtime/labels';
import type { ContainerRuntime, ContainerStatus } from '../runtime/runtime';
import type { ConfigMapSource, PersistentVolumeSource, PodSource, SecretSource, ServiceSource, StatusSink } from '../sources';
import { StatusManager } from '../status/status-manager';
import { CrashLoopBackOff, DEFAULT_BACKOFF, type BackOffOptions } from './backoff';
import type { KubeletLogger, PodEventRecorder, WorkerContext } from './context';
import { DEFAULT_CLUSTER_DOMAIN } from './dns';
import { PodWorker, type PodWorkerState } from './pod-worker';
import { clusterIPAddress, type ServiceAddressMapper } from './service-env';
import { PodStartupTracker } from './startup-latency';

export interface PodWorkersOptions {
  /** This node's name (labels on runtime objects, spec.nodeName in env). */
  nodeName: string;
  /** This node's IP (status.hostIP). */
  hostIP: string;
  /** The kubelet's --root-dir: pod volumes under pods/<uid>/volumes, container logs under logs/. */
  rootDirectory: string;
  runtime: ContainerRuntime;
  podSource: PodSource;
  statusSink: StatusSink;
  secrets?: SecretSource;
  configMaps?: ConfigMapSource;
  /** Claims and persistent volumes for persistentVolumeClaim volumes; such pods wait in ContainerCreating without it. */
  persistentVolumes?: PersistentVolumeSource;
  /** Cluster DNS servers (upstream --cluster-dns) for ClusterFirst pods; none: they fall back to the node's resolver. */
  clusterDnsServers?: string[];
  /** The cluster's DNS domain (upstream --cluster-domain); cluster.local by default. */
  clusterDomain?: string;
  /** Parent of memory-backed emptyDir directories under runtimes exposing host directories; /dev/shm/kube-lite when /dev/shm exists. */
  memoryDirectory?: string;
  /** Services for the <SVC>_SERVICE_HOST/_PORT variables; none without it. */
  services?: ServiceSource;
  /**
   * Where containers reach a ClusterIP: by default its loopback image under
   * the process runtime (kube-proxy serves it there), the ClusterIP itself
   * under any other runtime.
   */
  serviceAddress?: ServiceAddressMapper;
  /** Defaults to the system clock; tests pass a ManualClock. */
  clock?: Clock;
  /** How often the runtime is relisted and every pod re-synced (upstream: 1 s relist, 10 s resync). */
  relistPeriodMs?: number;
  /** Crash-loop back-off; defaults to upstream's 10 s doubling to 5 min. */
  backOff?: BackOffOptions;
  /** What limits.cpu/limits.memory mean for containers without limits; defaults to this machine. */
  nodeAllocatable?: { cpuMillis: number; memoryBytes: number };
  /** One structured line per meaningful event; defaults to JSON on stdout. */
  log?: KubeletLogger;
  /** Runs probes and hooks; replaceable in tests. */
  probeRunner?: HandlerRunner;
  /** Receives the events people read in `kubectl describe pod` (Created, Started, Killing, BackOff, Unhealthy...); none by default. */
  recordEvent?: PodEventRecorder;
}

const jsonLogger: KubeletLogger = (event, fields) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'kubelet', event, ...fields })}\n`);
};

const PROBE_NAMES = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' } as const;

/** A container the kubelet HTTP API can serve logs of or exec into. */
export interface ContainerLookup {
  pod: Pod;
  container: ContainerStatus;
}

export class PodWorkers {
  private readonly workers = new Map<string, PodWorker>();
  private readonly context: WorkerContext;
  private readonly clock: Clock;
  private readonly relistPeriodMs: number;
  private readonly unsubscribers: (() => void)[] = [];
  private relistTimer: TimerHandle | undefined;
  private relisting: Promise<void> | undefined;
  private stopped = true;

  constructor(private readonly options: PodWorkersOptions) {
    this.clock = options.clock ?? systemClock;
    this.relistPeriodMs = options.relistPeriodMs ?? 5000;
    const status = new StatusManager(options.statusSink);
    const recordEvent = options.recordEvent ?? (() => undefined);
    this.context = {
      nodeName: options.nodeName,
      hostIP: options.hostIP,
      rootDirectory: options.rootDirectory,
      runtime: options.runtime,
      clock: this.clock,
      status,
      backOff: new CrashLoopBackOff(options.backOff ?? DEFAULT_BACKOFF),
      startup: new PodStartupTracker(() => this.clock.nowMs()),
      probes: new ProbeManager({
        clock: this.clock,
        runtime: options.runtime,
        onChange: (uid) => this.workers.get(uid)?.request(),
        onFailure: (uid, failure) => {
          const worker = this.workers.get(uid);
          worker?.warn('Unhealthy', `${PROBE_NAMES[failure.kind]} probe failed: ${failure.message}`, failure.containerName);
        },
        runner: options.probeRunner,
      }),
      secrets: options.secrets,
      configMaps: options.configMaps,
      persistentVolumes: options.persistentVolumes,
      services: options.services,
      clusterDns: { servers: options.clusterDnsServers ?? [], domain: options.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN },
      ...(options.memoryDirectory === undefined ? {} : { memoryDirectory: options.memoryDirectory }),
      serviceAddress: options.serviceAddress ?? (options.runtime.name === 'process' ? loopbackServiceAddress : clusterIPAddress),
      nodeAllocatable: options.nodeAllocatable ?? { cpuMillis: os.cpus().length * 1000, memoryBytes: os.totalmem() },
      log: options.log ?? jsonLogger,
      recordEvent,
      podTerminated: async (uid) => {
        const worker = this.workers.get(uid);
        if (worker && !worker.orphan) await options.statusSink.podTerminated(worker.currentPod);
      },
    };
  }

  /** Subscribes to the source and the runtime, and runs the first relist. */
  async start(): Promise<void> {
    this.stopped = false;
    this.unsubscribers.push(this.options.podSource.subscribe(() => this.reconcileSource()));
    this.unsubscribers.push(
      this.options.runtime.subscribe((event) => {
        const uid = event.labels[POD_UID_LABEL];
        if (uid) this.workers.get(uid)?.request();
      }),
    );
    await this.relist();
  }

  /**
   * Stops syncing (containers keep running, to be adopted by the next kubelet).
   * A sync in flight finishes on its own; waitForIdle() waits for it.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.relistTimer?.cancel();
    this.relistTimer = undefined;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.context.probes.stop();
    for (const worker of this.workers.values()) worker.stop();
  }

  /** Compares the source, the workers and the runtime, and asks every worker to sync. */
  relist(): Promise<void> {
    this.relisting ??= this.doRelist().finally(() => {
      this.relisting = undefined;
      if (!this.stopped) {
        this.relistTimer?.cancel();
        this.relistTimer = this.clock.setTimer(() => void this.relist(), this.relistPeriodMs);
      }
    });
    return this.relisting;
  }

  /** Resolves once no worker has a sync running or pending. */
  async waitForIdle(): Promise<void> {
    // Bounded: syncs can ask for more syncs, but not forever.
    for (let round = 0; round < 50; round++) {
      await Promise.all([...this.workers.values()].map((worker) => worker.whenIdle()));
      if (this.relisting) await this.relisting;
      if ([...this.workers.values()].every((worker) => !worker.busy)) return;
    }
  }

  /** The worker state of a pod, for tests and the wiring. */
  podState(uid: string): PodWorkerState | undefined {
    return this.workers.get(uid)?.state;
  }

  /** Pods with a worker (running, terminating or awaiting deletion). */
  pods(): Pod[] {
    return [...this.workers.values()].filter((worker) => !worker.orphan).map((worker) => worker.currentPod);
  }

  /**
   * The current (or, with previous, the one before) instance of a container
   * of a pod this kubelet runs; undefined when there is none.
   */
  async findContainer(namespace: string, podName: string, containerName: string, previous = false): Promise<ContainerLookup | undefined> {
    // A pod recreated under the same name has two workers for a while: prefer the live one.
    const matching = [...this.workers.values()].filter((candidate) => !candidate.orphan && candidate.currentPod.metadata?.name === podName && (candidate.currentPod.metadata?.namespace ?? 'default') === namespace);
    const worker = matching.find((candidate) => candidate.state === 'syncing') ?? matching[0];
    if (!worker) return undefined;
    const instances = (await this.options.runtime.listContainers({ labels: { [POD_UID_LABEL]: worker.uid, [CONTAINER_NAME_LABEL]: containerName } })).sort((a, b) => b.attempt - a.attempt || b.createdAtMs - a.createdAtMs);
    const container = instances[previous ? 1 : 0];
    return container ? { pod: worker.currentPod, container } : undefined;
  }

  private reconcileSource(): void {
    if (this.stopped) return;
    const desired = new Map<string, Pod>();
    for (const pod of this.options.podSource.listPods()) {
      const uid = pod.metadata?.uid;
      if (uid) desired.set(uid, pod);
    }
    for (const [uid, pod] of desired) {
      const worker = this.workers.get(uid);
      if (!worker) {
        this.context.startup.seen(uid);
        this.addWorker(new PodWorker(this.context, pod, { onCleanedUp: (gone) => this.workers.delete(gone) }));
      } else if (worker.orphan) {
        worker.markRemoved();
      } else if (worker.currentPod !== pod) {
        // Sources hand out the same object until the pod changes (a source that copies every time only costs syncs):
        // an event about one pod must not sync every other, which made n starting pods cost O(n²) syncs.
        worker.update(pod);
      }
    }
    for (const [uid, worker] of this.workers) if (!desired.has(uid)) worker.markRemoved();
  }

  private addWorker(worker: PodWorker): void {
    this.workers.set(worker.uid, worker);
    worker.request();
  }

  private async doRelist(): Promise<void> {
    this.reconcileSource();
    if (this.stopped) return;
    const { runtime } = this.options;
    try {
      const seen = new Map<string, Record<string, string>>();
      for (const sandbox of await runtime.listPodSandboxes()) seen.set(sandbox.labels[POD_UID_LABEL] ?? '', sandbox.labels);
      for (const container of await runtime.listContainers()) if (!seen.has(container.labels[POD_UID_LABEL] ?? '')) seen.set(container.labels[POD_UID_LABEL] ?? '', container.labels);
      for (const [uid, labels] of seen) {
        if (!uid || this.workers.has(uid)) continue;
        // Runtime objects of a pod no one wants: terminate them through a worker of their own.
        const pod: Pod = { metadata: { uid, name: labels[POD_NAME_LABEL] ?? '', namespace: labels[POD_NAMESPACE_LABEL] ?? 'default' }, spec: { containers: [] } };
        const worker = new PodWorker(this.context, pod, { onCleanedUp: (gone) => this.workers.delete(gone) }, true);
        worker.markRemoved();
        this.workers.set(uid, worker);
      }
    } catch (error) {
      this.context.log('RelistFailed', { error: (error as Error).message });
    }
    for (const worker of this.workers.values()) worker.request();
  }
}
