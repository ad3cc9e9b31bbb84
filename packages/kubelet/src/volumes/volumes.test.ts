import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PersistentVolume, PersistentVolumeClaim, Pod, Volume } from '@kube-lite/api';
import { VolumeSetupError } from '../errors';
import { InMemoryObjectSource } from '../sources';
import { DATA_LINK } from './atomic-writer';
import { memorySizeLimitBytes, mountStorage, setUpVolumes, tearDownPodDirectory, type VolumeContext } from './volumes';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-volumes-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function context(pod: Pod, objects: InMemoryObjectSource): VolumeContext {
  return { pod, podIP: '127.1.0.9', hostIP: '10.0.0.1', nodeAllocatable: { cpuMillis: 1000, memoryBytes: 1 << 30 }, secrets: objects, configMaps: objects, persistentVolumes: objects };
}

function podWith(volumes: Volume[], uid = 'uid-vol'): Pod {
  return { metadata: { name: 'vol', namespace: 'default', uid, labels: { app: 'vol' } }, spec: { containers: [{ name: 'c' }], volumes } };
}

describe('setUpVolumes', () => {
  it('materialises emptyDir, configMap (with items), secret, downwardAPI and hostPath volumes', async () => {
    const objects = new InMemoryObjectSource();
    objects.configMaps.set('default/app-config', { data: { 'app.conf': 'port=80', other: 'x' } });
    objects.secrets.set('default/tls', { data: { key: Buffer.from('private').toString('base64') } });
    const hostDirectory = path.join(root, 'host-data');
    const pod = podWith([
      { name: 'scratch', emptyDir: {} },
      { name: 'config', configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
      { name: 'certs', secret: { secretName: 'tls', defaultMode: 0o400 } },
      { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      { name: 'data', hostPath: { path: hostDirectory, type: 'DirectoryOrCreate' } },
    ]);
    const volumes = await setUpVolumes(root, context(pod, objects));
    const base = path.join(root, 'pods', 'uid-vol', 'volumes');
    expect(Object.fromEntries(volumes)).toEqual({
      scratch: { hostPath: path.join(base, 'scratch'), storage: { kind: 'directory' }, readOnly: false },
      config: { hostPath: path.join(base, 'config'), storage: { kind: 'directory' }, readOnly: true },
      certs: { hostPath: path.join(base, 'certs'), storage: { kind: 'directory' }, readOnly: true },
      info: { hostPath: path.join(base, 'info'), storage: { kind: 'directory' }, readOnly: true },
      data: { hostPath: hostDirectory, storage: { kind: 'directory' }, readOnly: false },
    });
    expect(fs.statSync(path.join(base, 'scratch')).mode & 0o777).toBe(0o777);
    expect(fs.readFileSync(path.join(base, 'config', 'conf', 'app.conf'), 'utf8')).toBe('port=80');
    expect(fs.existsSync(path.join(base, 'config', 'other'))).toBe(false);
    expect(fs.readFileSync(path.join(base, 'certs', 'key'), 'utf8')).toBe('private');
    expect(fs.statSync(path.join(base, 'certs', 'key')).mode & 0o777).toBe(0o400);
    expect(fs.readFileSync(path.join(base, 'info', 'labels'), 'utf8')).toBe('app="vol"');
    expect(fs.statSync(hostDirectory).isDirectory()).toBe(true);

    // A key removed from the config map disappears from the volume on the next sync.
    objects.configMaps.set('default/app-config', { data: {} });
    pod.spec?.volumes?.splice(1, 1, { name: 'config', configMap: { name: 'app-config' } });
    await setUpVolumes(root, context(pod, objects));
    expect(fs.existsSync(path.join(base, 'config', 'conf'))).toBe(false);

    tearDownPodDirectory(root, 'uid-vol');
    expect(fs.existsSync(path.join(root, 'pods', 'uid-vol'))).toBe(false);
    expect(fs.existsSync(hostDirectory)).toBe(true);
  });

  it('rewrites a config map volume when the config map changes, by swapping ..data', async () => {
    const objects = new InMemoryObjectSource();
    objects.configMaps.set('default/app-config', { data: { 'app.conf': 'v1' } });
    const pod = podWith([{ name: 'config', configMap: { name: 'app-config' } }]);
    const directory = path.join(root, 'pods', 'uid-vol', 'volumes', 'config');
    await setUpVolumes(root, context(pod, objects));
    const first = fs.readlinkSync(path.join(directory, DATA_LINK));
    expect(fs.readlinkSync(path.join(directory, 'app.conf'))).toBe(`${DATA_LINK}/app.conf`);

    await setUpVolumes(root, context(pod, objects));
    expect(fs.readlinkSync(path.join(directory, DATA_LINK))).toBe(first); // unchanged: nothing written

    objects.configMaps.set('default/app-config', { data: { 'app.conf': 'v2', extra: 'e' } });
    await setUpVolumes(root, context(pod, objects));
    expect(fs.readFileSync(path.join(directory, 'app.conf'), 'utf8')).toBe('v2');
    expect(fs.readFileSync(path.join(directory, 'extra'), 'utf8')).toBe('e');
    expect(fs.readlinkSync(path.join(directory, DATA_LINK))).not.toBe(first);
    expect(fs.existsSync(path.join(directory, first))).toBe(false);
  });

  it('rewrites a downward API volume when the pod\'s labels change', async () => {
    const objects = new InMemoryObjectSource();
    const pod = podWith([{ name: 'info', downwardAPI: { items: [{ path: 'tier', fieldRef: { fieldPath: "metadata.labels['tier']" } }] } }]);
    await setUpVolumes(root, context(pod, objects));
    const file = path.join(root, 'pods', 'uid-vol', 'volumes', 'info', 'tier');
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    await setUpVolumes(root, context({ ...pod, metadata: { ...pod.metadata, labels: { tier: 'gold' } } }, objects));
    expect(fs.readFileSync(file, 'utf8')).toBe('gold');
  });

  it('puts a memory emptyDir under the memory directory, and removes it with the pod', async () => {
    const memoryDirectory = path.join(root, 'shm');
    const pod = podWith([{ name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } }]);
    const volumes = await setUpVolumes(root, context(pod, new InMemoryObjectSource()), { memoryDirectory });
    expect(volumes.get('cache')).toEqual({ hostPath: path.join(memoryDirectory, 'uid-vol', 'cache'), storage: { kind: 'memory' }, readOnly: false });
    expect(fs.statSync(path.join(memoryDirectory, 'uid-vol', 'cache')).isDirectory()).toBe(true);
    tearDownPodDirectory(root, 'uid-vol', { memoryDirectory });
    expect(fs.existsSync(path.join(memoryDirectory, 'uid-vol'))).toBe(false);
  });

  it('makes no memory directory when the runtime keeps memory volumes itself', async () => {
    const memoryDirectory = path.join(root, 'shm');
    const pod = podWith([{ name: 'cache', emptyDir: { medium: 'Memory' } }]);
    const volumes = await setUpVolumes(root, context(pod, new InMemoryObjectSource()), { memoryDirectory, runtimeManagesStorage: true });
    expect(volumes.get('cache')?.storage).toEqual({ kind: 'memory' });
    expect(fs.existsSync(memoryDirectory)).toBe(false);
  });

  it.each([
    ['no limit', {}, undefined],
    ['64Mi', { sizeLimit: '64Mi' }, 64 * 1024 * 1024],
    ['zero', { sizeLimit: '0' }, undefined],
  ] as const)('memorySizeLimitBytes: %s', (_name, emptyDir, expected) => {
    expect(memorySizeLimitBytes({ name: 'v', emptyDir: { medium: 'Memory', ...emptyDir } })).toBe(expected);
  });

  it.each([
    ['a missing config map', { name: 'v', configMap: { name: 'absent' } }, 'MountVolume.SetUp failed for volume "v": configmap "absent" not found'],
    ['a missing key of a config map', { name: 'v', configMap: { name: 'present', items: [{ key: 'nope', path: 'x' }] } }, 'configmap "present" has no key "nope"'],
    ['a path escaping the volume', { name: 'v', downwardAPI: { items: [{ path: '../x', fieldRef: { fieldPath: 'metadata.name' } }] } }, "must be relative, may not contain '..'"],
    ['a path starting with ..', { name: 'v', downwardAPI: { items: [{ path: '..data', fieldRef: { fieldPath: 'metadata.name' } }] } }, "may not start with '..'"],
  ])('fails on %s', async (_name, volume, message) => {
    const objects = new InMemoryObjectSource();
    objects.configMaps.set('default/present', { data: { a: 'b' } });
    const result = setUpVolumes(root, context(podWith([volume as Volume], 'uid-bad'), objects));
    await expect(result).rejects.toThrow(VolumeSetupError);
    await expect(result).rejects.toThrow(message);
  });

  it('skips a missing key of an optional config map', async () => {
    const objects = new InMemoryObjectSource();
    objects.configMaps.set('default/present', { data: { a: 'b' } });
    const pod = podWith([{ name: 'v', configMap: { name: 'present', optional: true, items: [{ key: 'nope', path: 'x' }, { key: 'a', path: 'a' }] } }]);
    await setUpVolumes(root, context(pod, objects));
    expect(fs.readdirSync(path.join(root, 'pods', 'uid-vol', 'volumes', 'v')).filter((name) => !name.startsWith('..'))).toEqual(['a']);
  });
});

describe('persistentVolumeClaim volumes', () => {
  const claim = (phase: 'Pending' | 'Bound', volumeName?: string): PersistentVolumeClaim => ({
    metadata: { name: 'data', namespace: 'default', uid: 'claim-uid' },
    spec: { accessModes: ['ReadWriteOnce'], ...(volumeName ? { volumeName } : {}) },
    status: { phase },
  });
  const volume = (spec: NonNullable<PersistentVolume['spec']>): PersistentVolume => ({ metadata: { name: 'pv-1' }, spec });

  function setUp(objects: InMemoryObjectSource, readOnly = false, runtimeManagesStorage = false) {
    const pod = podWith([{ name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly } }]);
    return setUpVolumes(root, context(pod, objects), { runtimeManagesStorage });
  }

  it.each<{ name: string; claim?: PersistentVolumeClaim; volume?: PersistentVolume; message: string }>([
    { name: 'a claim that does not exist', message: 'waiting for persistentvolumeclaim "data" to be bound: it does not exist' },
    { name: 'a claim not bound yet', claim: claim('Pending'), message: 'waiting for persistentvolumeclaim "data" to be bound: its phase is Pending' },
    { name: 'a bound claim whose volume is gone', claim: claim('Bound', 'pv-1'), message: 'persistentvolume "pv-1" of persistentvolumeclaim "data" not found' },
    {
      name: 'a volume bound to another claim',
      claim: claim('Bound', 'pv-1'),
      volume: volume({ hostPath: { path: '/tmp/x' }, claimRef: { namespace: 'default', name: 'other', uid: 'other-uid' } }),
      message: 'persistentvolume "pv-1" is bound to another claim (default/other)',
    },
    { name: 'a volume with no local or hostPath path', claim: claim('Bound', 'pv-1'), volume: volume({ capacity: { storage: '1Gi' } }), message: 'kube-lite mounts only local and hostPath persistent volumes' },
    { name: 'a relative path', claim: claim('Bound', 'pv-1'), volume: volume({ local: { path: 'data/pv' } }), message: 'has no absolute spec.local.path' },
  ])('waits (FailedMount) on $name', async ({ claim: claimObject, volume: volumeObject, message }) => {
    const objects = new InMemoryObjectSource();
    if (claimObject) objects.persistentVolumeClaims.set('default/data', claimObject);
    if (volumeObject) objects.persistentVolumes.set('pv-1', volumeObject);
    const result = setUp(objects);
    await expect(result).rejects.toThrow(VolumeSetupError);
    await expect(result).rejects.toThrow(message);
  });

  it('turns a failed lookup into a mount failure, retried like the others', async () => {
    const objects = new InMemoryObjectSource();
    objects.getPersistentVolumeClaim = () => Promise.reject(new Error('forbidden'));
    await expect(setUp(objects)).rejects.toThrow('cannot get persistentvolumeclaim "data": forbidden');
  });

  it.each([
    ['spec.local.path', (directory: string) => volume({ local: { path: directory }, claimRef: { namespace: 'default', name: 'data', uid: 'claim-uid' } })],
    ['spec.hostPath.path', (directory: string) => volume({ hostPath: { path: directory } })],
  ] as const)('mounts a bound claim\'s volume at %s, created world-writable, readOnly honoured', async (_name, make) => {
    const directory = path.join(root, 'pv', 'one');
    const objects = new InMemoryObjectSource();
    objects.persistentVolumeClaims.set('default/data', claim('Bound', 'pv-1'));
    objects.persistentVolumes.set('pv-1', make(directory));
    const volumes = await setUp(objects, true);
    expect(volumes.get('data')).toEqual({ hostPath: directory, storage: { kind: 'persistentVolume', persistentVolumeName: 'pv-1' }, readOnly: true });
    expect(fs.statSync(directory).mode & 0o777).toBe(0o777);
    fs.writeFileSync(path.join(directory, 'kept'), 'data');
    tearDownPodDirectory(root, 'uid-vol');
    expect(fs.readFileSync(path.join(directory, 'kept'), 'utf8')).toBe('data');
  });

  it('creates no directory when the runtime keeps PV data itself', async () => {
    const directory = path.join(root, 'pv', 'docker');
    const objects = new InMemoryObjectSource();
    objects.persistentVolumeClaims.set('default/data', claim('Bound', 'pv-1'));
    objects.persistentVolumes.set('pv-1', volume({ local: { path: directory } }));
    const volumes = await setUp(objects, false, true);
    expect(volumes.get('data')?.storage).toEqual({ kind: 'persistentVolume', persistentVolumeName: 'pv-1' });
    expect(fs.existsSync(directory)).toBe(false);
  });
});

