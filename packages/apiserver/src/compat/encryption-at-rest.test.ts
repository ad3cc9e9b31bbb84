// Encryption at rest end to end: the composed API server with
// --encryption-provider-config on a one-member etcd-lite (etcd when etcd-lite
// is not built). Secrets created through the API are stored as
// `k8s:enc:aescbc:v1:<key>:...` (read raw with etcdctl), read back in clear
// through the API, survive a key rotation done the upstream way (new key
// second, restart, new key first, restart, `kubectl get secrets -A -o json |
// kubectl replace -f -`), and no secret value reaches a log line or an error
// message on the way.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { etcdLiteAvailable, startEtcdCluster, type EtcdCluster } from '@kube-lite/testing';
import { parsePortRange, parseServiceIpRange } from '../config';
import { startKubeApiServer, type RunningKubeApiServer } from '../kube-apiserver';
import { Logger } from '../server';

const KEY1 = randomBytes(32).toString('base64');
const KEY2 = randomBytes(32).toString('base64');
/** Values that must never appear in etcd, a log line or an error message: distinctive so a hit is not an accident. */
const PASSWORD = 'Tr0ub4dor-and-3-horses-XYZZY';
const PATCHED_PASSWORD = 'correct-horse-battery-staple-PLUGH';
const TOKEN = 'sk-live-51HqLyjWDarjtT1zdp7dc';

let directory: string;
let etcd: EtcdCluster;
let apiServer: RunningKubeApiServer | undefined;
const logLines: string[] = [];
const kubeconfig = (): string => join(directory, 'kubeconfig');

function encryptionConfig(keys: Array<[string, string]>): string {
  const file = join(directory, `encryption-${keys.map(([name]) => name).join('-')}.yaml`);
  writeFileSync(
    file,
    [
      'apiVersion: apiserver.config.k8s.io/v1',
      'kind: EncryptionConfiguration',
      'resources:',
      '  - resources: [secrets]',
      '    providers:',
      '      - aescbc:',
      '          keys:',
      ...keys.flatMap(([name, secret]) => [`            - name: ${name}`, `              secret: ${secret}`]),
      '      - identity: {}',
      '',
    ].join('\n'),
  );
  return file;
}

async function startApiServer(encryptionFile: string): Promise<RunningKubeApiServer> {
  await apiServer?.stop();
  apiServer = await startKubeApiServer({
    etcdServers: etcd.members.map((member) => member.clientUrl),
    securePort: 0,
    grpcPort: 0,
    bindAddress: '127.0.0.1',
    advertiseAddress: '127.0.0.1',
    serviceClusterIpRange: parseServiceIpRange('10.96.0.0/16'),
    serviceNodePortRange: parsePortRange('30000-32767'),
    certDir: join(directory, 'pki'),
    kubeconfigOut: kubeconfig(),
    // -v=4 logs every request: the most the server ever writes.
    verbosity: 4,
    encryptionProviderConfig: encryptionFile,
    logger: new Logger({ level: 'debug', write: (line) => logLines.length < 20_000 && logLines.push(line) }),
  });
  return apiServer;
}

function kubectl(args: readonly string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const home = join(directory, 'home');
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig(), '--cache-dir', join(home, 'cache'), '--request-timeout', '20s', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: 30_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    if (input !== undefined) child.stdin?.end(input);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** One HTTPS request as the admin; resolves with the status code and the body text. */
function api(method: string, path: string, body?: string, contentType = 'application/json'): Promise<{ code: number; body: string }> {
  const server = apiServer as RunningKubeApiServer;
  return new Promise((resolve, reject) => {
    const request = httpsRequest(
      {
        host: '127.0.0.1',
        port: server.port,
        method,
        path,
        ca: server.caPem,
        headers: { Authorization: `Bearer ${server.adminToken ?? ''}`, ...(body === undefined ? {} : { 'Content-Type': contentType }) },
      },
      (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ code: response.statusCode ?? 0, body: text }));
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

/** The raw bytes etcd holds for a key, read with the real etcdctl. */
async function rawValue(key: string): Promise<Buffer> {
  const result = await etcd.etcdctl(['get', key, '-w', 'json']);
  if (result.code !== 0) throw new Error(`etcdctl get ${key} failed: ${result.stderr}`);
  const parsed = JSON.parse(result.stdout) as { kvs?: Array<{ value: string }> };
  const value = parsed.kvs?.[0]?.value;
  if (value === undefined) throw new Error(`etcdctl found nothing at ${key}`);
  return Buffer.from(value, 'base64');
}

function secretValuesIn(text: string): string[] {
  const values = [PASSWORD, PATCHED_PASSWORD, TOKEN, KEY1, KEY2];
  const encoded = values.map((value) => Buffer.from(value).toString('base64'));
  return [...values, ...encoded].filter((value) => text.includes(value));
}

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 'kube-lite-encryption-'));
  etcd = await startEtcdCluster({ implementation: etcdLiteAvailable() ? 'etcd-lite' : 'etcd', members: 1 });
  await startApiServer(encryptionConfig([['key1', KEY1]]));
}, 60_000);

afterAll(async () => {
  await apiServer?.stop();
  await etcd?.stop();
  rmSync(directory, { recursive: true, force: true });
});

const errorBodies: string[] = [];

