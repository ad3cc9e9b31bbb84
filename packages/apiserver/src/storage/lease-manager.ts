// Leases for objects with a time to live (Events). Granting a lease per write
// would make etcd track one lease per object; like upstream, a lease is reused
// for writes whose requested TTL it can honour within a small tolerance, so
// an object may live a little longer than asked, never shorter.

import type { Etcd3 } from 'etcd3';
import { revisionNumber } from './resource-version';

export interface LeaseManagerOptions {
  /** Longest extra lifetime an object may get from a reused lease, in seconds. */
  maxReuseWindowSeconds?: number;
  /** Share of the requested TTL that may be added by reuse (upstream uses 5%). */
  reuseWindowFraction?: number;
  /** Reads the time; tests pass a fake. */
  nowMs?: () => number;
}

interface HeldLease {
  id: string;
  expiresAtMs: number;
}

export class LeaseManager {
  private held: HeldLease | undefined;
  private granting: Promise<HeldLease> | undefined;
  private readonly maxReuseWindowSeconds: number;
  private readonly reuseWindowFraction: number;
  private readonly nowMs: () => number;

  constructor(
    private readonly client: Etcd3,
    options: LeaseManagerOptions = {},
  ) {
    this.maxReuseWindowSeconds = options.maxReuseWindowSeconds ?? 60;
    this.reuseWindowFraction = options.reuseWindowFraction ?? 0.05;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** A lease id that keeps a key alive at least ttlSeconds from now. */
  async leaseFor(ttlSeconds: number, deadlineMs: number): Promise<string> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
    const reuseWindowSeconds = Math.min(this.maxReuseWindowSeconds, Math.floor(ttlSeconds * this.reuseWindowFraction));
    const fits = (lease: HeldLease | undefined): lease is HeldLease => {
      if (!lease) return false;
      const remainingSeconds = (lease.expiresAtMs - this.nowMs()) / 1000;
      return remainingSeconds >= ttlSeconds && remainingSeconds <= ttlSeconds + reuseWindowSeconds;
    };
    if (fits(this.held)) return this.held.id;
    const pending = this.granting;
    if (pending) {
      const lease = await pending;
      if (fits(lease)) return lease.id;
    }
    const grant = this.grant(ttlSeconds + reuseWindowSeconds, deadlineMs);
    this.granting = grant;
    try {
      const lease = await grant;
      this.held = lease;
      return lease.id;
    } finally {
      if (this.granting === grant) this.granting = undefined;
    }
  }

  private async grant(ttlSeconds: number, deadlineMs: number): Promise<HeldLease> {
    const startedMs = this.nowMs();
    const response = await this.client.leaseClient.leaseGrant({ TTL: ttlSeconds }, { deadline: deadlineMs });
    if (response.error) throw new Error(`etcd refused a ${ttlSeconds}s lease: ${response.error}`);
    // Counting from before the request keeps our idea of expiry no later than etcd's.
    return { id: response.ID, expiresAtMs: startedMs + revisionNumber(response.TTL) * 1000 };
  }
}
