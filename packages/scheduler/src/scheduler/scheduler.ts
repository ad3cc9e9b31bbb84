// The scheduling loop, free of I/O: pop a pod, decide its node over the
// snapshot, assume it there, and bind asynchronously while the next pod is
// being decided. Informer events arrive through the on* handlers; the API
// server is reached only through the binder (in the framework handle) and
// the reporter. The process wiring (informers, client, leader election)
// lives elsewhere and feeds this class.
import { isPodTerminal, type Node, type Pod } from '@kube-lite/api';
import { assignedPodDeleteEvent, CycleState, FitError, nodeAddEvent, nodeUpdateEvent, NoNodesAvailableError, type Framework, type QueuedPodInfo } from '../framework';
import type { SchedulingQueue } from '../queue';
import { podKey, podName, type ClusterSnapshot } from '../snapshot';
import { DEFAULT_SCHEDULER_NAME } from '../config';
import { PodPlacer, SchedulingError } from './schedule-pod';

/** Where the scheduler's user-visible outcomes go: events and the PodScheduled condition. */
export interface SchedulerReporter {
  /** A Normal "Scheduled" event. */
  scheduled(pod: Pod, nodeName: string, message: string): void;
  /** A Warning "FailedScheduling" event and PodScheduled=False with `reason` ("Unschedulable" or "SchedulerError"). */
  failed(pod: Pod, reason: 'Unschedulable' | 'SchedulerError', message: string, nominatedNodeName?: string): void;
}

/** One structured log line per meaningful event. */
export type SchedulerLogger = (line: Record<string, unknown>) => void;

export interface SchedulerCoreOptions {
  framework: Framework;
  snapshot: ClusterSnapshot;
  queue: SchedulingQueue;
  /** The configuration's global percentageOfNodesToScore (0 = adaptive). */
  percentageOfNodesToScore?: number;
  /** A float in [0, 1) for tie-breaking; seed it in tests. */
  random?: () => number;
  reporter?: SchedulerReporter;
  logger?: SchedulerLogger;
  /** Binds allowed to be outstanding at once; the loop waits for a slot beyond it. */
  maxInFlightBinds?: number;
  /** Scheduling cycles run back to back before yielding to I/O (informer events, bind replies). */
  cyclesPerYield?: number;
}

export interface SchedulerCounters {
  scheduled: number;
  unschedulable: number;
  errors: number;
  bindFailures: number;
  bindConflicts: number;
}

/** Whether a bind failed because the pod is gone or already bound: retrying cannot help. */
export function isBindConflict(error: unknown): boolean {
  if (error instanceof BindConflictError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return code === 404 || code === 409;
}

/** A binder may throw this to say "already bound or deleted"; ApiError 404/409 count too. */
export class BindConflictError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BindConflictError';
  }
}

export class SchedulerCore {
  readonly counters: SchedulerCounters = { scheduled: 0, unschedulable: 0, errors: 0, bindFailures: 0, bindConflicts: 0 };
  private readonly placer: PodPlacer;
  private readonly pendingBinds = new Set<Promise<void>>();
  private readonly maxInFlightBinds: number;
  private readonly cyclesPerYield: number;
  private running = false;

  constructor(private readonly options: SchedulerCoreOptions) {
    this.placer = new PodPlacer(options.framework, options.snapshot, options.percentageOfNodesToScore ?? 0, options.random);
    this.maxInFlightBinds = options.maxInFlightBinds ?? 256;
    this.cyclesPerYield = options.cyclesPerYield ?? 16;
    options.queue.setEventsByPlugin(options.framework.eventsByPlugin());
  }

  get schedulerName(): string {
    return this.options.framework.profileName;
  }

  // ---- informer handlers ----

  /** Whether this scheduler (profile) is the one to place the pod. */
  responsibleFor(pod: Pod): boolean {
    return (pod.spec?.schedulerName || DEFAULT_SCHEDULER_NAME) === this.schedulerName;
  }

  onPodAdd(pod: Pod): void {
    if (pod.spec?.nodeName) {
      this.options.snapshot.setPod(pod);
      this.options.queue.delete(pod);
    } else if (this.responsibleFor(pod) && !isPodTerminal(pod) && !pod.metadata?.deletionTimestamp) {
      this.options.queue.add(pod);
    }
  }

  onPodUpdate(oldPod: Pod, newPod: Pod): void {
    if (newPod.spec?.nodeName) {
      const wasRunning = oldPod.spec?.nodeName && !isPodTerminal(oldPod);
      this.options.snapshot.setPod(newPod);
      this.options.queue.delete(newPod);
      if (wasRunning && isPodTerminal(newPod)) this.options.queue.onClusterEvent(assignedPodDeleteEvent(), oldPod, undefined);
      return;
    }
    if (!this.responsibleFor(newPod) || isPodTerminal(newPod)) {
      this.options.queue.delete(newPod);
      return;
    }
    this.options.queue.update(oldPod, newPod);
  }

  onPodDelete(pod: Pod): void {
    if (pod.spec?.nodeName || this.options.snapshot.nodeNameOf(podKey(pod)) !== undefined) {
      this.options.snapshot.removePod(pod);
      this.options.queue.onClusterEvent(assignedPodDeleteEvent(), pod, undefined);
    }
    this.options.queue.delete(pod);
  }

