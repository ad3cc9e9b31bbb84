import type { KubeObject, PersistentVolume, PersistentVolumeAccessMode, PersistentVolumeClaim, StorageClass } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, node, waitFor } from '../../test-support';
import { claimKey, LOCAL_PATH_CLASS_KEY, PersistentVolumeBinderController, UnknownVolumeKeyError, volumeKey } from './controller';

const CLAIM_KEY = claimKey('default', 'data');

interface ClaimOptions {
  storageClassName?: string;
  request?: string;
  accessModes?: PersistentVolumeAccessMode[];
  selectedNode?: string;
  volumeName?: string;
  bindCompleted?: boolean;
  phase?: 'Pending' | 'Bound' | 'Lost';
  uid?: string;
  selector?: Record<string, string>;
}

function claim(options: ClaimOptions = {}): PersistentVolumeClaim {
  const annotations: Record<string, string> = {};
  if (options.selectedNode !== undefined) annotations['volume.kubernetes.io/selected-node'] = options.selectedNode;
  if (options.bindCompleted) annotations['pv.kubernetes.io/bind-completed'] = 'yes';
  const result: PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default', uid: options.uid ?? 'uid-claim', ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: { accessModes: options.accessModes ?? ['ReadWriteOnce'], resources: { requests: { storage: options.request ?? '1Gi' } }, volumeMode: 'Filesystem' },
    status: { phase: options.phase ?? 'Pending' },
  };
  const spec = result.spec as NonNullable<PersistentVolumeClaim['spec']>;
  if (options.storageClassName !== undefined) spec.storageClassName = options.storageClassName;
  if (options.volumeName !== undefined) spec.volumeName = options.volumeName;
  if (options.selector !== undefined) spec.selector = { matchLabels: options.selector };
  return result;
}

interface VolumeOptions {
  capacity?: string;
  storageClassName?: string;
  accessModes?: PersistentVolumeAccessMode[];
  claimUid?: string;
  claimName?: string;
  phase?: 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed';
  reclaimPolicy?: 'Delete' | 'Retain' | 'Recycle';
  provisioned?: boolean;
  hostname?: string;
  labels?: Record<string, string>;
}

function volume(name: string, options: VolumeOptions = {}): PersistentVolume {
  const result: PersistentVolume = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...(options.labels ? { labels: options.labels } : {}), ...(options.provisioned ? { annotations: { 'pv.kubernetes.io/provisioned-by': 'kube-lite.io/local-path' } } : {}) },
    spec: {
      capacity: { storage: options.capacity ?? '1Gi' },
      accessModes: options.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: options.reclaimPolicy ?? 'Retain',
      storageClassName: options.storageClassName ?? '',
      volumeMode: 'Filesystem',
      hostPath: { path: `/srv/${name}` },
    },
    status: { phase: options.phase ?? 'Available' },
  };
  const spec = result.spec as NonNullable<PersistentVolume['spec']>;
  if (options.claimUid !== undefined || options.claimName !== undefined) {
    spec.claimRef = { kind: 'PersistentVolumeClaim', namespace: 'default', name: options.claimName ?? 'data', uid: options.claimUid ?? '' };
  }
  if (options.hostname !== undefined) {
    spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [options.hostname] }] }] } };
  }
  return result;
}

function storageClass(name: string, options: { provisioner?: string; mode?: 'Immediate' | 'WaitForFirstConsumer'; isDefault?: boolean; reclaimPolicy?: 'Delete' | 'Retain' } = {}): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, ...(options.isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    provisioner: options.provisioner ?? 'kube-lite.io/local-path',
    reclaimPolicy: options.reclaimPolicy ?? 'Delete',
    volumeBindingMode: options.mode ?? 'WaitForFirstConsumer',
  };
}

const LOCAL_PATH = storageClass('local-path', { isDefault: true });

async function setup(objects: KubeObject[], localPathRoot = '/var/lib/kube-lite/local-path') {
  const f = fixture(objects, { localPathRoot });
  const controller = new PersistentVolumeBinderController(f.context);
  await f.start();
  return { f, controller };
}

function written<T>(f: ReturnType<typeof fixture>, index: number): T {
  return f.client.writes[index]?.object as T;
}

