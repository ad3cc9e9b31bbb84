import type { Lease } from '@kube-lite/api';
import type { ApiClient } from '../api-client';
import { ApiError, ClientConfigError } from '../errors';
import { FakeApiClient } from '../fake/fake-api-client';
import { RESOURCES } from '../resources';
import { sleep, waitFor } from '../test-support';
import { LeaderElector, type LeaderElectorOptions } from './leader-elector';

const VERBS = new Set(['get', 'list', 'watch', 'create', 'update', 'updateStatus', 'patch', 'delete']);

/** A view of the shared fake that can be cut off, as a process partitioned from the API server. */
function partitionable(fake: FakeApiClient): { client: ApiClient; cut: (partitioned: boolean) => void } {
  let partitioned = false;
  const client = new Proxy(fake, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function' || !VERBS.has(String(property))) return value;
      return (...args: unknown[]) => {
        if (partitioned) return Promise.reject(new ApiError(503, 'ServiceUnavailable', 'partitioned'));
        return (value as (...inner: unknown[]) => unknown).apply(receiver, args);
      };
    },
  });
  return { client, cut: (value) => (partitioned = value) };
}

/** Tracks who leads, counting any moment two electors both think they lead. */
class LeadershipLog {
  readonly leaders = new Set<string>();
  readonly timeline: string[] = [];
  overlaps = 0;

  callbacks(identity: string): Pick<LeaderElectorOptions, 'onStartedLeading' | 'onStoppedLeading'> {
    return {
      onStartedLeading: () => {
        this.leaders.add(identity);
        this.timeline.push(`${identity} started`);
        if (this.leaders.size > 1) this.overlaps += 1;
      },
      onStoppedLeading: () => {
        this.leaders.delete(identity);
        this.timeline.push(`${identity} stopped`);
      },
    };
  }
}

const FAST = { leaseDurationMs: 600, renewDeadlineMs: 400, retryPeriodMs: 50 };

function lease(fake: FakeApiClient): Lease | undefined {
  return fake.peek<Lease>(RESOURCES.leases, 'kube-system', 'kube-scheduler');
}

describe('LeaderElector', () => {
  const electors: LeaderElector[] = [];
  function elector(options: Omit<LeaderElectorOptions, 'lockNamespace' | 'lockName'>): LeaderElector {
    const created = new LeaderElector({ lockNamespace: 'kube-system', lockName: 'kube-scheduler', ...options });
    electors.push(created);
    void created.run();
    return created;
  }
  afterEach(async () => {
    await Promise.all(electors.splice(0).map((one) => one.stop()));
  });

  it('lets exactly one of two electors lead, renewing the Lease while it does', async () => {
    const fake = new FakeApiClient();
    const log = new LeadershipLog();
    const seen: string[] = [];
    const a = elector({ client: fake, identity: 'a', ...FAST, ...log.callbacks('a') });
    await waitFor(() => a.isLeader(), 'a to lead');
    const b = elector({ client: fake, identity: 'b', ...FAST, ...log.callbacks('b'), onNewLeader: (identity) => seen.push(identity) });
    const firstRenewal = lease(fake)?.spec?.renewTime;
    await sleep(FAST.leaseDurationMs + 200);
    expect(a.isLeader()).toBe(true);
    expect(b.isLeader()).toBe(false);
    expect(b.getLeader()).toBe('a');
    expect(seen).toEqual(['a']);
    const spec = lease(fake)?.spec;
    expect(spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 1, leaseTransitions: 0 });
    expect(spec?.renewTime).not.toEqual(firstRenewal);
    expect(spec?.acquireTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(log.overlaps).toBe(0);
  });

  it('hands over at once when the leader releases the Lease on shutdown', async () => {
    const fake = new FakeApiClient();
    const log = new LeadershipLog();
    // Expiry alone would take 20 s: a takeover within the wait proves the release worked.
    const slowExpiry = { leaseDurationMs: 20_000, renewDeadlineMs: 10_000, retryPeriodMs: 50 };
    const a = elector({ client: fake, identity: 'a', ...slowExpiry, ...log.callbacks('a') });
    await waitFor(() => a.isLeader(), 'a to lead');
    const b = elector({ client: fake, identity: 'b', ...slowExpiry, ...log.callbacks('b') });
    await sleep(100);
    expect(b.isLeader()).toBe(false);
    await a.stop();
    expect(log.timeline).toEqual(['a started', 'a stopped']);
    await waitFor(() => b.isLeader(), 'b to take over after the release', 3000);
    expect(lease(fake)?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expect(log.overlaps).toBe(0);
  });

  it('takes over after the lease expires when the leader is cut off, and the old leader steps down first', async () => {
    const fake = new FakeApiClient();
    const log = new LeadershipLog();
    const cutOff = partitionable(fake);
    let leadershipSignal: AbortSignal | undefined;
    const a = elector({
      client: cutOff.client,
      identity: 'a',
      ...FAST,
      ...log.callbacks('a'),
      onStartedLeading: (signal) => {
        leadershipSignal = signal;
        log.callbacks('a').onStartedLeading?.(signal);
      },
    });
    await waitFor(() => a.isLeader(), 'a to lead');
    const b = elector({ client: fake, identity: 'b', ...FAST, ...log.callbacks('b') });
    await sleep(100);
    cutOff.cut(true);
    await waitFor(() => b.isLeader(), 'b to take over after expiry', 5000);
    expect(a.isLeader()).toBe(false);
    expect(leadershipSignal?.aborted).toBe(true);
    expect(log.timeline).toEqual(['a started', 'a stopped', 'b started']);
    expect(log.overlaps).toBe(0);
    expect(lease(fake)?.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
  });

  it('keeps leadership single among several electors over many renewals', async () => {
    const fake = new FakeApiClient();
    const log = new LeadershipLog();
    for (const identity of ['a', 'b', 'c']) elector({ client: fake, identity, ...FAST, ...log.callbacks(identity) });
    await waitFor(() => log.leaders.size === 1, 'one leader');
    await sleep(500);
    expect(log.leaders.size).toBe(1);
    expect(log.overlaps).toBe(0);
    expect(electors.filter((one) => one.isLeader())).toHaveLength(1);
  });

  it.each([
    ['lease not longer than renew deadline', { leaseDurationMs: 1000, renewDeadlineMs: 1000, retryPeriodMs: 100 }, 'leaseDurationMs (1000) must be greater than renewDeadlineMs (1000)'],
    ['renew deadline too close to retry period', { leaseDurationMs: 1000, renewDeadlineMs: 110, retryPeriodMs: 100 }, 'renewDeadlineMs (110) must be greater than 1.2 x retryPeriodMs (100)'],
    ['non-positive retry period', { retryPeriodMs: 0 }, 'retryPeriodMs must be positive'],
    ['empty identity', { identity: '' }, 'identity must not be empty'],
  ])('rejects bad configuration: %s', (_name, overrides, message) => {
    const options = { client: new FakeApiClient(), lockNamespace: 'kube-system', lockName: 'x', identity: 'a', ...overrides };
    expect(() => new LeaderElector(options)).toThrow(ClientConfigError);
    expect(() => new LeaderElector(options)).toThrow(message);
  });
});
