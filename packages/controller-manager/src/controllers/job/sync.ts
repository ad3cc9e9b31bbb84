// One sync of one Job, as upstream's syncJob: count the pods that finished
// since the last sync, decide whether the Job failed (backoffLimit,
// activeDeadlineSeconds) or completed, create or delete pods so that
// min(parallelism, remaining completions) are active, then record finished
// pods in status.uncountedTerminatedPods, remove their tracking finalizers and
// move them into the succeeded/failed counters, and finally set the
// Complete or Failed condition once nothing is left uncounted.
import {
  deepCopy,
  formatTime,
  isPodReady,
  isPodTerminal,
  jsonEqual,
  parseTime,
  type Job,
  type JobCondition,
  type JobStatus,
  type Pod,
} from '@kube-lite/api';
import { isNotFound, objectKey, type ApiClient, type EventRecorder, type Logger } from '@kube-lite/client';
import { compareForDeletion, type ControllerExpectations, podFromTemplate, slowStartBatch } from '../../controller-utils';
import { remainingBackoffMs, type BackoffRecord, type BackoffStore } from './backoff';
import { ensureJobCondition, findCondition, newJobCondition } from './conditions';
import {
  completionIndexOf,
  firstPendingIndexes,
  formatIndexes,
  hasValidIndex,
  indexedGenerateName,
  JOB_COMPLETION_INDEX_ANNOTATION,
  JOB_COMPLETION_INDEX_LABEL,
  parseIndexes,
  withCompletionIndexEnv,
} from './indexes';
import { hasTrackingFinalizer, JOB_TRACKING_FINALIZER, removeTrackingFinalizerPatch, type FinalizerExpectations } from './tracking';

export const JOB_API_VERSION = 'batch/v1';
export const JOB_KIND = 'Job';
/** Most pods created or deleted in one sync (upstream MaxPodCreateDeletePerSync). */
export const MAX_POD_CREATE_DELETE_PER_SYNC = 500;
/** Most UIDs held in status.uncountedTerminatedPods at once, keeping the status small (upstream MaxUncountedPods). */
export const MAX_UNCOUNTED_PODS = 500;
/** Upstream's default backoffLimit. */
export const DEFAULT_BACKOFF_LIMIT = 6;

export const REASON_BACKOFF_LIMIT_EXCEEDED = 'BackoffLimitExceeded';
export const REASON_DEADLINE_EXCEEDED = 'DeadlineExceeded';
export const REASON_COMPLETIONS_REACHED = 'CompletionsReached';

/** What a JobSync works with; the controller owns all of it. */
export interface JobSyncDeps {
  client: ApiClient;
  recorder: EventRecorder;
  logger: Logger;
  nowMs: () => number;
  expectations: ControllerExpectations;
  finalizerExpectations: FinalizerExpectations;
  backoffs: BackoffStore;
  /** Syncs the Job again after the delay (back-off, deadline). */
  requeueAfter: (delayMs: number) => void;
  controllerName: string;
}

interface ManageResult {
  active: number;
  error?: unknown;
}

/** A pod is failed when its phase says so, or (unless only failed pods are replaced) when it is being deleted before succeeding. */
export function isPodFailed(pod: Pod, job: Job): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailedPods(job)) return false;
  return pod.metadata?.deletionTimestamp !== undefined && pod.status?.phase !== 'Succeeded';
}

/** podReplacementPolicy Failed (implied by a podFailurePolicy): terminating pods still hold their slot. */
function onlyReplaceFailedPods(job: Job): boolean {
  return job.spec?.podReplacementPolicy === 'Failed' || job.spec?.podFailurePolicy !== undefined;
}

function isTerminating(pod: Pod): boolean {
  return pod.metadata?.deletionTimestamp !== undefined && !isPodTerminal(pod);
}

/** restartPolicy OnFailure: container restarts of running pods count toward backoffLimit (upstream pastBackoffLimitOnFailure). */
export function pastBackoffLimitOnFailure(job: Job, pods: readonly Pod[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const pod of pods) {
    if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Pending') continue;
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) restarts += status.restartCount;
  }
  const limit = job.spec?.backoffLimit ?? DEFAULT_BACKOFF_LIMIT;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

