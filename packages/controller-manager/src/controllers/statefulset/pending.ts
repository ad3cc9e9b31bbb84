// The pod writes a StatefulSet controller has made and its pod cache has not
// shown yet. Until the cache shows them, a sync must not act on a view that
// lacks them (it would create web-0 twice, or delete the next pod before the
// first deletion is visible). Unlike count-based expectations these are
// resolved by looking at the cache itself, by pod uid, so a missed event
// cannot wedge a set; entries also expire after EXPECTATIONS_TIMEOUT_MS.
import type { Pod } from '@kube-lite/api';
import { EXPECTATIONS_TIMEOUT_MS } from '../../controller-utils';

interface PendingWrite {
  verb: 'create' | 'delete';
  uid: string;
  atMs: number;
}

export class PendingPodWrites {
  private readonly bySet = new Map<string, PendingWrite[]>();

  constructor(private readonly nowMs: () => number) {}

  /** The created pod (as the API answered) is not in the cache yet. */
  created(setKey: string, pod: Pod): void {
    this.add(setKey, { verb: 'create', uid: pod.metadata?.uid ?? '', atMs: this.nowMs() });
  }

  /** The deleted pod is still in the cache without a deletionTimestamp. */
  deleted(setKey: string, pod: Pod): void {
    this.add(setKey, { verb: 'delete', uid: pod.metadata?.uid ?? '', atMs: this.nowMs() });
  }

  /** Drops what `cachedPods` already shows; true when nothing is left to wait for. */
  settled(setKey: string, cachedPods: readonly Pod[]): boolean {
    const writes = this.bySet.get(setKey);
    if (writes === undefined) return true;
    const byUid = new Map(cachedPods.map((pod) => [pod.metadata?.uid ?? '', pod]));
    const now = this.nowMs();
    const left = writes.filter((write) => {
      if (now - write.atMs > EXPECTATIONS_TIMEOUT_MS || write.uid === '') return false;
      const cached = byUid.get(write.uid);
      return write.verb === 'create' ? cached === undefined : cached !== undefined && cached.metadata?.deletionTimestamp === undefined;
    });
    if (left.length === 0) this.bySet.delete(setKey);
    else this.bySet.set(setKey, left);
    return left.length === 0;
  }

  forget(setKey: string): void {
    this.bySet.delete(setKey);
  }

  /** Writes still awaited, for tests and logs. */
  count(setKey: string): number {
    return this.bySet.get(setKey)?.length ?? 0;
  }

  private add(setKey: string, write: PendingWrite): void {
    const writes = this.bySet.get(setKey) ?? [];
    writes.push(write);
    this.bySet.set(setKey, writes);
  }
}
