// Who may call the kubelet API: with a client CA (--client-ca-file) only
// callers holding a certificate it signed (the API server's kubelet client
// certificate), or the bearer token when one is set; everyone else gets 401
// except on /healthz. Runs on a stub runtime: authentication comes before any
// container is looked at.
import https from 'node:https';
import { Readable } from 'node:stream';
import forge from 'node-forge';
import WebSocket from 'ws';
import type { Pod } from '@kube-lite/api';
import type { ContainerLookup } from '../pod-workers/pod-workers';
import type { ContainerRuntime } from '../runtime/runtime';
import { KubeletServer, KubeletServerConfigError, type ContainerLocator, type KubeletServerOptions } from './server';

interface Pair {
  certificatePem: string;
  keyPem: string;
}

function keyPair(): forge.pki.rsa.KeyPair {
  return forge.pki.rsa.generateKeyPair({ bits: 1024 });
}

/** A self-signed CA, or a leaf signed by `issuer` (server or client usage). */
function certificate(commonName: string, issuer?: { pair: Pair; usage: 'server' | 'client' }): Pair {
  const keys = keyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = `0${Math.floor(Math.random() * 1e9).toString(16)}`;
  cert.validity.notBefore = new Date(Date.now() - 3600_000);
  cert.validity.notAfter = new Date(Date.now() + 24 * 3600_000);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  if (issuer === undefined) {
    cert.setIssuer([{ name: 'commonName', value: commonName }]);
    cert.setExtensions([{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true, critical: true }]);
    cert.sign(keys.privateKey, forge.md.sha256.create());
  } else {
    const issuerCertificate = forge.pki.certificateFromPem(issuer.pair.certificatePem);
    cert.setIssuer(issuerCertificate.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: issuer.usage === 'server', clientAuth: issuer.usage === 'client' },
      ...(issuer.usage === 'server' ? [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }] : []),
    ]);
    cert.sign(forge.pki.privateKeyFromPem(issuer.pair.keyPem), forge.md.sha256.create());
  }
  return { certificatePem: forge.pki.certificateToPem(cert), keyPem: forge.pki.privateKeyToPem(keys.privateKey) };
}

const clusterCa = certificate('cluster-ca');
const otherCa = certificate('other-ca');
const serving = certificate('node-1', { pair: clusterCa, usage: 'server' });
const apiServerClient = certificate('kube-apiserver-kubelet-client', { pair: clusterCa, usage: 'client' });
const strangerClient = certificate('kube-apiserver-kubelet-client', { pair: otherCa, usage: 'client' });
const TOKEN = 'kubelet-api-token';

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'uid-web' }, spec: { containers: [{ name: 'main', image: 'busybox' }] } };
const locator: ContainerLocator = {
  findContainer: async (namespace, podName, containerName): Promise<ContainerLookup | undefined> =>
    namespace === 'default' && podName === 'web' && containerName === 'main'
      ? ({ pod, container: { id: 'container-1', name: 'main' } } as unknown as ContainerLookup)
      : undefined,
  pods: () => [pod],
};
const runtime = {
  containerLogs: async () => Readable.from(['hello from main\n']),
  listPodSandboxes: async () => [],
  listContainers: async () => [],
} as unknown as ContainerRuntime;

type Caller = 'nobody' | 'api-server certificate' | 'other CA certificate' | 'token';

function clientOptions(caller: Caller): { cert?: string; key?: string; headers: Record<string, string> } {
  if (caller === 'api-server certificate') return { cert: apiServerClient.certificatePem, key: apiServerClient.keyPem, headers: {} };
  if (caller === 'other CA certificate') return { cert: strangerClient.certificatePem, key: strangerClient.keyPem, headers: {} };
  if (caller === 'token') return { headers: { authorization: `Bearer ${TOKEN}` } };
  return { headers: {} };
}

function get(port: number, path: string, caller: Caller): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get({ host: '127.0.0.1', port, path, ca: clusterCa.certificatePem, agent: false, timeout: 5000, ...clientOptions(caller) }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

/** The HTTP status the kubelet answers an exec upgrade with (101 when it accepts). */
function execStatus(port: number, caller: Caller): Promise<number> {
  return new Promise((resolve, reject) => {
    const { headers, ...tls } = clientOptions(caller);
    const client = new WebSocket(`wss://127.0.0.1:${port}/exec/default/web/main?command=true&stdout=1`, ['v5.channel.k8s.io'], { ca: clusterCa.certificatePem, headers, ...tls });
    client.on('upgrade', (response) => {
      resolve(response.statusCode ?? 0);
      client.terminate();
    });
    client.on('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      response.resume();
      client.terminate();
    });
    client.on('error', (error) => reject(error));
  });
}

describe('kubelet API authentication', () => {
  const servers: KubeletServer[] = [];
  const start = async (options: Partial<KubeletServerOptions>): Promise<number> => {
    const server = new KubeletServer({ nodeName: 'node-1', runtime, locator, host: '127.0.0.1', port: 0, tls: { certificate: serving.certificatePem, key: serving.keyPem }, ...options });
    servers.push(server);
    return server.listen();
  };
  let certificateOnly: number;
  let certificateOrToken: number;

  beforeAll(async () => {
    certificateOnly = await start({ clientCaPem: clusterCa.certificatePem });
    certificateOrToken = await start({ clientCaPem: clusterCa.certificatePem, token: TOKEN });
  });

  afterAll(async () => {
    for (const server of servers) await server.close();
  });

  it.each([
    ['nobody', 'certificate only', 401],
    ['other CA certificate', 'certificate only', 401],
    ['token', 'certificate only', 401],
    ['api-server certificate', 'certificate only', 200],
    ['nobody', 'certificate or token', 401],
    ['token', 'certificate or token', 200],
    ['api-server certificate', 'certificate or token', 200],
  ] as const)('logs: %s calling a kubelet accepting %s gets %i', async (caller, mode, status) => {
    const port = mode === 'certificate only' ? certificateOnly : certificateOrToken;
    const answer = await get(port, '/containerLogs/default/web/main', caller);
    expect(answer.status).toBe(status);
    if (status === 200) expect(answer.body).toBe('hello from main\n');
    else expect(answer.body).toContain('Unauthorized');
  });

  it.each([
    ['nobody', 401],
    ['other CA certificate', 401],
    ['api-server certificate', 101],
  ] as const)('exec: %s gets %i', async (caller, status) => {
    expect(await execStatus(certificateOnly, caller)).toBe(status);
  });

  it('leaves /healthz open to callers without credentials', async () => {
    expect(await get(certificateOnly, '/healthz', 'nobody')).toEqual({ status: 200, body: 'ok' });
  });

  it('refuses a client CA on a kubelet API without TLS', () => {
    expect(() => new KubeletServer({ nodeName: 'node-1', runtime, locator, port: 0, clientCaPem: clusterCa.certificatePem })).toThrow(KubeletServerConfigError);
  });
});
