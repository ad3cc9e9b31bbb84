import type { EtcdCluster } from '@kube-lite/testing';
import { type StorageErrorCode, StorageError } from './errors';
import { objectKey, resourcePrefix } from './keys';
import { EtcdStore } from './store';
import { compactEtcd, startTestEtcd, testObject, type TestObject } from './test-support';
import { EtcdHealthCheck } from './health';
import type { Transformer } from './codec';

let cluster: EtcdCluster;
let store: EtcdStore;
let testIndex = 0;
/** Each test gets its own resource so tests never see each other's keys. */
let resource: string;

const key = (name: string, namespace = 'default'): string => objectKey({ resource, namespace, name });

async function expectStorageError(promise: Promise<unknown>, code: StorageErrorCode, message?: RegExp): Promise<StorageError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(StorageError);
  const storageError = error as StorageError;
  expect(storageError.code).toBe(code);
  if (message) expect(storageError.message).toMatch(message);
  return storageError;
}

beforeAll(async () => {
  cluster = await startTestEtcd();
  store = new EtcdStore({ endpoints: cluster.endpoints, requestTimeoutMs: 5000 });
}, 60_000);

afterAll(async () => {
  store?.close();
  await cluster?.stop();
});

beforeEach(() => {
  testIndex++;
  resource = `widgets${testIndex}`;
});

describe('EtcdStore create and get', () => {
  it('stores under /registry/<resource>/<namespace>/<name> with resourceVersion = mod_revision, not stored in the value', async () => {
    const created = await store.create(key('a'), testObject('a', { value: 1 }));
    expect(created.metadata.resourceVersion).toMatch(/^[1-9][0-9]*$/);
    const read = await store.get<TestObject>(key('a'));
    expect(read).toEqual(created);

    const raw = await cluster.etcdctl(['get', `/registry/${resource}/default/a`, '-w', 'json']);
    const parsed = JSON.parse(raw.stdout) as { kvs: { value: string; mod_revision: number }[] };
    const stored = JSON.parse(Buffer.from(parsed.kvs[0]?.value ?? '', 'base64').toString('utf8')) as TestObject;
    expect(String(parsed.kvs[0]?.mod_revision)).toBe(created.metadata.resourceVersion);
    expect(stored.metadata.resourceVersion).toBeUndefined();
    expect(stored.spec).toEqual({ value: 1 });
  });

  it('refuses a second create of the same key with AlreadyExists and leaves the first value', async () => {
    const first = await store.create(key('dup'), testObject('dup', { value: 1 }));
    await expectStorageError(store.create(key('dup'), testObject('dup', { value: 2 })), 'AlreadyExists', /already exists/);
    expect((await store.get<TestObject>(key('dup'))).spec).toEqual(first.spec);
  });

  it.each([
    ['a missing key', 'NotFound', () => store.get(key('missing'))],
    ['a resourceVersion that is not a number', 'InvalidResourceVersion', () => store.get(key('x'), { resourceVersion: 'abc' })],
    ['a resourceVersion beyond the current revision', 'Timeout', () => store.get(key('x'), { resourceVersion: '999999999' })],
  ] as const)('get of %s fails with %s', async (_case, code, run) => {
    await store.create(key('x'), testObject('x'));
    await expectStorageError(run(), code);
  });

  it('keeps the caller object untouched and rejects objects that already carry a resourceVersion', async () => {
    const input = testObject('pure');
    await store.create(key('pure'), input);
    expect(input.metadata.resourceVersion).toBeUndefined();
    await expectStorageError(store.create(key('pure2'), { ...input, metadata: { ...input.metadata, resourceVersion: '5' } }), 'InternalError');
  });

  it('passes values through the transformer in both directions, bound to the key', async () => {
    const seenKeys: string[] = [];
    const reversing: Transformer = {
      toStorage: (data, forKey) => {
        seenKeys.push(forKey);
        return Buffer.from(data).reverse();
      },
      fromStorage: (data) => Buffer.from(data).reverse(),
    };
    const wrapped = new EtcdStore({ endpoints: cluster.endpoints, transformer: reversing });
    try {
      const created = await wrapped.create(key('secret'), testObject('secret', { value: 42 }));
      expect(await wrapped.get(key('secret'))).toEqual(created);
      const raw = await cluster.etcdctl(['get', key('secret'), '--print-value-only']);
      expect(raw.stdout.trim().startsWith('}')).toBe(true);
      expect(seenKeys).toEqual([key('secret')]);
    } finally {
      wrapped.close();
    }
  });

  it('creates with a TTL through a lease: etcd deletes the object when it expires', async () => {
    await store.create(key('short'), testObject('short'), { ttlSeconds: 1 });
    const raw = await cluster.etcdctl(['get', key('short'), '-w', 'json']);
    expect(String((JSON.parse(raw.stdout) as { kvs: { lease?: number }[] }).kvs[0]?.lease ?? 0)).not.toBe('0');
    const deadline = Date.now() + 10_000;
    let gone = false;
    while (!gone && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      gone = await store.get(key('short')).then(
        () => false,
        (error: unknown) => error instanceof StorageError && error.code === 'NotFound',
      );
    }
    expect(gone).toBe(true);
  }, 15_000);
});

