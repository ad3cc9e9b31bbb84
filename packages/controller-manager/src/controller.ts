// What every controller shares: the context it is built from, the interface
// the manager runs it through, and QueueController, the sample-controller
// shape (informer handlers enqueue "namespace/name" keys; workers run an
// idempotent, level-triggered sync(key); failures are retried with backoff).
import type { KubeObject } from '@kube-lite/api';
import {
  DeletedFinalStateUnknown,
  objectKey,
  runWorkers,
  WorkQueue,
  type ApiClient,
  type EventRecorder,
  type Logger,
  type SharedInformerFactory,
} from '@kube-lite/client';
import type { ControllerMetrics } from './metrics';

/** Settings of individual controllers (the --node-monitor-* flags and friends). */
export interface ControllerSettings {
  /** A node whose kubelet has not renewed its Lease for this long is marked Ready=Unknown (--node-monitor-grace-period). */
  nodeMonitorGracePeriodMs: number;
  /** How often every node's health is re-checked (--node-monitor-period). */
  nodeMonitorPeriodMs: number;
  /** Directory on each node under which the local-path provisioner places volumes (--local-path-root). */
  localPathRoot: string;
  /** How often every HorizontalPodAutoscaler is reconciled (--horizontal-pod-autoscaler-sync-period); 15 s when unset. */
  horizontalPodAutoscalerSyncPeriodMs?: number;
  /** Usage ratios within this fraction of 1 leave the replica count alone (--horizontal-pod-autoscaler-tolerance); 0.1 when unset. */
  horizontalPodAutoscalerTolerance?: number;
  /** An HPA scales down only to the highest recommendation of this window (--horizontal-pod-autoscaler-downscale-stabilization); 5 min when unset. */
  horizontalPodAutoscalerDownscaleStabilizationMs?: number;
  /** CPU samples of pods started this recently count only when taken a window after readiness (--horizontal-pod-autoscaler-cpu-initialization-period); 5 min when unset. */
  horizontalPodAutoscalerCpuInitializationPeriodMs?: number;
  /** Unready pods never ready within this long of their start are left out of CPU figures (--horizontal-pod-autoscaler-initial-readiness-delay); 30 s when unset. */
  horizontalPodAutoscalerInitialReadinessDelayMs?: number;
}

export const DEFAULT_CONTROLLER_SETTINGS: ControllerSettings = {
  nodeMonitorGracePeriodMs: 40_000,
  nodeMonitorPeriodMs: 5_000,
  localPathRoot: '/var/lib/kube-lite/local-path',
};

/** Everything a controller is built from; shared by all controllers of one process. */
export interface ControllerContext {
  client: ApiClient;
  /** One informer per resource for the whole process; controllers register handlers and indexes on it. */
  informers: SharedInformerFactory;
  /** Writes core/v1 Events (source component kube-controller-manager). */
  recorder: EventRecorder;
  logger: Logger;
  /** The clock every controller reads (conditions, minReadySeconds, node health, eviction deadlines). */
  nowMs: () => number;
  settings: ControllerSettings;
  /** Sync counters and durations; absent in unit tests. */
  metrics?: ControllerMetrics;
}

/** What the manager starts and stops. */
export interface Controller {
  /** The registry name ("deployment", "garbagecollector"). */
  readonly name: string;
  /** Runs `workers` concurrent workers (and any periodic task) until shutdown(); resolves when they have exited. */
  run(workers: number): Promise<void>;
  /** Stops taking new keys and waits for the keys in process. */
  shutdown(): Promise<void>;
  /** Keys waiting to be processed (the workqueue_depth metric). */
  queueLength(): number;
}

/** The object of an onDelete event, whether seen or reconstructed after a missed deletion. */
export function deletedObject<T>(object: T | DeletedFinalStateUnknown<T>): T {
  return object instanceof DeletedFinalStateUnknown ? object.object : object;
}

export abstract class QueueController implements Controller {
  readonly queue: WorkQueue<string>;
  protected readonly logger: Logger;
  protected readonly client: ApiClient;
  protected readonly nowMs: () => number;

  constructor(
    readonly name: string,
    protected readonly context: ControllerContext,
  ) {
    this.queue = new WorkQueue<string>({ name });
    this.client = context.client;
    this.nowMs = context.nowMs;
    this.logger = context.logger;
  }

  /** Converges one key; idempotent, safe to call any number of times. Throwing requeues the key with backoff. */
  abstract sync(key: string): Promise<void>;

  run(workers: number): Promise<void> {
    return runWorkers(this.queue, workers, (key) => this.measuredSync(key), { logger: this.logger });
  }

  async shutdown(): Promise<void> {
    await this.queue.shutDownWithDrain();
  }

  queueLength(): number {
    return this.queue.len();
  }

  protected enqueue(object: KubeObject): void {
    this.queue.add(objectKey(object));
  }

  protected enqueueAfter(object: KubeObject, delayMs: number): void {
    this.queue.addAfter(objectKey(object), delayMs);
  }

  private async measuredSync(key: string): Promise<void> {
    const metrics = this.context.metrics;
    const startedMs = Date.now();
    try {
      await this.sync(key);
      metrics?.recordSync(this.name, 'success', Date.now() - startedMs);
    } catch (error) {
      metrics?.recordSync(this.name, 'error', Date.now() - startedMs);
      throw error;
    }
  }
}
