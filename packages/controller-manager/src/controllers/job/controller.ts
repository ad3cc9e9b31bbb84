// The Job controller (batch/v1), as upstream's job_controller.go: runs pods
// from a Job's template until spec.completions of them succeed (or, with no
// completions, until one does), at most spec.parallelism at a time, with
// back-off after failures, backoffLimit, activeDeadlineSeconds, suspend and
// Indexed completion. The work of one sync is in sync.ts; this file maps
// pod and Job events to Job keys, claims pods, and removes tracking
// finalizers from pods no running Job will count any more.
import { controllerOf, deepCopy, jsonEqual, labelSelectorAsSelector, parseTime, type Job, type OwnerReference, type Pod } from '@kube-lite/api';
import { isNotFound, objectKey, runWorkers, splitObjectKey, WorkQueue, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { claimObjects, ControllerExpectations, freshOwnerCheck, resolveControllerRef, selectorMatchesPod } from '../../controller-utils';
import { BackoffStore } from './backoff';
import { isJobFinished } from './conditions';
import { JOB_API_VERSION, JOB_KIND, JobSync } from './sync';
import { FinalizerExpectations, hasTrackingFinalizer, JOB_TRACKING_FINALIZER, removeTrackingFinalizerPatch } from './tracking';

export const JOB_CONTROLLER_NAME = 'job';
/** spec.managedBy of Jobs this controller manages (absent means the same). */
export const JOB_CONTROLLER_MANAGER = 'kubernetes.io/job-controller';
/** Upstream's syncJobBatchPeriod: pod events of one Job within this window cost one sync. */
export const DEFAULT_SYNC_BATCH_PERIOD_MS = 1000;

export interface JobControllerOptions {
  /** Delay between a pod event and the Job's sync, batching bursts (upstream's 1 s). */
  syncBatchPeriodMs?: number;
}

export class JobController extends QueueController {
  readonly expectations: ControllerExpectations;
  readonly finalizerExpectations = new FinalizerExpectations();
  readonly backoffs = new BackoffStore();
  /** Pods (namespace/name) that may still carry the tracking finalizer of a Job that is gone or finished. */
  readonly orphanPods = new WorkQueue<string>({ name: 'job-orphan-pod' });
  private readonly jobs: Lister<Job>;
  private readonly pods: Lister<Pod>;
  private readonly syncBatchPeriodMs: number;

  constructor(context: ControllerContext, options: JobControllerOptions = {}) {
    super(JOB_CONTROLLER_NAME, context);
    this.expectations = new ControllerExpectations(context.nowMs);
    this.syncBatchPeriodMs = options.syncBatchPeriodMs ?? DEFAULT_SYNC_BATCH_PERIOD_MS;
    const jobInformer = context.informers.jobs();
    const podInformer = context.informers.pods();
    this.jobs = jobInformer.lister;
    this.pods = podInformer.lister;
    jobInformer.addEventHandler({
      onAdd: (job) => this.enqueue(job),
      onUpdate: (old, job) => this.jobUpdated(old, job),
      onDelete: (object) => {
        const job = deletedObject(object);
        this.enqueue(job);
        this.cleanupPodFinalizers(job);
      },
    });
    podInformer.addEventHandler({
      onAdd: (pod) => this.podAdded(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (object) => this.podDeleted(deletedObject(object), true),
    });
  }

  override async run(workers: number): Promise<void> {
    await Promise.all([super.run(workers), runWorkers(this.orphanPods, 1, (key) => this.syncOrphanPod(key), { logger: this.logger })]);
  }

  override async shutdown(): Promise<void> {
    await Promise.all([super.shutdown(), this.orphanPods.shutDownWithDrain()]);
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const cached = this.jobs.get(namespace, name);
    if (cached === undefined) {
      this.expectations.delete(key);
      this.finalizerExpectations.delete(key);
      this.backoffs.delete(key);
      return;
    }
    if (cached.spec?.managedBy !== undefined && cached.spec.managedBy !== JOB_CONTROLLER_MANAGER) return;
    if (isJobFinished(cached)) {
      this.backoffs.delete(key);
      return;
    }
    const mode = cached.spec?.completionMode ?? 'NonIndexed';
    if (mode !== 'NonIndexed' && mode !== 'Indexed') {
      this.context.recorder.record(cached, 'Warning', 'UnknownCompletionMode', 'Skipped Job sync because completion mode is unknown');
      return;
    }
    if (cached.spec?.selector === undefined) {
      // The API server always sets one; without it every pod created would be released again at once.
      this.logger.warn('job has no selector; not syncing it', { controller: this.name, job: key });
      return;
    }
    // Checked before listing pods, so a pod created meanwhile only defers the sync.
    const satisfied = this.expectations.satisfied(key);
    const job = deepCopy(cached);
    const pods = await this.podsForJob(job);
    const run = new JobSync(
      {
        client: this.client,
        recorder: this.context.recorder,
        logger: this.logger,
        nowMs: this.nowMs,
        expectations: this.expectations,
        finalizerExpectations: this.finalizerExpectations,
        backoffs: this.backoffs,
        requeueAfter: (delayMs) => this.queue.addAfter(key, Math.max(delayMs, this.syncBatchPeriodMs)),
        controllerName: this.name,
      },
      job,
      pods,
    );
    await run.run(satisfied);
  }

  /**
   * The pods this Job controls after adoption and release. Pods that stopped
   * matching are released; finished pods are kept so they can be counted.
   * Adopted pods get the tracking finalizer with their controller reference.
   */
  private async podsForJob(job: Job): Promise<Pod[]> {
    const namespace = job.metadata?.namespace ?? '';
    const uid = job.metadata?.uid ?? '';
    const claimed = await claimObjects(this.pods.namespace(namespace).list(), {
      owner: job,
      ownerApiVersion: JOB_API_VERSION,
      ownerKind: JOB_KIND,
      selector: labelSelectorAsSelector(job.spec?.selector),
      canAdopt: freshOwnerCheck(job, () => this.client.jobs(namespace).get(job.metadata?.name ?? '')),
      patch: (podName, patch) => {
        // An adoption (a controller reference, not a release) also adds the finalizer, as upstream's claim does.
        const metadata = (patch as { metadata?: { ownerReferences?: { controller?: boolean }[] } }).metadata ?? {};
        const adoption = metadata.ownerReferences?.some((ref) => ref.controller === true) ?? false;
        return this.client.pods(namespace).patch(podName, 'strategic', adoption ? { metadata: { ...metadata, finalizers: [JOB_TRACKING_FINALIZER] } } : patch);
      },
    });
    return claimed.map((pod) => {
      const adopted = !(pod.metadata?.ownerReferences ?? []).some((ref) => ref.uid === uid);
      if (!adopted || hasTrackingFinalizer(pod)) return pod;
      const copy = deepCopy(pod);
      (copy.metadata ??= {}).finalizers = [...(copy.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
      return copy;
    });
  }

  /** Removes the tracking finalizer from a pod whose Job is gone, finished, or not its controller any more. */
  async syncOrphanPod(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const pod = this.pods.get(namespace, name);
    if (pod === undefined || !hasTrackingFinalizer(pod)) return;
    const ref = controllerOf(pod);
    if (ref !== undefined) {
      if (ref.kind !== JOB_KIND || ref.apiVersion !== JOB_API_VERSION) return;
      const job = this.resolve(namespace, ref);
      if (job !== undefined && job.spec?.managedBy !== undefined && job.spec.managedBy !== JOB_CONTROLLER_MANAGER) return;
      // The pod's Job still runs and will count it.
      if (job !== undefined && !isJobFinished(job)) return;
    }
    try {
      await this.client.pods(namespace).patch(name, 'strategic', removeTrackingFinalizerPatch(pod));
      this.logger.info('removed job tracking finalizer from orphan pod', { controller: this.name, pod: key });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  // ---- event handlers ----

  private enqueueBatched(job: Job): void {
    this.enqueueAfter(job, this.syncBatchPeriodMs);
  }

  private jobUpdated(old: Job, job: Job): void {
    // A spec change is acted on at once; status changes (mostly our own) are batched.
    if (old.metadata?.generation === job.metadata?.generation) this.enqueueBatched(job);
    else this.enqueue(job);
    if (isJobFinished(job)) this.cleanupPodFinalizers(job);
    const seconds = job.spec?.activeDeadlineSeconds;
    const startedMs = parseTime(job.status?.startTime);
    if (seconds !== undefined && startedMs !== undefined && seconds !== old.spec?.activeDeadlineSeconds) {
      this.enqueueAfter(job, seconds * 1000 - (this.nowMs() - startedMs));
    }
  }

  /** Queues the Job's pods that still carry its finalizer for cleanup. */
  private cleanupPodFinalizers(job: Job): void {
    const uid = job.metadata?.uid ?? '';
    for (const pod of this.pods.namespace(job.metadata?.namespace ?? '').list()) {
      if (controllerOf(pod)?.uid === uid && hasTrackingFinalizer(pod)) this.orphanPods.add(objectKey(pod));
    }
  }

  private resolve(namespace: string, ref: OwnerReference | undefined): Job | undefined {
    return resolveControllerRef(this.jobs, namespace, ref, JOB_KIND);
  }

  /** Jobs whose selector matches an orphan pod. */
  private matchingJobs(pod: Pod): Job[] {
    return this.jobs
      .namespace(pod.metadata?.namespace ?? '')
      .list()
      .filter((job) => selectorMatchesPod(job.spec?.selector, pod));
  }

  private podAdded(pod: Pod): void {
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Seen for the first time already being deleted (a restart): not a creation.
      this.podDeleted(pod, false);
      return;
    }
    const ref = controllerOf(pod);
    if (ref !== undefined) {
      const job = this.resolve(pod.metadata?.namespace ?? '', ref);
      if (job === undefined) {
        if (hasTrackingFinalizer(pod) && ref.kind === JOB_KIND) this.orphanPods.add(objectKey(pod));
        return;
      }
      this.expectations.creationObserved(objectKey(job));
      this.enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.orphanPods.add(objectKey(pod));
    for (const job of this.matchingJobs(pod)) this.enqueueBatched(job);
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // A graceful deletion: the Job may replace the pod now rather than when it is gone.
      this.podDeleted(pod, false);
      return;
    }
    const namespace = pod.metadata?.namespace ?? '';
    const finalizerRemoved = !hasTrackingFinalizer(pod);
    const ref = controllerOf(pod);
    const oldRef = controllerOf(old);
    const refChanged = !jsonEqual(ref ?? null, oldRef ?? null);
    if (refChanged && oldRef !== undefined) {
      const previous = this.resolve(namespace, oldRef);
      if (previous !== undefined) {
        if (finalizerRemoved) this.finalizerExpectations.removalObserved(objectKey(previous), pod.metadata?.uid ?? '');
        this.enqueueBatched(previous);
      }
    }
    if (ref !== undefined) {
      const job = this.resolve(namespace, ref);
      if (job === undefined) {
        if (hasTrackingFinalizer(pod) && ref.kind === JOB_KIND) this.orphanPods.add(objectKey(pod));
        return;
      }
      if (finalizerRemoved) this.finalizerExpectations.removalObserved(objectKey(job), pod.metadata?.uid ?? '');
      this.enqueueBatched(job);
      return;
    }
    if (hasTrackingFinalizer(pod)) this.orphanPods.add(objectKey(pod));
    const labelsChanged = !jsonEqual(old.metadata?.labels ?? {}, pod.metadata?.labels ?? {});
    if (labelsChanged || refChanged) for (const job of this.matchingJobs(pod)) this.enqueueBatched(job);
  }

  /** `final`: the pod is gone from the store (not just marked for deletion). */
  private podDeleted(pod: Pod, final: boolean): void {
    const ref = controllerOf(pod);
    const finalizer = hasTrackingFinalizer(pod);
    if (ref === undefined) {
      if (finalizer && !final) this.orphanPods.add(objectKey(pod));
      return;
    }
    const job = this.resolve(pod.metadata?.namespace ?? '', ref);
    if (job === undefined || isJobFinished(job)) {
      if (finalizer && !final) this.orphanPods.add(objectKey(pod));
      return;
    }
    const key = objectKey(job);
    this.expectations.deletionObserved(key, objectKey(pod));
    if (final || !finalizer) this.finalizerExpectations.removalObserved(key, pod.metadata?.uid ?? '');
    this.enqueueBatched(job);
  }
}