/** The status as the API server serializes it: zero counters and empty lists left out, ready/terminating/uncountedTerminatedPods always present. */
export function normalizeJobStatus(status: JobStatus | undefined): JobStatus {
  const source = status ?? {};
  const result: JobStatus = {};
  if (source.conditions !== undefined && source.conditions.length > 0) result.conditions = source.conditions;
  if (source.startTime) result.startTime = source.startTime;
  if (source.completionTime) result.completionTime = source.completionTime;
  if (source.active) result.active = source.active;
  if (source.succeeded) result.succeeded = source.succeeded;
  if (source.failed) result.failed = source.failed;
  result.terminating = source.terminating ?? 0;
  if (source.completedIndexes) result.completedIndexes = source.completedIndexes;
  if (source.failedIndexes !== undefined) result.failedIndexes = source.failedIndexes;
  const uncounted: NonNullable<JobStatus['uncountedTerminatedPods']> = {};
  if (source.uncountedTerminatedPods?.succeeded?.length) uncounted.succeeded = [...source.uncountedTerminatedPods.succeeded];
  if (source.uncountedTerminatedPods?.failed?.length) uncounted.failed = [...source.uncountedTerminatedPods.failed];
  result.uncountedTerminatedPods = uncounted;
  result.ready = source.ready ?? 0;
  return result;
}

export class JobSync {
  private job: Job;
  /** The status last stored (read or written): what "changed" is measured against. */
  private storedStatus: JobStatus;
  private readonly key: string;
  private readonly namespace: string;
  private readonly indexed: boolean;
  private readonly completions: number | undefined;
  private readonly activePods: Pod[];
  private readonly expectedRemovals: ReadonlySet<string>;
  private readonly uncountedSucceededAtStart: Set<string>;
  private readonly uncountedFailedAtStart: Set<string>;
  private finishedCondition: JobCondition | undefined;
  private succeeded = 0;
  private ready = 0;
  private terminating = 0;
  private previousSucceededIndexes = new Set<number>();
  private succeededIndexes = new Set<number>();
  private newBackoff: BackoffRecord = { failuresAfterLastSuccess: 0, lastFailureMs: undefined };

  constructor(
    private readonly deps: JobSyncDeps,
    job: Job,
    private readonly pods: readonly Pod[],
  ) {
    this.job = deepCopy(job);
    this.storedStatus = deepCopy(normalizeJobStatus(job.status));
    this.job.status = deepCopy(normalizeJobStatus(job.status));
    this.key = objectKey(job);
    this.namespace = job.metadata?.namespace ?? '';
    this.indexed = job.spec?.completionMode === 'Indexed';
    this.completions = job.spec?.completions;
    this.activePods = pods.filter((pod) => !isPodTerminal(pod) && pod.metadata?.deletionTimestamp === undefined);
    this.expectedRemovals = deps.finalizerExpectations.expectedUids(this.key);
    this.uncountedSucceededAtStart = new Set(this.job.status.uncountedTerminatedPods?.succeeded ?? []);
    this.uncountedFailedAtStart = new Set(this.job.status.uncountedTerminatedPods?.failed ?? []);
  }

  private get status(): JobStatus {
    return (this.job.status ??= {});
  }

  private get suspended(): boolean {
    return this.job.spec?.suspend === true;
  }

