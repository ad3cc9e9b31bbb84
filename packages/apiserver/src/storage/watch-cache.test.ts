import type { EtcdCluster } from '@kube-lite/testing';
import { StorageError } from './errors';
import { objectKey, resourcePrefix } from './keys';
import { EtcdStore } from './store';
import { compactEtcd, describe as describeEvent, startTestEtcd, testObject, type TestObject, WatchReader } from './test-support';
import { WatchCache, type WatchCacheLogRecord, type WatchCacheOptions } from './watch-cache';
import type { WatchEvent } from './watch-types';

let cluster: EtcdCluster;
let store: EtcdStore;
let testIndex = 0;
let resource: string;
const caches: WatchCache<TestObject>[] = [];

const key = (name: string, namespace = 'default'): string => objectKey({ resource, namespace, name });

function startCache(options: Partial<WatchCacheOptions> = {}): Promise<WatchCache<TestObject>> {
  return WatchCache.start<TestObject>({ store, prefix: resourcePrefix(resource), ...options }).then((cache) => {
    caches.push(cache);
    return cache;
  });
}

function errorCode(event: WatchEvent<TestObject> | 'end' | 'timeout'): string {
  if (event === 'end' || event === 'timeout') return event;
  return event.type === 'ERROR' ? event.object.code : event.type;
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

beforeAll(async () => {
  cluster = await startTestEtcd();
  store = new EtcdStore({ endpoints: cluster.endpoints, requestTimeoutMs: 1500, watchRetryInitialDelayMs: 4000, watchRetryMaxDelayMs: 4000 });
}, 60_000);

afterAll(async () => {
  for (const cache of caches) cache.stop();
  store?.close();
  await cluster?.stop();
});

beforeEach(() => {
  testIndex++;
  resource = `things${testIndex}`;
});

describe('WatchCache fan-out', () => {
  it('serves many watchers from one etcd watch, each seeing every event in order', async () => {
    const openedBefore = store.stats().etcdWatchesOpened;
    const cache = await startCache();
    const start = String(cache.stats().revision);
    const watcherCount = 200;
    const readers = Array.from({ length: watcherCount }, () => new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: start })));
    const written: string[] = [];
    for (let index = 0; index < 5; index++) {
      const created = await store.create(key(`w${index}`), testObject(`w${index}`));
      written.push(`ADDED w${index}@${created.metadata.resourceVersion}`);
    }
    const results = await Promise.all(readers.map((reader) => reader.take(5)));
    for (const events of results) expect(events.map(describeEvent)).toEqual(written);
    expect(store.stats().etcdWatchesOpened - openedBefore).toBe(1);
    expect(cache.stats().watchers).toBe(watcherCount);
    for (const reader of readers) reader.stop();
    expect(cache.stats().watchers).toBe(0);
  });

  it('filters by namespace prefix, single key and predicate, turning transitions into ADDED and DELETED', async () => {
    const cache = await startCache();
    const start = String(cache.stats().revision);
    const gold = (object: TestObject): boolean => object.spec?.tier === 'gold';
    const blueGold = new WatchReader(cache.watch(resourcePrefix(resource, 'blue'), { resourceVersion: start, predicate: gold }));
    const oneKey = new WatchReader(cache.watch(key('x', 'blue'), { resourceVersion: start }));
    try {
      await store.create(key('y', 'red'), testObject('y', { tier: 'gold' }));
      const x = await store.create(key('x', 'blue'), testObject('x', { tier: 'plain' }));
      const xGold = await store.update(key('x', 'blue'), { ...x, spec: { tier: 'gold' } });
      await store.update(key('x', 'blue'), { ...xGold, spec: { tier: 'plain' } });
      const demotedAt = await store.currentRevision();
      expect((await blueGold.take(2)).map(describeEvent)).toEqual([`ADDED x@${xGold.metadata.resourceVersion}`, `DELETED x@${demotedAt}`]);
      expect((await oneKey.take(3)).map((event) => event.type)).toEqual(['ADDED', 'MODIFIED', 'MODIFIED']);
      expect(await blueGold.next(200)).toBe('timeout');
    } finally {
      blueGold.stop();
      oneKey.stop();
    }
  });

  it('starts a watch at "0" with the cached state as ADDED events', async () => {
    await store.create(key('pre1'), testObject('pre1'));
    await store.create(key('pre2'), testObject('pre2'));
    const cache = await startCache();
    const reader = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: '0' }));
    try {
      expect((await reader.take(2)).map((event) => `${event.type} ${(event.object as TestObject).metadata.name}`)).toEqual(['ADDED pre1', 'ADDED pre2']);
      await store.delete(key('pre1'));
      expect((await reader.take(1))[0]?.type).toBe('DELETED');
    } finally {
      reader.stop();
    }
  });
});

