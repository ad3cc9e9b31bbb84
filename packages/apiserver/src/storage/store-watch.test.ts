import type { EtcdCluster } from '@kube-lite/testing';
import { objectKey, resourcePrefix } from './keys';
import { EtcdStore } from './store';
import { compactEtcd, describe as describeEvent, startTestEtcd, testObject, type TestObject, WatchReader } from './test-support';

let cluster: EtcdCluster;
let store: EtcdStore;
let testIndex = 0;
let resource: string;

const key = (name: string): string => objectKey({ resource, namespace: 'default', name });
const prefix = (): string => resourcePrefix(resource);

beforeAll(async () => {
  cluster = await startTestEtcd();
  store = new EtcdStore({ endpoints: cluster.endpoints });
}, 60_000);

afterAll(async () => {
  store?.close();
  await cluster?.stop();
});

beforeEach(() => {
  testIndex++;
  resource = `gadgets${testIndex}`;
});

describe('EtcdStore.watch', () => {
  it('from a resourceVersion delivers every later event in order; DELETED carries the last state at the deletion revision', async () => {
    const before = await store.create(key('before'), testObject('before'));
    const reader = new WatchReader(store.watch<TestObject>(prefix(), { resourceVersion: before.metadata.resourceVersion }));
    try {
      const a = await store.create(key('a'), testObject('a', { value: 1 }));
      const a2 = await store.update(key('a'), { ...a, spec: { value: 2 } });
      const b = await store.create(key('b'), testObject('b'));
      await store.delete(key('a'));
      const deletedAt = await store.currentRevision();
      const events = await reader.take(4);
      expect(events.map(describeEvent)).toEqual([
        `ADDED a@${a.metadata.resourceVersion}`,
        `MODIFIED a@${a2.metadata.resourceVersion}`,
        `ADDED b@${b.metadata.resourceVersion}`,
        `DELETED a@${deletedAt}`,
      ]);
      const deleted = events[3]?.object as TestObject;
      expect(deleted.spec).toEqual({ value: 2 });
      expect(await reader.next(300)).toBe('timeout');
    } finally {
      reader.stop();
    }
  });

  it('from an older resourceVersion replays history, and from "0" starts with the current state as ADDED', async () => {
    const first = await store.create(key('one'), testObject('one'));
    await store.create(key('two'), testObject('two'));
    const replay = new WatchReader(store.watch<TestObject>(prefix(), { resourceVersion: String(Number(first.metadata.resourceVersion) - 1) }));
    const fromNow = new WatchReader(store.watch<TestObject>(prefix(), { resourceVersion: '0' }));
    try {
      expect((await replay.take(2)).map((event) => `${event.type} ${(event.object as TestObject).metadata.name}`)).toEqual(['ADDED one', 'ADDED two']);
      expect((await fromNow.take(2)).map((event) => `${event.type} ${(event.object as TestObject).metadata.name}`)).toEqual(['ADDED one', 'ADDED two']);
      await store.create(key('three'), testObject('three'));
      expect((await fromNow.take(1))[0]?.type).toBe('ADDED');
    } finally {
      replay.stop();
      fromNow.stop();
    }
  });

  it('watches a single key when the key does not end in "/"', async () => {
    const reader = new WatchReader(store.watch<TestObject>(key('solo'), { resourceVersion: String(await store.currentRevision()) }));
    try {
      await store.create(key('solo-not-me'), testObject('solo-not-me'));
      await store.create(key('solo'), testObject('solo'));
      expect((await reader.take(1)).map(describeEvent)[0]).toMatch(/^ADDED solo@/);
      expect(await reader.next(300)).toBe('timeout');
    } finally {
      reader.stop();
    }
  });

  it('from a compacted resourceVersion ends with a single ERROR Expired', async () => {
    const old = await store.create(key('old'), testObject('old'));
    await store.create(key('newer'), testObject('newer'));
    await store.create(key('newest'), testObject('newest'));
    // Compacting at the current revision keeps it: the watch needs old+1, two revisions back.
    await compactEtcd(cluster, await store.currentRevision());
    const reader = new WatchReader(store.watch<TestObject>(prefix(), { resourceVersion: old.metadata.resourceVersion }));
    const event = await reader.next();
    expect(event !== 'end' && event !== 'timeout' && event.type === 'ERROR' ? event.object.code : event).toBe('Expired');
    expect(event !== 'end' && event !== 'timeout' && event.type === 'ERROR' ? event.object.message : '').toMatch(/too old resource version/);
    expect(await reader.next()).toBe('end');
    expect(store.stats().etcdWatchesActive).toBe(0);
  });

  it('turns predicate transitions into ADDED and DELETED', async () => {
    const gold = (object: TestObject): boolean => object.spec?.tier === 'gold';
    const start = await store.currentRevision();
    const reader = new WatchReader(store.watch<TestObject>(prefix(), { resourceVersion: String(start), predicate: gold }));
    try {
      const created = await store.create(key('p'), testObject('p', { tier: 'plain' }));
      const promoted = await store.update(key('p'), { ...created, spec: { tier: 'gold' } });
      const touched = await store.update(key('p'), { ...promoted, spec: { tier: 'gold', value: 1 } });
      await store.update(key('p'), { ...touched, spec: { tier: 'plain' } });
      const demotedAt = await store.currentRevision();
      const events = await reader.take(3);
      expect(events.map(describeEvent)).toEqual([
        `ADDED p@${promoted.metadata.resourceVersion}`,
        `MODIFIED p@${touched.metadata.resourceVersion}`,
        `DELETED p@${demotedAt}`,
      ]);
      // The DELETED event shows the last state that matched.
      expect((events[2]?.object as TestObject).spec).toEqual({ tier: 'gold', value: 1 });
    } finally {
      reader.stop();
    }
  });

  it('sends BOOKMARKs from etcd progress notifications when asked', async () => {
    const start = await store.currentRevision();
    const reader = new WatchReader(store.watch<TestObject>(prefix(), { resourceVersion: String(start), progressNotify: true }));
    try {
      // A write elsewhere moves the revision on without an event for this watch.
      await store.create(objectKey({ resource: `${resource}-other`, name: 'x' }), testObject('x'));
      const elsewhere = await store.currentRevision();
      let bookmarkRevision = 0;
      for (let attempts = 0; attempts < 20 && bookmarkRevision < elsewhere; attempts++) {
        const event = await reader.next(2000);
        if (event !== 'end' && event !== 'timeout' && event.type === 'BOOKMARK') bookmarkRevision = Number(event.object.metadata.resourceVersion);
      }
      expect(bookmarkRevision).toBeGreaterThanOrEqual(elsewhere);
    } finally {
      reader.stop();
    }
  });

  it('ends a watch whose consumer falls further behind than its queue and releases the etcd watch on stop', async () => {
    const small = new EtcdStore({ endpoints: cluster.endpoints, watchQueueCapacityEvents: 3 });
    try {
      const watch = small.watch<TestObject>(prefix(), { resourceVersion: String(await small.currentRevision()) });
      for (let index = 0; index < 6; index++) await small.create(key(`n${index}`), testObject(`n${index}`));
      const deadline = Date.now() + 5000;
      while (watch.endReason === undefined && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(watch.endReason).toMatch(/consumer too slow/);
      const reader = new WatchReader(watch);
      // The events queued before the overflow are still delivered, then the watch ends.
      expect((await reader.take(3)).map((event) => event.type)).toEqual(['ADDED', 'ADDED', 'ADDED']);
      expect(await reader.next()).toBe('end');
      expect(small.stats().etcdWatchesActive).toBe(0);
    } finally {
      small.close();
    }
  });
});
