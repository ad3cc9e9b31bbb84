// The ttl-after-finished controller, as upstream's: deletes a finished Job
// spec.ttlSecondsAfterFinished seconds after its Complete or Failed
// condition turned True, re-checking a fresh read first (the TTL may have
// changed) and deleting in the foreground with the uid as a precondition, so
// the garbage collector removes the pods before the Job itself goes.
import { parseTime, type Job } from '@kube-lite/api';
import { isNotFound, splitObjectKey, type Lister } from '@kube-lite/client';
import { QueueController, type ControllerContext } from '../../controller';
import { finishedConditionOf } from './conditions';

export const TTL_AFTER_FINISHED_CONTROLLER_NAME = 'ttl-after-finished';

/** A finished Job whose finish time cannot be read: a bug in whatever wrote its condition. */
export class JobFinishTimeError extends Error {
  override readonly name = 'JobFinishTimeError';
}

function needsCleanup(job: Job): boolean {
  return job.spec?.ttlSecondsAfterFinished !== undefined && finishedConditionOf(job) !== undefined;
}

export class TtlAfterFinishedController extends QueueController {
  private readonly jobs: Lister<Job>;

  constructor(context: ControllerContext) {
    super(TTL_AFTER_FINISHED_CONTROLLER_NAME, context);
    const informer = context.informers.jobs();
    this.jobs = informer.lister;
    const consider = (job: Job): void => {
      if (job.metadata?.deletionTimestamp === undefined && needsCleanup(job)) this.enqueue(job);
    };
    informer.addEventHandler({ onAdd: consider, onUpdate: (_old, job) => consider(job) });
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const cached = this.jobs.get(namespace, name);
    if (cached === undefined || this.expiredAtMs(cached) === undefined) return;
    // The cache may be stale (a raised TTL): decide on a fresh read.
    let fresh: Job;
    try {
      fresh = await this.client.jobs(namespace).get(name);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    const expiredAtMs = this.expiredAtMs(fresh);
    if (expiredAtMs === undefined) return;
    try {
      await this.client.jobs(namespace).delete(name, { propagationPolicy: 'Foreground', preconditions: { uid: fresh.metadata?.uid ?? '' } });
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    this.logger.info('deleted finished job after its TTL', { controller: this.name, job: key, ttlSeconds: fresh.spec?.ttlSecondsAfterFinished, lateMs: this.nowMs() - expiredAtMs });
  }

  /** When the Job's TTL expired, if it has; otherwise requeues it for that moment and answers undefined. */
  private expiredAtMs(job: Job): number | undefined {
    if (job.metadata?.deletionTimestamp !== undefined || !needsCleanup(job)) return undefined;
    const condition = finishedConditionOf(job);
    const finishedMs = parseTime(condition?.lastTransitionTime);
    if (finishedMs === undefined) {
      throw new JobFinishTimeError(`unable to find the time when the Job ${job.metadata?.namespace ?? ''}/${job.metadata?.name ?? ''} finished`);
    }
    const expireAtMs = finishedMs + (job.spec?.ttlSecondsAfterFinished ?? 0) * 1000;
    const remainingMs = expireAtMs - this.nowMs();
    if (remainingMs <= 0) return expireAtMs;
    this.enqueueAfter(job, remainingMs);
    return undefined;
  }
}