describe('WatchCache window', () => {
  it('expires only the client whose position fell out of the event window', async () => {
    const cache = await startCache({ eventBufferSize: 5 });
    const start = String(cache.stats().revision);
    const slow = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: start }));
    const fast = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: start }));
    try {
      await store.create(key('e0'), testObject('e0'));
      expect((await slow.take(1)).length).toBe(1);
      const fastEvents: WatchEvent<TestObject>[] = [...(await fast.take(1))];
      for (let index = 1; index <= 8; index++) {
        await store.create(key(`e${index}`), testObject(`e${index}`));
        // The fast client keeps up; the slow one reads nothing meanwhile.
        fastEvents.push(...(await fast.take(1)));
      }
      expect(fastEvents).toHaveLength(9);
      const slowNext = await slow.next();
      expect(errorCode(slowNext)).toBe('Expired');
      expect(slowNext !== 'end' && slowNext !== 'timeout' ? (slowNext.object as StorageError).message : '').toMatch(/^too old resource version: \d+ \(\d+\)$/);
      expect(await slow.next()).toBe('end');
      await store.create(key('after'), testObject('after'));
      expect((await fast.take(1))[0]?.type).toBe('ADDED');
    } finally {
      slow.stop();
      fast.stop();
    }
  });

  it('answers Expired for a watch starting before the window and serves one inside it', async () => {
    const cache = await startCache({ eventBufferSize: 3 });
    const start = cache.stats().revision;
    const revisions: number[] = [];
    for (let index = 0; index < 6; index++) revisions.push(Number((await store.create(key(`r${index}`), testObject(`r${index}`))).metadata.resourceVersion));
    await waitFor(() => cache.stats().revision >= (revisions[5] ?? 0), 'the cache to catch up');
    const tooOld = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: String(start) }));
    expect(errorCode(await tooOld.next())).toBe('Expired');
    const inside = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: String(revisions[3]) }));
    try {
      expect((await inside.take(2)).map((event) => (event.object as TestObject).metadata.name)).toEqual(['r4', 'r5']);
    } finally {
      inside.stop();
    }
  });

  it('waits for a resourceVersion the cache has not reached, then times out', async () => {
    const cache = await startCache({ freshnessTimeoutMs: 300 });
    const future = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: String(cache.stats().revision + 1000) }));
    expect(errorCode(await future.next())).toBe('Timeout');
    const created = await store.create(key('soon'), testObject('soon'));
    const listed = await cache.list(resourcePrefix(resource), { resourceVersion: created.metadata.resourceVersion });
    expect(listed.items.map((item) => item.metadata.name)).toEqual(['soon']);
  });
});

describe('WatchCache reads', () => {
  it('serves resourceVersion "0" lists and gets from memory even while etcd does not answer', async () => {
    await store.create(key('b'), testObject('b'));
    await store.create(key('a'), testObject('a'));
    await store.create(key('c', 'other'), testObject('c'));
    const cache = await startCache();
    await cluster.kill('member-1', 'SIGSTOP');
    try {
      const all = await cache.list(resourcePrefix(resource), { resourceVersion: '0' });
      expect(all.items.map((item) => item.metadata.name)).toEqual(['a', 'b', 'c']);
      expect(all.resourceVersion).toBe(String(cache.stats().revision));
      const cachedConsistent = await cache.list(resourcePrefix(resource, 'default'), { resourceVersion: '', allowCachedRead: true });
      expect(cachedConsistent.items.map((item) => item.metadata.name)).toEqual(['a', 'b']);
      expect((await cache.get(key('a'), { resourceVersion: '0' })).metadata.name).toBe('a');
      expect(Object.isFrozen(all.items[0]?.metadata)).toBe(true);
      // A consistent read must go to etcd, which is not answering.
      await expect(cache.list(resourcePrefix(resource))).rejects.toMatchObject({ code: 'Timeout' });
    } finally {
      await cluster.kill('member-1', 'SIGCONT');
    }
    expect((await cache.list(resourcePrefix(resource))).items).toHaveLength(3);
  });
});

