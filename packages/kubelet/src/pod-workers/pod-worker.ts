// One pod's life, driven by a serialized, level-triggered sync: every call
// compares what the spec wants with what the runtime shows and takes the next
// steps (sandbox, init containers in order, app containers, restarts with
// back-off, probe-driven restarts), then reports the status. A pod that is
// deleted (or gone from the source) is terminated: preStop hooks, SIGTERM,
// SIGKILL after the grace period, a final status, then cleanup once the pod
// object is gone.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Quantity, type Container, type Pod } from '@kube-lite/api';
import type { TimerHandle } from '../clock';
import { ContainerConfigError, VolumeSetupError } from '../errors';
import { runHandler } from '../probes/prober';
import { RuntimeError } from '../runtime/errors';
import {
  CONTAINER_HASH_LABEL,
  CONTAINER_KIND_LABEL,
  CONTAINER_NAME_LABEL,
  CONTAINER_RESTART_COUNT_LABEL,
  NODE_NAME_LABEL,
  POD_GRACE_PERIOD_LABEL,
  POD_NAME_LABEL,
  POD_NAMESPACE_LABEL,
  POD_UID_LABEL,
} from '../runtime/labels';
import type { ContainerConfig, ContainerResources, ContainerStatus, PodSandbox } from '../runtime/runtime';
import { computePodStatus, type WaitingReason } from '../status/compute-status';
import { memorySizeLimitBytes, mountStorage, setUpVolumes, tearDownPodDirectory, type PreparedVolume, type VolumeContext, type VolumeSetupOptions } from '../volumes/volumes';
import { formatBackOffDuration } from './backoff';
import type { WorkerContext } from './context';
import { podDnsConfig, podHostsConfig } from './dns';
import { buildContainerEnv, expandReferences } from './env';

/** How often podTerminated is repeated while the terminated pod's object still exists. */
const TERMINATED_REPORT_RETRY_MS = 10_000;
/**
 * Secret values shorter than this are not redacted from messages: masking
 * every "1" or "on" would garble them, and such values say little anyway.
 */
const MIN_REDACTED_LENGTH = 4;
/** Bound on the secret values a worker remembers for redaction. */
const MAX_REDACTED_VALUES = 1024;
export const REDACTED = '[redacted]';

/** limits.cpu / limits.memory of a container, for runtimes that enforce them. */
export function containerResources(container: Container): ContainerResources | undefined {
  const cpu = Quantity.tryParse(container.resources?.limits?.cpu);
  const memory = Quantity.tryParse(container.resources?.limits?.memory);
  const resources: ContainerResources = {
    ...(cpu !== undefined && cpu.sign() > 0 ? { cpuMillis: cpu.milliValue() } : {}),
    ...(memory !== undefined && memory.sign() > 0 ? { memoryBytes: memory.value() } : {}),
  };
  return resources.cpuMillis === undefined && resources.memoryBytes === undefined ? undefined : resources;
}

export type PodWorkerState = 'syncing' | 'terminating' | 'terminated';

