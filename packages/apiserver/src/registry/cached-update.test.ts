// Updates and binds start from the watch cache's copy of the object instead
// of reading etcd first. The cache lags etcd by design, so these cases make
// it stale on purpose (peek answers with an older copy) and check that every
// answer is still the one the current object gives: no lost write, no 409
// that only the stale copy would cause, no "already assigned" missed.

import type { Etcd3 } from 'etcd3';
import { etcdLiteAvailable, type EtcdImplementation } from '@kube-lite/testing';
import type { ApiObject } from './object';
import type { RegistryStore } from './store';
import { Client, eventually, startTestRegistry, statusOf, type TestRegistry } from './test-support';

const implementations: EtcdImplementation[] = ['etcd', ...(etcdLiteAvailable() && process.env.KUBE_LITE_SKIP_ETCD_LITE !== '1' ? (['etcd-lite'] as const) : [])];

const pod = (name: string): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'main', image: 'nginx:1' }] },
});

const binding = (name: string, node: string): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { kind: 'Node', name: node } });

describe.each(implementations)('updates from the watch cache on %s', (implementation) => {
  let test_: TestRegistry;
  let pods: Client;
  let configMaps: Client;
  let reads = 0;
  let testIndex = 0;
  let namespace: string;

  beforeAll(async () => {
    test_ = await startTestRegistry(implementation);
    pods = new Client(test_.registry, '', 'pods');
    configMaps = new Client(test_.registry, '', 'configmaps');
    const kv = (test_.store as unknown as { client: Etcd3 }).client.kv;
    const range = kv.range.bind(kv);
    kv.range = (...args: Parameters<typeof range>) => {
      reads++;
      return range(...args);
    };
  }, 60_000);

  afterAll(async () => {
    await test_?.stop();
  });

  beforeEach(async () => {
    testIndex++;
    namespace = `cached-${testIndex}`;
    await new Client(test_.registry, '', 'namespaces').create({ metadata: { name: namespace } });
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  const storeOf = (resource: 'pods' | 'configmaps'): RegistryStore => test_.registry.store('', resource);
  const cacheHolds = (resource: 'pods' | 'configmaps', name: string, resourceVersion: string): Promise<void> =>
    eventually(() => storeOf(resource).cache.peek(storeOf(resource).keyFor(namespace, name))?.metadata.resourceVersion === resourceVersion);
  /** Makes the cache answer peek for `name` with `stale`, as a cache that has not seen the latest writes would. */
  const staleCache = (resource: 'pods' | 'configmaps', name: string, stale: ApiObject): void => {
    const store = storeOf(resource);
    const key = store.keyFor(namespace, name);
    const peek = store.cache.peek.bind(store.cache);
    jest.spyOn(store.cache, 'peek').mockImplementation((asked) => (asked === key ? stale : peek(asked)));
  };

  it('binds from a current cache without reading etcd', async () => {
    const created = await pods.create(pod('fresh'), { namespace });
    await cacheHolds('pods', 'fresh', created.metadata.resourceVersion);
    reads = 0;
    await pods.create(binding('fresh', 'node-1'), { namespace, name: 'fresh', subresource: 'binding' });
    expect(reads).toBe(0);
    expect((await pods.get('fresh', { namespace })).spec.nodeName).toBe('node-1');
  });

  it('refuses a second bind although the stale cache still shows the pod unassigned', async () => {
    const created = await pods.create(pod('twice'), { namespace });
    await pods.create(binding('twice', 'node-1'), { namespace, name: 'twice', subresource: 'binding' });
    staleCache('pods', 'twice', created);
    const again = await statusOf(pods.create(binding('twice', 'node-2'), { namespace, name: 'twice', subresource: 'binding' }));
    expect(again.code).toBe(409);
    expect(again.message).toContain('is already assigned to node "node-1"');
    expect((await pods.get('twice', { namespace })).spec.nodeName).toBe('node-1');
  });

  it('binds a pod the cache does not hold yet (a miss) after one read from etcd', async () => {
    await pods.create(pod('missing'), { namespace });
    jest.spyOn(storeOf('pods').cache, 'peek').mockReturnValue(undefined);
    reads = 0;
    await pods.create(binding('missing', 'node-3'), { namespace, name: 'missing', subresource: 'binding' });
    expect(reads).toBe(1);
    expect((await pods.get('missing', { namespace })).spec.nodeName).toBe('node-3');
  });

  it('a patch over a stale cache keeps the write the cache has not seen', async () => {
    const created = await configMaps.create({ metadata: { name: 'merged' }, data: { a: '1' } }, { namespace });
    await configMaps.patch('merged', { type: 'merge', patch: { data: { b: '2' } } }, { namespace });
    staleCache('configmaps', 'merged', created);
    const patched = await configMaps.patch('merged', { type: 'merge', patch: { data: { c: '3' } } }, { namespace });
    expect(patched.object.data).toEqual({ a: '1', b: '2', c: '3' });
    expect((await configMaps.get('merged', { namespace })).data).toEqual({ a: '1', b: '2', c: '3' });
  });

  it('a dry-run patch over a stale cache answers with what the current object would become, and writes nothing', async () => {
    const created = await configMaps.create({ metadata: { name: 'dry' }, data: { a: '1' } }, { namespace });
    const current = (await configMaps.patch('dry', { type: 'merge', patch: { data: { b: '2' } } }, { namespace })).object;
    staleCache('configmaps', 'dry', created);
    const answer = await configMaps.patch('dry', { type: 'merge', patch: { data: { c: '3' } } }, { namespace, dryRun: true });
    expect(answer.object.data).toEqual({ a: '1', b: '2', c: '3' });
    expect(await configMaps.get('dry', { namespace })).toEqual(current);
  });

  it.each([
    ['the current resourceVersion succeeds although the cache is older', 'current', 'none'],
    ['the stale resourceVersion the cache shows is a 409', 'stale', 409],
  ] as const)('a PUT naming %s', async (_case, named, outcome) => {
    const created = await configMaps.create({ metadata: { name: 'put' }, data: { a: '1' } }, { namespace });
    const current = await configMaps.update('put', { ...created, data: { a: '2' } }, { namespace });
    staleCache('configmaps', 'put', created);
    const base = named === 'current' ? current : created;
    const result = configMaps.update('put', { ...base, data: { a: '3' } }, { namespace });
    if (outcome === 'none') expect((await result).data).toEqual({ a: '3' });
    else expect((await statusOf(result)).code).toBe(outcome);
    expect((await configMaps.get('put', { namespace })).data).toEqual({ a: outcome === 'none' ? '3' : '2' });
  });

  it('a patch that changes nothing against the stale cache still writes what differs from etcd', async () => {
    const created = await configMaps.create({ metadata: { name: 'same' }, data: { a: '1' } }, { namespace });
    await configMaps.patch('same', { type: 'merge', patch: { data: { a: '2' } } }, { namespace });
    staleCache('configmaps', 'same', created);
    // The patch sets what the stale copy already holds.
    const patched = await configMaps.patch('same', { type: 'merge', patch: { data: { a: '1' } } }, { namespace });
    expect(patched.object.data).toEqual({ a: '1' });
    expect((await configMaps.get('same', { namespace })).data).toEqual({ a: '1' });
  });
});
