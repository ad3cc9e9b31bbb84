// The composed kube-apiserver on a real one-member etcd: a Pod written through
// the gRPC front end is the Pod the REST front end serves, and the other way
// round, because both front ends call the one registry.

import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Node, Pod } from '@kube-lite/api';
import { GrpcApiClient, isNotFound, type WatchEvent } from '@kube-lite/client';
import { startEtcdCluster, type EtcdCluster } from '@kube-lite/testing';
import { issueCertificate } from '../auth';
import { parsePortRange, parseServiceIpRange } from '../config';
import { startKubeApiServer, type RunningKubeApiServer } from '../kube-apiserver';
import { Logger } from '../server';

function pod(name: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { app: 'grpc-test' } }, spec: { containers: [{ name: 'main', image: 'busybox:1.36' }] } };
}

describe('kube-apiserver serves one registry over gRPC and REST', () => {
  let etcd: EtcdCluster;
  let apiServer: RunningKubeApiServer;
  let client: GrpcApiClient;
  let directory: string;

  function rest(method: string, path: string, body?: unknown): Promise<{ status: number; json: () => unknown }> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers: Record<string, string> = { Authorization: `Bearer ${apiServer.adminToken ?? ''}`, Accept: 'application/json' };
      if (payload !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = String(Buffer.byteLength(payload));
      }
      const outgoing = httpsRequest({ host: '127.0.0.1', port: apiServer.port, method, path, headers, ca: apiServer.caPem, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: response.statusCode ?? 0, json: () => JSON.parse(text) });
        });
        response.on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  }

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'kube-lite-grpc-'));
    etcd = await startEtcdCluster({ implementation: 'etcd', members: 1 });
    try {
      apiServer = await startKubeApiServer({
        etcdServers: etcd.members.map((member) => member.clientUrl),
        securePort: 0,
        grpcPort: 0,
        bindAddress: '127.0.0.1',
        advertiseAddress: '127.0.0.1',
        serviceClusterIpRange: parseServiceIpRange('10.96.0.0/16'),
        serviceNodePortRange: parsePortRange('30000-32767'),
        certDir: join(directory, 'pki'),
        verbosity: 2,
        logger: new Logger({ level: 'error', write: () => undefined }),
      });
    } catch (error) {
      await etcd.stop();
      throw error;
    }
    client = new GrpcApiClient({ address: `127.0.0.1:${apiServer.grpcPort}`, token: apiServer.adminToken ?? '', tls: { caPem: apiServer.caPem }, defaultTimeoutMs: 10_000 });
  }, 60_000);

  afterAll(async () => {
    client?.close();
    await apiServer?.stop();
    await etcd?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('creates a Pod via gRPC that REST reads, and binds it', async () => {
    const created = await client.pods('default').create(pod('via-grpc'));
    expect(created.metadata).toMatchObject({ name: 'via-grpc', namespace: 'default', uid: expect.any(String), resourceVersion: expect.any(String) });

    const viaRest = await rest('GET', '/api/v1/namespaces/default/pods/via-grpc');
    expect(viaRest.status).toBe(200);
    expect(viaRest.json()).toMatchObject({ kind: 'Pod', metadata: { name: 'via-grpc', uid: created.metadata?.uid, resourceVersion: created.metadata?.resourceVersion } });

    await client.pods('default').bind('via-grpc', 'node-1');
    expect(((await rest('GET', '/api/v1/namespaces/default/pods/via-grpc')).json() as Pod).spec?.nodeName).toBe('node-1');

    const running = await client.pods('default').updateStatus({ ...(await client.pods('default').get('via-grpc')), status: { phase: 'Running' } });
    expect(running.status?.phase).toBe('Running');
  });

  it('streams to a gRPC watch what REST writes', async () => {
    const list = await client.pods('default').list({ labelSelector: 'app=grpc-test' });
    const watch = client.pods('default').watch({ resourceVersion: list.metadata?.resourceVersion ?? '', labelSelector: 'app=grpc-test' });
    const events: WatchEvent<Pod>[] = [];
    const reading = (async () => {
      for await (const event of watch) {
        events.push(event);
        if (events.length === 1) break;
      }
    })();
    const timer = setTimeout(() => watch.stop(), 10_000);
    const created = await rest('POST', '/api/v1/namespaces/default/pods', pod('via-rest'));
    expect(created.status).toBe(201);
    await reading;
    clearTimeout(timer);
    expect(events.map((event) => [event.type, event.object.metadata?.name])).toEqual([['ADDED', 'via-rest']]);

    await client.pods('default').delete('via-rest', { gracePeriodSeconds: 0 });
    const gone = await client.pods('default').get('via-rest').catch((error: unknown) => error);
    // Graceful deletion may leave the pod terminating; with grace 0 and no kubelet it is removed at once.
    expect(isNotFound(gone)).toBe(true);
  });

  it('lets a node list and watch its own Node, selected by metadata.name, and nothing more', async () => {
    await client.nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-self' } });
    await client.nodes().create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-other' } });
    const pair = issueCertificate(apiServer.certificates.ca, { commonName: 'system:node:node-self', organizations: ['system:nodes'], usage: 'client' });
    const node = new GrpcApiClient({
      address: `127.0.0.1:${apiServer.grpcPort}`,
      tls: { caPem: apiServer.caPem, certPem: pair.certificatePem, keyPem: pair.privateKeyPem },
      defaultTimeoutMs: 10_000,
    });
    try {
      const own = await node.nodes().list({ fieldSelector: 'metadata.name=node-self' });
      expect(own.items.map((item) => item.metadata?.name)).toEqual(['node-self']);
      const watch = node.nodes().watch({ fieldSelector: 'metadata.name=node-self', resourceVersion: own.metadata?.resourceVersion ?? '' });
      const events: WatchEvent<Node>[] = [];
      const reading = (async () => {
        for await (const event of watch) {
          events.push(event);
          break;
        }
      })();
      const timer = setTimeout(() => watch.stop(), 10_000);
      await client.nodes().update({ ...(await client.nodes().get('node-self')), metadata: { name: 'node-self', labels: { touched: 'yes' } } });
      await reading;
      clearTimeout(timer);
      expect(events.map((event) => [event.type, event.object.metadata?.name])).toEqual([['MODIFIED', 'node-self']]);
      await expect(node.nodes().list({ fieldSelector: 'metadata.name=node-other' })).rejects.toMatchObject({ code: 403 });
      await expect(node.nodes().list()).rejects.toMatchObject({ code: 403 });
    } finally {
      node.close();
    }
  });
});