  onNodeAdd(node: Node): void {
    this.options.snapshot.setNode(node);
    this.options.queue.onClusterEvent(nodeAddEvent(), undefined, node);
  }

  onNodeUpdate(oldNode: Node, newNode: Node): void {
    this.options.snapshot.setNode(newNode);
    const event = nodeUpdateEvent(oldNode, newNode);
    if (event) this.options.queue.onClusterEvent(event, oldNode, newNode);
  }

  onNodeDelete(node: Node): void {
    this.options.snapshot.removeNode(node.metadata?.name ?? '');
  }

  // ---- the loop ----

  /** Pops and schedules pods until stop(); resolves when the loop has ended and binds have settled. */
  async run(): Promise<void> {
    this.running = true;
    this.options.queue.start();
    let cycles = 0;
    while (this.running) {
      while (this.pendingBinds.size >= this.maxInFlightBinds) await Promise.race(this.pendingBinds);
      const info = await this.options.queue.pop();
      if (!info) break;
      this.scheduleOne(info);
      if (++cycles % this.cyclesPerYield === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await this.settle();
  }

  stop(): void {
    this.running = false;
    this.options.queue.close();
  }

  /** Waits for the outstanding binds. */
  async settle(): Promise<void> {
    while (this.pendingBinds.size > 0) await Promise.allSettled([...this.pendingBinds]);
  }

  get inFlightBinds(): number {
    return this.pendingBinds.size;
  }

  /**
   * The synchronous scheduling cycle for one popped pod; starts its binding
   * cycle in the background. Returns the chosen node, or undefined.
   */
  scheduleOne(info: QueuedPodInfo): string | undefined {
    const { framework, snapshot, queue } = this.options;
    const podInfo = info.podInfo;
    const pod = podInfo.pod;
    if (pod.metadata?.deletionTimestamp || snapshot.isAssumed(podInfo.key)) {
      queue.done(pod);
      return undefined;
    }
    const state = new CycleState();
    let host: string;
    try {
      host = this.placer.schedulePod(state, podInfo).suggestedHost;
    } catch (error) {
      this.handleFailure(info, state, error);
      return undefined;
    }
    snapshot.assumePod(podInfo, host);
    const reserve = framework.runReservePluginsReserve(state, podInfo, host);
    if (!reserve.isSuccess()) {
      framework.runReservePluginsUnreserve(state, podInfo, host);
      snapshot.forgetPod(podInfo.key);
      this.handleFailure(info, state, new SchedulingError(reserve));
      return undefined;
    }
    const bind = this.bindingCycle(info, state, host).finally(() => this.pendingBinds.delete(bind));
    this.pendingBinds.add(bind);
    return host;
  }

  private async bindingCycle(info: QueuedPodInfo, state: CycleState, host: string): Promise<void> {
    const { framework, snapshot, queue } = this.options;
    const podInfo = info.podInfo;
    const status = await framework.runBindPlugins(state, podInfo, host);
    if (status.isSuccess()) {
      snapshot.finishBinding(podInfo.key);
      queue.done(podInfo.pod);
      this.counters.scheduled++;
      this.options.reporter?.scheduled(podInfo.pod, host, `Successfully assigned ${podName(podInfo.pod)} to ${host}`);
      return;
    }
    framework.runReservePluginsUnreserve(state, podInfo, host);
    snapshot.forgetPod(podInfo.key);
    // What the pod held on the node is free again: pods waiting for room may fit now.
    queue.onClusterEvent(assignedPodDeleteEvent(), podInfo.pod, undefined);
    if (isBindConflict(status.cause)) {
      this.counters.bindConflicts++;
      this.log({ msg: 'binding conflict, dropping pod', pod: podName(podInfo.pod), node: host, err: status.message() });
      queue.done(podInfo.pod);
      return;
    }
    this.counters.bindFailures++;
    this.handleFailure(info, state, new SchedulingError(status), `binding rejected: ${status.message()}`);
  }

  private handleFailure(info: QueuedPodInfo, state: CycleState, error: unknown, messageOverride?: string): void {
    const pod = info.podInfo.pod;
    let reason: 'Unschedulable' | 'SchedulerError' = 'SchedulerError';
    let nominatedNodeName: string | undefined;
    if (error instanceof FitError) {
      reason = 'Unschedulable';
      this.counters.unschedulable++;
      if (this.options.framework.hasPostFilterPlugins()) {
        const result = this.options.framework.runPostFilterPlugins(state, info.podInfo, error.diagnosis);
        if (result.status.reasons.length > 0) error.diagnosis.postFilterMessage = result.status.message();
        nominatedNodeName = result.nominatedNodeName;
        error.refreshMessage();
      }
      info.unschedulablePlugins = new Set(error.diagnosis.unschedulablePlugins);
    } else if (error instanceof NoNodesAvailableError) {
      reason = 'Unschedulable';
      this.counters.unschedulable++;
      info.unschedulablePlugins = new Set();
    } else {
      this.counters.errors++;
      info.unschedulablePlugins = new Set();
    }
    const message = messageOverride ?? (error instanceof Error ? error.message : String(error));
    this.log({ msg: 'unable to schedule pod', pod: podName(pod), reason, err: message });
    this.options.queue.addUnschedulableIfNotPresent(info);
    this.options.reporter?.failed(pod, reason, message, nominatedNodeName);
  }

  private log(line: Record<string, unknown>): void {
    this.options.logger?.(line);
  }
}
