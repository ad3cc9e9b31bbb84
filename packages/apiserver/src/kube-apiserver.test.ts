// The composed kube-apiserver's readiness: /readyz must not pass while the
// bootstrap objects (default namespace, kubernetes Service) are missing.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, type EtcdCluster } from '@kube-lite/testing';
import { parsePortRange, parseServiceIpRange } from './config';
import { BOOTSTRAP_READY_CHECK, startKubeApiServer, type RunningKubeApiServer } from './kube-apiserver';
import { Logger } from './server';

interface Answer {
  status: number;
  body: string;
}

function get(port: number, caPem: string, path: string, token?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = token === undefined ? {} : { Authorization: `Bearer ${token}` };
    const outgoing = httpsRequest({ host: '127.0.0.1', port, method: 'GET', path, headers, ca: caPem, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end();
  });
}

describe('kube-apiserver readiness', () => {
  let etcd: EtcdCluster;
  let directory: string;
  let apiServer: RunningKubeApiServer | undefined;

  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'kube-apiserver-ready-'));
    etcd = await startEtcdCluster({ implementation: 'etcd', members: 1 });
  }, 60_000);

  afterAll(async () => {
    await apiServer?.stop();
    await etcd?.stop();
    rmSync(directory, { recursive: true, force: true });
  });

  it('answers /readyz 500 until the bootstrap is done, then 200 with the default namespace in place', async () => {
    const certDir = join(directory, 'pki');
    const beforeBootstrap: Answer[] = [];
    apiServer = await startKubeApiServer({
      etcdServers: etcd.members.map((member) => member.clientUrl),
      securePort: 0,
      grpcPort: 0,
      bindAddress: '127.0.0.1',
      advertiseAddress: '127.0.0.1',
      serviceClusterIpRange: parseServiceIpRange('10.96.0.0/16'),
      serviceNodePortRange: parsePortRange('30000-32767'),
      certDir,
      verbosity: 2,
      logger: new Logger({ level: 'error', write: () => undefined }),
      onListening: async (port) => {
        const caPem = readFileSync(join(certDir, 'ca.crt'), 'utf8');
        beforeBootstrap.push(await get(port, caPem, '/readyz?verbose'));
        beforeBootstrap.push(await get(port, caPem, `/readyz/${BOOTSTRAP_READY_CHECK}`));
        beforeBootstrap.push(await get(port, caPem, '/healthz'));
      },
    });
    expect(beforeBootstrap.map((answer) => answer.status)).toEqual([500, 500, 200]);
    expect(beforeBootstrap[0]?.body).toContain(`[-]${BOOTSTRAP_READY_CHECK} failed`);
    expect(beforeBootstrap[1]?.body).toContain('not created yet');

    const ready = await get(apiServer.port, apiServer.caPem, '/readyz?verbose');
    expect(ready.status).toBe(200);
    expect(ready.body).toContain(`[+]${BOOTSTRAP_READY_CHECK} ok`);
    const defaultNamespace = await get(apiServer.port, apiServer.caPem, '/api/v1/namespaces/default', apiServer.adminToken);
    expect(defaultNamespace.status).toBe(200);
  });
});
