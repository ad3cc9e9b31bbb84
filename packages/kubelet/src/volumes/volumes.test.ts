import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from '@kube-lite/api';
import { VolumeSetupError } from '../errors';
import type { EnvContext } from '../pod-workers/env';
import { InMemoryObjectSource } from '../sources';
import { setUpVolumes, tearDownPodDirectory } from './volumes';

describe('setUpVolumes', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-volumes-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function context(pod: Pod, objects: InMemoryObjectSource): EnvContext {
    return { pod, podIP: '127.1.0.9', hostIP: '10.0.0.1', nodeAllocatable: { cpuMillis: 1000, memoryBytes: 1 << 30 }, secrets: objects, configMaps: objects };
  }

  it('materialises emptyDir, configMap (with items), secret, downwardAPI and hostPath volumes', async () => {
    const objects = new InMemoryObjectSource();
    objects.configMaps.set('default/app-config', { data: { 'app.conf': 'port=80', other: 'x' } });
    objects.secrets.set('default/tls', { data: { key: Buffer.from('private').toString('base64') } });
    const hostDirectory = path.join(root, 'host-data');
    const pod: Pod = {
      metadata: { name: 'vol', namespace: 'default', uid: 'uid-vol', labels: { app: 'vol' } },
      spec: {
        containers: [{ name: 'c' }],
        volumes: [
          { name: 'scratch', emptyDir: {} },
          { name: 'config', configMap: { name: 'app-config', items: [{ key: 'app.conf', path: 'conf/app.conf' }] } },
          { name: 'certs', secret: { secretName: 'tls' } },
          { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          { name: 'data', hostPath: { path: hostDirectory, type: 'DirectoryOrCreate' } },
        ],
      },
    };
    const volumes = await setUpVolumes(root, context(pod, objects));
    const base = path.join(root, 'pods', 'uid-vol', 'volumes');
    expect(Object.fromEntries(volumes)).toEqual({ scratch: path.join(base, 'scratch'), config: path.join(base, 'config'), certs: path.join(base, 'certs'), info: path.join(base, 'info'), data: hostDirectory });
    expect(fs.readFileSync(path.join(base, 'config', 'conf', 'app.conf'), 'utf8')).toBe('port=80');
    expect(fs.existsSync(path.join(base, 'config', 'other'))).toBe(false);
    expect(fs.readFileSync(path.join(base, 'certs', 'key'), 'utf8')).toBe('private');
    expect(fs.readFileSync(path.join(base, 'info', 'labels'), 'utf8')).toBe('app="vol"');
    expect(fs.statSync(hostDirectory).isDirectory()).toBe(true);

    // A key removed from the config map disappears from the volume on the next sync.
    objects.configMaps.set('default/app-config', { data: {} });
    pod.spec?.volumes?.splice(1, 1, { name: 'config', configMap: { name: 'app-config' } });
    await setUpVolumes(root, context(pod, objects));
    expect(fs.existsSync(path.join(base, 'config', 'conf', 'app.conf'))).toBe(false);

    tearDownPodDirectory(root, 'uid-vol');
    expect(fs.existsSync(path.join(root, 'pods', 'uid-vol'))).toBe(false);
    expect(fs.existsSync(hostDirectory)).toBe(true);
  });

  it.each([
    ['a missing config map', { name: 'v', configMap: { name: 'absent' } }, 'MountVolume.SetUp failed for volume "v": configmap "absent" not found'],
    ['a path escaping the volume', { name: 'v', downwardAPI: { items: [{ path: '../x', fieldRef: { fieldPath: 'metadata.name' } }] } }, "must be relative and may not contain '..'"],
    ['a persistent volume claim', { name: 'v', persistentVolumeClaim: { claimName: 'c' } }, 'not supported'],
  ])('fails on %s', async (_name, volume, message) => {
    const pod: Pod = { metadata: { name: 'bad', namespace: 'default', uid: 'uid-bad' }, spec: { containers: [{ name: 'c' }], volumes: [volume] } };
    const result = setUpVolumes(root, context(pod, new InMemoryObjectSource()));
    await expect(result).rejects.toThrow(VolumeSetupError);
    await expect(result).rejects.toThrow(message);
  });
});
