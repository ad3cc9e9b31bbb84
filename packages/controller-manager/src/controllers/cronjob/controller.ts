// The CronJob controller (batch/v1), as upstream's cronjob_controllerv2.go:
// at each scheduled time it creates a Job "<cronjob>-<minutes since epoch>"
// from spec.jobTemplate (the name doubles as a lock against creating one run
// twice), honouring concurrencyPolicy, startingDeadlineSeconds, suspend and
// spec.timeZone; it keeps status.active/lastScheduleTime/lastSuccessfulTime
// and deletes finished Jobs past the history limits. It wakes itself for the
// next scheduled time through the work queue rather than polling.
import { controllerOf, deepCopy, isControlledBy, jsonEqual, newControllerRef, parseTime, formatTime, type CronJob, type Job, type ObjectReference, type OwnerReference } from '@kube-lite/api';
import { isAlreadyExists, isNotFound, objectKey, RESOURCES, splitObjectKey, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { finishedConditionOf, isJobFinished, isJobSucceeded } from '../job/conditions';
import { formatInZone, formatRfc1123Z, isValidTimeZone, localTimeZone, mostRecentScheduleTime, nextScheduleDelayMs, parseSchedule, ScheduleError, type CronSchedule } from './schedule';
import { resolveControllerRef } from '../../controller-utils';

export const CRONJOB_CONTROLLER_NAME = 'cronjob';
/** Annotation on a created Job: its nominal start time, RFC 3339 in the CronJob's time zone. */
export const CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const API_VERSION = 'batch/v1';
const KIND = 'CronJob';

export interface CronJobControllerOptions {
  /** The zone of schedules without spec.timeZone; upstream uses the controller manager's local zone. */
  localTimeZone?: string;
}

interface SyncOutcome {
  /** When to look again (the next scheduled time). */
  requeueAfterMs?: number;
  statusChanged: boolean;
  error?: unknown;
}

/** The name of the Job of the run scheduled at `scheduledMs` (upstream getJobName). */
export function jobNameFor(cronJob: CronJob, scheduledMs: number): string {
  return `${cronJob.metadata?.name ?? ''}-${Math.floor(scheduledMs / 60_000)}`;
}

export class CronJobController extends QueueController {
  private readonly cronJobs: Lister<CronJob>;
  private readonly jobs: Lister<Job>;
  private readonly localTimeZone: string;

  constructor(context: ControllerContext, options: CronJobControllerOptions = {}) {
    super(CRONJOB_CONTROLLER_NAME, context);
    this.localTimeZone = options.localTimeZone ?? localTimeZone();
    const cronJobInformer = context.informers.forResource<CronJob>(RESOURCES.cronJobs);
    const jobInformer = context.informers.jobs();
    this.cronJobs = cronJobInformer.lister;
    this.jobs = jobInformer.lister;
    cronJobInformer.addEventHandler({
      onAdd: (cronJob) => this.enqueue(cronJob),
      onUpdate: (old, cronJob) => this.cronJobUpdated(old, cronJob),
    });
    jobInformer.addEventHandler({
      onAdd: (job) => this.jobChanged(job),
      onUpdate: (old, job) => {
        if (old.metadata?.resourceVersion === job.metadata?.resourceVersion) return;
        if (!jsonEqual(controllerOf(old) ?? null, controllerOf(job) ?? null)) this.jobChanged(old);
        this.jobChanged(job);
      },
      onDelete: (object) => this.jobChanged(deletedObject(object)),
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const cached = this.cronJobs.get(namespace, name);
    if (cached === undefined) return;
    const cronJob = deepCopy(cached);
    const uid = cronJob.metadata?.uid ?? '';
    const jobs = this.jobs
      .namespace(namespace)
      .list()
      .filter((job) => controllerOf(job)?.uid === uid);
    const cleanedUp = await this.cleanupFinishedJobs(cronJob, jobs);
    const outcome = await this.syncCronJob(cronJob, jobs);
    if (outcome.statusChanged || cleanedUp) await this.client.cronJobs(namespace).updateStatus(cronJob);
    if (outcome.requeueAfterMs !== undefined) {
      this.queue.addAfter(key, outcome.requeueAfterMs);
      return;
    }
    if (outcome.error !== undefined) throw outcome.error;
  }

  private zoneOf(cronJob: CronJob): string {
    return cronJob.spec?.timeZone ?? this.localTimeZone;
  }

  private async syncCronJob(cronJob: CronJob, jobs: readonly Job[]): Promise<SyncOutcome> {
    const now = this.nowMs();
    const status = (cronJob.status ??= {});
    let statusChanged = false;
    const children = new Set<string>();
    for (const job of jobs) {
      const jobUid = job.metadata?.uid ?? '';
      children.add(jobUid);
      const listed = this.inActiveList(cronJob, jobUid);
      if (!listed && !isJobFinished(job)) {
        // Possibly our own status write not seen yet: check a fresh read before complaining.
        const fresh = await this.client.cronJobs(cronJob.metadata?.namespace ?? '').get(cronJob.metadata?.name ?? '');
        if ((fresh.status?.active ?? []).some((ref) => ref.uid === jobUid)) {
          status.active = fresh.status?.active ?? [];
          continue;
        }
        this.context.recorder.record(cronJob, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata?.name ?? ''}`);
      } else if (listed && isJobFinished(job)) {
        this.removeFromActive(cronJob, jobUid);
        this.context.recorder.record(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata?.name ?? ''}, condition: ${finishedConditionOf(job)?.type ?? ''}`);
        statusChanged = true;
      }
      if (isJobSucceeded(job) && job.status?.completionTime !== undefined) {
        const completedMs = parseTime(job.status.completionTime) ?? 0;
        const lastMs = parseTime(status.lastSuccessfulTime);
        if (lastMs === undefined || completedMs > lastMs) {
          status.lastSuccessfulTime = job.status.completionTime;
          statusChanged = true;
        }
      }
    }
    // Active entries whose Job is gone: ask the server (the cache may be behind) before dropping them.
    for (const ref of [...(status.active ?? [])]) {
      if (children.has(ref.uid ?? '')) continue;
      try {
        await this.client.jobs(ref.namespace ?? cronJob.metadata?.namespace ?? '').get(ref.name ?? '');
      } catch (error) {
        if (!isNotFound(error)) return { statusChanged, error };
        this.context.recorder.record(cronJob, 'Normal', 'MissingJob', `Active job went missing: ${ref.name ?? ''}`);
        this.removeFromActive(cronJob, ref.uid ?? '');
        statusChanged = true;
      }
    }
    if (cronJob.metadata?.deletionTimestamp !== undefined) return { statusChanged };

    const spec = cronJob.spec;
    if (spec === undefined) return { statusChanged };
    const zone = this.zoneOf(cronJob);
    if (spec.timeZone !== undefined && !isValidTimeZone(spec.timeZone)) {
      this.context.recorder.record(cronJob, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${spec.timeZone}": unknown time zone ${spec.timeZone}`);
      return { statusChanged };
    }
    if (spec.suspend === true) return { statusChanged };
    let schedule: CronSchedule;
    try {
      schedule = parseSchedule(spec.schedule, zone);
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      this.context.recorder.record(cronJob, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${error.message}`);
      return { statusChanged };
    }
    const lastScheduleMs = parseTime(status.lastScheduleTime);
    const createdMs = parseTime(cronJob.metadata?.creationTimestamp) ?? now;
    const nextDelay = (): number => nextScheduleDelayMs(schedule, parseTime(status.lastScheduleTime), createdMs, now);
    let scheduledMs: number | undefined;
    try {
      const window = mostRecentScheduleTime(schedule, lastScheduleMs, createdMs, now, spec.startingDeadlineSeconds);
      if (window.missed === 'many') {
        this.context.recorder.record(cronJob, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
        this.logger.warn('too many missed start times', { controller: this.name, cronJob: objectKey(cronJob) });
      }
      scheduledMs = window.mostRecentMs;
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      this.context.recorder.record(cronJob, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${error.message}`);
      return { statusChanged };
    }
    if (scheduledMs === undefined) return { statusChanged, requeueAfterMs: nextDelay() };
    if (spec.startingDeadlineSeconds !== undefined && scheduledMs + spec.startingDeadlineSeconds * 1000 < now) {
      this.context.recorder.record(cronJob, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${formatRfc1123Z(scheduledMs)}`);
      return { statusChanged, requeueAfterMs: nextDelay() };
    }
    const jobName = jobNameFor(cronJob, scheduledMs);
    if ((status.active ?? []).some((ref) => ref.name === jobName) || lastScheduleMs === scheduledMs) {
      return { statusChanged, requeueAfterMs: nextDelay() };
    }
    const policy = spec.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && (status.active ?? []).length > 0) {
      this.context.recorder.record(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return { statusChanged, requeueAfterMs: nextDelay() };
    }
    if (policy === 'Replace') {
      for (const ref of [...(status.active ?? [])]) {
        let job: Job;
        try {
          job = await this.client.jobs(ref.namespace ?? cronJob.metadata?.namespace ?? '').get(ref.name ?? '');
        } catch (error) {
          this.context.recorder.record(cronJob, 'Warning', 'FailedGet', `Get job: ${error instanceof Error ? error.message : String(error)}`);
          return { statusChanged, error };
        }
        if (!(await this.deleteJob(cronJob, job))) return { statusChanged, error: new Error(`could not replace job ${job.metadata?.namespace ?? ''}/${job.metadata?.name ?? ''}`) };
        statusChanged = true;
      }
    }

    const namespace = cronJob.metadata?.namespace ?? '';
    let created: Job;
    try {
      created = await this.client.jobs(namespace).create(this.jobFromTemplate(cronJob, scheduledMs, zone));
      this.context.recorder.record(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata?.name ?? ''}`);
      this.logger.info('created job for scheduled run', { controller: this.name, cronJob: objectKey(cronJob), job: created.metadata?.name, scheduledTime: formatTime(scheduledMs) });
    } catch (error) {
      if (!isAlreadyExists(error)) {
        this.context.recorder.record(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${error instanceof Error ? error.message : String(error)}`);
        return { statusChanged, error };
      }
      // Created by an earlier sync whose status write was lost, or by someone else.
      try {
        created = await this.client.jobs(namespace).get(jobName);
      } catch (getError) {
        return { statusChanged, error: getError };
      }
      if (!isControlledBy(created, cronJob) || this.inActiveList(cronJob, created.metadata?.uid ?? '')) return { statusChanged };
    }
    (status.active ??= []).push(jobReference(created));
    status.lastScheduleTime = formatTime(scheduledMs);
    return { statusChanged: true, requeueAfterMs: nextDelay() };
  }

  /** The Job of one run: the template's labels, annotations and spec, the scheduled-time annotation and the controller reference. */
  private jobFromTemplate(cronJob: CronJob, scheduledMs: number, zone: string): Job {
    const template = cronJob.spec?.jobTemplate;
    const metadata: NonNullable<Job['metadata']> = {
      name: jobNameFor(cronJob, scheduledMs),
      namespace: cronJob.metadata?.namespace ?? '',
      labels: { ...(template?.metadata?.labels ?? {}) },
      annotations: { ...(template?.metadata?.annotations ?? {}), [CRONJOB_SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(scheduledMs, zone) },
      ownerReferences: [newControllerRef(cronJob, API_VERSION, KIND)],
    };
    const job: Job = { apiVersion: API_VERSION, kind: 'Job', metadata };
    if (template?.spec !== undefined) job.spec = deepCopy(template.spec);
    return job;
  }

  /** Deletes finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit, oldest start first. */
  private async cleanupFinishedJobs(cronJob: CronJob, jobs: readonly Job[]): Promise<boolean> {
    const spec = cronJob.spec;
    if (spec?.successfulJobsHistoryLimit === undefined && spec?.failedJobsHistoryLimit === undefined) return false;
    const succeeded = jobs.filter((job) => finishedConditionOf(job)?.type === 'Complete');
    const failed = jobs.filter((job) => finishedConditionOf(job)?.type === 'Failed');
    let changed = false;
    if (spec.successfulJobsHistoryLimit !== undefined && (await this.removeOldestJobs(cronJob, succeeded, spec.successfulJobsHistoryLimit))) changed = true;
    if (spec.failedJobsHistoryLimit !== undefined && (await this.removeOldestJobs(cronJob, failed, spec.failedJobsHistoryLimit))) changed = true;
    return changed;
  }

  private async removeOldestJobs(cronJob: CronJob, jobs: readonly Job[], keep: number): Promise<boolean> {
    const excess = jobs.length - keep;
    if (excess <= 0) return false;
    // Oldest start first; Jobs that never started sort last, ties by name.
    const ordered = [...jobs].sort((a, b) => {
      const startA = parseTime(a.status?.startTime) ?? Number.POSITIVE_INFINITY;
      const startB = parseTime(b.status?.startTime) ?? Number.POSITIVE_INFINITY;
      if (startA !== startB) return startA < startB ? -1 : 1;
      return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
    });
    let changed = false;
    for (const job of ordered.slice(0, excess)) if (await this.deleteJob(cronJob, job)) changed = true;
    return changed;
  }

  /** Deletes a Job (its pods in the background) and drops it from status.active; false when the delete failed. */
  private async deleteJob(cronJob: CronJob, job: Job): Promise<boolean> {
    const name = job.metadata?.name ?? '';
    try {
      await this.client.jobs(job.metadata?.namespace ?? '').delete(name, { propagationPolicy: 'Background' });
    } catch (error) {
      if (!isNotFound(error)) {
        this.context.recorder.record(cronJob, 'Warning', 'FailedDelete', `Deleted job: ${error instanceof Error ? error.message : String(error)}`);
        this.logger.warn('could not delete job of cronjob', { controller: this.name, cronJob: objectKey(cronJob), job: name, error });
        return false;
      }
    }
    this.removeFromActive(cronJob, job.metadata?.uid ?? '');
    this.context.recorder.record(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${name}`);
    return true;
  }

  private inActiveList(cronJob: CronJob, jobUid: string): boolean {
    return (cronJob.status?.active ?? []).some((ref) => ref.uid === jobUid);
  }

  private removeFromActive(cronJob: CronJob, jobUid: string): void {
    const status = cronJob.status;
    if (status?.active === undefined) return;
    status.active = status.active.filter((ref) => ref.uid !== jobUid);
    if (status.active.length === 0) delete status.active;
  }

  // ---- event handlers ----

  private cronJobUpdated(old: CronJob, cronJob: CronJob): void {
    const scheduleChanged = old.spec?.schedule !== cronJob.spec?.schedule || old.spec?.timeZone !== cronJob.spec?.timeZone;
    if (!scheduleChanged) {
      this.enqueue(cronJob);
      return;
    }
    // A new schedule: wake up for its next run instead of now.
    try {
      const schedule = parseSchedule(cronJob.spec?.schedule ?? '', this.zoneOf(cronJob));
      const createdMs = parseTime(cronJob.metadata?.creationTimestamp) ?? this.nowMs();
      this.enqueueAfter(cronJob, nextScheduleDelayMs(schedule, parseTime(cronJob.status?.lastScheduleTime), createdMs, this.nowMs()));
    } catch (error) {
      if (!(error instanceof ScheduleError)) throw error;
      this.context.recorder.record(cronJob, 'Warning', 'UnParseableCronJobSchedule', `unparseable schedule for cronjob: ${cronJob.spec?.schedule ?? ''}`);
    }
  }

  private resolve(namespace: string, ref: OwnerReference | undefined): CronJob | undefined {
    return resolveControllerRef(this.cronJobs, namespace, ref, KIND);
  }

  private jobChanged(job: Job): void {
    const owner = this.resolve(job.metadata?.namespace ?? '', controllerOf(job));
    if (owner !== undefined) this.enqueue(owner);
  }
}

function jobReference(job: Job): ObjectReference {
  const ref: ObjectReference = { kind: 'Job', namespace: job.metadata?.namespace ?? '', name: job.metadata?.name ?? '', uid: job.metadata?.uid ?? '', apiVersion: API_VERSION };
  if (job.metadata?.resourceVersion !== undefined) ref.resourceVersion = job.metadata.resourceVersion;
  return ref;
}
