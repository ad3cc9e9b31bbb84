import type { Deployment, KubeObject, Namespace, Pod, PodDisruptionBudget } from '@kube-lite/api';
import type { WatchEvent } from '../api-client';
import { ApiError, isAlreadyExists, isConflict, isGone, isNotFound } from '../errors';
import { RESOURCES } from '../resources';
import { FakeApiClient } from './fake-api-client';

function pod(name: string, labels: Record<string, string> = {}, nodeName?: string, namespace = 'default'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...(nodeName ? { nodeName } : {}) } };
}

function deployment(name: string, replicas: number): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
  };
}

/** The first `count` events, or a failure after timeoutMs so a missing event fails the test quickly. */
async function collect<T>(iterable: AsyncIterable<WatchEvent<T>>, count: number, timeoutMs = 2000): Promise<WatchEvent<T>[]> {
  const events: WatchEvent<T>[] = [];
  if (count === 0) return events;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`only ${events.length} of ${count} watch events after ${timeoutMs} ms`)), timeoutMs);
  });
  const reading = (async () => {
    for await (const event of iterable) {
      events.push(event);
      if (events.length === count) break;
    }
    return events;
  })();
  try {
    return await Promise.race([reading, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('FakeApiClient objects', () => {
  it('creates with uid, creationTimestamp, generation and increasing resourceVersions', async () => {
    const fake = new FakeApiClient({ nowMs: () => Date.UTC(2024, 0, 2, 3, 4, 5) });
    const a = await fake.pods('default').create(pod('a'));
    const b = await fake.pods('default').create(pod('b'));
    expect(a.metadata).toMatchObject({ name: 'a', namespace: 'default', generation: 1, creationTimestamp: '2024-01-02T03:04:05Z' });
    expect(a.metadata?.uid).not.toEqual(b.metadata?.uid);
    expect(Number(b.metadata?.resourceVersion)).toBeGreaterThan(Number(a.metadata?.resourceVersion));
    expect(await fake.pods('default').get('a')).toEqual(a);
  });

  it('gives generateName objects a unique suffix', async () => {
    const fake = new FakeApiClient();
    const first = await fake.pods('default').create({ ...pod(''), metadata: { generateName: 'web-' } });
    const second = await fake.pods('default').create({ ...pod(''), metadata: { generateName: 'web-' } });
    expect(first.metadata?.name).toMatch(/^web-[0-9a-z]{5}$/);
    expect(first.metadata?.name).not.toEqual(second.metadata?.name);
  });

  it.each([
    ['get of a missing object', (fake: FakeApiClient) => fake.pods('default').get('nope'), isNotFound, 'pods "nope" not found'],
    ['create of an existing object', (fake: FakeApiClient) => fake.pods('default').create(pod('a')), isAlreadyExists, 'pods "a" already exists'],
    [
      'update with a stale resourceVersion',
      (fake: FakeApiClient) => fake.pods('default').update({ ...pod('a'), metadata: { ...pod('a').metadata, resourceVersion: '1' } }),
      isConflict,
      'Operation cannot be fulfilled on pods "a": the object has been modified; please apply your changes to the latest version and try again',
    ],
    [
      'delete with a wrong uid precondition',
      (fake: FakeApiClient) => fake.pods('default').delete('a', { preconditions: { uid: 'other' } }),
      isConflict,
      'Precondition failed: UID in precondition: other',
    ],
    ['deployments of another namespace', (fake: FakeApiClient) => fake.deployments('other').get('web'), isNotFound, 'deployments.apps "web" not found'],
  ])('%s fails as the API server would', async (_name, call, check, message) => {
    const fake = new FakeApiClient({ objects: [pod('a'), deployment('web', 1)] });
    await fake.pods('default').update({ ...pod('a'), metadata: { ...pod('a').metadata, labels: { bump: 'yes' } } });
    const error = await (call(fake) as Promise<unknown>).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ApiError);
    expect(check(error)).toBe(true);
    expect((error as ApiError).message).toContain(message);
  });

  it('update keeps status and bumps generation on spec changes; updateStatus changes only status', async () => {
    const fake = new FakeApiClient({ objects: [deployment('web', 1)] });
    const stored = await fake.deployments('default').get('web');
    const updated = await fake.deployments('default').update({ ...stored, spec: { ...stored.spec!, replicas: 3 }, status: { replicas: 99 } });
    expect(updated.metadata?.generation).toBe(2);
    expect(updated.status).toBeUndefined();
    const withStatus = await fake.deployments('default').updateStatus({ ...updated, spec: { ...updated.spec!, replicas: 7 }, status: { replicas: 3 } });
    expect(withStatus.status).toEqual({ replicas: 3 });
    expect(withStatus.spec?.replicas).toBe(3);
    expect(withStatus.metadata?.generation).toBe(2);
  });

  it.each([
    ['merge', { metadata: { labels: { tier: 'web' } } }],
    ['strategic', { metadata: { labels: { tier: 'web' } } }],
    ['json', [{ op: 'add', path: '/metadata/labels/tier', value: 'web' }]],
  ] as const)('applies %s patches', async (type, patch) => {
    const fake = new FakeApiClient({ objects: [pod('a', { app: 'x' })] });
    const patched = await fake.pods('default').patch('a', type, patch);
    expect(patched.metadata?.labels).toEqual({ app: 'x', tier: 'web' });
  });

  it('patches the status subresource and the scale subresource', async () => {
    const fake = new FakeApiClient({ objects: [deployment('web', 1)] });
    const status = await fake.deployments('default').patch('web', 'merge', { status: { readyReplicas: 1 } }, { subresource: 'status' });
    expect(status.status).toEqual({ readyReplicas: 1 });
    const scale = await fake.deployments('default').patch('web', 'merge', { spec: { replicas: 4 } }, { subresource: 'scale' });
    expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 4 } });
    expect((await fake.deployments('default').get('web')).spec?.replicas).toBe(4);
  });

  it('lists with label and field selectors, across and within namespaces, in pages', async () => {
    const fake = new FakeApiClient({
      objects: [pod('a', { app: 'web' }, 'n1'), pod('b', { app: 'web' }, 'n2'), pod('c', { app: 'db' }, 'n1'), pod('d', { app: 'web' }, 'n1', 'other')],
    });
    const names = (list: { items: KubeObject[] }): string[] => list.items.map((item) => item.metadata?.name ?? '');
    expect(names(await fake.pods().list({ labelSelector: 'app=web' }))).toEqual(['a', 'b', 'd']);
    expect(names(await fake.pods('default').list({ labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1' }))).toEqual(['a']);
    const first = await fake.pods().list({ limit: 3 });
    expect(names(first)).toEqual(['a', 'b', 'c']);
    expect(first.metadata?.remainingItemCount).toBe(1);
    const second = await fake.pods().list({ limit: 3, continue: first.metadata?.continue });
    expect(names(second)).toEqual(['d']);
    expect(second.metadata?.continue).toBeUndefined();
    await expect(fake.pods().list({ fieldSelector: 'spec.bogus=1' })).rejects.toThrow('field label not supported: spec.bogus');
  });

  it('defers deletion of an object with finalizers until they are removed', async () => {
    const fake = new FakeApiClient({ objects: [{ ...pod('a'), metadata: { ...pod('a').metadata, finalizers: ['example.com/wait'] } }] });
    const marked = await fake.pods('default').delete('a');
    expect(marked.metadata).toHaveProperty('deletionTimestamp');
    const current = await fake.pods('default').get('a');
    await fake.pods('default').update({ ...current, metadata: { ...current.metadata, finalizers: [] } });
    await expect(fake.pods('default').get('a')).rejects.toThrow('not found');
  });

  it('keeps a deleted namespace until its spec.finalizers are removed through finalize, as the API server does', async () => {
    const team: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' }, spec: { finalizers: ['kubernetes'] } };
    const fake = new FakeApiClient({ objects: [team] });
    await fake.namespaces().delete('team');
    const terminating = await fake.namespaces().get('team');
    expect(terminating.metadata).toHaveProperty('deletionTimestamp');
    const updated = await fake.namespaces().update({ ...terminating, spec: { finalizers: [] } });
    expect(updated.spec?.finalizers).toEqual(['kubernetes']);
    await expect(fake.update(RESOURCES.pods, 'default', pod('x'), { subresource: 'finalize' })).rejects.toThrow('not found');
    await fake.namespaces().update({ ...updated, spec: { finalizers: [] } }, { subresource: 'finalize' });
    await expect(fake.namespaces().get('team')).rejects.toThrow('not found');
    expect(fake.writes.map((write) => write.subresource ?? '')).toEqual(['', '', 'finalize', 'finalize']);
  });

  it('binds a pod once and sets PodScheduled', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    await fake.pods('default').bind('a', 'node-1');
    const bound = await fake.pods('default').get('a');
    expect(bound.spec?.nodeName).toBe('node-1');
    expect(bound.status?.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
    await expect(fake.pods('default').bind('a', 'node-2')).rejects.toThrow('already assigned to node "node-1"');
  });

  it('evicts a pod unless a disruption budget forbids it', async () => {
    const budget = (allowed: number): PodDisruptionBudget => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'pdb', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } } },
      status: { disruptionsAllowed: allowed, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 },
    });
    const fake = new FakeApiClient({ objects: [pod('a', { app: 'web' }), pod('b', { app: 'web' }), budget(1)] });
    await fake.pods('default').evict('a');
    await expect(fake.pods('default').get('a')).rejects.toThrow('not found');
    const refused = fake.pods('default').evict('b');
    await expect(refused).rejects.toMatchObject({ code: 429, reason: 'TooManyRequests' });
  });

  it('reads and writes scale', async () => {
    const fake = new FakeApiClient({ objects: [deployment('web', 2)] });
    const scale = await fake.deployments('default').getScale('web');
    expect(scale.spec?.replicas).toBe(2);
    const updated = await fake.deployments('default').updateScale('web', { ...scale, spec: { replicas: 5 } });
    expect(updated.spec?.replicas).toBe(5);
    await expect(fake.deployments('default').updateScale('web', scale)).rejects.toThrow('the object has been modified');
  });

  it('records every write in order, exactly as sent', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    await fake.pods('default').get('a');
    await fake.pods('default').patch('a', 'merge', { metadata: { labels: { x: 'y' } } });
    await fake.pods('default').bind('a', 'n1');
    await fake.pods('default').delete('a');
    expect(fake.writes).toEqual([
      { verb: 'patch', group: '', resource: 'pods', namespace: 'default', name: 'a', object: { metadata: { labels: { x: 'y' } } }, patchType: 'merge' },
      {
        verb: 'create',
        group: '',
        resource: 'pods',
        subresource: 'binding',
        namespace: 'default',
        name: 'a',
        object: { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'a', namespace: 'default' }, target: { apiVersion: 'v1', kind: 'Node', name: 'n1' } },
      },
      { verb: 'delete', group: '', resource: 'pods', namespace: 'default', name: 'a', object: {} },
    ]);
    expect(fake.actions.map((action) => action.verb)).toEqual(['get', 'patch', 'create', 'delete']);
  });

  it('lets a reactor fail chosen calls', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    const remove = fake.addReactor((action) => {
      if (action.verb === 'update') throw new ApiError(500, 'InternalError', 'injected');
    });
    await expect(fake.pods('default').update(await fake.pods('default').get('a'))).rejects.toThrow('injected');
    remove();
    await expect(fake.pods('default').update(await fake.pods('default').get('a'))).resolves.toBeDefined();
  });
});

