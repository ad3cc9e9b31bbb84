// guaranteedUpdate starting from the caller's copy of the object (the watch
// cache's) instead of reading etcd first. A suggestion may be stale: the
// compare-and-swap on the mod revision must still decide, no write may be
// lost, and no answer (an error, an unchanged object) may rest on a value
// etcd did not confirm. Runs against the real etcd and, once built, etcd-lite
// (ETCD_LITE_REQUIRED=1 makes a missing build fail instead of skip).

import type { Etcd3 } from 'etcd3';
import { type EtcdCluster, type EtcdImplementation, etcdLiteAvailable, startEtcdCluster } from '@kube-lite/testing';
import { StorageError, type StorageErrorCode } from './errors';
import { objectKey } from './keys';
import { EtcdStore } from './store';
import { testObject, type TestObject } from './test-support';

const implementations: EtcdImplementation[] = etcdLiteAvailable() || process.env['ETCD_LITE_REQUIRED'] === '1' ? ['etcd', 'etcd-lite'] : ['etcd'];

async function storageErrorCode(promise: Promise<unknown>): Promise<StorageErrorCode | 'none'> {
  return promise.then(
    () => 'none' as const,
    (error: unknown) => {
      if (!(error instanceof StorageError)) throw error;
      return error.code;
    },
  );
}

