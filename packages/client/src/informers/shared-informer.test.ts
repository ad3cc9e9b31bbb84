import type { KubeObject, Node, Pod, ReplicaSet } from '@kube-lite/api';
import { ApiError } from '../errors';
import { FakeApiClient } from '../fake/fake-api-client';
import { RESOURCES } from '../resources';
import { sleep, waitFor } from '../test-support';
import { SharedInformerFactory } from './factory';
import { CONTROLLER_UID_INDEX, NODE_NAME_INDEX } from './indexer';
import { DeletedFinalStateUnknown, SharedInformer, type ResourceEventHandler } from './shared-informer';

function pod(name: string, options: { labels?: Record<string, string>; nodeName?: string; namespace?: string; ownerUid?: string } = {}): Pod {
  const metadata: Pod['metadata'] = { name, namespace: options.namespace ?? 'default', labels: options.labels ?? {} };
  if (options.ownerUid) metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: options.ownerUid, controller: true }];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [{ name: 'c', image: 'busybox' }], ...(options.nodeName ? { nodeName: options.nodeName } : {}) } };
}

type Recorded = [string, string, ...unknown[]];

/** A handler writing what it sees as [kind, name, details...]. */
function recorder(): { events: Recorded[]; handler: ResourceEventHandler<Pod> } {
  const events: Recorded[] = [];
  return {
    events,
    handler: {
      onAdd: (object, initial) => events.push(['add', object.metadata?.name ?? '', initial]),
      onUpdate: (old, next) => events.push(['update', next.metadata?.name ?? '', old.metadata?.resourceVersion === next.metadata?.resourceVersion ? 'resync' : 'change']),
      onDelete: (object) =>
        events.push(object instanceof DeletedFinalStateUnknown ? ['delete', object.object.metadata?.name ?? '', 'tombstone', object.key] : ['delete', object.metadata?.name ?? '', 'final']),
    },
  };
}

function names(objects: KubeObject[]): string[] {
  return objects.map((object) => object.metadata?.name ?? '').sort();
}