  /** Converges the Job; throws the first pod create/delete error after the status has been recorded. */
  async run(expectationsSatisfied: boolean): Promise<void> {
    const spec = this.job.spec;
    if (spec === undefined) return;
    const now = this.deps.nowMs();
    const status = this.status;
    let active = this.activePods.length;
    this.ready = this.activePods.filter(isPodReady).length;
    this.terminating = this.pods.filter(isTerminating).length;
    const { succeeded: newSucceeded, failed: newFailed } = this.newFinishedPods();
    this.succeeded = (status.succeeded ?? 0) + newSucceeded.length + this.uncountedSucceededAtStart.size;
    const failed = (status.failed ?? 0) + newFailed.length + this.uncountedFailedAtStart.size;
    if (status.startTime === undefined && !this.suspended) status.startTime = formatTime(now);
    this.newBackoff = this.deps.backoffs.next(this.key, newSucceeded, newFailed);

    this.finishedCondition = this.recordedFinishCondition(now);
    if (this.finishedCondition === undefined) {
      if (failed > (spec.backoffLimit ?? DEFAULT_BACKOFF_LIMIT) || pastBackoffLimitOnFailure(this.job, this.pods)) {
        this.finishedCondition = newJobCondition('FailureTarget', 'True', REASON_BACKOFF_LIMIT_EXCEEDED, 'Job has reached the specified backoff limit', now);
      } else if (this.pastActiveDeadline(now)) {
        this.finishedCondition = newJobCondition('FailureTarget', 'True', REASON_DEADLINE_EXCEEDED, 'Job was active longer than specified deadline', now);
      } else if (spec.activeDeadlineSeconds !== undefined && !this.suspended) {
        const startedMs = parseTime(status.startTime) ?? now;
        this.deps.requeueAfter(spec.activeDeadlineSeconds * 1000 - (now - startedMs));
      }
    }
    if (this.indexed) {
      const completions = this.completions ?? 0;
      this.previousSucceededIndexes = parseIndexes(status.completedIndexes, completions);
      this.succeededIndexes = new Set(this.previousSucceededIndexes);
      for (const pod of this.pods) {
        const index = completionIndexOf(pod);
        if (pod.status?.phase === 'Succeeded' && index !== undefined && index < completions && hasTrackingFinalizer(pod)) this.succeededIndexes.add(index);
      }
      this.succeeded = this.succeededIndexes.size;
    }

    let manageError: unknown;
    if (this.finishedCondition !== undefined) {
      // Failing: stop every active pod; their finalizers stay until they are counted as failed.
      const { deleted, deletedReady, error } = await this.deleteActivePods();
      if (deleted !== active || !expectationsSatisfied) this.finishedCondition = undefined;
      active -= deleted;
      this.terminating += deleted;
      this.ready -= deletedReady;
      manageError = error;
    } else {
      let managed = false;
      if (expectationsSatisfied && this.job.metadata?.deletionTimestamp === undefined) {
        const result = await this.manageJob(now);
        active = result.active;
        manageError = result.error;
        managed = true;
      }
      const complete = this.completions === undefined ? this.succeeded > 0 && active === 0 : this.succeeded >= this.completions && active === 0;
      if (complete) {
        this.finishedCondition = newJobCondition('SuccessCriteriaMet', 'True', REASON_COMPLETIONS_REACHED, 'Reached expected number of succeeded pods', now);
      } else if (managed) {
        this.updateSuspendedCondition(now);
      }
    }
    status.active = active;
    status.ready = this.ready;
    status.terminating = this.terminating;
    await this.trackStatusAndRemoveFinalizers(now);
    if (manageError !== undefined) throw manageError;
  }

  /** A finish decided in an earlier sync and recorded as SuccessCriteriaMet or FailureTarget. */
  private recordedFinishCondition(now: number): JobCondition | undefined {
    const successCriteriaMet = findCondition(this.job, 'SuccessCriteriaMet');
    if (successCriteriaMet?.status === 'True') return successCriteriaMet;
    const failureTarget = findCondition(this.job, 'FailureTarget');
    if (failureTarget?.status === 'True') return newJobCondition('Failed', 'True', failureTarget.reason ?? '', failureTarget.message ?? '', now);
    return undefined;
  }

  private pastActiveDeadline(now: number): boolean {
    const seconds = this.job.spec?.activeDeadlineSeconds;
    const startedMs = parseTime(this.status.startTime);
    if (seconds === undefined || startedMs === undefined || this.suspended) return false;
    return now - startedMs >= seconds * 1000;
  }

  private updateSuspendedCondition(now: number): void {
    const conditions = (this.status.conditions ??= []);
    if (this.suspended) {
      if (ensureJobCondition(conditions, 'Suspended', 'True', 'JobSuspended', 'Job suspended', now)) this.deps.recorder.record(this.job, 'Normal', 'Suspended', 'Job suspended');
    } else if (ensureJobCondition(conditions, 'Suspended', 'False', 'JobResumed', 'Job resumed', now)) {
      this.deps.recorder.record(this.job, 'Normal', 'Resumed', 'Job resumed');
      // activeDeadlineSeconds counts continuous activity: a resumed Job starts its clock again.
      this.status.startTime = formatTime(now);
    }
    if (conditions.length === 0) delete this.status.conditions;
  }