describe('FakeApiClient watches', () => {
  it('starts with ADDED for existing objects when no version is given, then streams changes', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    const watch = fake.pods('default').watch();
    await fake.pods('default').create(pod('b'));
    await fake.pods('default').delete('a');
    const events = await collect(watch, 3);
    expect(events.map((event) => [event.type, event.object.metadata?.name])).toEqual([
      ['ADDED', 'a'],
      ['ADDED', 'b'],
      ['DELETED', 'a'],
    ]);
    watch.stop();
  });

  it('replays history after a resourceVersion, filtered by selector, with ADDED/DELETED as objects enter and leave it', async () => {
    const fake = new FakeApiClient({ objects: [pod('other')] });
    const list = await fake.pods('default').list();
    await fake.pods('default').create(pod('a', { app: 'db' }));
    await fake.pods('default').patch('a', 'merge', { metadata: { labels: { app: 'web' } } });
    await fake.pods('default').patch('a', 'merge', { metadata: { labels: { tier: '1' } } });
    await fake.pods('default').patch('a', 'merge', { metadata: { labels: { app: 'db' } } });
    const watch = fake.pods('default').watch({ resourceVersion: list.metadata?.resourceVersion, labelSelector: 'app=web' });
    const events = await collect(watch, 3);
    expect(events.map((event) => event.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    watch.stop();
  });

  it('answers 410 Expired for a version older than its history', async () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    await fake.pods('default').create(pod('b'));
    fake.compactHistory();
    const error = await collect(fake.pods('default').watch({ resourceVersion: '1' }), 1).catch((thrown: unknown) => thrown);
    expect(isGone(error)).toBe(true);
    expect((error as ApiError).message).toBe('too old resource version: 1 (2)');
    const current = fake.pods('default').watch({ resourceVersion: '2' });
    await fake.pods('default').delete('a');
    expect((await collect(current, 1)).map((event) => event.type)).toEqual(['DELETED']);
    current.stop();
  });

  it('ends the stream when the consumer stops, and on breakWatches', async () => {
    const fake = new FakeApiClient();
    const first = fake.pods().watch({ resourceVersion: String(fake.currentRevision) });
    const second = fake.nodes().watch({ resourceVersion: String(fake.currentRevision) });
    expect(fake.watcherCount).toBe(2);
    first.stop();
    expect(await collect(first, 1)).toEqual([]);
    fake.breakWatches(new ApiError(503, 'ServiceUnavailable', 'connection reset'));
    await expect(collect(second, 1)).rejects.toThrow('connection reset');
    expect(fake.watcherCount).toBe(0);
  });

  it('sends bookmarks only to watchers that asked', async () => {
    const fake = new FakeApiClient();
    const withBookmarks = fake.pods().watch({ resourceVersion: '1', allowWatchBookmarks: true });
    await fake.nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    fake.sendBookmarks();
    const [bookmark] = await collect(withBookmarks, 1);
    expect(bookmark).toEqual({ type: 'BOOKMARK', object: { apiVersion: 'v1', kind: 'Pod', metadata: { resourceVersion: String(fake.currentRevision) } } });
    withBookmarks.stop();
  });

  it('peeks without recording actions', () => {
    const fake = new FakeApiClient({ objects: [pod('a')] });
    expect(fake.peek<Pod>(RESOURCES.pods, 'default', 'a')?.metadata?.name).toBe('a');
    expect(fake.peekAll(RESOURCES.pods)).toHaveLength(1);
    expect(fake.actions).toHaveLength(0);
  });
});
