// Tracking finished pods with a finalizer, as upstream does: every Job pod
// carries batch.kubernetes.io/job-tracking until the Job controller has
// recorded it in status.uncountedTerminatedPods, so neither the kubelet, the
// pod GC nor a user deleting it can make a finished pod vanish uncounted.
import type { Pod } from '@kube-lite/api';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

export function hasTrackingFinalizer(pod: Pod): boolean {
  return pod.metadata?.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
}

/** The strategic merge patch removing the finalizer (it carries the pod uid so it never touches a recreated pod). */
export function removeTrackingFinalizerPatch(pod: Pod): unknown {
  return { metadata: { '$deleteFromPrimitiveList/finalizers': [JOB_TRACKING_FINALIZER], uid: pod.metadata?.uid ?? '' } };
}

/**
 * The pods (by uid) whose finalizer removal a Job's sync requested and the
 * informer has not shown yet (upstream uidTrackingExpectations): until it
 * does, the cache still shows the finalizer and the pod must not be counted
 * a second time.
 */
export class FinalizerExpectations {
  private readonly pending = new Map<string, Set<string>>();

  expectRemovals(jobKey: string, podUids: readonly string[]): void {
    if (podUids.length === 0) return;
    const set = this.pending.get(jobKey) ?? new Set<string>();
    for (const uid of podUids) set.add(uid);
    this.pending.set(jobKey, set);
  }

  /** The removal was seen (or failed, so it will never be seen). */
  removalObserved(jobKey: string, podUid: string): void {
    const set = this.pending.get(jobKey);
    if (set === undefined) return;
    set.delete(podUid);
    if (set.size === 0) this.pending.delete(jobKey);
  }

  expectedUids(jobKey: string): ReadonlySet<string> {
    return new Set(this.pending.get(jobKey) ?? []);
  }

  delete(jobKey: string): void {
    this.pending.delete(jobKey);
  }
}