/** Where a pod's container logs go: <root>/logs/<namespace>_<name>_<uid>. */
export function podLogDirectory(rootDirectory: string, pod: Pod): string {
  return path.join(rootDirectory, 'logs', `${pod.metadata?.namespace ?? 'default'}_${pod.metadata?.name ?? ''}_${pod.metadata?.uid ?? ''}`);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Hashes by spec object: every sync of a running pod compares them, and a pod's spec objects change only with the pod. */
const containerHashes = new WeakMap<Container, string>();

/** A short hash of a container spec: a running container whose hash differs is restarted. */
export function containerHash(container: Container): string {
  let hash = containerHashes.get(container);
  if (hash === undefined) {
    hash = createHash('sha256').update(canonicalJson(container)).digest('hex').slice(0, 16);
    containerHashes.set(container, hash);
  }
  return hash;
}

function shouldRestart(restartPolicy: string, exitCode: number | undefined): boolean {
  if (restartPolicy === 'Always') return true;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return false;
}

interface Observed {
  sandboxes: PodSandbox[];
  sandbox: PodSandbox | undefined;
  /** By container name, newest first. */
  instances: Map<string, ContainerStatus[]>;
}

export interface PodWorkerHooks {
  /** The worker removed everything of its pod: the manager can forget it. */
  onCleanedUp(uid: string): void;
}

export class PodWorker {
  state: PodWorkerState = 'syncing';
  private removed = false;
  private running = false;
  private dirty = false;
  private idleWaiters: (() => void)[] = [];
  private wake: { atMs: number; timer: TimerHandle } | undefined;
  private readonly waiting = new Map<string, WaitingReason>();
  private readonly killMessages = new Map<string, string>();
  private sandboxStoppedForTerminalPhase = false;
  private failures = 0;
  private terminatedReportedAtMs = -Infinity;
  /** Values the pod's containers read from Secrets: never printed (see redact). */
  private readonly secretValues = new Set<string>();
  /** Events of this sync held back until its status write (see deferEvent). */
  private readonly deferredEvents: { type: 'Normal' | 'Warning'; reason: string; message: string; containerName: string }[] = [];

  constructor(
    private readonly context: WorkerContext,
    private pod: Pod,
    private readonly hooks: PodWorkerHooks,
    /** Found in the runtime only, with no pod object: terminate quietly, report nothing. */
    readonly orphan = false,
  ) {}

  get uid(): string {
    return this.pod.metadata?.uid ?? '';
  }

  get currentPod(): Pod {
    return this.pod;
  }

  /** A newer version of the pod from the source. */
  update(pod: Pod): void {
    this.pod = pod;
    this.request();
  }

  /** The pod is gone from the source: terminate (if not yet) and clean up. */
  markRemoved(): void {
    if (this.removed) return;
    this.removed = true;
    this.request();
  }

  /** Asks for a sync; syncs never overlap, requests during one cause exactly one more. */
  request(): void {
    this.dirty = true;
    if (!this.running) void this.loop();
  }

  /** A sync is running or pending. */
  get busy(): boolean {
    return this.running || this.dirty;
  }

  /** Resolves once no sync is running or pending. */
  whenIdle(): Promise<void> {
    if (!this.running && !this.dirty) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops the worker's timers (the kubelet is shutting down; containers keep running). */
  stop(): void {
    this.wake?.timer.cancel();
    this.wake = undefined;
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      // Bounded: a sync that keeps asking for another would otherwise hold the worker forever.
      for (let round = 0; this.dirty && round < 100; round++) {
        this.dirty = false;
        try {
          await this.syncOnce();
          this.failures = 0;
        } catch (error) {
          this.failures += 1;
          this.context.log('PodSyncFailed', { pod: this.podKey(), error: this.redact((error as Error).message) });
          this.wakeAt(this.context.clock.nowMs() + Math.min(1000 * 2 ** Math.min(this.failures, 6), 60_000));
        }
      }
    } finally {
      this.running = false;
      if (this.dirty) void this.loop();
      else for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** An event for people about this pod; none for orphans, whose pod object is gone. */
  private event(type: 'Normal' | 'Warning', reason: string, message: string, containerName?: string): void {
    if (this.orphan) return;
    this.context.recordEvent(this.pod, { type, reason, message: this.redact(message), ...(containerName === undefined ? {} : { containerName }) });
  }

  /**
   * An event sent once this sync has reported the pod's status. Pulled,
   * Created and Started are three API writes per container; sent first, they
   * queue ahead of the status write that tells the cluster the pod runs.
   */
  private deferEvent(type: 'Normal' | 'Warning', reason: string, message: string, containerName: string): void {
    this.deferredEvents.push({ type, reason, message, containerName });
  }

  private flushDeferredEvents(): void {
    for (const event of this.deferredEvents.splice(0)) this.event(event.type, event.reason, event.message, event.containerName);
  }

  /**
   * Masks the Secret values this pod's containers use. Error texts can carry
   * them (a command expanded from $(SECRET_VAR) that cannot be found, a
   * hook's output), and logs, events and statuses are read by people who may
   * not read the Secret.
   */
  private redact(text: string): string {
    let result = text;
    for (const value of this.secretValues) if (result.includes(value)) result = result.split(value).join(REDACTED);
    return result;
  }

  private rememberSecretValues(values: Set<string>): void {
    for (const value of values) {
      if (value.length < MIN_REDACTED_LENGTH || this.secretValues.size >= MAX_REDACTED_VALUES) continue;
      this.secretValues.add(value);
    }
  }

  private podKey(): string {
    return `${this.pod.metadata?.namespace ?? 'default'}/${this.pod.metadata?.name ?? ''}`;
  }

  private wakeAt(atMs: number): void {
    if (this.wake && this.wake.atMs <= atMs) return;
    this.wake?.timer.cancel();
    const timer = this.context.clock.setTimer(() => {
      this.wake = undefined;
      this.request();
    }, atMs - this.context.clock.nowMs());
    this.wake = { atMs, timer };
  }

  private async syncOnce(): Promise<void> {
    if (this.state === 'terminated') {
      if (this.removed) await this.cleanUp();
      else if (!this.orphan && this.context.clock.nowMs() - this.terminatedReportedAtMs >= TERMINATED_REPORT_RETRY_MS) {
        // The pod object is still there: the wiring's deletion failed or is slow. Say it again, now and then.
        this.terminatedReportedAtMs = this.context.clock.nowMs();
        await this.context.podTerminated(this.uid);
      }
      return;
    }
    if (this.removed || this.pod.metadata?.deletionTimestamp) {
      await this.terminate();
      return;
    }
    await this.syncRunning();
  }

  private async observe(): Promise<Observed> {
    const selector = { [POD_UID_LABEL]: this.uid };
    const sandboxes = (await this.context.runtime.listPodSandboxes({ labels: selector })).sort((a, b) => b.createdAtMs - a.createdAtMs);
    const instances = new Map<string, ContainerStatus[]>();
    for (const container of await this.context.runtime.listContainers({ labels: selector })) {
      const name = container.labels[CONTAINER_NAME_LABEL] ?? container.name;
      instances.set(name, [...(instances.get(name) ?? []), container]);
    }
    for (const list of instances.values()) list.sort((a, b) => b.attempt - a.attempt || b.createdAtMs - a.createdAtMs);
    return { sandboxes, sandbox: sandboxes.find((sandbox) => sandbox.state === 'ready'), instances };
  }

  private envContext(podIP: string, secretValues?: Set<string>): VolumeContext {
    return {
      pod: this.pod,
      podIP,
      hostIP: this.context.hostIP,
      nodeAllocatable: this.context.nodeAllocatable,
      secrets: this.context.secrets,
      configMaps: this.context.configMaps,
      persistentVolumes: this.context.persistentVolumes,
      services: this.context.services,
      serviceAddress: this.context.serviceAddress,
      warn: (reason, message) => this.event('Warning', reason, message),
      ...(secretValues === undefined ? {} : { secretValues }),
    };
  }

  private volumeOptions(): VolumeSetupOptions {
    return {
      runtimeManagesStorage: this.context.runtime.managesVolumeStorage ?? false,
      ...(this.context.memoryDirectory === undefined ? {} : { memoryDirectory: this.context.memoryDirectory }),
    };
  }

  private podLabels(): Record<string, string> {
    return {
      [POD_UID_LABEL]: this.uid,
      [POD_NAME_LABEL]: this.pod.metadata?.name ?? '',
      [POD_NAMESPACE_LABEL]: this.pod.metadata?.namespace ?? 'default',
      [NODE_NAME_LABEL]: this.context.nodeName,
    };
  }

  private setWaitingForAll(reason: WaitingReason): void {
    for (const container of [...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])]) this.waiting.set(container.name, reason);
  }

  private async syncRunning(): Promise<void> {
    try {
      await this.syncRunningSteps();
    } finally {
      this.flushDeferredEvents();
    }
  }

  private async syncRunningSteps(): Promise<void> {
    const { runtime, clock } = this.context;
    const spec = this.pod.spec ?? { containers: [] };
    const restartPolicy = spec.restartPolicy ?? 'Always';
    this.waiting.clear();
    this.context.startup.mark(this.uid, 'syncStarted');
    let observed = await this.observe();

    const phase = this.context.status.current(this.pod)?.phase;
    if (phase === 'Succeeded' || phase === 'Failed') {
      await this.settleTerminalPod(observed);
      return;
    }

    if (!observed.sandbox) {
      const dns = runtime.appliesPodDns ? podDnsConfig(this.pod, this.context.clusterDns) : { config: undefined, warnings: [] };
      const hosts = runtime.appliesPodDns ? podHostsConfig(this.pod, this.context.clusterDns) : undefined;
      for (const warning of dns.warnings) this.event('Warning', warning.reason, warning.message);
      const memoryVolumes = (spec.volumes ?? [])
        .filter((volume) => volume.emptyDir?.medium === 'Memory')
        .map((volume) => {
          const sizeLimitBytes = memorySizeLimitBytes(volume);
          return { name: volume.name, ...(sizeLimitBytes === undefined ? {} : { sizeLimitBytes }) };
        });
      try {
        await runtime.runPodSandbox({
          name: this.pod.metadata?.name ?? '',
          namespace: this.pod.metadata?.namespace ?? 'default',
          uid: this.uid,
          attempt: observed.sandboxes.length,
          hostname: spec.hostname ?? this.pod.metadata?.name ?? '',
          labels: { ...this.podLabels(), [POD_GRACE_PERIOD_LABEL]: String(spec.terminationGracePeriodSeconds ?? 30) },
          logDirectory: podLogDirectory(this.context.rootDirectory, this.pod),
          ...(dns.config ? { dns: dns.config } : {}),
          ...(hosts ? { hosts } : {}),
          ...(memoryVolumes.length > 0 ? { memoryVolumes } : {}),
        });
      } catch (error) {
        this.setWaitingForAll({ reason: 'ContainerCreating', message: `Failed to create pod sandbox: ${(error as Error).message}` });
        await this.report(observed);
        this.wakeAt(clock.nowMs() + 5000);
        return;
      }
      observed = await this.observe();
      // Reported once: only the sync that created the sandbox gets here.
      for (const warning of observed.sandbox?.warnings ?? []) this.event('Warning', warning.reason, warning.message);
    }
    const sandbox = observed.sandbox;
    if (!sandbox) throw new Error(`pod sandbox of ${this.podKey()} vanished right after creation`);
    this.context.startup.mark(this.uid, 'sandboxReady');

    let volumes: Map<string, PreparedVolume>;
    try {
      volumes = await setUpVolumes(this.context.rootDirectory, this.envContext(sandbox.ip), this.volumeOptions());
    } catch (error) {
      if (!(error instanceof VolumeSetupError)) throw error;
      this.setWaitingForAll({ reason: error.reason, message: error.message });
      this.context.log('FailedMount', { pod: this.podKey(), message: error.message });
      this.event('Warning', 'FailedMount', error.message);
      await this.report(observed);
      this.wakeAt(clock.nowMs() + 5000);
      return;
    }
    this.context.startup.mark(this.uid, 'volumesReady');

    // Init containers, one at a time, each to a zero exit.
    let initialized = true;
    for (const container of spec.initContainers ?? []) {
      const latest = observed.instances.get(container.name)?.[0];
      if (latest?.state === 'exited' && latest.exitCode === 0) continue;
      initialized = false;
      if (!latest) await this.startContainer(container, 'init', 0, sandbox, volumes);
      else if (latest.state === 'created') await this.startCreated(container, latest);
      else if (latest.state === 'exited' && shouldRestart(restartPolicy, latest.exitCode)) await this.restartWithBackOff(container, 'init', latest, sandbox, volumes);
      break;
    }

    for (const container of spec.containers) {
      const latest = observed.instances.get(container.name)?.[0];
      if (!initialized) {
        if (!latest) this.waiting.set(container.name, { reason: 'PodInitializing' });
        continue;
      }
      if (!latest) {
        await this.startContainer(container, 'app', 0, sandbox, volumes);
      } else if (latest.state === 'created') {
        await this.startCreated(container, latest);
      } else if (latest.state === 'running') {
        await this.restartIfUnhealthyOrChanged(container, latest, sandbox, volumes, restartPolicy);
      } else if (latest.state === 'exited' && shouldRestart(restartPolicy, latest.exitCode)) {
        await this.restartWithBackOff(container, 'app', latest, sandbox, volumes);
      }
    }

    observed = await this.observe();
    const running = spec.containers.flatMap((container) => {
      const latest = observed.instances.get(container.name)?.[0];
      return latest?.state === 'running' ? [{ container, containerId: latest.id, startedAtMs: latest.startedAtMs ?? clock.nowMs() }] : [];
    });
    if (running.length === spec.containers.length) this.context.startup.mark(this.uid, 'containersStarted');
    this.context.probes.syncPod(this.pod, sandbox.ip, running);
    const status = await this.report(observed);
    this.flushDeferredEvents();
    if (status === 'Succeeded' || status === 'Failed') await this.settleTerminalPod(observed);
    await this.collectGarbage(observed);
  }

  /** A pod in a terminal phase runs nothing more: stop probes and the sandbox once. */
  private async settleTerminalPod(observed: Observed): Promise<void> {
    this.context.probes.removePod(this.uid);
    if (!this.sandboxStoppedForTerminalPhase) {
      this.sandboxStoppedForTerminalPhase = true;
      for (const sandbox of observed.sandboxes) if (sandbox.state === 'ready') await this.context.runtime.stopPodSandbox(sandbox.id);
      this.context.log('PodCompleted', { pod: this.podKey() });
    }
    await this.report(await this.observe());
  }

  private async restartIfUnhealthyOrChanged(container: Container, latest: ContainerStatus, sandbox: PodSandbox, volumes: Map<string, PreparedVolume>, restartPolicy: string): Promise<void> {
    const failure = this.context.probes.failure(latest.id);
    const changed = latest.labels[CONTAINER_HASH_LABEL] !== undefined && latest.labels[CONTAINER_HASH_LABEL] !== containerHash(container);
    if (!failure && !changed) return;
    const message = failure ? `Container ${container.name} failed ${failure.kind} probe, will be restarted` : `Container ${container.name} definition changed, will be restarted`;
    this.killMessages.set(latest.id, message);
    this.context.log('Killing', { pod: this.podKey(), container: container.name, message, probeOutput: failure ? this.redact(failure.message) : undefined });
    this.event('Normal', 'Killing', message, container.name);
    const probe = failure?.kind === 'startup' ? container.startupProbe : container.livenessProbe;
    const graceSeconds = (failure ? probe?.terminationGracePeriodSeconds : undefined) ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
    await this.killContainer(container, latest, graceSeconds);
    const exited = await this.context.runtime.containerStatus(latest.id);
    if (changed) await this.startContainer(container, 'app', latest.attempt + 1, sandbox, volumes);
    else if (shouldRestart(restartPolicy, exited.exitCode)) await this.restartWithBackOff(container, 'app', exited, sandbox, volumes);
  }

  private async restartWithBackOff(container: Container, kind: 'init' | 'app', latest: ContainerStatus, sandbox: PodSandbox, volumes: Map<string, PreparedVolume>): Promise<void> {
    const { backOff, clock } = this.context;
    const key = `${this.uid}/${container.name}`;
    const nowMs = clock.nowMs();
    const finishedMs = latest.finishedAtMs ?? nowMs;
    if (backOff.isInBackOffSince(key, finishedMs, nowMs)) {
      const delayMs = backOff.delayMs(key);
      const message = `back-off ${formatBackOffDuration(delayMs)} restarting failed container=${container.name} pod=${this.pod.metadata?.name}_${this.pod.metadata?.namespace ?? 'default'}(${this.uid})`;
      this.waiting.set(container.name, { reason: 'CrashLoopBackOff', message });
      this.event('Warning', 'BackOff', `Back-off restarting failed container ${container.name} in pod ${this.pod.metadata?.name}_${this.pod.metadata?.namespace ?? 'default'}(${this.uid})`, container.name);
      this.wakeAt(backOff.readyAtMs(key, finishedMs));
      return;
    }
    backOff.next(key, nowMs);
    await this.startContainer(container, kind, latest.attempt + 1, sandbox, volumes);
  }

  private async startCreated(container: Container, instance: ContainerStatus): Promise<void> {
    try {
      await this.context.runtime.startContainer(instance.id);
    } catch (error) {
      this.waiting.set(container.name, { reason: 'RunContainerError', message: this.redact((error as Error).message) });
    }
  }

  private async buildConfig(container: Container, kind: 'init' | 'app', attempt: number, sandbox: PodSandbox, volumes: Map<string, PreparedVolume>): Promise<ContainerConfig> {
    const secretValues = new Set<string>();
    let env: { name: string; value: string }[];
    try {
      env = await buildContainerEnv(container, this.envContext(sandbox.ip, secretValues));
    } finally {
      this.rememberSecretValues(secretValues);
    }
    const defined = new Map(env.map((variable) => [variable.name, variable.value]));
    const mounts = (container.volumeMounts ?? []).map((mount) => {
      const volume = volumes.get(mount.name);
      if (volume === undefined) throw new ContainerConfigError(`volumeMount "${mount.name}" of container ${container.name} names no volume of the pod`);
      let storage: ReturnType<typeof mountStorage>;
      try {
        storage = mountStorage(volume, mount.name, mount.subPath, this.volumeOptions());
      } catch (error) {
        throw new ContainerConfigError(`volumeMount "${mount.name}" of container ${container.name}: ${(error as Error).message}`, { cause: error });
      }
      return { containerPath: mount.mountPath, hostPath: storage.hostPath, volumeName: mount.name, readOnly: (mount.readOnly ?? false) || volume.readOnly, storage: storage.storage };
    });
    const resources = containerResources(container);
    return {
      name: container.name,
      attempt,
      image: container.image ?? '',
      command: (container.command ?? []).map((part) => expandReferences(part, defined)),
      args: (container.args ?? []).map((part) => expandReferences(part, defined)),
      ...(container.workingDir ? { workingDir: container.workingDir } : {}),
      env,
      mounts,
      labels: {
        ...this.podLabels(),
        [CONTAINER_NAME_LABEL]: container.name,
        [CONTAINER_RESTART_COUNT_LABEL]: String(attempt),
        [CONTAINER_HASH_LABEL]: containerHash(container),
        [CONTAINER_KIND_LABEL]: kind,
      },
      logPath: `${container.name}/${attempt}.log`,
      ...(container.tty ? { tty: true } : {}),
      ...(container.stdin ? { stdin: true } : {}),
      ...(resources ? { resources } : {}),
      ...(container.imagePullPolicy ? { imagePullPolicy: container.imagePullPolicy } : {}),
    };
  }

  private async startContainer(container: Container, kind: 'init' | 'app', attempt: number, sandbox: PodSandbox, volumes: Map<string, PreparedVolume>): Promise<void> {
    const { runtime } = this.context;
    let id: string;
    try {
      const config = await this.buildConfig(container, kind, attempt, sandbox, volumes);
      id = await runtime.createContainer(sandbox.id, config);
      // The runtime resolved the image without a pull (the process runtime never pulls), as upstream reports a present image.
      this.deferEvent('Normal', 'Pulled', `Container image "${container.image ?? ''}" already present on machine`, container.name);
      this.deferEvent('Normal', 'Created', `Created container: ${container.name}`, container.name);
      await runtime.startContainer(id);
    } catch (error) {
      this.flushDeferredEvents();
      const reason = error instanceof ContainerConfigError || error instanceof RuntimeError ? error.reason : 'RunContainerError';
      const message = this.redact((error as Error).message);
      this.waiting.set(container.name, { reason, message });
      this.context.log('FailedToStartContainer', { pod: this.podKey(), container: container.name, reason, message });
      this.event('Warning', 'Failed', `Error: ${(error as Error).message}`, container.name);
      return;
    }
    this.context.log('ContainerStarted', { pod: this.podKey(), container: container.name, restartCount: attempt, containerId: id });
    this.deferEvent('Normal', 'Started', `Started container: ${container.name}`, container.name);
    const postStart = container.lifecycle?.postStart;
    if (postStart) {
      // The hook may take a while and may fail: its events must follow Started, not wait for the status.
      this.flushDeferredEvents();
      const outcome = await runHandler(postStart, this.target(container, id, sandbox.ip), (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000);
      if (!outcome.success) {
        this.killMessages.set(id, this.redact(`PostStartHookError: ${outcome.message}`));
        this.context.log('FailedPostStartHook', { pod: this.podKey(), container: container.name, message: this.redact(outcome.message) });
        this.event('Warning', 'FailedPostStartHook', outcome.message, container.name);
        await runtime.stopContainer(id, 2);
      }
    }
  }

  private target(container: Container, containerId: string, podIP: string) {
    return { podIP, container, containerId, runtime: this.context.runtime, clock: this.context.clock };
  }

  /** preStop hook within the grace period, then SIGTERM, then SIGKILL once what is left of it ran out. */
  private async killContainer(container: Container | undefined, instance: ContainerStatus, graceSeconds: number): Promise<void> {
    const { clock, runtime } = this.context;
    // A kill can take the whole grace period: what happened before it is said now.
    this.flushDeferredEvents();
    const startedMs = clock.nowMs();
    const preStop = container?.lifecycle?.preStop;
    if (container && preStop && graceSeconds > 0) {
      const sandbox = (await runtime.listPodSandboxes({ id: instance.sandboxId }))[0];
      this.context.log('PreStopHook', { pod: this.podKey(), container: container.name });
      const outcome = await runHandler(preStop, this.target(container, instance.id, sandbox?.ip ?? ''), graceSeconds * 1000);
      if (!outcome.success) {
        this.context.log('FailedPreStopHook', { pod: this.podKey(), container: container.name, message: this.redact(outcome.message) });
        this.event('Warning', 'FailedPreStopHook', outcome.message, container.name);
      }
    }
    const leftSeconds = graceSeconds - (clock.nowMs() - startedMs) / 1000;
    // Upstream leaves at least 2 s between SIGTERM and SIGKILL, unless the deletion asked for none at all.
    const stopSeconds = graceSeconds <= 0 ? 0 : Math.max(2, Math.ceil(leftSeconds));
    await runtime.stopContainer(instance.id, stopSeconds);
  }

  private gracePeriodSeconds(observed: Observed): number {
    if (this.orphan) return Number(observed.sandboxes[0]?.labels[POD_GRACE_PERIOD_LABEL] ?? 30);
    return this.pod.metadata?.deletionGracePeriodSeconds ?? this.pod.spec?.terminationGracePeriodSeconds ?? 30;
  }

  private async terminate(): Promise<void> {
    const { runtime, probes, status } = this.context;
    if (this.state === 'syncing') this.context.log('TerminatingPod', { pod: this.podKey(), orphan: this.orphan });
    this.state = 'terminating';
    this.wake?.timer.cancel();
    this.wake = undefined;
    probes.removePod(this.uid);
    let observed = await this.observe();
    const graceSeconds = this.gracePeriodSeconds(observed);
    const specs = new Map([...(this.pod.spec?.initContainers ?? []), ...(this.pod.spec?.containers ?? [])].map((container) => [container.name, container]));
    const running = [...observed.instances.values()].flat().filter((instance) => instance.state === 'running');
    await Promise.all(
      running.map((instance) => {
        const name = instance.labels[CONTAINER_NAME_LABEL] ?? instance.name;
        this.event('Normal', 'Killing', `Stopping container ${name}`, name);
        return this.killContainer(specs.get(name), instance, graceSeconds);
      }),
    );
    for (const sandbox of observed.sandboxes) if (sandbox.state === 'ready') await runtime.stopPodSandbox(sandbox.id);
    observed = await this.observe();
    if (!this.orphan) {
      this.waiting.clear();
      await status.update(this.pod, this.computeStatus(observed, true));
    }
    this.state = 'terminated';
    this.context.log('PodTerminated', { pod: this.podKey() });
    if (!this.orphan) {
      this.terminatedReportedAtMs = this.context.clock.nowMs();
      await this.context.podTerminated(this.uid);
    }
    if (this.removed) await this.cleanUp();
  }

  private async cleanUp(): Promise<void> {
    const { runtime } = this.context;
    const observed = await this.observe();
    for (const sandbox of observed.sandboxes) await runtime.removePodSandbox(sandbox.id);
    for (const instance of [...observed.instances.values()].flat()) await runtime.removeContainer(instance.id);
    tearDownPodDirectory(this.context.rootDirectory, this.uid, this.volumeOptions());
    fs.rmSync(podLogDirectory(this.context.rootDirectory, this.pod), { recursive: true, force: true });
    this.context.backOff.forget(`${this.uid}/`);
    this.context.status.forget(this.uid);
    this.context.startup.forget(this.uid);
    this.stop();
    this.hooks.onCleanedUp(this.uid);
  }

  /** Keeps the newest two instances of each container (the current one and the one `logs --previous` reads). */
  private async collectGarbage(observed: Observed): Promise<void> {
    for (const instances of observed.instances.values()) {
      for (const old of instances.slice(2)) {
        if (old.state !== 'exited') continue;
        await this.context.runtime.removeContainer(old.id);
        this.killMessages.delete(old.id);
      }
    }
  }

  private computeStatus(observed: Observed, terminated: boolean) {
    const { probes } = this.context;
    const current = this.context.status.current(this.pod);
    return computePodStatus({
      pod: { ...this.pod, status: current ?? this.pod.status },
      nowMs: this.context.clock.nowMs(),
      hostIP: this.context.hostIP,
      podIP: observed.sandbox?.ip ?? observed.sandboxes[0]?.ip ?? '',
      sandboxReady: observed.sandbox !== undefined,
      runtimeName: this.context.runtime.name,
      instances: this.redactedInstances(observed.instances),
      waiting: this.waiting,
      killMessages: this.killMessages,
      isReady: (id) => probes.isReady(id),
      isStarted: (id) => probes.isStarted(id),
      terminated,
    });
  }

  /** The runtime's messages (a failed start names the command, which may hold an expanded secret) with secrets masked. */
  private redactedInstances(instances: Map<string, ContainerStatus[]>): Map<string, ContainerStatus[]> {
    if (this.secretValues.size === 0) return instances;
    return new Map([...instances].map(([name, list]) => [name, list.map((instance) => (instance.message === undefined ? instance : { ...instance, message: this.redact(instance.message) }))]));
  }

  /** A Warning event about the pod from outside the worker (probe failures), with secrets masked. */
  warn(reason: string, message: string, containerName?: string): void {
    this.event('Warning', reason, message, containerName);
  }

  /** Computes and hands over the status; returns its phase. */
  private async report(observed: Observed): Promise<string | undefined> {
    if (this.orphan) return undefined;
    const status = this.computeStatus(observed, false);
    const { startup } = this.context;
    const firstReady = startup.tracking(this.uid) && (status.conditions ?? []).some((condition) => condition.type === 'Ready' && condition.status === 'True');
    if (firstReady) startup.mark(this.uid, 'statusSent');
    const wrote = await this.context.status.update(this.pod, status);
    if (firstReady && wrote) {
      startup.mark(this.uid, 'statusWritten');
      const record = startup.finish(this.uid);
      if (record) {
        const stages = Object.fromEntries(Object.entries(record.stageOffsetsMs).map(([stage, offsetMs]) => [`${stage}Ms`, offsetMs]));
        this.context.log('PodStartupObserved', { pod: this.podKey(), seenAt: new Date(record.seenAtMs).toISOString(), ...stages });
      }
    }
    return status.phase;
  }
}