describe('SharedInformer', () => {
  const informers: SharedInformer<KubeObject>[] = [];
  function start<T extends KubeObject>(informer: SharedInformer<T>): SharedInformer<T> {
    informers.push(informer as unknown as SharedInformer<KubeObject>);
    informer.run();
    return informer;
  }
  afterEach(async () => {
    await Promise.all(informers.splice(0).map((informer) => informer.stop()));
  });

  it('lists first, delivering initial adds, then is synced with a lister over the cache', async () => {
    const fake = new FakeApiClient({ objects: [pod('a', { labels: { app: 'web' } }), pod('b'), pod('c', { namespace: 'other', labels: { app: 'web' } })] });
    const informer = new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods, listPageSize: 2 });
    const { events, handler } = recorder();
    informer.addEventHandler(handler);
    expect(informer.hasSynced()).toBe(false);
    start(informer);
    expect(await informer.waitForSync(2000)).toBe(true);
    expect(events).toEqual([
      ['add', 'a', true],
      ['add', 'b', true],
      ['add', 'c', true],
    ]);
    expect(fake.actions.filter((action) => action.verb === 'list')).toHaveLength(2);
    expect(names(informer.lister.list('app=web'))).toEqual(['a', 'c']);
    expect(names(informer.lister.namespace('default').list())).toEqual(['a', 'b']);
    expect(informer.lister.get('other', 'c')?.metadata?.name).toBe('c');
    expect(informer.lister.namespace('other').get('a')).toBeUndefined();
    expect(informer.lastSyncResourceVersion()).toBe(String(fake.currentRevision));
  });

  it('applies watch events: add, update, delete with the final state', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods }));
    const { events, handler } = recorder();
    informer.addEventHandler(handler);
    await informer.waitForSync(2000);
    await fake.pods('default').create(pod('b'));
    await fake.pods('default').patch('a', 'merge', { metadata: { labels: { x: '1' } } });
    await fake.pods('default').delete('b');
    await waitFor(() => events.length === 4, 'four events');
    expect(events).toEqual([
      ['add', 'a', true],
      ['add', 'b', false],
      ['update', 'a', 'change'],
      ['delete', 'b', 'final'],
    ]);
    expect(informer.lister.get('default', 'a')?.metadata?.labels).toEqual({ x: '1' });
    expect(informer.lastSyncResourceVersion()).toBe(String(fake.currentRevision));
  });

  it('resumes a broken watch from its last version without listing again or losing events', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods, initialBackoffMs: 30 }));
    const { events, handler } = recorder();
    informer.addEventHandler(handler);
    await informer.waitForSync(2000);
    await waitFor(() => fake.watcherCount === 1, 'the watch');
    fake.breakWatches(new ApiError(503, 'ServiceUnavailable', 'connection reset'));
    await fake.pods('default').create(pod('during-gap'));
    await waitFor(() => events.length === 2, 'the event made during the gap');
    expect(events[1]).toEqual(['add', 'during-gap', false]);
    expect(fake.actions.filter((action) => action.verb === 'list')).toHaveLength(1);
    expect(fake.actions.filter((action) => action.verb === 'watch').length).toBeGreaterThanOrEqual(2);
  });

  it('relists on 410 Expired and reports each missed change exactly once', async () => {
    const fake = new FakeApiClient({ objects: [pod('gone'), pod('changed'), pod('same')] });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods, initialBackoffMs: 30 }));
    const { events, handler } = recorder();
    informer.addEventHandler(handler);
    await informer.waitForSync(2000);
    await waitFor(() => fake.watcherCount === 1, 'the watch');
    events.length = 0;

    fake.breakWatches(new ApiError(503, 'ServiceUnavailable', 'connection reset'));
    await fake.pods('default').delete('gone');
    await fake.pods('default').patch('changed', 'merge', { metadata: { labels: { v: '2' } } });
    await fake.pods('default').create(pod('new'));
    fake.compactHistory();

    await waitFor(() => events.length === 3, 'the missed changes');
    await sleep(50);
    expect(events.sort()).toEqual([
      ['add', 'new', false],
      ['delete', 'gone', 'tombstone', 'default/gone'],
      ['update', 'changed', 'change'],
    ]);
    expect(fake.actions.filter((action) => action.verb === 'list')).toHaveLength(2);
    expect(names(informer.lister.list())).toEqual(names(fake.peekAll(RESOURCES.pods)));

    events.length = 0;
    await fake.pods('default').delete('same');
    await waitFor(() => events.length === 1, 'a change after the relist');
    expect(events).toEqual([['delete', 'same', 'final']]);
  });

  it('re-delivers every object as an update on resync', async () => {
    const fake = new FakeApiClient({ objects: [pod('a'), pod('b')] });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods, resyncPeriodMs: 40 }));
    const { events, handler } = recorder();
    informer.addEventHandler(handler);
    const quiet = recorder();
    informer.addEventHandler(quiet.handler, 0);
    await waitFor(() => events.filter((event) => event[2] === 'resync').length >= 4, 'two resyncs');
    expect(new Set(events.filter((event) => event[0] === 'update').map((event) => event[1]))).toEqual(new Set(['a', 'b']));
    expect(quiet.events.filter((event) => event[0] === 'update')).toEqual([]);
  });

  it('gives a handler added after sync an add for every cached object', async () => {
    const fake = new FakeApiClient({ objects: [pod('a'), pod('b')] });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods }));
    await informer.waitForSync(2000);
    const late = recorder();
    const registration = informer.addEventHandler(late.handler);
    expect(late.events).toEqual([
      ['add', 'a', true],
      ['add', 'b', true],
    ]);
    registration.remove();
    await fake.pods('default').create(pod('c'));
    await waitFor(() => informer.lister.get('default', 'c') !== undefined, 'pod c in the cache');
    expect(late.events).toHaveLength(2);
  });

  it('indexes by node name, controller uid and custom functions, following changes', async () => {
    const fake = new FakeApiClient({ objects: [pod('a', { nodeName: 'n1', ownerUid: 'rs-1' }), pod('b', { ownerUid: 'rs-1' }), pod('c', { nodeName: 'n2' })] });
    const factory = new SharedInformerFactory(fake);
    const informer = factory.forResource<Pod>(RESOURCES.pods, { indexers: { byImage: (object) => (object.spec?.containers ?? []).map((container) => container.image ?? '') } });
    factory.start();
    informers.push(informer as unknown as SharedInformer<KubeObject>);
    await factory.waitForCacheSync(2000);
    const lister = informer.lister;
    expect(names(lister.byIndex(NODE_NAME_INDEX, 'n1'))).toEqual(['a']);
    expect(names(lister.byIndex(NODE_NAME_INDEX, ''))).toEqual(['b']);
    expect(names(lister.byIndex(CONTROLLER_UID_INDEX, 'rs-1'))).toEqual(['a', 'b']);
    expect(names(lister.byIndex('byImage', 'busybox'))).toEqual(['a', 'b', 'c']);
    await fake.pods('default').bind('b', 'n1');
    await waitFor(() => lister.byIndex(NODE_NAME_INDEX, 'n1').length === 2, 'b to move to n1');
    expect(names(lister.byIndex(NODE_NAME_INDEX, ''))).toEqual([]);
    await fake.pods('default').delete('a');
    await waitFor(() => lister.byIndex(CONTROLLER_UID_INDEX, 'rs-1').length === 1, 'a to leave the index');
    expect(() => lister.byIndex('missing', 'x')).toThrow('index "missing" does not exist');
  });

  it('caches only what its field selector matches, adding objects as they come to match', async () => {
    const fake = new FakeApiClient({ objects: [pod('mine', { nodeName: 'n1' }), pod('pending')] });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods, fieldSelector: 'spec.nodeName=n1' }));
    await informer.waitForSync(2000);
    expect(names(informer.lister.list())).toEqual(['mine']);
    await fake.pods('default').bind('pending', 'n1');
    await waitFor(() => informer.lister.list().length === 2, 'the bound pod');
  });

  it('freezes cached objects so handlers cannot corrupt the cache', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods }));
    await informer.waitForSync(2000);
    const cached = informer.lister.get('default', 'a') as Pod;
    expect(() => {
      (cached.metadata as { name: string }).name = 'changed';
    }).toThrow(TypeError);
  });

  it('keeps watching from bookmarks', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods }));
    await informer.waitForSync(2000);
    await waitFor(() => fake.watcherCount === 1, 'the watch');
    await fake.nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } as Node);
    fake.sendBookmarks();
    await waitFor(() => informer.lastSyncResourceVersion() === String(fake.currentRevision), 'the bookmark version');
  });

  it('retries a failing list with backoff until it succeeds', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    let failures = 2;
    fake.addReactor((action) => {
      if (action.verb === 'list' && failures > 0) {
        failures -= 1;
        throw new ApiError(503, 'ServiceUnavailable', 'not ready');
      }
    });
    const informer = start(new SharedInformer<Pod>({ client: fake, resource: RESOURCES.pods, initialBackoffMs: 10 }));
    expect(await informer.waitForSync(2000)).toBe(true);
    expect(fake.actions.filter((action) => action.verb === 'list')).toHaveLength(3);
  });
});

