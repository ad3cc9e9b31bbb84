// The kube-scheduler process around the pure core: pod, node, service and
// storage (claim, volume, class) informers feed the snapshot, the queue and
// VolumeBinding; binds, claim annotations, events and the PodScheduled
// condition go to the API server through the client; leader election decides
// which replica schedules.
import type { KubeObject, Node, PersistentVolume, PersistentVolumeClaim, Pod, Service, StorageClass } from '@kube-lite/api';
import { formatTime, SELECTED_NODE_ANNOTATION } from '@kube-lite/api';
import {
  DeletedFinalStateUnknown,
  EventRecorder,
  LeaderElector,
  RESOURCES,
  SharedInformerFactory,
  silentLogger,
  type ApiClient,
  type Logger,
  type SharedInformer,
} from '@kube-lite/client';
import { parseDurationMs, type SchedulerConfig } from '../config';
import { ActionType, UPDATE_ACTIONS, type EventResource, type ServiceLister, type VolumeAccess } from '../framework';
import { BatchingPodBinder } from './batching-binder';
import { newSchedulerCore, type SchedulerCore, type SchedulerReporter } from '../scheduler';
import type { SchedulingQueue } from '../queue';

export interface SchedulerOptions {
  client: ApiClient;
  config: SchedulerConfig;
  /** Unique per process; the Lease holder identity and the events' reportingInstance. */
  identity: string;
  logger?: Logger;
  nowMs?: () => number;
  /** How long start() waits for the informers' first list. */
  cacheSyncTimeoutMs?: number;
}

/** The informers did not finish their first list in time. */
export class CacheSyncTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`informer caches did not sync within ${timeoutMs} ms`);
    this.name = 'CacheSyncTimeoutError';
  }
}

function unwrap<T>(object: T | DeletedFinalStateUnknown<T>): T {
  return object instanceof DeletedFinalStateUnknown ? object.object : object;
}

