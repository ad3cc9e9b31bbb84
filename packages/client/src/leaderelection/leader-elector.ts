// Leader election on a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection package: whoever writes its identity into the Lease leads,
// renews it every retryPeriod, and steps down if it cannot renew within
// renewDeadline. Others take over once they have seen the Lease unchanged for
// leaseDuration, or at once when the leader releases it on shutdown.
//
// Safety rests on renewDeadline < leaseDuration: a leader that cannot reach
// the API server stops leading before anyone else may start. Expiry is judged
// by each elector's own clock from when *it* saw the record change (never by
// comparing clocks across machines), with its own configured leaseDuration,
// which also lets tests use sub-second leases (the Lease only stores whole
// seconds).
import { formatMicroTime, jsonEqual, type Lease, type LeaseSpec } from '@kube-lite/api';
import type { ApiClient } from '../api-client';
import { ClientConfigError, isNotFound } from '../errors';
import { silentLogger, type Logger } from '../logger';

export interface LeaderElectorOptions {
  client: ApiClient;
  /** Namespace of the Lease ("kube-system" for the control plane). */
  lockNamespace: string;
  /** Name of the Lease, one per component ("kube-scheduler"). */
  lockName: string;
  /** Unique per process (hostname plus a random suffix); written as spec.holderIdentity. */
  identity: string;
  /** How long others wait after the last change they saw before taking over; 15 s by default. */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading; 10 s by default. */
  renewDeadlineMs?: number;
  /** Interval between attempts to acquire or renew; 2 s by default. */
  retryPeriodMs?: number;
  /** Called once leadership is acquired; `signal` aborts when it is lost or released. */
  onStartedLeading?: (signal: AbortSignal) => void | Promise<void>;
  /** Called when leadership ends (lost or released); typically the process exits. */
  onStoppedLeading?: () => void;
  /** Called whenever a different holder is observed, including this elector. */
  onNewLeader?: (identity: string) => void;
  /** Clear the holder on stop() so another elector takes over at once; true by default. */
  releaseOnCancel?: boolean;
  /** Clock for expiry and the Lease's timestamps; Date.now by default. */
  nowMs?: () => number;
  logger?: Logger;
}

/** Jitter applied to retryPeriod, as client-go's JitterFactor. */
const JITTER_FACTOR = 1.2;

export class LeaderElector {
  private readonly client: ApiClient;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly nowMs: () => number;
  private readonly logger: Logger;
  private observedSpec: LeaseSpec | undefined;
  private observedTimeMs = 0;
  private reportedLeader = '';
  private leading = false;
  private stopped = false;
  private running: Promise<void> | undefined;
  private wakeSleep: (() => void) | undefined;
  private leadership: AbortController | undefined;

  constructor(private readonly options: LeaderElectorOptions) {
    this.client = options.client;
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.nowMs = options.nowMs ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    if (!options.identity) throw new ClientConfigError('leader election identity must not be empty');
    if (!options.lockName || !options.lockNamespace) throw new ClientConfigError('leader election needs lockNamespace and lockName');
    if (this.retryPeriodMs <= 0) throw new ClientConfigError(`retryPeriodMs must be positive, got ${this.retryPeriodMs}`);
    if (this.leaseDurationMs <= this.renewDeadlineMs) {
      throw new ClientConfigError(`leaseDurationMs (${this.leaseDurationMs}) must be greater than renewDeadlineMs (${this.renewDeadlineMs})`);
    }
    if (this.renewDeadlineMs <= JITTER_FACTOR * this.retryPeriodMs) {
      throw new ClientConfigError(`renewDeadlineMs (${this.renewDeadlineMs}) must be greater than ${JITTER_FACTOR} x retryPeriodMs (${this.retryPeriodMs})`);
    }
  }

  /** True while this elector holds the lease and has renewed it within renewDeadline. */
  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last observed in the Lease ("" if none). */
  getLeader(): string {
    return this.observedSpec?.holderIdentity ?? '';
  }

  /** Campaigns, then leads until leadership is lost or stop() is called; resolves when done. Runs once per elector. */
  run(): Promise<void> {
    this.running ??= this.campaign();
    return this.running;
  }