/** Waits until the claim and volume informers show exactly what the fake stores. */
async function settleVolumes(f: ReturnType<typeof fixture>): Promise<void> {
  const versions = (objects: KubeObject[]) =>
    objects
      .map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name}@${o.metadata?.resourceVersion}`)
      .sort()
      .join(',');
  await waitFor(
    () =>
      [RESOURCES.persistentVolumeClaims, RESOURCES.persistentVolumes].every(
        (ref) => versions(f.informers.forResource(ref).lister.list()) === versions(f.client.peekAll(ref)),
      ),
    'volume informers to catch up',
  );
}

describe('persistentvolume-binder: static binding', () => {
  test('binds the smallest Available volume that fits, then a second sync writes nothing', async () => {
    const { f, controller } = await setup([
      claim({ storageClassName: '' }),
      volume('too-small', { capacity: '500Mi' }),
      volume('large', { capacity: '5Gi' }),
      volume('fits', { capacity: '2Gi', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'] }),
    ]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual([
      'update persistentvolumes fits',
      'update persistentvolumes/status fits',
      'update persistentvolumeclaims default/data',
      'update persistentvolumeclaims/status default/data',
    ]);
    const bound = written<PersistentVolume>(f, 0);
    expect(bound.spec?.claimRef).toMatchObject({ kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'uid-claim' });
    expect(bound.metadata?.annotations).toEqual({ 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(written<PersistentVolume>(f, 1).status?.phase).toBe('Bound');
    const claimed = written<PersistentVolumeClaim>(f, 2);
    expect(claimed.spec?.volumeName).toBe('fits');
    expect(claimed.metadata?.annotations).toEqual({ 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' });
    expect(written<PersistentVolumeClaim>(f, 3).status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], capacity: { storage: '2Gi' } });

    await settleVolumes(f);
    f.client.clearActions();
    await controller.sync(CLAIM_KEY);
    await controller.sync(volumeKey('fits'));
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test.each<[string, ClaimOptions, VolumeOptions]>([
    ['capacity below the request', { storageClassName: '', request: '2Gi' }, { capacity: '1Gi' }],
    ['another class', { storageClassName: '' }, { storageClassName: 'fast' }],
    ['a missing access mode', { storageClassName: '', accessModes: ['ReadWriteMany'] }, { accessModes: ['ReadWriteOnce'] }],
    ['promised to another claim', { storageClassName: '' }, { claimName: 'other', claimUid: 'uid-other' }],
    ['Released by an earlier claim', { storageClassName: '' }, { phase: 'Released' }],
    ['labels not matching the selector', { storageClassName: '', selector: { tier: 'db' } }, { labels: { tier: 'web' } }],
  ])('no binding to a volume with %s', async (_name, claimOptions, volumeOptions) => {
    const { f, controller } = await setup([claim(claimOptions), volume('pv', volumeOptions)]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual([]);
    expect(await f.eventReasons()).toEqual(['FailedBinding']);
    await f.stop();
  });

  test('a volume pre-bound to the claim by the user wins over a better fit', async () => {
    const { f, controller } = await setup([claim({ storageClassName: '' }), volume('exact', { capacity: '1Gi' }), volume('reserved', { capacity: '10Gi', claimName: 'data' })]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()[0]).toBe('update persistentvolumes reserved');
    expect(written<PersistentVolume>(f, 0).spec?.claimRef?.uid).toBe('uid-claim');
    await f.stop();
  });

  test('a claim naming a free volume binds to it; naming one too small is a VolumeMismatch', async () => {
    const { f, controller } = await setup([claim({ storageClassName: '', volumeName: 'chosen' }), volume('chosen', { capacity: '1Gi' })]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual(['update persistentvolumes chosen', 'update persistentvolumes/status chosen', 'update persistentvolumeclaims default/data', 'update persistentvolumeclaims/status default/data']);
    await f.stop();

    const small = await setup([claim({ storageClassName: '', volumeName: 'chosen', request: '5Gi' }), volume('chosen', { capacity: '1Gi' })]);
    await small.controller.sync(CLAIM_KEY);
    expect(small.f.writeSummary()).toEqual([]);
    expect(await small.f.eventReasons()).toEqual(['VolumeMismatch']);
    await small.f.stop();
  });
});

describe('persistentvolume-binder: classes and provisioning', () => {
  test('a claim without storageClassName gets the default class', async () => {
    const { f, controller } = await setup([LOCAL_PATH, storageClass('other'), claim()]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual(['update persistentvolumeclaims default/data']);
    expect(written<PersistentVolumeClaim>(f, 0).spec?.storageClassName).toBe('local-path');
    await f.stop();
  });

  test('without a default class the claim stays class-less and only binds class-less volumes', async () => {
    const { f, controller } = await setup([storageClass('other'), claim(), volume('plain')]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual(['update persistentvolumes plain', 'update persistentvolumes/status plain', 'update persistentvolumeclaims default/data', 'update persistentvolumeclaims/status default/data']);
    await f.stop();
  });

  test('WaitForFirstConsumer: nothing happens before the scheduler picks a node', async () => {
    const { f, controller } = await setup([LOCAL_PATH, claim({ storageClassName: 'local-path' }), volume('static', { storageClassName: 'local-path' })]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual([]);
    expect(await f.eventReasons()).toEqual(['WaitForFirstConsumer']);
    await f.stop();
  });

  test('provisions a local-path volume on the selected node once the scheduler has chosen it, and binds it', async () => {
    const worker = node('worker-1', 'True');
    worker.metadata = { ...worker.metadata, labels: { 'kubernetes.io/hostname': 'worker-1.example' } };
    const { f, controller } = await setup([LOCAL_PATH, worker, claim({ storageClassName: 'local-path', selectedNode: 'worker-1', request: '2Gi' })], '/data/volumes');
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual([
      'create persistentvolumes pvc-uid-claim',
      'update persistentvolumes/status pvc-uid-claim',
      'update persistentvolumeclaims default/data',
      'update persistentvolumeclaims/status default/data',
    ]);
    const created = written<PersistentVolume>(f, 0);
    expect(created.metadata).toEqual({ name: 'pvc-uid-claim', annotations: { 'pv.kubernetes.io/provisioned-by': 'kube-lite.io/local-path', 'pv.kubernetes.io/bound-by-controller': 'yes' } });
    expect(created.spec).toEqual({
      capacity: { storage: '2Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'local-path',
      volumeMode: 'Filesystem',
      local: { path: '/data/volumes/pvc-uid-claim_default_data' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-1.example'] }] }] } },
      claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: 'default', name: 'data', uid: 'uid-claim', resourceVersion: expect.any(String) },
    });
    const claimed = written<PersistentVolumeClaim>(f, 2);
    expect(claimed.spec?.volumeName).toBe('pvc-uid-claim');
    expect(claimed.metadata?.annotations).toEqual({
      'volume.kubernetes.io/selected-node': 'worker-1',
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
      'volume.kubernetes.io/storage-provisioner': 'kube-lite.io/local-path',
    });
    expect(written<PersistentVolumeClaim>(f, 3).status).toEqual({ phase: 'Bound', accessModes: ['ReadWriteOnce'], capacity: { storage: '2Gi' } });
    expect(await f.eventReasons()).toEqual(['ProvisioningSucceeded']);

    // Level-triggered: syncing again once the caches caught up changes nothing.
    await settleVolumes(f);
    f.client.clearActions();
    await controller.sync(CLAIM_KEY);
    await controller.sync(volumeKey('pvc-uid-claim'));
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test('a retried provisioning reuses the volume an interrupted attempt created', async () => {
    const { f, controller } = await setup([LOCAL_PATH, node('worker-1', 'True'), claim({ storageClassName: 'local-path', selectedNode: 'worker-1' })]);
    await f.informers.shutdown(); // the cache never sees the volume created below
    await f.client.create(RESOURCES.persistentVolumes, undefined, volume('pvc-uid-claim', { storageClassName: 'local-path', claimUid: 'uid-claim', phase: 'Pending' }));
    f.client.clearActions();
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual([
      'create persistentvolumes pvc-uid-claim',
      'update persistentvolumes/status pvc-uid-claim',
      'update persistentvolumeclaims default/data',
      'update persistentvolumeclaims/status default/data',
    ]);
    expect(f.client.peekAll(RESOURCES.persistentVolumes)).toHaveLength(1);
    await f.stop();
  });

  test('a static volume on the selected node is used before provisioning; one on another node is not', async () => {
    const worker = node('worker-1', 'True');
    worker.metadata = { ...worker.metadata, labels: { 'kubernetes.io/hostname': 'worker-1' } };
    const { f, controller } = await setup([
      LOCAL_PATH,
      worker,
      claim({ storageClassName: 'local-path', selectedNode: 'worker-1' }),
      volume('elsewhere', { storageClassName: 'local-path', hostname: 'worker-2' }),
      volume('here', { storageClassName: 'local-path', hostname: 'worker-1', capacity: '3Gi' }),
    ]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()[0]).toBe('update persistentvolumes here');
    await f.stop();
  });

  test.each<[string, StorageClass[], ClaimOptions, string]>([
    ['Immediate local-path class (no node to provision on)', [storageClass('local-path', { mode: 'Immediate' })], { storageClassName: 'local-path' }, 'ProvisioningFailed'],
    ['a class that does not exist', [], { storageClassName: 'missing' }, 'ProvisioningFailed'],
    ['a class of volumes made by hand', [storageClass('manual', { provisioner: 'kubernetes.io/no-provisioner', mode: 'Immediate' })], { storageClassName: 'manual' }, 'ExternalProvisioning'],
  ])('stays Pending with an event: %s', async (_name, classes, claimOptions, reason) => {
    const { f, controller } = await setup([...classes, claim(claimOptions)]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual([]);
    expect(await f.eventReasons()).toEqual([reason]);
    await f.stop();
  });

  test("an external provisioner's claim is annotated with who should provision it", async () => {
    const { f, controller } = await setup([storageClass('ebs', { provisioner: 'ebs.csi.aws.com', mode: 'Immediate' }), claim({ storageClassName: 'ebs' })]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual(['update persistentvolumeclaims default/data']);
    expect(written<PersistentVolumeClaim>(f, 0).metadata?.annotations).toEqual({ 'volume.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com' });
    await f.stop();
  });
});

describe('persistentvolume-binder: volumes and reclaim', () => {
  test('a new volume without a claim becomes Available', async () => {
    const { f, controller } = await setup([volume('pv', { phase: 'Pending' })]);
    await controller.sync(volumeKey('pv'));
    expect(f.writeSummary()).toEqual(['update persistentvolumes/status pv']);
    expect(written<PersistentVolume>(f, 0).status?.phase).toBe('Available');
    await f.stop();
  });

  test.each<[string, VolumeOptions, string[], string | undefined, string[]]>([
    [
      'Delete on a provisioned volume: Released, then deleted',
      { reclaimPolicy: 'Delete', provisioned: true, claimUid: 'uid-gone', phase: 'Bound' },
      ['update persistentvolumes/status pv', 'delete persistentvolumes pv'],
      'Released',
      [],
    ],
    ['Retain: Released and kept', { reclaimPolicy: 'Retain', claimUid: 'uid-gone', phase: 'Bound' }, ['update persistentvolumes/status pv'], 'Released', []],
    [
      'Delete on a hand-made volume: Failed, nothing can delete it',
      { reclaimPolicy: 'Delete', claimUid: 'uid-gone', phase: 'Bound' },
      ['update persistentvolumes/status pv', 'update persistentvolumes/status pv'],
      'Failed',
      ['VolumeFailedDelete'],
    ],
    ['already Released under Retain: nothing to do', { reclaimPolicy: 'Retain', claimUid: 'uid-gone', phase: 'Released' }, [], undefined, []],
  ])('claim deleted, %s', async (_name, options, writes, lastPhase, reasons) => {
    const { f, controller } = await setup([volume('pv', options)]);
    await controller.sync(volumeKey('pv'));
    expect(f.writeSummary()).toEqual(writes);
    const statusWrites = f.client.writes.filter((write) => write.subresource === 'status');
    expect((statusWrites[statusWrites.length - 1]?.object as PersistentVolume | undefined)?.status?.phase).toBe(lastPhase);
    expect(await f.eventReasons()).toEqual(reasons);
    await f.stop();
  });

  test('a claim recreated under the same name does not inherit the old volume', async () => {
    const { f, controller } = await setup([claim({ uid: 'uid-new', storageClassName: '' }), volume('pv', { reclaimPolicy: 'Retain', claimUid: 'uid-old', phase: 'Bound' })]);
    await controller.sync(volumeKey('pv'));
    expect(f.writeSummary()).toEqual(['update persistentvolumes/status pv']);
    expect(written<PersistentVolume>(f, 0).status?.phase).toBe('Released');
    f.client.clearActions();
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test('a bound claim whose volume vanished is Lost', async () => {
    const { f, controller } = await setup([claim({ storageClassName: '', volumeName: 'gone', bindCompleted: true, phase: 'Bound' })]);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual(['update persistentvolumeclaims/status default/data']);
    expect(written<PersistentVolumeClaim>(f, 0).status?.phase).toBe('Lost');
    expect(await f.eventReasons()).toEqual(['ClaimLost']);
    await f.stop();
  });

  test('a half-done binding (volume promised, claim not yet updated) is finished from the volume side', async () => {
    const { f, controller } = await setup([claim({ storageClassName: '' }), volume('pv', { claimUid: 'uid-claim', phase: 'Bound' })]);
    await controller.sync(volumeKey('pv'));
    expect(f.writeSummary()).toEqual([]);
    expect(controller.queue.len()).toBeGreaterThan(0);
    await controller.sync(CLAIM_KEY);
    expect(f.writeSummary()).toEqual(['update persistentvolumeclaims default/data', 'update persistentvolumeclaims/status default/data']);
    await f.stop();
  });
});

describe('persistentvolume-binder: the local-path class', () => {
  test.each<[string, KubeObject[], string[], Record<string, string> | undefined]>([
    ['created as the default when absent', [], ['create storageclasses local-path'], { 'storageclass.kubernetes.io/is-default-class': 'true' }],
    ['created without the default mark when another class is default', [storageClass('ssd', { isDefault: true, provisioner: 'example.com/ssd' })], ['create storageclasses local-path'], undefined],
    ['left alone when it exists', [storageClass('local-path', { reclaimPolicy: 'Retain' })], [], undefined],
  ])('%s', async (_name, objects, writes, annotations) => {
    const { f, controller } = await setup(objects);
    await controller.sync(LOCAL_PATH_CLASS_KEY);
    expect(f.writeSummary()).toEqual(writes);
    if (writes.length > 0) {
      const created = written<StorageClass>(f, 0);
      expect(created).toMatchObject({ provisioner: 'kube-lite.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' });
      expect(created.metadata?.annotations).toEqual(annotations);
    }
    await f.stop();
  });

  test('an unknown key is a bug and says so', async () => {
    const { f, controller } = await setup([]);
    await expect(controller.sync('default/data')).rejects.toThrow(UnknownVolumeKeyError);
    await f.stop();
  });
});

describe('persistentvolume-binder: informer events', () => {
  test('claim and volume changes queue the keys that must be looked at again', async () => {
    const { f, controller } = await setup([volume('pv', { claimUid: 'uid-claim', phase: 'Bound' }), claim({ storageClassName: '', volumeName: 'pv', phase: 'Bound' })]);
    await waitFor(() => controller.queue.len() >= 2, 'the initial keys');
    const keys = async (): Promise<string[]> => {
      const seen: string[] = [];
      while (controller.queue.len() > 0) {
        const key = await controller.queue.get();
        if (key === undefined) break;
        seen.push(key);
        controller.queue.done(key);
      }
      return seen.sort();
    };
    // A volume event also queues the claim it is promised to.
    expect(await keys()).toEqual([claimKey('default', 'data'), volumeKey('pv')]);
    await f.client.delete(RESOURCES.persistentVolumeClaims, 'default', 'data');
    await waitFor(() => controller.queue.len() >= 1, 'the released volume key');
    expect(await keys()).toEqual([volumeKey('pv')]);
    await f.stop();
  });
});