describe('SharedInformerFactory', () => {
  it('shares one informer, one list and one watch per resource among its users', async () => {
    const fake = new FakeApiClient({
      objects: [pod('a'), { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs', namespace: 'default' }, spec: { selector: {}, template: {} } } as ReplicaSet],
    });
    const factory = new SharedInformerFactory(fake);
    const first = factory.pods();
    const second = factory.forResource<Pod>(RESOURCES.pods);
    const replicaSets = factory.replicaSets();
    expect(second).toBe(first);
    factory.start();
    expect(await factory.waitForCacheSync(2000)).toBe(true);
    await waitFor(() => fake.watcherCount === 2, 'two watches');
    expect(fake.actions.map((action) => `${action.verb} ${action.resource}`).sort()).toEqual(['list pods', 'list replicasets', 'watch pods', 'watch replicasets']);
    expect(replicaSets.lister.list()).toHaveLength(1);
    await factory.shutdown();
    expect(fake.watcherCount).toBe(0);
  });

  it('waitForCacheSync answers false when an informer cannot sync in time', async () => {
    const fake = new FakeApiClient();
    fake.addReactor((action) => {
      if (action.verb === 'list') throw new ApiError(403, 'Forbidden', 'nope');
    });
    const factory = new SharedInformerFactory(fake, { informerOptions: { initialBackoffMs: 10 } });
    factory.nodes();
    factory.start();
    expect(await factory.waitForCacheSync(100)).toBe(false);
    await factory.shutdown();
  });
});