describe('EtcdStore update', () => {
  it('writes when the resourceVersion is current and reports Conflict when it is stale', async () => {
    const created = await store.create(key('u'), testObject('u', { value: 1 }));
    const updated = await store.update(key('u'), { ...created, spec: { value: 2 } });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    await expectStorageError(store.update(key('u'), { ...created, spec: { value: 3 } }), 'Conflict', /has been modified/);
    expect((await store.get<TestObject>(key('u'))).spec).toEqual({ value: 2 });
  });

  it.each([
    ['a deleted object', 'NotFound', true, '7'],
    ['no resourceVersion at all', 'InvalidResourceVersion', false, undefined],
  ] as const)('update of %s fails with %s', async (_case, code, deleteFirst, resourceVersion) => {
    const created = await store.create(key('v'), testObject('v'));
    if (deleteFirst) await store.delete(key('v'));
    const object = { ...created, metadata: { ...created.metadata, resourceVersion } };
    await expectStorageError(store.update(key('v'), object, { expectedResourceVersion: deleteFirst ? created.metadata.resourceVersion : undefined }), code);
  });
});

describe('EtcdStore guaranteedUpdate', () => {
  it('loses no increment when many writers update the same object at once', async () => {
    await store.create(key('counter'), testObject('counter', { value: 0 }));
    const writers = 8;
    const incrementsPerWriter = 5;
    let attempts = 0;
    await Promise.all(
      Array.from({ length: writers }, async () => {
        for (let index = 0; index < incrementsPerWriter; index++) {
          await store.guaranteedUpdate<TestObject>(key('counter'), (current) => {
            attempts++;
            if (!current) throw new Error('counter vanished');
            return { ...current, spec: { value: (current.spec?.value ?? 0) + 1 } };
          });
        }
      }),
    );
    expect((await store.get<TestObject>(key('counter'))).spec?.value).toBe(writers * incrementsPerWriter);
    // Concurrency really happened: some attempts were retried after a conflict.
    expect(attempts).toBeGreaterThan(writers * incrementsPerWriter);
  }, 30_000);

  it('checks preconditions against the current object', async () => {
    const created = await store.create(key('p'), testObject('p'));
    await expectStorageError(
      store.guaranteedUpdate<TestObject>(key('p'), (current) => current ?? null, { preconditions: { uid: 'other' } }),
      'Conflict',
      /UID in precondition: other/,
    );
    await expectStorageError(
      store.guaranteedUpdate<TestObject>(key('p'), (current) => current ?? null, { preconditions: { resourceVersion: '1' } }),
      'Conflict',
      /ResourceVersion in precondition/,
    );
    const updated = await store.guaranteedUpdate<TestObject>(key('p'), (current) => ({ ...(current as TestObject), spec: { value: 9 } }), {
      preconditions: { uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion },
    });
    expect(updated.spec).toEqual({ value: 9 });
  });

  it('skips the write when nothing changed, and creates only with ignoreNotFound', async () => {
    const created = await store.create(key('same'), testObject('same', { value: 1 }));
    const unchanged = await store.guaranteedUpdate<TestObject>(key('same'), (current) => ({ ...(current as TestObject) }));
    expect(unchanged.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    await expectStorageError(store.guaranteedUpdate<TestObject>(key('new'), () => testObject('new')), 'NotFound');
    const made = await store.guaranteedUpdate<TestObject>(key('new'), (current) => current ?? testObject('new', { value: 5 }), { ignoreNotFound: true });
    expect((await store.get<TestObject>(key('new'))).metadata.resourceVersion).toBe(made.metadata.resourceVersion);
  });
});

describe('EtcdStore delete', () => {
  it('deletes with a matching uid precondition and returns the last state; a wrong uid is a Conflict', async () => {
    const created = await store.create(key('d'), testObject('d', { value: 3 }));
    await expectStorageError(store.delete(key('d'), { preconditions: { uid: 'someone-else' } }), 'Conflict');
    const deleted = await store.delete<TestObject>(key('d'), { preconditions: { uid: created.metadata.uid } });
    expect(deleted).toEqual(created);
    await expectStorageError(store.get(key('d')), 'NotFound');
    await expectStorageError(store.delete(key('d')), 'NotFound');
  });

  it('aborts when validateDeletion throws', async () => {
    await store.create(key('kept'), testObject('kept'));
    await expect(store.delete(key('kept'), { validateDeletion: () => { throw new Error('has finalizers'); } })).rejects.toThrow('has finalizers');
    await expect(store.get(key('kept'))).resolves.toBeDefined();
  });
});

describe('EtcdStore list', () => {
  async function createMany(count: number, namespace = 'default', spec: (index: number) => TestObject['spec'] = () => ({}), first = 0): Promise<void> {
    for (let index = first; index < first + count; index++) {
      const name = `item-${String(index).padStart(3, '0')}`;
      await store.create(key(name, namespace), testObject(name, spec(index)));
    }
  }

  it('pages with limit and continue, every page read at the first page revision despite concurrent writes', async () => {
    await createMany(10);
    const first = await store.list<TestObject>(resourcePrefix(resource), { limit: 4 });
    expect(first.items.map((item) => item.metadata.name)).toEqual(['item-000', 'item-001', 'item-002', 'item-003']);
    expect(first.remainingItemCount).toBe(6);
    expect(first.continue).toBeDefined();

    // Writes after the first page: a new item, an update and a delete.
    await store.create(key('item-004a'), testObject('item-004a'));
    await store.guaranteedUpdate<TestObject>(key('item-005'), (current) => ({ ...(current as TestObject), spec: { value: 99 } }));
    await store.delete(key('item-009'));

    const names: string[] = first.items.map((item) => item.metadata.name);
    let token = first.continue;
    for (let pages = 0; token && pages < 10; pages++) {
      const page = await store.list<TestObject>(resourcePrefix(resource), { limit: 4, continue: token });
      expect(page.resourceVersion).toBe(first.resourceVersion);
      names.push(...page.items.map((item) => item.metadata.name));
      if (page.items.some((item) => item.metadata.name === 'item-005')) {
        expect(page.items.find((item) => item.metadata.name === 'item-005')?.spec).toEqual({});
      }
      token = page.continue;
    }
    expect(names).toEqual(Array.from({ length: 10 }, (_, index) => `item-${String(index).padStart(3, '0')}`));
  });

  it('filters with a predicate in the server and still fills the page by reading further', async () => {
    await createMany(30, 'default', (index) => ({ tier: index % 10 === 0 ? 'gold' : 'plain' }));
    const isGold = (object: TestObject): boolean => object.spec?.tier === 'gold';
    const first = await store.list<TestObject>(resourcePrefix(resource), { limit: 2, predicate: isGold });
    expect(first.items.map((item) => item.metadata.name)).toEqual(['item-000', 'item-010']);
    expect(first.continue).toBeDefined();
    expect(first.remainingItemCount).toBeUndefined();
    const second = await store.list<TestObject>(resourcePrefix(resource), { limit: 2, predicate: isGold, continue: first.continue });
    expect(second.items.map((item) => item.metadata.name)).toEqual(['item-020']);
    expect(second.continue).toBeUndefined();
  });

  it('lists one namespace only and counts keys', async () => {
    await createMany(3, 'blue');
    await createMany(2, 'green');
    const blue = await store.list<TestObject>(resourcePrefix(resource, 'blue'));
    expect(blue.items).toHaveLength(3);
    expect(blue.continue).toBeUndefined();
    expect(await store.count(resourcePrefix(resource))).toBe(5);
    expect(await store.count(resourcePrefix(resource, 'green'))).toBe(2);
  });

  it('reads at an exact resourceVersion and serves "not older than" from the latest', async () => {
    await createMany(2);
    const before = await store.list<TestObject>(resourcePrefix(resource));
    await createMany(2, 'default', () => ({}), 2);
    const exact = await store.list<TestObject>(resourcePrefix(resource), { resourceVersion: before.resourceVersion, resourceVersionMatch: 'Exact' });
    expect(exact.items).toHaveLength(2);
    expect(exact.resourceVersion).toBe(before.resourceVersion);
    const notOlder = await store.list<TestObject>(resourcePrefix(resource), { resourceVersion: before.resourceVersion, resourceVersionMatch: 'NotOlderThan' });
    expect(notOlder.items).toHaveLength(4);
    expect(Number(notOlder.resourceVersion)).toBeGreaterThan(Number(before.resourceVersion));
  });

  it.each([
    ['resourceVersion with continue', 'InvalidResourceVersion', { continue: 'x', resourceVersion: '5' }],
    ['a garbage continue token', 'InvalidResourceVersion', { continue: 'not-a-token' }],
    ['Exact at resourceVersion 0', 'InvalidResourceVersion', { resourceVersion: '0', resourceVersionMatch: 'Exact' as const }],
    ['a match without resourceVersion', 'InvalidResourceVersion', { resourceVersionMatch: 'NotOlderThan' as const }],
    ['a future resourceVersion', 'Timeout', { resourceVersion: '999999999', resourceVersionMatch: 'NotOlderThan' as const }],
  ] as const)('rejects %s with %s', async (_case, code, options) => {
    await expectStorageError(store.list(resourcePrefix(resource), options), code);
  });

  it('answers Expired for a resourceVersion or continue token older than the last compaction', async () => {
    await createMany(6);
    const page = await store.list<TestObject>(resourcePrefix(resource), { limit: 2 });
    await store.create(key('later'), testObject('later'));
    await compactEtcd(cluster, await store.currentRevision());
    await expectStorageError(
      store.list(resourcePrefix(resource), { resourceVersion: page.resourceVersion, resourceVersionMatch: 'Exact' }),
      'Expired',
      /too old resource version/,
    );
    await expectStorageError(store.list(resourcePrefix(resource), { continue: page.continue }), 'Expired', /continue parameter is too old/);
    // A fresh list still works.
    expect((await store.list(resourcePrefix(resource))).items).toHaveLength(7);
  });
});

describe('EtcdStore when etcd is unreachable', () => {
  it('fails with Unavailable naming the endpoints, and the health check says so', async () => {
    const dead = new EtcdStore({ endpoints: ['http://127.0.0.1:1'], requestTimeoutMs: 2000, dialTimeoutMs: 500 });
    try {
      await expectStorageError(dead.get(key('a')), 'Unavailable', /etcd unreachable at http:\/\/127\.0\.0\.1:1/);
      const result = await new EtcdHealthCheck(dead, 1000).check();
      expect(result.healthy).toBe(false);
      expect(result.message).toMatch(/127\.0\.0\.1:1/);
    } finally {
      dead.close();
    }
    expect(await new EtcdHealthCheck(store).check()).toEqual({ healthy: true, message: 'ok' });
  });
});