export class Scheduler {
  readonly core: SchedulerCore;
  readonly queue: SchedulingQueue;
  private readonly factory: SharedInformerFactory;
  private readonly pods: SharedInformer<Pod>;
  private readonly nodes: SharedInformer<Node>;
  private readonly services: SharedInformer<Service>;
  private readonly claims: SharedInformer<PersistentVolumeClaim>;
  private readonly volumes: SharedInformer<PersistentVolume>;
  private readonly storageClasses: SharedInformer<StorageClass>;
  private readonly recorder: EventRecorder;
  private readonly logger: Logger;
  private elector: LeaderElector | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: SchedulerOptions) {
    const { client, config } = options;
    this.logger = options.logger ?? silentLogger;
    this.factory = new SharedInformerFactory(client, { logger: this.logger });
    this.pods = this.factory.pods();
    this.nodes = this.factory.nodes();
    this.services = this.factory.services();
    this.claims = this.factory.forResource<PersistentVolumeClaim>(RESOURCES.persistentVolumeClaims);
    this.volumes = this.factory.forResource<PersistentVolume>(RESOURCES.persistentVolumes);
    this.storageClasses = this.factory.forResource<StorageClass>(RESOURCES.storageClasses);
    this.recorder = new EventRecorder({ client, component: config.profile.schedulerName, host: options.identity, logger: this.logger, nowMs: options.nowMs });
    const services: ServiceLister = { list: (namespace) => this.services.lister.namespace(namespace).list() };
    const built = newSchedulerCore({
      config,
      binder: new BatchingPodBinder(client),
      services,
      volumes: this.volumeAccess(client),
      reporter: this.reporter(),
      logger: (line) => this.logger.info(String(line.msg ?? 'scheduler'), line),
      nowMs: options.nowMs,
    });
    this.core = built.core;
    this.queue = built.queue;
    this.pods.addEventHandler({
      onAdd: (pod) => this.core.onPodAdd(pod),
      onUpdate: (oldPod, newPod) => this.core.onPodUpdate(oldPod, newPod),
      onDelete: (pod) => this.core.onPodDelete(unwrap(pod)),
    });
    this.nodes.addEventHandler({
      onAdd: (node) => this.core.onNodeAdd(node),
      onUpdate: (oldNode, newNode) => this.core.onNodeUpdate(oldNode, newNode),
      onDelete: (node) => this.core.onNodeDelete(unwrap(node)),
    });
    // Pods waiting for their storage (VolumeBinding) are retried when it changes.
    const storageEvents = <T extends KubeObject>(resource: EventResource, informer: SharedInformer<T>): void => {
      informer.addEventHandler({
        onAdd: (object) => this.queue.onClusterEvent({ resource, actions: ActionType.Add, label: `${resource}Add` }, undefined, object),
        onUpdate: (oldObject, newObject) => this.queue.onClusterEvent({ resource, actions: UPDATE_ACTIONS, label: `${resource}Update` }, oldObject, newObject),
      });
    };
    storageEvents('PersistentVolumeClaim', this.claims);
    storageEvents('PersistentVolume', this.volumes);
    storageEvents('StorageClass', this.storageClasses);
  }

  /** Starts the informers, waits for their first list, then schedules (once leading, with leader election). */
  async start(): Promise<void> {
    this.factory.start();
    const timeoutMs = this.options.cacheSyncTimeoutMs ?? 60_000;
    const synced = await this.factory.waitForCacheSync(timeoutMs);
    // stop() during the wait (SIGTERM at startup) is not a failure.
    if (this.stopped) return;
    if (!synced) throw new CacheSyncTimeoutError(timeoutMs);
    const election = this.options.config.leaderElection;
    if (!election.leaderElect) {
      this.loop = this.core.run();
      return;
    }
    this.elector = new LeaderElector({
      client: this.options.client,
      lockNamespace: election.resourceNamespace,
      lockName: election.resourceName,
      identity: this.options.identity,
      leaseDurationMs: parseDurationMs(election.leaseDuration),
      renewDeadlineMs: parseDurationMs(election.renewDeadline),
      retryPeriodMs: parseDurationMs(election.retryPeriod),
      logger: this.logger,
      nowMs: this.options.nowMs,
      onStartedLeading: () => {
        this.logger.info('started leading, scheduling pods', { identity: this.options.identity });
        this.loop = this.core.run();
      },
      onStoppedLeading: () => {
        this.logger.warn('leader election lost, stopping', { identity: this.options.identity });
        this.core.stop();
      },
    });
    void this.elector.run();
  }

  /** Stops scheduling, waits for outstanding binds, releases the lease and stops the informers. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.core.stop();
    await this.loop;
    await this.elector?.stop();
    await this.factory.shutdown();
  }

  private volumeAccess(client: ApiClient): VolumeAccess {
    return {
      claim: (namespace, name) => this.claims.lister.get(namespace, name),
      volume: (name) => this.volumes.lister.get(undefined, name),
      storageClass: (name) => this.storageClasses.lister.get(undefined, name),
      storageClasses: () => this.storageClasses.lister.list(),
      selectNode: async (namespace, claimName, nodeName) => {
        await client.persistentVolumeClaims(namespace).patch(claimName, 'merge', { metadata: { annotations: { [SELECTED_NODE_ANNOTATION]: nodeName } } });
      },
    };
  }

  private reporter(): SchedulerReporter {
    return {
      scheduled: (pod, _node, message) => this.recorder.record(pod, 'Normal', 'Scheduled', message),
      failed: (pod, reason, message) => {
        this.recorder.record(pod, 'Warning', 'FailedScheduling', message);
        void this.setUnschedulableCondition(pod, reason, message);
      },
    };
  }

  /** PodScheduled=False with the reason and message, skipped when already so (avoids a write per retry). */
  private async setUnschedulableCondition(pod: Pod, reason: string, message: string): Promise<void> {
    const current = this.pods.lister.get(pod.metadata?.namespace, pod.metadata?.name ?? '') ?? pod;
    const existing = current.status?.conditions?.find((condition) => condition.type === 'PodScheduled');
    if (existing?.status === 'False' && existing.reason === reason && existing.message === message) return;
    const conditions = (current.status?.conditions ?? []).filter((condition) => condition.type !== 'PodScheduled');
    conditions.push({
      type: 'PodScheduled',
      status: 'False',
      reason,
      message,
      lastTransitionTime: existing?.status === 'False' ? existing.lastTransitionTime : formatTime((this.options.nowMs ?? Date.now)()),
    });
    try {
      await this.options.client.updateStatus(RESOURCES.pods, current.metadata?.namespace, { ...current, status: { ...current.status, conditions } });
    } catch (error) {
      // The next attempt writes it again; a conflict only means the pod moved on.
      this.logger.debug('updating PodScheduled condition failed', { pod: `${current.metadata?.namespace}/${current.metadata?.name}`, err: String(error) });
    }
  }
}
