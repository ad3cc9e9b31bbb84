import { formatTime, type Namespace } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, pod, replicaSet, START_MS } from '../../test-support';
import { NamespaceController } from './controller';

const terminating: Namespace = {
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name: 'team', deletionTimestamp: formatTime(START_MS) },
  spec: { finalizers: ['kubernetes'] },
  status: { phase: 'Terminating' },
};

async function setup(objects: Parameters<typeof fixture>[0]) {
  const f = fixture(objects);
  const controller = new NamespaceController(f.context, { resources: [RESOURCES.pods, RESOURCES.configMaps, RESOURCES.replicaSets] });
  await f.start();
  return { f, controller };
}

describe('namespace controller', () => {
  test('deletes everything in a terminating namespace, then removes the kubernetes finalizer', async () => {
    const { f, controller } = await setup([
      terminating,
      pod('api', { namespace: 'team' }),
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team' } },
      { ...replicaSet('web', 'uid-rs', 1), metadata: { name: 'web', namespace: 'team' } },
      pod('elsewhere', { namespace: 'default' }),
    ]);
    await controller.sync('team');
    expect(f.writeSummary()).toEqual(['delete pods team/api', 'delete configmaps team/settings', 'delete replicasets team/web', 'update namespaces/finalize team']);
    expect((f.client.writes[3]?.object as Namespace).spec?.finalizers).toEqual([]);
    expect(f.client.peek(RESOURCES.namespaces, undefined, 'team')).toBeUndefined();
    expect(f.client.peek(RESOURCES.pods, 'default', 'elsewhere')).toBeDefined();
    await f.stop();
  });

  test('content still terminating holds the finalizer', async () => {
    const { f, controller } = await setup([terminating, pod('slow', { namespace: 'team', deleting: true })]);
    await controller.sync('team');
    expect(f.writeSummary()).toEqual([]);
    expect(controller.queue.delayedLen()).toBe(1);
    await controller.shutdown();
    await f.stop();
  });

  test('an active namespace is left alone', async () => {
    const active: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' }, spec: { finalizers: ['kubernetes'] } };
    const { f, controller } = await setup([active, pod('api', { namespace: 'team' })]);
    await controller.sync('team');
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });
});