describe.each(implementations)('%s: guaranteedUpdate from a suggestion', (implementation) => {
  let cluster: EtcdCluster;
  let store: EtcdStore;
  let calls: { range: number; txn: number };
  let testIndex = 0;
  let resource: string;
  const key = (name: string): string => objectKey({ resource, namespace: 'default', name });

  beforeAll(async () => {
    cluster = await startEtcdCluster({ implementation, members: 1 });
    store = new EtcdStore({ endpoints: cluster.endpoints, requestTimeoutMs: 5000 });
    // Counts the store's etcd round trips: the point of a suggestion is the read it saves.
    const kv = (store as unknown as { client: Etcd3 }).client.kv;
    const range = kv.range.bind(kv);
    const txn = kv.txn.bind(kv);
    kv.range = (...args: Parameters<typeof range>) => {
      calls.range++;
      return range(...args);
    };
    kv.txn = (...args: Parameters<typeof txn>) => {
      calls.txn++;
      return txn(...args);
    };
  }, 60_000);

  afterAll(async () => {
    store?.close();
    await cluster?.stop();
  });

  beforeEach(() => {
    testIndex++;
    resource = `suggested${testIndex}`;
    calls = { range: 0, txn: 0 };
  });

  /** Adds `by` to spec.value; records every value it was given. */
  const increment = (seen: (number | undefined)[], by = 1) => (current: TestObject | undefined): TestObject => {
    seen.push(current?.spec?.value);
    if (!current) throw new Error('the object vanished');
    return { ...current, spec: { value: (current.spec?.value ?? 0) + by } };
  };

  it('writes from a current suggestion in one round trip, without reading first', async () => {
    const created = await store.create(key('a'), testObject('a', { value: 1 }));
    calls = { range: 0, txn: 0 };
    const seen: (number | undefined)[] = [];
    const updated = await store.guaranteedUpdate<TestObject>(key('a'), increment(seen), { suggestion: created });
    expect(calls).toEqual({ range: 0, txn: 1 });
    expect(seen).toEqual([1]);
    expect(updated.spec).toEqual({ value: 2 });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect(await store.get<TestObject>(key('a'))).toEqual(updated);
  });

  it('starts again from the value the failed compare returned when the suggestion is stale: two round trips, no lost write', async () => {
    const stale = await store.create(key('b'), testObject('b', { value: 1 }));
    await store.guaranteedUpdate<TestObject>(key('b'), (current) => ({ ...(current as TestObject), spec: { value: 10 } }));
    calls = { range: 0, txn: 0 };
    const seen: (number | undefined)[] = [];
    const updated = await store.guaranteedUpdate<TestObject>(key('b'), increment(seen), { suggestion: stale });
    expect(calls).toEqual({ range: 0, txn: 2 });
    expect(seen).toEqual([1, 10]);
    expect((await store.get<TestObject>(key('b'))).spec).toEqual({ value: 11 });
    expect(updated.spec).toEqual({ value: 11 });
  });

  it('loses no increment when many writers start from the same stale suggestion at once', async () => {
    const stale = await store.create(key('counter'), testObject('counter', { value: 0 }));
    const writers = 6;
    const incrementsPerWriter = 4;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let index = 0; index < incrementsPerWriter; index++) await store.guaranteedUpdate<TestObject>(key('counter'), increment([]), { suggestion: stale });
      }),
    );
    expect((await store.get<TestObject>(key('counter'))).spec?.value).toBe(writers * incrementsPerWriter);
  }, 30_000);

  it.each([
    // [case, what happens after the suggestion was taken, options, expected outcome, expected stored value]
    ['the object was deleted', 'delete', {}, 'NotFound', undefined],
    ['the object was deleted, ignoreNotFound', 'delete', { ignoreNotFound: true }, 'none', 100],
    ['the object was recreated, uid precondition of the old one', 'recreate', { preconditions: { uid: 'uid-c' } }, 'Conflict', 5],
    ['the object was recreated with another uid, precondition names the new one', 'recreate', { preconditions: { uid: 'uid-c-new' } }, 'none', 6],
    ['the object changed, resourceVersion precondition of the current version', 'update', { preconditions: { resourceVersion: 'CURRENT' } }, 'none', 8],
    ['the object changed, resourceVersion precondition of the suggestion', 'update', { preconditions: { resourceVersion: 'SUGGESTED' } }, 'Conflict', 7],
  ] as const)('stale suggestion, %s', async (_case, change, options, outcome, storedValue) => {
    const suggestion = await store.create(key('c'), testObject('c', { value: 1 }));
    let current: TestObject | undefined;
    if (change === 'delete') {
      await store.delete(key('c'));
    } else if (change === 'recreate') {
      await store.delete(key('c'));
      current = await store.create(key('c'), { metadata: { name: 'c', uid: 'uid-c-new' }, spec: { value: 5 } });
    } else {
      current = await store.guaranteedUpdate<TestObject>(key('c'), (object) => ({ ...(object as TestObject), spec: { value: 7 } }));
    }
    const preconditions =
      'preconditions' in options && options.preconditions && 'resourceVersion' in options.preconditions
        ? { resourceVersion: options.preconditions.resourceVersion === 'CURRENT' ? current?.metadata.resourceVersion : suggestion.metadata.resourceVersion }
        : 'preconditions' in options
          ? options.preconditions
          : undefined;
    const result = store.guaranteedUpdate<TestObject>(key('c'), (object) => (object ? increment([])(object) : testObject('c', { value: 100 })), {
      ...options,
      ...(preconditions ? { preconditions } : {}),
      suggestion,
    });
    expect(await storageErrorCode(result)).toBe(outcome);
    const stored = await store.get<TestObject>(key('c')).catch(() => undefined);
    expect(stored?.spec?.value).toBe(storedValue);
  });

  it('judges an error from tryUpdate by the current object, not by a stale suggestion', async () => {
    // A binding: refused when the pod already has a node. The suggestion has one, the current object no longer does.
    const stale = await store.create(key('d'), testObject('d', { tier: 'assigned' }));
    await store.guaranteedUpdate<TestObject>(key('d'), (current) => ({ ...(current as TestObject), spec: {} }));
    const seen: (string | undefined)[] = [];
    const assign = (current: TestObject | undefined): TestObject => {
      seen.push(current?.spec?.tier);
      if (current?.spec?.tier !== undefined) throw new Error('already assigned');
      return { ...(current as TestObject), spec: { tier: 'assigned' } };
    };
    await store.guaranteedUpdate<TestObject>(key('d'), assign, { suggestion: stale });
    expect(seen).toEqual(['assigned', undefined]);
    // Against the current object the same error stands.
    await expect(store.guaranteedUpdate<TestObject>(key('d'), assign)).rejects.toThrow('already assigned');
  });

  it.each([
    ['returns null', (_current: TestObject | undefined): TestObject | null => null],
    ['returns the object unchanged', (current: TestObject | undefined): TestObject | null => ({ ...(current as TestObject) })],
  ])('when tryUpdate %s for a stale suggestion, answers with the current object read from etcd', async (_case, tryUpdate) => {
    const stale = await store.create(key('e'), testObject('e', { value: 1 }));
    const current = await store.guaranteedUpdate<TestObject>(key('e'), (object) => ({ ...(object as TestObject), spec: { value: 2 } }));
    calls = { range: 0, txn: 0 };
    const answer = await store.guaranteedUpdate<TestObject>(key('e'), tryUpdate, { suggestion: stale });
    expect(answer).toEqual(current);
    expect(calls).toEqual({ range: 1, txn: 0 });
  });

  it('writes a change the stale suggestion already showed: "set to 5" must not be skipped when etcd holds 7', async () => {
    const stale = await store.create(key('f'), testObject('f', { value: 5 }));
    await store.guaranteedUpdate<TestObject>(key('f'), (object) => ({ ...(object as TestObject), spec: { value: 7 } }));
    const updated = await store.guaranteedUpdate<TestObject>(key('f'), (object) => ({ ...(object as TestObject), spec: { value: 5 } }), { suggestion: stale });
    expect(updated.spec).toEqual({ value: 5 });
    expect((await store.get<TestObject>(key('f'))).spec).toEqual({ value: 5 });
  });

  it.each([
    ['without a resourceVersion', (object: TestObject): TestObject => ({ ...object, metadata: { ...object.metadata, resourceVersion: undefined } })],
    ['older than the resourceVersion precondition', (object: TestObject): TestObject => object],
  ])('reads etcd first when the suggestion is %s', async (_case, spoil) => {
    const created = await store.create(key('g'), testObject('g', { value: 1 }));
    const current = await store.guaranteedUpdate<TestObject>(key('g'), (object) => ({ ...(object as TestObject), spec: { value: 2 } }));
    calls = { range: 0, txn: 0 };
    const seen: (number | undefined)[] = [];
    await store.guaranteedUpdate<TestObject>(key('g'), increment(seen), { suggestion: spoil(created), preconditions: { resourceVersion: current.metadata.resourceVersion } });
    expect(seen).toEqual([2]);
    expect(calls).toEqual({ range: 1, txn: 1 });
  });

  it('hands tryUpdate the suggestion itself, which it must not change: a frozen one stays usable', async () => {
    const created = await store.create(key('h'), testObject('h', { value: 1 }));
    const frozen = Object.freeze({ ...created, metadata: Object.freeze({ ...created.metadata }), spec: Object.freeze({ ...created.spec }) });
    const updated = await store.guaranteedUpdate<TestObject>(key('h'), increment([]), { suggestion: frozen });
    expect(updated.spec).toEqual({ value: 2 });
    expect(frozen.spec).toEqual({ value: 1 });
  });
});
