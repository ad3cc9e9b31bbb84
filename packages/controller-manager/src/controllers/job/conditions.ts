// Job conditions as upstream's job utilities read and write them; shared by
// the Job, ttl-after-finished and CronJob controllers.
import { formatTime, type Job, type JobCondition } from '@kube-lite/api';

/** The Complete or Failed condition that is True: the Job is finished (upstream IsJobFinished). */
export function finishedConditionOf(job: Job): JobCondition | undefined {
  return job.status?.conditions?.find((condition) => (condition.type === 'Complete' || condition.type === 'Failed') && condition.status === 'True');
}

export function isJobFinished(job: Job): boolean {
  return finishedConditionOf(job) !== undefined;
}

/** Finished with Complete=True (upstream IsJobSucceeded). */
export function isJobSucceeded(job: Job): boolean {
  return finishedConditionOf(job)?.type === 'Complete';
}

export function findCondition(job: Job, type: string): JobCondition | undefined {
  return job.status?.conditions?.find((condition) => condition.type === type);
}

export function newJobCondition(type: string, status: 'True' | 'False', reason: string, message: string, nowMs: number): JobCondition {
  const at = formatTime(nowMs);
  return { type, status, lastProbeTime: at, lastTransitionTime: at, reason, message };
}

/**
 * Sets the condition of `type` to the given status, reason and message
 * (upstream ensureJobConditionStatus): an existing one is replaced when any of
 * them differs; a missing one is appended unless it would be False (nothing
 * to False says nothing). Returns whether the list changed.
 */
export function ensureJobCondition(conditions: JobCondition[], type: string, status: 'True' | 'False', reason: string, message: string, nowMs: number): boolean {
  const index = conditions.findIndex((condition) => condition.type === type);
  const existing = conditions[index];
  if (existing !== undefined) {
    if (existing.status === status && existing.reason === reason && existing.message === message) return false;
    conditions[index] = newJobCondition(type, status, reason, message, nowMs);
    return true;
  }
  if (status === 'False') return false;
  conditions.push(newJobCondition(type, status, reason, message, nowMs));
  return true;
}