  /** Finished pods not yet recorded anywhere in the status (they still carry the finalizer). */
  private newFinishedPods(): { succeeded: Pod[]; failed: Pod[] } {
    const succeeded: Pod[] = [];
    const failed: Pod[] = [];
    for (const pod of this.pods) {
      const uid = pod.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(pod) || this.expectedRemovals.has(uid)) continue;
      if (this.indexed && !hasValidIndex(pod, this.completions ?? 0)) continue;
      if (pod.status?.phase === 'Succeeded' && !this.uncountedSucceededAtStart.has(uid)) succeeded.push(pod);
      else if (isPodFailed(pod, this.job) && !this.uncountedFailedAtStart.has(uid)) failed.push(pod);
    }
    return { succeeded, failed };
  }

  // ---- pods ----

  private async manageJob(now: number): Promise<ManageResult> {
    const spec = this.job.spec;
    let active = this.activePods.length;
    if (spec === undefined) return { active };
    if (this.suspended) {
      const victims = this.podsForRemoval(active);
      const { removed, removedReady, error } = await this.deleteJobPods(victims);
      this.terminating += removed;
      this.ready -= removedReady;
      return { active: active - removed, error };
    }
    const parallelism = spec.parallelism ?? 1;
    let wantActive: number;
    if (this.completions === undefined) {
      // A work queue: once one pod succeeded, let the others finish but start no more.
      wantActive = this.succeeded > 0 ? active : parallelism;
    } else {
      wantActive = Math.max(0, Math.min(this.completions - this.succeeded, parallelism));
    }
    const victims = this.podsForRemoval(Math.max(0, active - wantActive)).slice(0, MAX_POD_CREATE_DELETE_PER_SYNC);
    if (victims.length > 0) {
      this.deps.logger.info('too many pods running for job; deleting', { controller: this.deps.controllerName, job: this.key, target: wantActive, deleting: victims.map((pod) => pod.metadata?.name) });
      const { removed, removedReady, error } = await this.deleteJobPods(victims);
      this.terminating += removed;
      this.ready -= removedReady;
      return { active: active - removed, error };
    }
    const blockedByTerminating = onlyReplaceFailedPods(this.job) ? this.terminating : 0;
    let diff = wantActive - blockedByTerminating - active;
    if (diff <= 0) return { active };
    const waitMs = remainingBackoffMs(this.newBackoff, now);
    if (waitMs > 0) {
      this.deps.logger.info('pod failure back-off; delaying pod creation', { controller: this.deps.controllerName, job: this.key, delayMs: waitMs, failures: this.newBackoff.failuresAfterLastSuccess });
      this.deps.requeueAfter(waitMs);
      return { active };
    }
    diff = Math.min(diff, MAX_POD_CREATE_DELETE_PER_SYNC);
    let indexes: number[] = [];
    if (this.indexed) {
      indexes = firstPendingIndexes(this.activePods, this.succeededIndexes, diff, this.completions ?? 0);
      diff = indexes.length;
      if (diff === 0) return { active };
    }
    return this.createPods(diff, indexes, active);
  }

  private async createPods(count: number, indexes: number[], activeBefore: number): Promise<ManageResult> {
    const spec = this.job.spec;
    if (spec === undefined) return { active: activeBefore };
    this.deps.expectations.expectCreations(this.key, count);
    this.deps.logger.info('too few pods running for job; creating', { controller: this.deps.controllerName, job: this.key, creating: count, indexes: this.indexed ? indexes : undefined });
    const template = this.indexed ? withCompletionIndexEnv(spec.template) : spec.template;
    const jobName = this.job.metadata?.name ?? '';
    const pending = [...indexes];
    const { successes, error } = await slowStartBatch(count, 1, async () => {
      const index = pending.shift();
      const pod = podFromTemplate(template, this.job, JOB_API_VERSION, JOB_KIND);
      const meta = (pod.metadata ??= {});
      if (!(meta.finalizers ?? []).includes(JOB_TRACKING_FINALIZER)) meta.finalizers = [...(meta.finalizers ?? []), JOB_TRACKING_FINALIZER];
      if (index !== undefined) {
        meta.annotations = { ...(meta.annotations ?? {}), [JOB_COMPLETION_INDEX_ANNOTATION]: String(index) };
        meta.labels = { ...(meta.labels ?? {}), [JOB_COMPLETION_INDEX_LABEL]: String(index) };
        meta.generateName = indexedGenerateName(jobName, index);
        if (pod.spec !== undefined) pod.spec.hostname = `${jobName}-${index}`;
      }
      try {
        const created = await this.deps.client.pods(this.namespace).create(pod);
        this.deps.recorder.record(this.job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
      } catch (createError) {
        this.deps.recorder.record(this.job, 'Warning', 'FailedCreate', `Error creating: ${createError instanceof Error ? createError.message : String(createError)}`);
        throw createError;
      }
    });
    // Creations that failed or were never tried will not be observed.
    for (let missing = count - successes; missing > 0; missing -= 1) this.deps.expectations.creationObserved(this.key);
    return { active: activeBefore + successes, error };
  }

  /**
   * Active pods to delete, at least `atLeast` of them: for an Indexed Job
   * first those with no valid index or a duplicated one, then the least
   * valuable (unscheduled, pending, not ready) first.
   */
  private podsForRemoval(atLeast: number): Pod[] {
    const remove: Pod[] = [];
    let keep: Pod[] = [...this.activePods];
    const noNode = (): number => 0;
    if (this.indexed) {
      keep = [];
      const byIndex = new Map<number, Pod[]>();
      for (const pod of this.activePods) {
        const index = completionIndexOf(pod);
        if (index === undefined || index >= (this.completions ?? 0)) remove.push(pod);
        else byIndex.set(index, [...(byIndex.get(index) ?? []), pod]);
      }
      for (const [, group] of [...byIndex].sort(([a], [b]) => a - b)) {
        // Keep the most advanced pod of each index.
        const ordered = [...group].sort((a, b) => compareForDeletion(a, b, noNode));
        remove.push(...ordered.slice(0, -1));
        keep.push(...ordered.slice(-1));
      }
    }
    if (remove.length < atLeast) remove.push(...keep.sort((a, b) => compareForDeletion(a, b, noNode)).slice(0, atLeast - remove.length));
    return remove;
  }

  /** Removes pods the Job no longer wants (suspend, too many): finalizer first, so they are not counted as failures. */
  private async deleteJobPods(pods: readonly Pod[]): Promise<{ removed: number; removedReady: number; error?: unknown }> {
    if (pods.length === 0) return { removed: 0, removedReady: 0 };
    this.deps.expectations.expectDeletions(this.key, pods.map(objectKey));
    const podClient = this.deps.client.pods(this.namespace);
    const results = await Promise.allSettled(
      pods.map(async (pod) => {
        const name = pod.metadata?.name ?? '';
        try {
          if (hasTrackingFinalizer(pod)) await podClient.patch(name, 'strategic', removeTrackingFinalizerPatch(pod));
          await podClient.delete(name);
          this.deps.recorder.record(this.job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (error) {
          this.deps.expectations.deletionObserved(this.key, objectKey(pod));
          if (isNotFound(error)) return;
          this.deps.recorder.record(this.job, 'Warning', 'FailedDelete', `Error deleting: ${error instanceof Error ? error.message : String(error)}`);
          throw error;
        }
      }),
    );
    return this.tally(pods, results);
  }

  /** Deletes every active pod of a failing Job, keeping the finalizers so the pods are counted as failed. */
  private async deleteActivePods(): Promise<{ deleted: number; deletedReady: number; error?: unknown }> {
    const podClient = this.deps.client.pods(this.namespace);
    const results = await Promise.allSettled(
      this.activePods.map(async (pod) => {
        const name = pod.metadata?.name ?? '';
        try {
          await podClient.delete(name);
          this.deps.recorder.record(this.job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
        } catch (error) {
          if (isNotFound(error)) return;
          this.deps.recorder.record(this.job, 'Warning', 'FailedDelete', `Error deleting: ${error instanceof Error ? error.message : String(error)}`);
          throw error;
        }
      }),
    );
    const { removed, removedReady, error } = this.tally(this.activePods, results);
    return { deleted: removed, deletedReady: removedReady, error };
  }

  private tally(pods: readonly Pod[], results: PromiseSettledResult<void>[]): { removed: number; removedReady: number; error?: unknown } {
    let removed = 0;
    let removedReady = 0;
    let error: unknown;
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        error ??= result.reason;
        return;
      }
      removed += 1;
      if (isPodReady(pods[index] as Pod)) removedReady += 1;
    });
    return error === undefined ? { removed, removedReady } : { removed, removedReady, error };
  }

  // ---- status ----

  private canRemoveFinalizer(pod: Pod, failed: boolean): boolean {
    if (this.job.metadata?.deletionTimestamp !== undefined || this.finishedCondition !== undefined || pod.status?.phase === 'Succeeded') return true;
    return failed;
  }

  /**
   * Records finished pods in uncountedTerminatedPods (written first, so a
   * crash loses nothing), removes their finalizers, moves the ones whose
   * finalizer is gone into the counters and, when nothing is left uncounted
   * or terminating, sets the final condition.
   */
  private async trackStatusAndRemoveFinalizers(now: number): Promise<void> {
    const status = this.status;
    const uncounted = (status.uncountedTerminatedPods ??= {});
    const completions = this.completions ?? 0;
    const pods = this.indexed ? [...this.pods].sort((a, b) => (completionIndexOf(a) ?? Number.MAX_SAFE_INTEGER) - (completionIndexOf(b) ?? Number.MAX_SAFE_INTEGER)) : [...this.pods];
    const withFinalizer = new Set<string>();
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      if (hasTrackingFinalizer(pod) && !this.expectedRemovals.has(uid)) withFinalizer.add(uid);
    }
    countPodsWithoutFinalizers(status, withFinalizer);
    const toRemove: Pod[] = [];
    const newSucceededIndexes: number[] = [];
    let reachedMaxUncounted = false;
    const failing = this.finishedCondition !== undefined && this.finishedCondition.type !== 'SuccessCriteriaMet';
    for (const pod of pods) {
      const uid = pod.metadata?.uid ?? '';
      if (!hasTrackingFinalizer(pod) || this.expectedRemovals.has(uid)) continue;
      const failed = isPodFailed(pod, this.job);
      if (!this.canRemoveFinalizer(pod, failed)) continue;
      toRemove.push(pod);
      if (pod.status?.phase === 'Succeeded' && !this.uncountedFailedAtStart.has(uid)) {
        if (this.indexed) {
          const index = completionIndexOf(pod);
          if (index !== undefined && index < completions && !this.previousSucceededIndexes.has(index)) newSucceededIndexes.push(index);
        } else if (!this.uncountedSucceededAtStart.has(uid)) {
          (uncounted.succeeded ??= []).push(uid);
        }
      } else if (failed || failing) {
        // A failing Job counts every pod it stops as failed.
        if (!this.uncountedFailedAtStart.has(uid) && (!this.indexed || hasValidIndex(pod, completions))) (uncounted.failed ??= []).push(uid);
      }
      if (newSucceededIndexes.length + (uncounted.succeeded?.length ?? 0) + (uncounted.failed?.length ?? 0) >= MAX_UNCOUNTED_PODS) {
        // The rest waits for the next sync, which the status write triggers.
        reachedMaxUncounted = true;
        break;
      }
    }
    if (this.indexed) {
      for (const index of newSucceededIndexes) this.succeededIndexes.add(index);
      status.succeeded = this.succeededIndexes.size;
      const formatted = formatIndexes(this.succeededIndexes);
      if (formatted === '') delete status.completedIndexes;
      else status.completedIndexes = formatted;
    }
    if (this.finishedCondition?.type === 'FailureTarget') {
      // Record why the Job fails before the finalizers that let its pods vanish are removed.
      (status.conditions ??= []).push(this.finishedCondition);
      this.finishedCondition = newJobCondition('Failed', 'True', this.finishedCondition.reason ?? '', this.finishedCondition.message ?? '', now);
    }
    if (this.finishedCondition?.type === 'SuccessCriteriaMet') {
      if (findCondition(this.job, 'SuccessCriteriaMet') === undefined) (status.conditions ??= []).push(this.finishedCondition);
      this.finishedCondition = newJobCondition('Complete', 'True', this.finishedCondition.reason ?? '', this.finishedCondition.message ?? '', now);
    }
    // Write-ahead: the pods must be in the status before their finalizers go.
    if (toRemove.length > 0) await this.flushIfChanged();
    this.deps.backoffs.set(this.key, this.newBackoff);

    const removalError = await this.removeFinalizers(toRemove, withFinalizer);
    countPodsWithoutFinalizers(status, withFinalizer);
    const finished = !reachedMaxUncounted && this.enactFinished(now);
    await this.flushIfChanged();
    if (finished) this.recordFinished();
    if (removalError !== undefined) throw removalError;
  }

  private async removeFinalizers(pods: readonly Pod[], withFinalizer: Set<string>): Promise<unknown> {
    if (pods.length === 0) return undefined;
    const uids = pods.map((pod) => pod.metadata?.uid ?? '');
    this.deps.finalizerExpectations.expectRemovals(this.key, uids);
    const podClient = this.deps.client.pods(this.namespace);
    let firstError: unknown;
    await Promise.all(
      pods.map(async (pod, index) => {
        const uid = uids[index] ?? '';
        try {
          await podClient.patch(pod.metadata?.name ?? '', 'strategic', removeTrackingFinalizerPatch(pod));
        } catch (error) {
          // A failed patch will never be observed.
          this.deps.finalizerExpectations.removalObserved(this.key, uid);
          if (!isNotFound(error)) {
            firstError ??= error;
            return;
          }
        }
        withFinalizer.delete(uid);
      }),
    );
    return firstError;
  }

  private enactFinished(now: number): boolean {
    const condition = this.finishedCondition;
    if (condition === undefined) return false;
    const uncounted = this.status.uncountedTerminatedPods;
    if ((uncounted?.succeeded?.length ?? 0) + (uncounted?.failed?.length ?? 0) > 0) return false;
    // The Job is finished only once its pods are gone, so nothing it started still runs.
    if (this.terminating > 0) return false;
    ensureJobCondition((this.status.conditions ??= []), condition.type, 'True', condition.reason ?? '', condition.message ?? '', now);
    if (condition.type === 'Complete') this.status.completionTime = formatTime(now);
    return true;
  }

  private recordFinished(): void {
    const condition = this.finishedCondition;
    if (condition === undefined) return;
    if (condition.type === 'Complete') {
      if (this.completions !== undefined && (this.status.succeeded ?? 0) > this.completions) {
        this.deps.recorder.record(this.job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
      }
      this.deps.recorder.record(this.job, 'Normal', 'Completed', 'Job completed');
      this.deps.logger.info('job completed', { controller: this.deps.controllerName, job: this.key, succeeded: this.status.succeeded ?? 0, failed: this.status.failed ?? 0 });
    } else {
      this.deps.recorder.record(this.job, 'Warning', condition.reason ?? 'Failed', condition.message ?? '');
      this.deps.logger.info('job failed', { controller: this.deps.controllerName, job: this.key, reason: condition.reason, succeeded: this.status.succeeded ?? 0, failed: this.status.failed ?? 0 });
    }
  }

  /** Writes the status when it differs from the stored one (a conflict throws: the key is retried from a fresh cache). */
  private async flushIfChanged(): Promise<void> {
    const next = normalizeJobStatus(this.status);
    if (jsonEqual(next, this.storedStatus)) return;
    const written = await this.deps.client.jobs(this.namespace).updateStatus({ ...this.job, status: next });
    // Keep working on the same status object (callers hold it); take the new resourceVersion.
    this.job = { ...written, status: this.status };
    this.storedStatus = deepCopy(next);
  }
}

/** Moves uncounted pods whose finalizer is gone into the counters (upstream cleanUncountedPodsWithoutFinalizers). */
function countPodsWithoutFinalizers(status: JobStatus, withFinalizer: ReadonlySet<string>): void {
  const uncounted = (status.uncountedTerminatedPods ??= {});
  const succeeded = uncounted.succeeded ?? [];
  const keepSucceeded = succeeded.filter((uid) => withFinalizer.has(uid));
  status.succeeded = (status.succeeded ?? 0) + succeeded.length - keepSucceeded.length;
  const failed = uncounted.failed ?? [];
  const keepFailed = failed.filter((uid) => withFinalizer.has(uid));
  status.failed = (status.failed ?? 0) + failed.length - keepFailed.length;
  if (keepSucceeded.length > 0) uncounted.succeeded = keepSucceeded;
  else delete uncounted.succeeded;
  if (keepFailed.length > 0) uncounted.failed = keepFailed;
  else delete uncounted.failed;
}

