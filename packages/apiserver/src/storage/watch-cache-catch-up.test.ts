// A consistent list returns etcd's global revision, which a watch cache over a
// quiet prefix has never seen as an event. Reads and watches at such a
// revision must neither fail with "Too large resource version" nor miss later
// events. Run against the real etcd and, when built, etcd-lite.

import { type EtcdCluster, type EtcdImplementation, etcdLiteAvailable, startEtcdCluster } from '@kube-lite/testing';
import { objectKey, resourcePrefix } from './keys';
import { EtcdStore } from './store';
import { describe as describeEvent, testObject, type TestObject, WatchReader } from './test-support';
import { WatchCache } from './watch-cache';

const implementations: EtcdImplementation[] = etcdLiteAvailable() ? ['etcd', 'etcd-lite'] : ['etcd'];

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(implementations)('WatchCache on a quiet prefix (%s)', (implementation) => {
  let cluster: EtcdCluster;
  let store: EtcdStore;
  const caches: WatchCache<TestObject>[] = [];
  let testIndex = 0;
  let resource: string;

  const startCache = async (): Promise<WatchCache<TestObject>> => {
    const cache = await WatchCache.start<TestObject>({ store, prefix: resourcePrefix(resource), freshnessTimeoutMs: 300 });
    caches.push(cache);
    return cache;
  };
  /** Writes elsewhere in etcd, leaving the cache's prefix untouched; returns the new global revision. */
  const writeElsewhere = async (count: number): Promise<number> => {
    for (let index = 0; index < count; index++) await store.create(objectKey({ resource: `${resource}-other`, name: `o${index}` }), testObject(`o${index}`));
    return store.currentRevision();
  };

  beforeAll(async () => {
    // Notifications slower than freshnessTimeoutMs, as in production (etcd's default is 10 minutes).
    const extraArgs = implementation === 'etcd' ? ['--experimental-watch-progress-notify-interval=2s'] : [];
    cluster = await startEtcdCluster({ implementation, members: 1, extraArgs });
    store = new EtcdStore({ endpoints: cluster.endpoints, requestTimeoutMs: 2000 });
  }, 60_000);

  afterAll(async () => {
    for (const cache of caches) cache.stop();
    store?.close();
    await cluster?.stop();
  });

  beforeEach(() => {
    testIndex++;
    resource = `quiet${testIndex}`;
  });

  it('watches from the revision of a consistent list without error, and later events arrive', async () => {
    const cache = await startCache();
    await writeElsewhere(5);
    const listed = await cache.list(resourcePrefix(resource));
    expect(Number(listed.resourceVersion)).toBeGreaterThan(cache.stats().revision);
    const reader = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: listed.resourceVersion }));
    try {
      // Longer than freshnessTimeoutMs: the old cache answered Timeout here.
      expect(await reader.next(600)).toBe('timeout');
      const created = await store.create(objectKey({ resource, name: 'a' }), testObject('a'));
      expect((await reader.take(1)).map(describeEvent)).toEqual([`ADDED a@${created.metadata.resourceVersion}`]);
      // Served by the cache from here on: more events, in order.
      const updated = await store.update(objectKey({ resource, name: 'a' }), { ...created, spec: { value: 2 } });
      const second = await store.create(objectKey({ resource, name: 'b' }), testObject('b'));
      expect((await reader.take(2)).map(describeEvent)).toEqual([
        `MODIFIED a@${updated.metadata.resourceVersion}`,
        `ADDED b@${second.metadata.resourceVersion}`,
      ]);
      expect(cache.stats().watchers).toBe(1);
    } finally {
      reader.stop();
    }
    expect(cache.stats().watchers).toBe(0);
  });

  it('serves gets and lists at a revision only etcd has confirmed', async () => {
    const created = await store.create(objectKey({ resource, name: 'x' }), testObject('x'));
    const cache = await startCache();
    const globalRevision = await writeElsewhere(3);
    const listed = await cache.list(resourcePrefix(resource), { resourceVersion: String(globalRevision) });
    expect(listed.items.map((item) => item.metadata.name)).toEqual(['x']);
    expect(Number(listed.resourceVersion)).toBeGreaterThanOrEqual(globalRevision);
    const got = await cache.get(objectKey({ resource, name: 'x' }), { resourceVersion: String(globalRevision) });
    expect(got.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    // Beyond etcd's own revision it still fails, after the freshness wait.
    await expect(cache.list(resourcePrefix(resource), { resourceVersion: String(globalRevision + 1000) })).rejects.toMatchObject({ code: 'Timeout' });
  });

  if (implementation === 'etcd') {
    it('moves a watch served by etcd over to the cache once progress notifications confirm its revision', async () => {
      const cache = await startCache();
      const watchesBefore = store.stats().etcdWatchesActive;
      const globalRevision = await writeElsewhere(2);
      const reader = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: String(globalRevision) }));
      try {
        // Served by etcd at first (unless a notification came within the catch-up wait), by the cache after.
        expect(await reader.next(150)).toBe('timeout');
        await waitFor(() => cache.stats().revision >= globalRevision, 'a progress notification');
        await waitFor(() => store.stats().etcdWatchesActive === watchesBefore, 'the watch to leave etcd');
        const created = await store.create(objectKey({ resource, name: 'late' }), testObject('late'));
        expect((await reader.take(1)).map(describeEvent)).toEqual([`ADDED late@${created.metadata.resourceVersion}`]);
      } finally {
        reader.stop();
      }
    });
  }
});
