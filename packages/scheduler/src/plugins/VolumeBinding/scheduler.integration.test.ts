// VolumeBinding inside the real Scheduler process wiring (informers, queue,
// claim patch) against the fake API client; the test plays the volume binder.
import type { Event, PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '@kube-lite/api';
import { FakeApiClient, RESOURCES } from '@kube-lite/client';
import { defaultConfiguration } from '../../config';
import { Scheduler } from '../../server/scheduler';
import { makeNode, makePod } from '../../test-fixtures';

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const localPath: StorageClass = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: { name: 'local-path', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
  provisioner: 'kube-lite.io/local-path',
  volumeBindingMode: 'WaitForFirstConsumer',
};

function podUsing(name: string, claimName: string, cpu = '100m'): Pod {
  const pod = makePod(name, { cpu });
  (pod.spec as NonNullable<Pod['spec']>).volumes = [{ name: 'data', persistentVolumeClaim: { claimName } }];
  return pod;
}

test('a pod waits for its claim, points it at the chosen node, is bound once the claim is, and its successor returns to that node', async () => {
  const client = new FakeApiClient({ objects: [makeNode('n1', { cpu: '4' }), makeNode('n2', { cpu: '4' }), localPath, podUsing('web-0', 'data-web-0')] });
  const config = defaultConfiguration();
  config.leaderElection.leaderElect = false;
  const scheduler = new Scheduler({ client, config, identity: 'test' });
  try {
    await scheduler.start();
    const waiting = await eventually(async () => {
      const pod = await client.get<Pod>(RESOURCES.pods, 'default', 'web-0');
      return pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') ? pod : undefined;
    }, 'web-0 to be reported unschedulable');
    expect(waiting.status?.conditions?.find((c) => c.type === 'PodScheduled')?.message).toBe('0/2 nodes are available: persistentvolumeclaim "data-web-0" not found.');

    // The claim appears (the StatefulSet controller's job): the pod is retried and the claim gets its node.
    await client.create<PersistentVolumeClaim>(RESOURCES.persistentVolumeClaims, 'default', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data-web-0', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
      status: { phase: 'Pending' },
    });
    const selected = await eventually(async () => {
      const claim = await client.get<PersistentVolumeClaim>(RESOURCES.persistentVolumeClaims, 'default', 'data-web-0');
      return claim.metadata?.annotations?.['volume.kubernetes.io/selected-node'];
    }, 'the selected-node annotation');
    expect((await client.get<Pod>(RESOURCES.pods, 'default', 'web-0')).spec?.nodeName).toBeUndefined();

    // Play the volume binder: a local volume on the selected node, bound to the claim.
    const volume: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'pvc-data-web-0' },
      spec: {
        capacity: { storage: '1Gi' },
        accessModes: ['ReadWriteOnce'],
        local: { path: '/srv/pvc-data-web-0' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [selected] }] }] } },
      },
    };
    await client.create(RESOURCES.persistentVolumes, undefined, volume);
    const claim = await client.get<PersistentVolumeClaim>(RESOURCES.persistentVolumeClaims, 'default', 'data-web-0');
    const named = await client.update<PersistentVolumeClaim>(RESOURCES.persistentVolumeClaims, 'default', { ...claim, spec: { ...claim.spec, volumeName: 'pvc-data-web-0' } });
    await client.updateStatus(RESOURCES.persistentVolumeClaims, 'default', { ...named, status: { phase: 'Bound' } });

    const bound = await eventually(async () => {
      const pod = await client.get<Pod>(RESOURCES.pods, 'default', 'web-0');
      return pod.spec?.nodeName;
    }, 'web-0 to be bound');
    expect(bound).toBe(selected);

    // The pod is replaced; the node holding the data is busier, yet the new pod must go there.
    await client.delete(RESOURCES.pods, 'default', 'web-0');
    await client.create(RESOURCES.pods, 'default', makePod('busy', { cpu: '3', nodeName: selected, phase: 'Running' }));
    await client.create(RESOURCES.pods, 'default', podUsing('web-0-again', 'data-web-0'));
    const again = await eventually(async () => (await client.get<Pod>(RESOURCES.pods, 'default', 'web-0-again')).spec?.nodeName, 'web-0-again to be bound');
    expect(again).toBe(selected);
    const events = await eventually(async () => {
      const list = await client.list<Event>(RESOURCES.events, 'default');
      return list.items.some((event) => event.reason === 'FailedScheduling') ? list.items : undefined;
    }, 'events');
    expect(events.find((event) => event.reason === 'FailedScheduling')?.message).toBe('0/2 nodes are available: persistentvolumeclaim "data-web-0" not found.');
  } finally {
    await scheduler.stop();
  }
});