describe('WatchCache bookmarks', () => {
  it('sends BOOKMARKs to watchers that allow them, carrying progress made elsewhere in etcd', async () => {
    const cache = await startCache({ bookmarkIntervalMs: 150 });
    const start = String(cache.stats().revision);
    const withBookmarks = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: start, allowWatchBookmarks: true }));
    const without = new WatchReader(cache.watch(resourcePrefix(resource), { resourceVersion: start }));
    try {
      await store.create(objectKey({ resource: `${resource}-elsewhere`, name: 'z' }), testObject('z'));
      const elsewhere = await store.currentRevision();
      let bookmarkRevision = 0;
      for (let attempts = 0; attempts < 40 && bookmarkRevision < elsewhere; attempts++) {
        const event = await withBookmarks.next(2000);
        expect(errorCode(event)).toBe('BOOKMARK');
        if (event !== 'end' && event !== 'timeout' && event.type === 'BOOKMARK') bookmarkRevision = Number(event.object.metadata.resourceVersion);
      }
      expect(bookmarkRevision).toBeGreaterThanOrEqual(elsewhere);
      expect(await without.next(400)).toBe('timeout');
    } finally {
      withBookmarks.stop();
      without.stop();
    }
  });
});

describe('WatchCache relist', () => {
  it('relists after its etcd watch was compacted away: watchers that missed events get Expired, others carry on', async () => {
    const changedPrefix = resourcePrefix(resource);
    const quietResource = `${resource}-quiet`;
    const quietPrefix = resourcePrefix(quietResource);
    const records: WatchCacheLogRecord[] = [];
    const changed = await startCache({ log: (record) => records.push(record) });
    const quiet = await WatchCache.start<TestObject>({ store, prefix: quietPrefix, log: (record) => records.push(record) });
    caches.push(quiet);
    const changedReader = new WatchReader(changed.watch(changedPrefix, { resourceVersion: String(changed.stats().revision) }));
    const quietReader = new WatchReader(quiet.watch(quietPrefix, { resourceVersion: String(quiet.stats().revision) }));
    try {
      // Both readers are iterating (positioned in the buffer) before the gap.
      expect(await changedReader.next(100)).toBe('timeout');
      expect(await quietReader.next(100)).toBe('timeout');
      // Restart etcd: both etcd watches break and wait 4 s before resuming,
      // long enough to write into the gap and compact it away.
      await cluster.restart('member-1');
      const put = await cluster.etcdctl(['put', key('gap'), JSON.stringify(testObject('gap'))]);
      expect(put.code).toBe(0);
      await cluster.etcdctl(['put', '/registry/unrelated/x', '{}']);
      const status = await cluster.status();
      await compactEtcd(cluster, status[0]?.revision ?? 0);
      await waitFor(() => changed.stats().relists === 1 && quiet.stats().relists === 1, 'both caches to relist', 20_000);

      expect(errorCode(await changedReader.next())).toBe('Expired');
      const relisted = records.filter((record) => record.event === 'relisted');
      expect(relisted.map((record) => [record.prefix, record.expiredWatchers]).sort()).toEqual([
        [changedPrefix, 1],
        [quietPrefix, 0],
      ].sort());
      expect(records.some((record) => record.event === 'etcd-watch-disconnected')).toBe(true);
      expect((await changed.list(changedPrefix, { resourceVersion: '0' })).items.map((item) => item.metadata.name)).toEqual(['gap']);

      // Nothing happened under the quiet prefix in the gap: its watcher lost nothing and keeps going.
      const late = await store.create(objectKey({ resource: quietResource, name: 'late' }), testObject('late'));
      expect((await quietReader.take(1)).map(describeEvent)).toEqual([`ADDED late@${late.metadata.resourceVersion}`]);
      // And a new watcher on the relisted cache sees new events.
      const fresh = new WatchReader(changed.watch(changedPrefix, { resourceVersion: String(changed.stats().revision) }));
      const next = await store.create(key('next'), testObject('next'));
      expect((await fresh.take(1)).map(describeEvent)).toEqual([`ADDED next@${next.metadata.resourceVersion}`]);
      fresh.stop();
    } finally {
      changedReader.stop();
      quietReader.stop();
    }
  }, 40_000);
});
