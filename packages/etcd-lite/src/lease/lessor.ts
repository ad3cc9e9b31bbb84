// Leases, as etcd's lessor. What is replicated (granted leases, their TTLs,
// the keys attached to them) changes only through Raft-applied calls (grant,
// revoke, and puts/deletes observed on the MVCC store), so it is identical on
// every member. Expiry is not replicated: only the primary (the leader's
// lessor) keeps deadlines, from the caller's clock; it reports expired
// leases and the server proposes their revocation through Raft, so an
// expiry survives a leader change. A new leader's lessor restarts every
// lease's full TTL on promote(), as etcd does.

import type { Backend } from '../backend';
import { toLatin1, type MvccStore } from '../mvcc';
import { LeaseExistsError, LeaseNotFoundError, LeaseTtlTooLargeError, NotPrimaryError } from './errors';

export const leaseBucket = 'lease';
/** etcd's MaxLeaseTTL. */
export const maxLeaseTtlSeconds = 9_000_000_000;

export interface LessorOptions {
  /** Shorter requested TTLs are raised to this (etcd: 1.5 election timeouts, rounded up); default 2. */
  minTtlSeconds?: number;
  /** A lease reported by expiredLeases() is not reported again for this long, while its revoke is in flight; default 3000. */
  expiredRetryMs?: number;
  /** The clock for deadlines set on grant while primary; default Date.now. */
  nowMs?: () => number;
}

export interface LeaseInfo {
  id: number;
  /** The granted TTL (after raising to the minimum). */
  ttlSeconds: number;
  /** Attached keys in byte order. */
  keys: Buffer[];
}

export interface LeaseTimeToLive {
  id: number;
  /** Whole seconds left (0 once expired); on a non-primary member the granted TTL. */
  remainingSeconds: number;
  grantedTtlSeconds: number;
  keys: Buffer[];
}

interface Lease {
  id: number;
  ttlSeconds: number;
  /** latin1 keys. */
  keys: Set<string>;
  /** Infinity while this lessor is not primary. */
  expiryMs: number;
  /** expiredLeases() skips the lease until then. */
  retryAfterMs: number;
}

const idBytes = (id: number): Buffer => {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64BE(BigInt(id));
  return bytes;
};
const ttlBytes = idBytes;
const maxSafeId = Number.MAX_SAFE_INTEGER;

/**
 * The id etcd-lite assigns when a grant asks for id 0: derived from the Raft
 * index (so every member agrees) and scrambled so ids look like etcd's
 * rather than counting up. Stays within 1 .. 2^53-1.
 */
export function leaseIdForIndex(raftIndex: number): number {
  const scrambled = (BigInt(raftIndex) * 0x9e3779b97f4a7c15n) & ((1n << 53n) - 1n);
  return Number(scrambled) || 1;
}

