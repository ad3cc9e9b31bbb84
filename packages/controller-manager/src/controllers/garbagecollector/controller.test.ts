import { formatTime, type KubeObject, type Pod } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, pod, replicaSet, START_MS } from '../../test-support';
import { GarbageCollector } from './controller';

async function setup(objects: KubeObject[]) {
  const f = fixture(objects);
  const collector = new GarbageCollector(f.context, [RESOURCES.pods, RESOURCES.replicaSets, RESOURCES.deployments, RESOURCES.configMaps]);
  await f.start();
  return { f, collector };
}

const uidOf = (f: ReturnType<typeof fixture>, ref: typeof RESOURCES.pods, name: string) => f.client.peek(ref, 'default', name)?.metadata?.uid ?? '';
const deleting = <T extends KubeObject>(object: T, finalizer: string): T => ({ ...object, metadata: { ...object.metadata, deletionTimestamp: formatTime(START_MS), finalizers: [finalizer] } });

describe('garbage collector', () => {
  test('background: a dependent whose owner is gone is deleted with a uid precondition', async () => {
    const ghost = replicaSet('ghost', 'uid-ghost', 1);
    const { f, collector } = await setup([pod('orphaned', { owner: ghost }), pod('unowned')]);
    const uid = uidOf(f, RESOURCES.pods, 'orphaned');
    await collector.sync(uid);
    await collector.sync(uidOf(f, RESOURCES.pods, 'unowned'));
    expect(f.writeSummary()).toEqual(['delete pods default/orphaned']);
    expect(f.client.writes[0]?.object).toEqual({ preconditions: { uid }, propagationPolicy: 'Background' });
    await f.stop();
  });

  test('a live owner (same uid) keeps its dependent; a same-named owner with another uid does not', async () => {
    const rs = replicaSet('web', 'uid-rs', 1);
    const impostor = replicaSet('web', 'uid-old-rs', 1);
    const { f, collector } = await setup([rs, pod('kept', { owner: rs }), pod('stale', { owner: impostor })]);
    await collector.sync(uidOf(f, RESOURCES.pods, 'kept'));
    await collector.sync(uidOf(f, RESOURCES.pods, 'stale'));
    expect(f.writeSummary()).toEqual(['delete pods default/stale']);
    await f.stop();
  });

  test('a dangling reference next to a live owner is removed instead', async () => {
    const rs = replicaSet('web', 'uid-rs', 1);
    const withTwo = pod('two-owners', { owner: rs });
    withTwo.metadata?.ownerReferences?.push({ apiVersion: 'v1', kind: 'ConfigMap', name: 'gone', uid: 'uid-gone' });
    const { f, collector } = await setup([rs, withTwo]);
    const uid = uidOf(f, RESOURCES.pods, 'two-owners');
    await collector.sync(uid);
    expect(f.writeSummary()).toEqual(['patch pods default/two-owners']);
    expect(f.client.writes[0]?.object).toEqual({ metadata: { ownerReferences: [{ $patch: 'delete', uid: 'uid-gone' }], uid } });
    expect(f.client.peek<Pod>(RESOURCES.pods, 'default', 'two-owners')?.metadata?.ownerReferences?.map((ref) => ref.uid)).toEqual(['uid-rs']);
    await f.stop();
  });

  test('foreground: blocking dependents are deleted first, then the finalizer is removed and the owner goes', async () => {
    const rs = deleting(replicaSet('web', 'uid-rs', 2), 'foregroundDeletion');
    const { f, collector } = await setup([rs, pod('a', { owner: rs }), pod('b', { owner: rs })]);
    await collector.sync('uid-rs');
    expect(f.writeSummary()).toEqual(['delete pods default/a', 'delete pods default/b']);
    await f.settle();
    f.client.clearActions();
    await collector.sync('uid-rs');
    expect(f.writeSummary()).toEqual(['patch replicasets default/web']);
    expect(f.client.peek(RESOURCES.replicaSets, 'default', 'web')).toBeUndefined();
    await f.stop();
  });

  test('orphan: dependents lose the owner reference, then the finalizer is removed', async () => {
    const rs = deleting(replicaSet('web', 'uid-rs', 2), 'orphan');
    const { f, collector } = await setup([rs, pod('a', { owner: rs }), pod('b', { owner: rs })]);
    await collector.sync('uid-rs');
    expect(f.writeSummary()).toEqual(['patch pods default/a', 'patch pods default/b', 'patch replicasets default/web']);
    expect(f.client.peekAll<Pod>(RESOURCES.pods).map((p) => p.metadata?.ownerReferences ?? [])).toEqual([[], []]);
    expect(f.client.peek(RESOURCES.replicaSets, 'default', 'web')).toBeUndefined();
    await f.stop();
  });

  test('cascade: an owner deleted in the background takes its dependents when the informer reports it gone', async () => {
    const rs = replicaSet('web', 'uid-rs', 1);
    const { f, collector } = await setup([rs, pod('a', { owner: rs })]);
    await f.client.replicaSets('default').delete('web');
    await f.settle();
    expect(collector.queue.len()).toBeGreaterThan(0);
    const key = await collector.queue.get();
    await collector.sync(key as string);
    collector.queue.done(key as string);
    expect(f.writeSummary()).toEqual(['delete replicasets default/web', 'delete pods default/a']);
    await f.stop();
  });
});
