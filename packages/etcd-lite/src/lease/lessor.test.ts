import { MemoryBackend } from '../backend';
import { MvccStore } from '../mvcc';
import { LeaseExistsError, LeaseNotFoundError, LeaseTtlTooLargeError, NotPrimaryError } from './errors';
import { leaseIdForIndex, Lessor, maxLeaseTtlSeconds } from './lessor';

const b = (text: string): Buffer => Buffer.from(text);

async function setup(backend = new MemoryBackend()): Promise<{ store: MvccStore; lessor: Lessor; next: () => number }> {
  const store = await MvccStore.open(backend);
  const lessor = await Lessor.open(store, { minTtlSeconds: 2, expiredRetryMs: 3000, nowMs: () => 0 });
  let index = store.consistentIndex;
  return { store, lessor, next: () => ++index };
}

function put(store: MvccStore, index: number, key: string, lease: number): void {
  const txn = store.write(index);
  txn.put(b(key), b('v'), lease);
  txn.end();
}

describe('Lessor grant', () => {
  const cases: Array<{ title: string; id: number; ttl: number; expected: { id?: number; ttl?: number; error?: new (...args: never[]) => Error } }> = [
    { title: 'explicit id', id: 0x1234, ttl: 10, expected: { id: 0x1234, ttl: 10 } },
    { title: 'id 0 derives from the raft index', id: 0, ttl: 10, expected: { id: leaseIdForIndex(1), ttl: 10 } },
    { title: 'short TTL raised to the minimum', id: 7, ttl: 1, expected: { id: 7, ttl: 2 } },
    { title: 'TTL above etcd maximum', id: 7, ttl: maxLeaseTtlSeconds + 1, expected: { error: LeaseTtlTooLargeError } },
  ];
  it.each(cases)('$title', async ({ id, ttl, expected }) => {
    const { lessor, next } = await setup();
    if (expected.error !== undefined) {
      expect(() => lessor.grant(id, ttl, next())).toThrow(expected.error);
      expect(lessor.leaseIds()).toEqual([]);
      return;
    }
    const lease = lessor.grant(id, ttl, next());
    expect(lease).toEqual({ id: expected.id, ttlSeconds: expected.ttl, keys: [] });
    expect(lessor.lookup(lease.id)?.ttlSeconds).toBe(expected.ttl);
  });

  it('refuses an id in use, and steps past one when picking', async () => {
    const { lessor } = await setup();
    lessor.grant(leaseIdForIndex(2), 5, 1);
    expect(() => lessor.grant(leaseIdForIndex(2), 5, 2)).toThrow(LeaseExistsError);
    expect(lessor.grant(0, 5, 3).id).toBe(leaseIdForIndex(3));
    expect(lessor.grant(0, 5, 4).id).toBe(leaseIdForIndex(4));
  });

  it('picks the same ids on every member', async () => {
    const members = await Promise.all([setup(), setup()]);
    const ids = members.map(({ lessor }) => [1, 2, 3].map((index) => lessor.grant(0, 5, index).id));
    expect(ids[0]).toEqual(ids[1]);
    for (const id of ids[0]!) expect(id > 0 && Number.isSafeInteger(id)).toBe(true);
  });
});

describe('Lessor attachments and revoke', () => {
  it('follows puts and deletes on the store', async () => {
    const { store, lessor, next } = await setup();
    const a = lessor.grant(1, 10, next()).id;
    const c = lessor.grant(2, 10, next()).id;
    put(store, next(), 'k1', a);
    put(store, next(), 'k2', a);
    put(store, next(), 'k3', a);
    put(store, next(), 'k2', c); // moves k2 to lease 2
    put(store, next(), 'k3', 0); // detaches k3
    const txn = store.write(next());
    txn.deleteRange(b('k1'));
    txn.end();
    put(store, next(), 'k4', a);
    expect(lessor.lookup(a)?.keys.map(String)).toEqual(['k4']);
    expect(lessor.lookup(c)?.keys.map(String)).toEqual(['k2']);
  });

  it('revokes a lease by deleting its keys in one revision', async () => {
    const { store, lessor, next } = await setup();
    const id = lessor.grant(9, 10, next()).id;
    put(store, next(), 'x', id);
    put(store, next(), 'y', id);
    put(store, next(), 'z', 0);
    const events: string[] = [];
    store.onCommit((revision, committed) => committed.forEach((event) => events.push(`${revision} ${event.type} ${event.kv.key}`)));
    expect(lessor.revoke(id, next())).toBe(4);
    expect(events).toEqual(['4 DELETE x', '4 DELETE y']);
    expect(store.range(b('x'), b('zz')).kvs.map((kv) => kv.key.toString())).toEqual(['z']);
    expect(lessor.lookup(id)).toBeUndefined();
    expect(() => lessor.revoke(id, next())).toThrow(LeaseNotFoundError);
  });

  it('reloads leases and attached keys after a restart', async () => {
    const backend = new MemoryBackend();
    const first = await setup(backend);
    const id = first.lessor.grant(0, 30, first.next()).id;
    put(first.store, first.next(), 'held', id);
    first.lessor.grant(77, 1, first.next());
    first.lessor.close();
    const second = await setup(backend);
    expect(second.lessor.leaseIds()).toEqual([77, id].sort((x, y) => x - y));
    expect(second.lessor.lookup(id)).toEqual({ id, ttlSeconds: 30, keys: [b('held')] });
    expect(second.lessor.lookup(77)?.ttlSeconds).toBe(2);
    expect(second.store.consistentIndex).toBe(3);
  });
});

describe('Lessor expiry (primary only)', () => {
  it('tracks deadlines only while primary, and restarts TTLs on promote', async () => {
    const { lessor, next } = await setup();
    lessor.grant(1, 10, next());
    lessor.grant(2, 20, next());
    expect(lessor.expiredLeases(1e12)).toEqual([]);
    expect(() => lessor.renew(1, 0)).toThrow(NotPrimaryError);
    lessor.promote(1000, 500);
    const steps: Array<{ nowMs: number; expired: number[] }> = [
      { nowMs: 11_499, expired: [] },
      { nowMs: 11_500, expired: [1] },
      { nowMs: 12_000, expired: [] }, // held back while its revoke is in flight
      { nowMs: 14_500, expired: [1] }, // revoke never applied: reported again
      { nowMs: 21_500, expired: [1, 2] }, // earliest deadline first
    ];
    for (const { nowMs, expired } of steps) expect(lessor.expiredLeases(nowMs)).toEqual(expired);
    lessor.demote();
    expect(lessor.expiredLeases(1e12)).toEqual([]);
  });

  it('renews, reports time to live and refuses to renew an expired lease', async () => {
    const { store, lessor, next } = await setup();
    lessor.promote(0);
    const id = lessor.grant(5, 10, next()).id; // granted while primary: deadline from the clock (0)
    put(store, next(), 'k', id);
    expect(lessor.timeToLive(id, 2_500)).toEqual({ id, remainingSeconds: 7, grantedTtlSeconds: 10, keys: [b('k')] });
    expect(lessor.renew(id, 5_000)).toBe(10);
    expect(lessor.timeToLive(id, 5_000)?.remainingSeconds).toBe(10);
    expect(() => lessor.renew(id, 15_000)).toThrow(LeaseNotFoundError);
    expect(lessor.timeToLive(id, 16_000)?.remainingSeconds).toBe(0);
    expect(() => lessor.renew(999, 0)).toThrow(LeaseNotFoundError);
    expect(lessor.timeToLive(999, 0)).toBeUndefined();
  });
});