  /** Stops campaigning or leading (releasing the lease when leading and releaseOnCancel); resolves when run() has finished. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeSleep?.();
    await this.running;
  }

  private async campaign(): Promise<void> {
    const lock = `${this.options.lockNamespace}/${this.options.lockName}`;
    this.logger.info('attempting to acquire leader lease', { lease: lock, identity: this.options.identity });
    while (!this.stopped) {
      if (await this.tryAcquireOrRenew(this.retryPeriodMs)) break;
      await this.sleep(this.retryPeriodMs * (1 + Math.random() * (JITTER_FACTOR - 1)));
    }
    if (this.stopped) return;
    this.leading = true;
    this.leadership = new AbortController();
    this.logger.info('acquired leader lease', { lease: lock, identity: this.options.identity });
    this.startLeading(this.leadership.signal);

    while (!this.stopped) {
      const deadlineMs = this.nowMs() + this.renewDeadlineMs;
      let renewed = false;
      while (!this.stopped && !renewed) {
        const remainingMs = deadlineMs - this.nowMs();
        if (remainingMs <= 0) break;
        renewed = await this.tryAcquireOrRenew(remainingMs);
        if (!renewed && this.holderIsOther()) break;
        if (!renewed) await this.sleep(Math.min(this.retryPeriodMs, Math.max(0, deadlineMs - this.nowMs())));
      }
      // Renewing past the deadline would overlap a new leader.
      if (renewed && this.nowMs() > deadlineMs) renewed = false;
      if (this.stopped) break;
      if (!renewed) {
        this.logger.warn('failed to renew leader lease; stepping down', { lease: lock, identity: this.options.identity });
        break;
      }
      await this.sleep(this.retryPeriodMs);
    }

    this.leading = false;
    this.leadership.abort();
    if (this.stopped && this.options.releaseOnCancel !== false) await this.release();
    this.logger.info('stopped leading', { lease: lock, identity: this.options.identity });
    try {
      this.options.onStoppedLeading?.();
    } catch (error) {
      this.logger.error('onStoppedLeading failed', { error });
    }
  }

  private startLeading(signal: AbortSignal): void {
    try {
      const started = this.options.onStartedLeading?.(signal);
      if (started instanceof Promise) started.catch((error: unknown) => this.logger.error('onStartedLeading failed', { error }));
    } catch (error) {
      this.logger.error('onStartedLeading failed', { error });
    }
  }

  private holderIsOther(): boolean {
    const holder = this.observedSpec?.holderIdentity ?? '';
    return holder !== '' && holder !== this.options.identity;
  }

  /** One attempt: create the Lease, renew our hold on it, or take it over if it expired or was released. */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<boolean> {
    const now = this.nowMs();
    const leases = this.client.leases(this.options.lockNamespace);
    const leaseDurationSeconds = Math.max(1, Math.round(this.leaseDurationMs / 1000));
    let lease: Lease;
    try {
      lease = await leases.get(this.options.lockName, { timeoutMs });
    } catch (error) {
      if (!isNotFound(error)) {
        this.logger.warn('error retrieving leader lease', { lease: this.options.lockName, error });
        return false;
      }
      const spec: LeaseSpec = { holderIdentity: this.options.identity, leaseDurationSeconds, acquireTime: formatMicroTime(now), renewTime: formatMicroTime(now), leaseTransitions: 0 };
      try {
        await leases.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.options.lockName, namespace: this.options.lockNamespace }, spec }, { timeoutMs });
      } catch (createError) {
        this.logger.debug('could not create leader lease', { error: createError });
        return false;
      }
      this.observe(spec, now);
      return true;
    }

    const old = lease.spec ?? {};
    if (this.observedSpec === undefined || !jsonEqual(old, this.observedSpec)) this.observe(old, now);
    const holder = old.holderIdentity ?? '';
    const heldByMe = holder === this.options.identity;
    if (holder !== '' && !heldByMe && this.observedTimeMs + this.leaseDurationMs > now) return false;

    const spec: LeaseSpec = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds,
      acquireTime: heldByMe && old.acquireTime ? old.acquireTime : formatMicroTime(now),
      renewTime: formatMicroTime(now),
      leaseTransitions: heldByMe ? (old.leaseTransitions ?? 0) : (old.leaseTransitions ?? 0) + 1,
    };
    try {
      await leases.update({ ...lease, spec }, { timeoutMs });
    } catch (error) {
      // A conflict means someone else wrote first; the next attempt reads their record.
      this.logger.debug('could not update leader lease', { error });
      return false;
    }
    this.observe(spec, now);
    return true;
  }

  private observe(spec: LeaseSpec, now: number): void {
    this.observedSpec = spec;
    this.observedTimeMs = now;
    const holder = spec.holderIdentity ?? '';
    if (holder !== '' && holder !== this.reportedLeader) {
      this.reportedLeader = holder;
      try {
        this.options.onNewLeader?.(holder);
      } catch (error) {
        this.logger.error('onNewLeader failed', { error });
      }
    }
  }

  /** Clears the holder so the next elector need not wait for expiry. */
  private async release(): Promise<void> {
    const leases = this.client.leases(this.options.lockNamespace);
    try {
      const lease = await leases.get(this.options.lockName, { timeoutMs: this.renewDeadlineMs });
      if (lease.spec?.holderIdentity !== this.options.identity) return;
      const now = formatMicroTime(this.nowMs());
      const spec: LeaseSpec = { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: lease.spec.leaseTransitions ?? 0 };
      await leases.update({ ...lease, spec }, { timeoutMs: this.renewDeadlineMs });
      this.observedSpec = spec;
    } catch (error) {
      this.logger.warn('failed to release leader lease; others take over after it expires', { error });
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = finish;
    });
  }
}