describe('mountStorage', () => {
  it('creates a missing subPath of a host directory, inside the volume', () => {
    const volume = { hostPath: path.join(root, 'v'), storage: { kind: 'directory' as const }, readOnly: false };
    expect(mountStorage(volume, 'v', 'a/b')).toEqual({ hostPath: path.join(root, 'v', 'a', 'b'), storage: { kind: 'directory' } });
    expect(fs.statSync(path.join(root, 'v', 'a', 'b')).isDirectory()).toBe(true);
    expect(() => mountStorage(volume, 'v', '../escape')).toThrow('subPath "../escape" must be a relative path inside the volume');
    expect(() => mountStorage(volume, 'v', '/etc')).toThrow(VolumeSetupError);
  });

  it('hands a subPath of runtime-kept storage to the runtime, creating nothing', () => {
    const volume = { hostPath: path.join(root, 'pv'), storage: { kind: 'persistentVolume' as const, persistentVolumeName: 'pv-1' }, readOnly: false };
    expect(mountStorage(volume, 'data', 'db', { runtimeManagesStorage: true })).toEqual({ hostPath: path.join(root, 'pv', 'db'), storage: { kind: 'persistentVolume', persistentVolumeName: 'pv-1', subPath: 'db' } });
    expect(fs.existsSync(path.join(root, 'pv'))).toBe(false);
    expect(mountStorage(volume, 'data', undefined)).toEqual({ hostPath: volume.hostPath, storage: volume.storage });
  });
});
