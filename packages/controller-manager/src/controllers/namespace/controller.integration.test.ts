// The namespace controller against the real kube-apiserver (on a real etcd)
// through the gRPC client: the kubernetes finalizer can only be removed via
// namespaces/<name>/finalize, so this proves the whole path works, not just
// the fake's model of it.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConfigMap, Namespace } from '@kube-lite/api';
import { EventRecorder, GrpcApiClient, isNotFound, SharedInformerFactory, silentLogger } from '@kube-lite/client';
import { startEtcdCluster, startInProcessApiServer, type EtcdCluster, type InProcessApiServer } from '@kube-lite/testing';
import { DEFAULT_CONTROLLER_SETTINGS, type ControllerContext } from '../../controller';
import { NamespaceController } from './controller';

jest.setTimeout(90_000);

describe('namespace controller with kube-apiserver over gRPC', () => {
  let directory: string;
  let etcd: EtcdCluster | undefined;
  let apiServer: InProcessApiServer | undefined;
  let client: GrpcApiClient;

  beforeAll(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'namespace-controller-'));
    etcd = await startEtcdCluster({ implementation: 'etcd', members: 1 });
    apiServer = await startInProcessApiServer({ etcdServers: etcd.members.map((member) => member.clientUrl), directory });
    client = new GrpcApiClient({ address: `127.0.0.1:${apiServer.grpcPort}`, token: apiServer.adminToken ?? '', tls: { caPem: apiServer.caPem }, defaultTimeoutMs: 10_000 });
  });

  afterAll(async () => {
    client?.close();
    await apiServer?.stop();
    await etcd?.stop();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  it('empties a deleted namespace and removes its kubernetes finalizer through namespaces/finalize', async () => {
    await client.namespaces().create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team' } });
    const settings: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team' }, data: { a: '1' } };
    await client.configMaps('team').create(settings);
    await client.namespaces().delete('team');
    const terminating = await client.namespaces().get('team');
    expect(terminating.metadata?.deletionTimestamp).toBeDefined();
    expect(terminating.spec?.finalizers).toEqual(['kubernetes']);

    // A plain update cannot drop the finalizer: that is what the finalize subresource is for.
    const kept = await client.namespaces().update({ ...terminating, spec: { finalizers: [] } });
    expect(kept.spec?.finalizers).toEqual(['kubernetes']);

    const informers = new SharedInformerFactory(client);
    const context: ControllerContext = {
      client,
      informers,
      recorder: new EventRecorder({ client, component: 'namespace-controller-test' }),
      logger: silentLogger,
      nowMs: () => Date.now(),
      settings: DEFAULT_CONTROLLER_SETTINGS,
    };
    const controller = new NamespaceController(context);
    informers.start();
    try {
      expect(await informers.waitForCacheSync(10_000)).toBe(true);
      await controller.sync('team');
      const configMapGone = await client.configMaps('team').get('settings').catch((error: unknown) => error);
      expect(isNotFound(configMapGone)).toBe(true);
      const namespaceGone = await client.namespaces().get('team').catch((error: unknown) => error as Namespace);
      expect(isNotFound(namespaceGone)).toBe(true);
    } finally {
      await controller.shutdown();
      await informers.shutdown();
    }
  });
});
