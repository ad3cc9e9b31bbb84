import type { Pod, ReplicaSet } from '@kube-lite/api';
import { ApiError, RESOURCES } from '@kube-lite/client';
import { compareForDeletion } from '../../controller-utils';
import { fixture, pod, replicaSet, START_MS } from '../../test-support';
import { ReplicaSetController } from './controller';

const KEY = 'default/web';

async function setup(objects: Parameters<typeof fixture>[0]) {
  const f = fixture(objects);
  const controller = new ReplicaSetController(f.context);
  await f.start();
  return { f, controller };
}

describe('ReplicaSet controller', () => {
  test('creates missing pods with generateName, labels and a blocking controller reference, then writes status', async () => {
    const rs = replicaSet('web', 'uid-rs', 3);
    const { f, controller } = await setup([rs]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['create pods default/', 'create pods default/', 'create pods default/', 'update replicasets/status default/web']);
    const created = f.client.writes[0]?.object as Pod;
    expect(created.metadata).toEqual({
      generateName: 'web-',
      namespace: 'default',
      labels: { app: 'web' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'uid-rs', controller: true, blockOwnerDeletion: true }],
    });
    expect(created.spec?.containers[0]?.image).toBe('nginx:1.25');
    expect((f.client.writes[3]?.object as ReplicaSet).status).toEqual({ replicas: 0, readyReplicas: 0, availableReplicas: 0, fullyLabeledReplicas: 0, observedGeneration: 1 });
    expect(await f.eventReasons()).toEqual(['SuccessfulCreate', 'SuccessfulCreate', 'SuccessfulCreate']);
    await f.stop();
  });

  test.each([
    // [failing create (1-based), create calls made]: batches of 1, 2, 4, then the rest of 10.
    [undefined, 10],
    [1, 1],
    [2, 3],
    [3, 3],
    [4, 7],
    [8, 10],
  ])('slow start: with create #%s failing, %s creates are attempted', async (failing, attempts) => {
    const { f, controller } = await setup([replicaSet('web', 'uid-rs', 10)]);
    await f.informers.shutdown(); // freeze the cache so only the sync itself moves the expectations
    let calls = 0;
    f.client.addReactor((action) => {
      if (action.verb !== 'create' || action.resource !== 'pods') return;
      calls += 1;
      if (calls === failing) throw new ApiError(403, 'Forbidden', 'exceeded quota');
    });
    const outcome = controller.sync(KEY);
    if (failing === undefined) await outcome;
    else await expect(outcome).rejects.toThrow('exceeded quota');
    expect(calls).toBe(attempts);
    // Creates that failed or never ran are not awaited from the informer.
    expect(controller.expectations.pending(KEY)?.adds).toBe(failing === undefined ? 10 : attempts - 1);
    await f.stop();
  });

  test('expectations: a second sync before the informer shows the new pods creates nothing more', async () => {
    const { f, controller } = await setup([replicaSet('web', 'uid-rs', 3)]);
    await f.informers.shutdown(); // freeze the cache: it still shows no pods
    await controller.sync(KEY);
    await controller.sync(KEY);
    expect(f.writeSummary().filter((write) => write.startsWith('create pods'))).toHaveLength(3);
    await f.stop();
  });

  test('scales down by deleting the least valuable pods first', async () => {
    const rs = replicaSet('web', 'uid-rs', 2);
    const owned = { owner: rs };
    const { f, controller } = await setup([
      rs,
      pod('ready-old', { ...owned, nodeName: 'n1', ready: true, createdMs: START_MS - 9_000_000 }),
      pod('unassigned', { ...owned, phase: 'Pending' }),
      pod('ready-restarting', { ...owned, nodeName: 'n2', ready: true, restarts: 4, createdMs: START_MS - 9_000_000 }),
      pod('pending', { ...owned, nodeName: 'n3', phase: 'Pending' }),
      pod('not-ready', { ...owned, nodeName: 'n4', ready: false }),
    ]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['delete pods default/unassigned', 'delete pods default/pending', 'delete pods default/not-ready', 'update replicasets/status default/web']);
    await f.stop();
  });

  const base = pod('base', { nodeName: 'n1', ready: true, readySinceMs: START_MS - 1000, createdMs: START_MS - 5000 });
  test.each<[string, Pod, Pod]>([
    ['unassigned before assigned', pod('a', { phase: 'Pending' }), pod('b', { nodeName: 'n1', phase: 'Pending' })],
    ['pending before unknown', pod('a', { nodeName: 'n1', phase: 'Pending' }), pod('b', { nodeName: 'n1', phase: 'Unknown' })],
    ['unknown before running', pod('a', { nodeName: 'n1', phase: 'Unknown' }), pod('b', { nodeName: 'n1', phase: 'Running' })],
    ['not ready before ready', pod('a', { nodeName: 'n1', ready: false }), base],
    ['ready for less time first', pod('a', { nodeName: 'n1', ready: true, readySinceMs: START_MS, createdMs: START_MS - 5000 }), base],
    ['more restarts first', pod('a', { nodeName: 'n1', ready: true, readySinceMs: START_MS - 1000, restarts: 3, createdMs: START_MS - 5000 }), base],
    ['newer first', pod('a', { nodeName: 'n1', ready: true, readySinceMs: START_MS - 1000, createdMs: START_MS }), base],
  ])('deletion order: %s', (_name, first, second) => {
    const sameNode = (): number => 1;
    expect(compareForDeletion(first, second, sameNode)).toBeLessThan(0);
    expect(compareForDeletion(second, first, sameNode)).toBeGreaterThan(0);
  });

  test('adopts a matching orphan and releases an owned pod that no longer matches', async () => {
    const rs = replicaSet('web', 'uid-rs', 2);
    const { f, controller } = await setup([
      rs,
      pod('owned', { owner: rs, nodeName: 'n1', ready: true }),
      pod('orphan', { nodeName: 'n1', ready: true }),
      pod('relabelled', { owner: rs, labels: { app: 'other' } }),
      pod('foreign', { owner: { metadata: { name: 'x', uid: 'uid-other' } }, nodeName: 'n1' }),
    ]);
    await controller.sync(KEY);
    const podUid = (name: string) => f.client.peek<Pod>(RESOURCES.pods, 'default', name)?.metadata?.uid;
    expect(f.writeSummary()).toEqual(['patch pods default/orphan', 'patch pods default/relabelled', 'update replicasets/status default/web']);
    expect(f.client.writes[0]?.object).toEqual({ metadata: { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'uid-rs', controller: true, blockOwnerDeletion: true }], uid: podUid('orphan') } });
    expect(f.client.writes[1]?.object).toEqual({ metadata: { ownerReferences: [{ $patch: 'delete', uid: 'uid-rs' }], uid: podUid('relabelled') } });
    expect(f.client.peek<Pod>(RESOURCES.pods, 'default', 'relabelled')?.metadata?.ownerReferences ?? []).toEqual([]);
    expect(f.client.peek<Pod>(RESOURCES.pods, 'default', 'orphan')?.metadata?.ownerReferences?.[0]?.uid).toBe('uid-rs');
    await f.stop();
  });

  test('status counts ready, available (minReadySeconds) and fully labelled pods, and is written only on change', async () => {
    const rs = replicaSet('web', 'uid-rs', 3, { minReadySeconds: 10 });
    const { f, controller } = await setup([
      rs,
      pod('long-ready', { owner: rs, nodeName: 'n1', ready: true, readySinceMs: START_MS - 60_000 }),
      pod('just-ready', { owner: rs, nodeName: 'n1', ready: true, readySinceMs: START_MS - 2_000 }),
      pod('starting', { owner: rs, nodeName: 'n1', ready: false }),
      pod('finished', { owner: rs, nodeName: 'n1', phase: 'Succeeded' }),
    ]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update replicasets/status default/web']);
    expect((f.client.writes[0]?.object as ReplicaSet).status).toEqual({ replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 2, availableReplicas: 1, observedGeneration: 1 });
    await f.settle();
    f.client.clearActions();
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    // minReadySeconds later the second pod counts as available.
    f.clock.advanceBy(10_000);
    await controller.sync(KEY);
    expect((f.client.writes[0]?.object as ReplicaSet).status?.availableReplicas).toBe(2);
    await f.stop();
  });

  test('a pod being deleted no longer counts, so a replacement is created', async () => {
    const rs = replicaSet('web', 'uid-rs', 1);
    const { f, controller } = await setup([rs, pod('going', { owner: rs, nodeName: 'n1', ready: true, deleting: true })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['create pods default/', 'update replicasets/status default/web']);
    await f.stop();
  });
});
