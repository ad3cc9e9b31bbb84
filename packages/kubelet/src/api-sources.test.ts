import type { ConfigMap, Pod, PodStatus } from '@kube-lite/api';
import { ApiError, conflictError, FakeApiClient, RESOURCES, type FakeAction } from '@kube-lite/client';
import { ApiObjectSource, ApiStatusSink, InformerPodSource, mergePodStatus, StatusWriteConflictError } from './api-sources';

function pod(name: string, nodeName = 'node-1'): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'app', image: 'busybox' }] } };
}

const running: PodStatus = { phase: 'Running', podIP: '10.0.0.2', conditions: [{ type: 'Ready', status: 'True' }] };

function failing(times: number, matches: (action: FakeAction) => boolean, error: () => Error): (action: FakeAction) => void {
  let left = times;
  return (action) => {
    if (left > 0 && matches(action)) {
      left -= 1;
      throw error();
    }
  };
}

const isStatusWrite = (action: FakeAction) => action.resource === 'pods' && action.subresource === 'status';

describe('ApiStatusSink.writeStatus', () => {
  const cases: { name: string; conflicts: number; recreate?: boolean; deleteFirst?: boolean; outcome: 'written' | 'skipped' | 'throws' }[] = [
    { name: 'writes at once', conflicts: 0, outcome: 'written' },
    { name: 'retries conflicts from a fresh read', conflicts: 3, outcome: 'written' },
    { name: 'gives up after maxAttempts conflicts', conflicts: 5, outcome: 'throws' },
    { name: 'drops the status of a pod recreated under the same name', conflicts: 1, recreate: true, outcome: 'skipped' },
    { name: 'drops the status of a deleted pod', conflicts: 0, deleteFirst: true, outcome: 'skipped' },
  ];
  it.each(cases)('$name', async ({ conflicts, recreate, deleteFirst, outcome }) => {
    const client = new FakeApiClient();
    const created = await client.pods('default').create(pod('web'));
    client.addReactor(failing(conflicts, isStatusWrite, () => conflictError('', 'pods', 'web', 'the object has been modified')));
    if (recreate) {
      await client.pods('default').delete('web');
      await client.pods('default').create(pod('web'));
    }
    if (deleteFirst) await client.pods('default').delete('web');
    const sink = new ApiStatusSink({ client, maxAttempts: 5 });
    const write = sink.writeStatus(created, running);
    if (outcome === 'throws') {
      await expect(write).rejects.toBeInstanceOf(StatusWriteConflictError);
      return;
    }
    await write;
    const stored = client.peek<Pod>(RESOURCES.pods, 'default', 'web');
    if (outcome === 'written') expect(stored?.status).toMatchObject({ phase: 'Running', podIP: '10.0.0.2' });
    else expect(stored?.status?.phase).toBeUndefined();
  });

  it('passes on errors other than conflicts and NotFound', async () => {
    const client = new FakeApiClient();
    const created = await client.pods('default').create(pod('web'));
    client.addReactor(failing(1, isStatusWrite, () => new ApiError(503, 'ServiceUnavailable', 'connection refused')));
    await expect(new ApiStatusSink({ client }).writeStatus(created, running)).rejects.toThrow('connection refused');
  });

  it('keeps conditions other writers own', () => {
    const merged = mergePodStatus(
      { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI' }, { type: 'Ready', status: 'False' }] },
      running,
    );
    expect(merged.conditions?.map((condition) => `${condition.type}=${condition.status}`)).toEqual(['Ready=True', 'DisruptionTarget=True']);
  });
});

describe('ApiStatusSink.podTerminated', () => {
  const cases: { name: string; before: (client: FakeApiClient) => Promise<void>; remains: boolean }[] = [
    { name: 'deletes the pod with grace 0', before: async () => undefined, remains: false },
    { name: 'tolerates a pod already gone', before: async (client) => void (await client.pods('default').delete('web')), remains: false },
    {
      name: 'leaves alone a new pod of the same name',
      before: async (client) => {
        await client.pods('default').delete('web');
        await client.pods('default').create(pod('web'));
      },
      remains: true,
    },
  ];
  it.each(cases)('$name', async ({ before, remains }) => {
    const client = new FakeApiClient();
    const created = await client.pods('default').create(pod('web'));
    await before(client);
    await new ApiStatusSink({ client }).podTerminated(created);
    expect(client.peek(RESOURCES.pods, 'default', 'web') !== undefined).toBe(remains);
    const deletes = client.writes.filter((write) => write.verb === 'delete').map((write) => write.object);
    expect(deletes[deletes.length - 1]).toEqual({ gracePeriodSeconds: 0, preconditions: { uid: created.metadata?.uid } });
  });
});

describe('ApiObjectSource', () => {
  const config: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { mode: 'fast' } };

  it('reuses a fetched object within the TTL, fetches again after it, and answers undefined for a missing one', async () => {
    let nowMs = 0;
    const client = new FakeApiClient({ objects: [config] });
    const source = new ApiObjectSource({ client, ttlMs: 10_000, nowMs: () => nowMs });
    const gets = () => client.actions.filter((action) => action.verb === 'get').length;
    expect((await source.getConfigMap('default', 'settings'))?.data).toEqual({ mode: 'fast' });
    nowMs = 9_999;
    await source.getConfigMap('default', 'settings');
    expect(gets()).toBe(1);
    nowMs = 10_000;
    await source.getConfigMap('default', 'settings');
    expect(gets()).toBe(2);
    expect(await source.getSecret('default', 'missing')).toBeUndefined();
    expect(gets()).toBe(3);
  });

  it('serves a stale copy while the API server is unreachable, and fails without one', async () => {
    let nowMs = 0;
    const client = new FakeApiClient({ objects: [config] });
    const source = new ApiObjectSource({ client, ttlMs: 1000, nowMs: () => nowMs });
    await source.getConfigMap('default', 'settings');
    client.addReactor(() => {
      throw new ApiError(503, 'ServiceUnavailable', 'connection refused');
    });
    nowMs = 5000;
    expect((await source.getConfigMap('default', 'settings'))?.data).toEqual({ mode: 'fast' });
    await expect(source.getConfigMap('default', 'other')).rejects.toThrow('connection refused');
  });

  it('asks once for concurrent lookups of one object', async () => {
    const client = new FakeApiClient({ objects: [config] });
    const source = new ApiObjectSource({ client });
    await Promise.all([source.getConfigMap('default', 'settings'), source.getConfigMap('default', 'settings')]);
    expect(client.actions.filter((action) => action.verb === 'get')).toHaveLength(1);
  });
});

describe('InformerPodSource', () => {
  it('lists only the pods bound to its node, as unfrozen copies, and notifies on changes', async () => {
    const client = new FakeApiClient({ objects: [pod('mine'), pod('theirs', 'node-2'), pod('pending', '')] });
    const source = new InformerPodSource({ client, nodeName: 'node-1' });
    let notified = 0;
    source.subscribe(() => (notified += 1));
    source.run();
    expect(await source.waitForSync(2000)).toBe(true);
    const listed = source.listPods();
    expect(listed.map((entry) => entry.metadata?.name)).toEqual(['mine']);
    expect(Object.isFrozen(listed[0])).toBe(false);
    expect(source.listPods()[0]).toBe(listed[0]);
    await client.pods('default').create(pod('second'));
    for (let turn = 0; turn < 10 && source.listPods().length < 2; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(source.listPods().map((entry) => entry.metadata?.name).sort()).toEqual(['mine', 'second']);
    expect(notified).toBeGreaterThanOrEqual(2);
    await source.stop();
  });
});
