// Back-off between pod failures, as upstream's backoff store: after n
// consecutive failures (since the last success) a Job waits
// base * 2^(n-1), capped, counted from the last failure, before it creates
// replacement pods. Kept in memory, as upstream keeps it.
import { getPodCondition, parseTime, type Pod } from '@kube-lite/api';

/** First delay after a pod failure (upstream DefaultJobPodFailureBackOff). */
export const POD_FAILURE_BACKOFF_BASE_MS = 10_000;
/** The cap of the doubling delay: six minutes, as the Kubernetes documentation of backoffLimit states. */
export const POD_FAILURE_BACKOFF_MAX_MS = 6 * 60_000;

export interface BackoffRecord {
  /** Failed pods counted since the last succeeded one. */
  failuresAfterLastSuccess: number;
  /** When the latest of them finished. */
  lastFailureMs: number | undefined;
}

const NO_FAILURES: BackoffRecord = { failuresAfterLastSuccess: 0, lastFailureMs: undefined };

/**
 * When a pod finished: the latest container finish when every container has
 * one, else when it turned not ready, else its deletion time less the grace
 * period, else its creation (upstream getFinishedTime).
 */
export function podFinishedMs(pod: Pod): number {
  const statuses = pod.status?.containerStatuses ?? [];
  if (statuses.length > 0) {
    const finishes = statuses.map((status) => parseTime(status.state?.terminated?.finishedAt));
    if (finishes.every((finish): finish is number => finish !== undefined)) return Math.max(...finishes);
  }
  const ready = getPodCondition(pod, 'Ready');
  const notReadySince = ready?.status === 'False' ? parseTime(ready.lastTransitionTime ?? undefined) : undefined;
  if (notReadySince !== undefined) return notReadySince;
  const deletedMs = parseTime(pod.metadata?.deletionTimestamp);
  if (deletedMs !== undefined) return deletedMs - (pod.metadata?.deletionGracePeriodSeconds ?? 0) * 1000;
  return parseTime(pod.metadata?.creationTimestamp) ?? 0;
}

/** The delay still to wait before creating pods again; 0 when none. */
export function remainingBackoffMs(record: BackoffRecord, nowMs: number, baseMs = POD_FAILURE_BACKOFF_BASE_MS, maxMs = POD_FAILURE_BACKOFF_MAX_MS): number {
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureMs === undefined) return 0;
  let delayMs = baseMs;
  for (let failure = 1; failure < record.failuresAfterLastSuccess && delayMs < maxMs; failure += 1) delayMs *= 2;
  delayMs = Math.min(delayMs, maxMs);
  const elapsedMs = nowMs - record.lastFailureMs;
  return elapsedMs >= delayMs ? 0 : delayMs - elapsedMs;
}

export class BackoffStore {
  private readonly records = new Map<string, BackoffRecord>();

  get(key: string): BackoffRecord {
    return this.records.get(key) ?? NO_FAILURES;
  }

  /**
   * The record after counting newly finished pods (not stored): a success
   * resets the count to the failures that finished after the latest success.
   */
  next(key: string, newSucceeded: readonly Pod[], newFailed: readonly Pod[]): BackoffRecord {
    const previous = this.get(key);
    if (newFailed.length === 0 && newSucceeded.length === 0) return previous;
    const failedTimes = newFailed.map(podFinishedMs).sort((a, b) => a - b);
    if (newSucceeded.length === 0) {
      return { failuresAfterLastSuccess: previous.failuresAfterLastSuccess + failedTimes.length, lastFailureMs: failedTimes[failedTimes.length - 1] };
    }
    const lastSuccessMs = Math.max(...newSucceeded.map(podFinishedMs));
    const after = failedTimes.filter((time) => time > lastSuccessMs);
    return { failuresAfterLastSuccess: after.length, lastFailureMs: after[after.length - 1] };
  }

  set(key: string, record: BackoffRecord): void {
    if (record.failuresAfterLastSuccess === 0) this.records.delete(key);
    else this.records.set(key, record);
  }

  delete(key: string): void {
    this.records.delete(key);
  }
}