export class Lessor {
  private leasesById = new Map<number, Lease>();
  private primary = false;
  private readonly minTtlSeconds: number;
  private readonly expiredRetryMs: number;
  private readonly clock: () => number;
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly store: MvccStore,
    private readonly backend: Backend,
    options: LessorOptions,
  ) {
    this.minTtlSeconds = options.minTtlSeconds ?? 2;
    this.expiredRetryMs = options.expiredRetryMs ?? 3000;
    this.clock = options.nowMs ?? Date.now;
    this.unsubscribe = store.onCommit((_revision, events) => {
      for (const event of events) {
        const key = toLatin1(event.kv.key);
        const previousLease = event.prev_kv?.lease ?? 0;
        if (previousLease !== 0) this.leasesById.get(previousLease)?.keys.delete(key);
        if (event.type === 'PUT' && event.kv.lease !== 0) this.leasesById.get(event.kv.lease)?.keys.add(key);
      }
    });
  }

  /** Loads leases from the store's backend and attaches the keys that name them. */
  static async open(store: MvccStore, options: LessorOptions = {}): Promise<Lessor> {
    const lessor = new Lessor(store, store.backend, options);
    await lessor.reload();
    return lessor;
  }

  /** Rebuilds from the backend, e.g. after the store reloaded a snapshot. Leaves the lessor not primary. */
  async reload(): Promise<void> {
    const leases = new Map<number, Lease>();
    for await (const entry of this.backend.range(leaseBucket)) {
      const id = Number(entry.key.readBigInt64BE(0));
      leases.set(id, { id, ttlSeconds: Number(entry.value.readBigInt64BE(0)), keys: new Set(), expiryMs: Infinity, retryAfterMs: 0 });
    }
    const all = Buffer.from([0]);
    for (const kv of this.store.range(all, all).kvs) {
      if (kv.lease !== 0) leases.get(kv.lease)?.keys.add(toLatin1(kv.key));
    }
    this.leasesById = leases;
    this.primary = false;
  }

  get isPrimary(): boolean {
    return this.primary;
  }

  /**
   * Creates a lease (Raft-applied). Id 0 picks leaseIdForIndex(raftIndex),
   * or the next free id after it. Throws LeaseExistsError, LeaseTtlTooLargeError.
   */
  grant(id: number, ttlSeconds: number, raftIndex: number): LeaseInfo {
    if (ttlSeconds > maxLeaseTtlSeconds) throw new LeaseTtlTooLargeError(ttlSeconds, maxLeaseTtlSeconds);
    let leaseId = id;
    if (leaseId === 0) {
      leaseId = leaseIdForIndex(raftIndex);
      while (this.leasesById.has(leaseId)) leaseId = leaseId >= maxSafeId ? 1 : leaseId + 1;
    } else if (this.leasesById.has(leaseId)) {
      throw new LeaseExistsError(leaseId);
    }
    const ttl = Math.max(ttlSeconds, this.minTtlSeconds);
    const txn = this.store.write(raftIndex);
    txn.putBackend(leaseBucket, idBytes(leaseId), ttlBytes(ttl));
    txn.end();
    const lease: Lease = { id: leaseId, ttlSeconds: ttl, keys: new Set(), expiryMs: Infinity, retryAfterMs: 0 };
    if (this.primary) lease.expiryMs = this.clock() + ttl * 1000;
    this.leasesById.set(leaseId, lease);
    return { id: leaseId, ttlSeconds: ttl, keys: [] };
  }

  /**
   * Deletes a lease and, in one write transaction (one revision), every key
   * attached to it (Raft-applied). Returns the store revision afterwards.
   */
  revoke(id: number, raftIndex: number): number {
    const lease = this.leasesById.get(id);
    if (lease === undefined) throw new LeaseNotFoundError(id);
    const txn = this.store.write(raftIndex);
    for (const key of [...lease.keys].sort()) txn.deleteRange(Buffer.from(key, 'latin1'));
    txn.deleteBackend(leaseBucket, idBytes(id));
    this.leasesById.delete(id);
    return txn.end().revision;
  }

  /** Whether lease `id` exists; cheaper than lookup, which lists its keys (every Put with a lease asks). */
  has(id: number): boolean {
    return this.leasesById.has(id);
  }

  lookup(id: number): LeaseInfo | undefined {
    const lease = this.leasesById.get(id);
    return lease === undefined ? undefined : { id, ttlSeconds: lease.ttlSeconds, keys: sortedKeys(lease) };
  }

  /** Every lease id, ascending. */
  leaseIds(): number[] {
    return [...this.leasesById.keys()].sort((a, b) => a - b);
  }

  /** Restarts a lease's TTL (primary only); returns the TTL. Throws NotPrimaryError, LeaseNotFoundError (also once expired). */
  renew(id: number, nowMs: number): number {
    if (!this.primary) throw new NotPrimaryError();
    const lease = this.leasesById.get(id);
    if (lease === undefined || lease.expiryMs <= nowMs) throw new LeaseNotFoundError(id);
    lease.expiryMs = nowMs + lease.ttlSeconds * 1000;
    lease.retryAfterMs = 0;
    return lease.ttlSeconds;
  }

  timeToLive(id: number, nowMs: number): LeaseTimeToLive | undefined {
    const lease = this.leasesById.get(id);
    if (lease === undefined) return undefined;
    const remainingSeconds = Number.isFinite(lease.expiryMs) ? Math.max(0, Math.trunc((lease.expiryMs - nowMs) / 1000)) : lease.ttlSeconds;
    return { id, remainingSeconds, grantedTtlSeconds: lease.ttlSeconds, keys: sortedKeys(lease) };
  }

  /**
   * Leases past their deadline (primary only), earliest first, at most
   * `limit`. Each is held back for expiredRetryMs so the server proposes one
   * revoke at a time; it comes back if the revoke did not get applied.
   */
  expiredLeases(nowMs: number, limit = 1000): number[] {
    if (!this.primary) return [];
    const expired = [...this.leasesById.values()]
      .filter((lease) => lease.expiryMs <= nowMs && lease.retryAfterMs <= nowMs)
      .sort((a, b) => a.expiryMs - b.expiryMs || a.id - b.id)
      .slice(0, Math.max(0, limit));
    for (const lease of expired) lease.retryAfterMs = nowMs + this.expiredRetryMs;
    return expired.map((lease) => lease.id);
  }

  /**
   * Becomes primary (this member leads): every lease gets its full TTL again
   * from now, plus `extendMs` (etcd extends by an election timeout so clients
   * can find the new leader before anything expires).
   */
  promote(nowMs: number, extendMs = 0): void {
    this.primary = true;
    for (const lease of this.leasesById.values()) {
      lease.expiryMs = nowMs + extendMs + lease.ttlSeconds * 1000;
      lease.retryAfterMs = 0;
    }
  }

  /** Stops tracking deadlines (this member no longer leads). */
  demote(): void {
    this.primary = false;
    for (const lease of this.leasesById.values()) lease.expiryMs = Infinity;
  }

  close(): void {
    this.unsubscribe();
  }
}

function sortedKeys(lease: Lease): Buffer[] {
  return [...lease.keys].sort().map((key) => Buffer.from(key, 'latin1'));
}