test('a Secret is stored encrypted with aescbc and reads back in clear', async () => {
  const manifest = join(directory, 'secret.yaml');
  writeFileSync(manifest, ['apiVersion: v1', 'kind: Secret', 'metadata:', '  name: db', 'stringData:', `  password: ${PASSWORD}`, ''].join('\n'));
  const created = await kubectl(['create', '-f', manifest]);
  expect(created).toMatchObject({ code: 0, stdout: 'secret/db created\n' });

  const raw = await rawValue('/registry/secrets/default/db');
  expect(raw.subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key1:');
  expect(raw.includes(Buffer.from(PASSWORD))).toBe(false);
  expect(raw.includes(Buffer.from(Buffer.from(PASSWORD).toString('base64')))).toBe(false);
  expect(raw.includes(Buffer.from('"kind"'))).toBe(false);

  const read = await kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
  expect(read).toMatchObject({ code: 0, stderr: '' });
  expect(Buffer.from(read.stdout, 'base64').toString()).toBe(PASSWORD);

  // Other resources are not named in the configuration and stay readable JSON.
  expect((await kubectl(['create', 'configmap', 'plain', '--from-literal=a=b'])).code).toBe(0);
  expect(JSON.parse((await rawValue('/registry/configmaps/default/plain')).toString())).toMatchObject({ kind: 'ConfigMap', data: { a: 'b' } });
}, 60_000);

test('patches and failing writes never echo secret values into errors or logs', async () => {
  const path = '/api/v1/namespaces/default/secrets/db';
  const patched = await api('PATCH', path, JSON.stringify({ stringData: { password: PATCHED_PASSWORD, token: TOKEN } }), 'application/strategic-merge-patch+json');
  expect(patched.code).toBe(200);
  const failures: Array<[string, Promise<{ code: number; body: string }>, number]> = [
    // Values that are not base64: validation redacts them.
    ['invalid update', api('PUT', path, JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db' }, data: { password: `${PASSWORD}!` } })), 422],
    // A body that is not JSON: the parser's message must not quote it.
    ['broken JSON', api('POST', '/api/v1/namespaces/default/secrets', `{"metadata":{"name":"x"},"stringData":{"password":"${PASSWORD}"} trailing`), 400],
    ['broken YAML', api('POST', '/api/v1/namespaces/default/secrets', `metadata: {name: x}\nstringData:\n  password: ${PASSWORD}\n   bad: [indent`, 'application/yaml'), 400],
    // A strategic merge directive inside data makes the patcher describe the map it was in.
    ['bad patch directive', api('PATCH', path, JSON.stringify({ data: { $patch: 'explode', password: Buffer.from(PASSWORD).toString('base64') } }), 'application/strategic-merge-patch+json'), 422],
    ['failed json-patch test', api('PATCH', path, JSON.stringify([{ op: 'test', path: '/data/password', value: Buffer.from(PASSWORD).toString('base64') }]), 'application/json-patch+json'), 422],
    // Unknown fields under Strict: the field is named, its value is not.
    ['unknown field', api('POST', '/api/v1/namespaces/default/secrets?fieldValidation=Strict', JSON.stringify({ metadata: { name: 'y' }, stringData: { password: PASSWORD }, passwrd: PASSWORD })), 422],
    ['immutable secret', api('POST', '/api/v1/namespaces/default/secrets', JSON.stringify({ metadata: { name: 'frozen' }, immutable: true, stringData: { token: TOKEN } })), 201],
  ];
  for (const [name, pending, code] of failures) {
    const answer = await pending;
    expect({ name, code: answer.code }).toEqual({ name, code });
    if (answer.code >= 400) errorBodies.push(answer.body);
  }
  const frozen = await api('PATCH', '/api/v1/namespaces/default/secrets/frozen', JSON.stringify({ stringData: { token: PATCHED_PASSWORD } }), 'application/merge-patch+json');
  expect(frozen.code).toBe(422);
  errorBodies.push(frozen.body);
  for (const body of errorBodies) expect({ body, leaked: secretValuesIn(body) }).toEqual({ body, leaked: [] });

  // The patched value is what the API now serves.
  const current = JSON.parse((await api('GET', path)).body) as { data: Record<string, string> };
  expect(Buffer.from(current.data.password ?? '', 'base64').toString()).toBe(PATCHED_PASSWORD);
}, 60_000);

test('key rotation: new key second, then first, then every Secret rewritten with kubectl replace', async () => {
  // Step 1: every server can read key2 before any writes with it.
  await startApiServer(encryptionConfig([['key1', KEY1], ['key2', KEY2]]));
  expect((await rawValue('/registry/secrets/default/db')).subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key1:');
  // Step 2: key2 writes; key1 values still read.
  await startApiServer(encryptionConfig([['key2', KEY2], ['key1', KEY1]]));
  const listed = await kubectl(['get', 'secrets', '-A', '-o', 'json']);
  expect(listed.code).toBe(0);
  // kubectl validates a v1 List client-side against /openapi/v2, then replaces each item.
  const replaced = await kubectl(['replace', '-f', '-'], listed.stdout);
  expect(replaced).toMatchObject({ code: 0, stderr: '' });
  for (const name of ['db', 'frozen']) {
    expect((await rawValue(`/registry/secrets/default/${name}`)).subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key2:');
  }
  // Step 3: key1 is gone, and nothing needed it any more.
  await startApiServer(encryptionConfig([['key2', KEY2]]));
  const read = await kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
  expect(Buffer.from(read.stdout, 'base64').toString()).toBe(PATCHED_PASSWORD);
}, 90_000);

test('no log line carries a secret value or key material', () => {
  expect(logLines.length).toBeGreaterThan(20);
  // -v=4 logged every request, and the startup line named the keys without their material.
  expect(logLines.some((line) => line.includes('"msg":"encryption at rest"') && line.includes('aescbc key \\"key2\\" (writes)'))).toBe(true);
  const leaks = logLines.filter((line) => secretValuesIn(line).length > 0);
  expect(leaks).toEqual([]);
});
