// The persistentvolume-binder against the real kube-apiserver (on a real etcd)
// through the gRPC client: status subresources, the PV strategy resetting
// status on create and conditional updates are the server's, not the fake's.
// The scheduler's part (the selected-node annotation) is played by the test;
// `kubectl get sc,pv,pvc` then shows what a user sees.

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Node, PersistentVolume, PersistentVolumeClaim, StorageClass } from '@kube-lite/api';
import { EventRecorder, GrpcApiClient, isNotFound, RESOURCES, SharedInformerFactory, silentLogger } from '@kube-lite/client';
import { startEtcdCluster, startInProcessApiServer, type EtcdCluster, type InProcessApiServer } from '@kube-lite/testing';
import { DEFAULT_CONTROLLER_SETTINGS, type ControllerContext } from '../../controller';
import { PersistentVolumeBinderController } from './controller';

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

jest.setTimeout(90_000);

describe('persistentvolume-binder with kube-apiserver over gRPC', () => {
  let directory: string;
  let etcd: EtcdCluster | undefined;
  let apiServer: InProcessApiServer | undefined;
  let client: GrpcApiClient;
  let informers: SharedInformerFactory;
  let controller: PersistentVolumeBinderController;
  let running: Promise<void> | undefined;

  beforeAll(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'volume-binder-'));
    etcd = await startEtcdCluster({ implementation: 'etcd', members: 1 });
    apiServer = await startInProcessApiServer({ etcdServers: etcd.members.map((member) => member.clientUrl), directory, kubeconfigOut: path.join(directory, 'kubeconfig') });
    client = new GrpcApiClient({ address: `127.0.0.1:${apiServer.grpcPort}`, token: apiServer.adminToken ?? '', tls: { caPem: apiServer.caPem }, defaultTimeoutMs: 10_000 });
    informers = new SharedInformerFactory(client);
    const context: ControllerContext = {
      client,
      informers,
      recorder: new EventRecorder({ client, component: 'kube-controller-manager' }),
      logger: silentLogger,
      nowMs: Date.now,
      settings: { ...DEFAULT_CONTROLLER_SETTINGS, localPathRoot: '/srv/local-path' },
    };
    controller = new PersistentVolumeBinderController(context);
    informers.start();
    await informers.waitForCacheSync(10_000);
    running = controller.run(1);
  });

  afterAll(async () => {
    await controller?.shutdown();
    await running;
    await informers?.shutdown();
    client?.close();
    await apiServer?.stop();
    await etcd?.stop();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  it('creates the default class, provisions on the selected node, binds, and deletes the volume with its claim', async () => {
    const defaultClass = await eventually(async () => {
      try {
        return await client.resource<StorageClass>(RESOURCES.storageClasses).get('local-path');
      } catch (error) {
        if (isNotFound(error)) return undefined;
        throw error;
      }
    }, 'the local-path class');
    expect(defaultClass).toMatchObject({ provisioner: 'kube-lite.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer' });

    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'worker-1', labels: { 'kubernetes.io/hostname': 'worker-1' } } };
    await client.nodes().create(node);
    await client.persistentVolumeClaims('default').create({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    });
    const classed = await eventually(async () => {
      const claim = await client.persistentVolumeClaims('default').get('data');
      return claim.spec?.storageClassName === 'local-path' ? claim : undefined;
    }, 'the default class on the claim');
    expect(classed.status?.phase).toBe('Pending');

    // The scheduler's VolumeBinding step.
    await client.persistentVolumeClaims('default').patch('data', 'merge', { metadata: { annotations: { 'volume.kubernetes.io/selected-node': 'worker-1' } } });
    const bound = await eventually(async () => {
      const claim = await client.persistentVolumeClaims('default').get('data');
      return claim.status?.phase === 'Bound' ? claim : undefined;
    }, 'the claim to be Bound');
    const uid = bound.metadata?.uid ?? '';
    expect(bound.spec?.volumeName).toBe(`pvc-${uid}`);
    expect(bound.status).toMatchObject({ accessModes: ['ReadWriteOnce'], capacity: { storage: '1Gi' } });
    const volume = await eventually(async () => {
      const pv = await client.persistentVolumes().get(`pvc-${uid}`);
      return pv.status?.phase === 'Bound' ? pv : undefined;
    }, 'the volume to be Bound');
    expect(volume.spec?.local?.path).toBe(`/srv/local-path/pvc-${uid}_default_data`);
    expect(volume.spec?.claimRef).toMatchObject({ namespace: 'default', name: 'data', uid });
    expect(volume.spec?.nodeAffinity?.required?.nodeSelectorTerms).toEqual([{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['worker-1'] }] }]);

    // Asynchronously: the API server runs in this process and must keep answering.
    const kubectl = await new Promise<{ missing: boolean; stdout: string }>((resolve, reject) => {
      const environment = { PATH: process.env.PATH ?? '', HOME: directory };
      execFile('kubectl', ['--kubeconfig', path.join(directory, 'kubeconfig'), 'get', 'sc,pv,pvc'], { encoding: 'utf8', timeout: 30_000, env: environment }, (error, stdout, stderr) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'ENOENT') resolve({ missing: true, stdout: '' });
        else if (error) reject(new Error(`kubectl get failed: ${stderr}`, { cause: error }));
        else resolve({ missing: false, stdout });
      });
    });
    if (!kubectl.missing) {
      const lines = kubectl.stdout.split('\n');
      expect(lines[0]).toMatch(/^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE$/);
      expect(lines[1]).toMatch(/^storageclass\.storage\.k8s\.io\/local-path \(default\)\s+kube-lite\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+false\s+\S+$/);
      expect(kubectl.stdout).toMatch(new RegExp(`persistentvolume/pvc-${uid}\\s+1Gi\\s+RWO\\s+Delete\\s+Bound\\s+default/data\\s+local-path`));
      expect(kubectl.stdout).toMatch(new RegExp(`persistentvolumeclaim/data\\s+Bound\\s+pvc-${uid}\\s+1Gi\\s+RWO\\s+local-path`));
    }

    await client.persistentVolumeClaims('default').delete('data');
    await eventually(async () => {
      try {
        await client.persistentVolumes().get(`pvc-${uid}`);
        return undefined;
      } catch (error) {
        if (isNotFound(error)) return true;
        throw error;
      }
    }, 'the released volume to be deleted');
  });

  it('binds a hand-made volume of a class without provisioner, and keeps it Released under Retain', async () => {
    const pv: PersistentVolume = {
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'manual-pv' },
      spec: { capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'manual', hostPath: { path: '/tmp/manual' } },
    };
    await client.persistentVolumes().create(pv);
    const claim: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'manual', namespace: 'default' },
      spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'manual', resources: { requests: { storage: '1Gi' } } },
    };
    await client.persistentVolumeClaims('default').create(claim);
    const bound = await eventually(async () => {
      const current = await client.persistentVolumeClaims('default').get('manual');
      return current.status?.phase === 'Bound' ? current : undefined;
    }, 'the manual claim to be Bound');
    expect(bound.spec?.volumeName).toBe('manual-pv');
    expect(bound.status?.capacity).toEqual({ storage: '2Gi' });

    await client.persistentVolumeClaims('default').delete('manual');
    const released = await eventually(async () => {
      const current = await client.persistentVolumes().get('manual-pv');
      return current.status?.phase === 'Released' ? current : undefined;
    }, 'the volume to be Released');
    expect(released.spec?.claimRef?.name).toBe('manual');
  });
});
