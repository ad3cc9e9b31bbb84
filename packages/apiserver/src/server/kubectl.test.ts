// Drives the HTTPS frame with the real kubectl (v1.32 dispatcher) against an
// in-memory ConfigMap handler: version, discovery, get (Table), create with
// server-side field validation, get -o yaml, delete, NotFound wording, 401 and
// 403 as kubectl prints them.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startTestServer, testTokens, type TestServer } from './test-fixture';

interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

let server: TestServer;
let home: string;

function kubectl(args: string[], identity: keyof typeof testTokens | 'basic-auth' | 'wrong-token' = 'admin'): Promise<KubectlResult> {
  const kubeconfig = identity === 'basic-auth' || identity === 'wrong-token' ? credentialKubeconfig(identity) : server.kubeconfig(identity);
  return new Promise((resolve) => {
    // stdin is closed so kubectl can never wait for interactive input.
    const child = spawn('kubectl', [...args, '--kubeconfig', kubeconfig, '--cache-dir', join(home, 'cache'), '--request-timeout', '20s'], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 25_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A kubeconfig with no bearer token (basic auth, which the server ignores; an empty user makes kubectl prompt) or a wrong one. */
function credentialKubeconfig(kind: 'basic-auth' | 'wrong-token'): string {
  const path = join(home, `kubeconfig-${kind}`);
  const user = kind === 'basic-auth' ? '{username: someone, password: secret}' : '{token: not-a-valid-token}';
  const ca = Buffer.from(server.certificates.ca.certificatePem).toString('base64');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: c, cluster: {server: "https://127.0.0.1:${server.port}", certificate-authority-data: ${ca}}}]`,
      `users: [{name: u, user: ${user}}]`,
      'contexts: [{name: x, context: {cluster: c, user: u}}]',
      'current-context: x',
      '',
    ].join('\n'),
  );
  return path;
}

beforeAll(async () => {
  server = await startTestServer();
  home = mkdtempSync(join(tmpdir(), 'kube-lite-kubectl-home-'));
});

afterAll(async () => {
  await server.stop();
  rmSync(home, { recursive: true, force: true });
});

test('kubectl version reports the server as v1.32', async () => {
  const result = await kubectl(['version', '-o', 'json']);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  const versions = JSON.parse(result.stdout) as { serverVersion: { major: string; minor: string; gitVersion: string } };
  expect(versions.serverVersion).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.0-kube-lite' });
});

test('kubectl api-resources lists configmaps from legacy discovery', async () => {
  const result = await kubectl(['api-resources', '--no-headers']);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^configmaps\s+cm\s+v1\s+true\s+ConfigMap\s*$/m);
});

test('kubectl discovers every group with two requests (aggregated discovery), not one per group/version', async () => {
  // A cache dir of its own: a warm discovery cache would make no request at all.
  const result = await kubectl(['api-resources', '--no-headers', '-v=6', '--cache-dir', join(home, 'cold-cache')]);
  expect(result.code).toBe(0);
  expect(result.stdout).toMatch(/^configmaps\s+cm\s+v1\s+true\s+ConfigMap\s*$/m);
  // kubectl 1.32 logs `"Response" verb="GET" url="https://host/api?timeout=32s" status="200 OK"` at -v=6.
  const paths = [...result.stderr.matchAll(/(?:verb="GET" url="|GET )https:\/\/[^/\s]+(\/[^?"\s]*)/g)].map((match) => match[1]);
  expect(paths.filter((path) => path !== '/version')).toEqual(['/api', '/apis']);
});

test('create -f fetches OpenAPI v3, posts with fieldValidation=Strict, then get/-o yaml/delete work', async () => {
  const manifest = join(home, 'cm.yaml');
  writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n');
  const created = await kubectl(['create', '-f', manifest]);
  expect(created.stderr).toBe('');
  expect(created.stdout.trim()).toBe('configmap/settings created');
  const post = server.configMaps.calls.find((call) => call.method === 'create');
  expect(post?.context.write).toMatchObject({ fieldManager: 'kubectl-create', fieldValidation: 'Strict', dryRun: false });
  expect(post?.context.namespace).toBe('default');

  const listed = await kubectl(['get', 'configmaps']);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(/^NAME\s+DATA\s*\nsettings\s+1\s*$/m);
  expect(server.configMaps.calls.some((call) => call.method === 'list' && call.context.output.table?.version === 'v1')).toBe(true);

  const yaml = await kubectl(['get', 'cm', 'settings', '-o', 'yaml']);
  expect(yaml.code).toBe(0);
  expect(parseYaml(yaml.stdout)).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'default' }, data: { color: 'blue' } });

  const again = await kubectl(['create', '-f', manifest]);
  expect(again.code).toBe(1);
  expect(again.stderr.trim()).toBe('Error from server (AlreadyExists): error when creating "' + manifest + '": configmaps "settings" already exists');

  const deleted = await kubectl(['delete', 'cm', 'settings']);
  expect(deleted.stdout.trim()).toBe('configmap "settings" deleted');
  expect(server.configMaps.objects.size).toBe(0);
});

test('strict field validation errors reach the user', async () => {
  const manifest = join(home, 'bad.yaml');
  writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\nspec:\n  nope: 1\n');
  const result = await kubectl(['create', '-f', manifest]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain('unknown field "spec"');
});

test('a missing object prints upstream NotFound wording', async () => {
  const result = await kubectl(['get', 'cm', 'nope']);
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe('Error from server (NotFound): configmaps "nope" not found');
});

test.each([
  { identity: 'basic-auth' as const, case: 'no bearer token' },
  { identity: 'wrong-token' as const, case: 'an unknown bearer token' },
])('with $case kubectl is told it must log in (401)', async ({ identity }) => {
  const result = await kubectl(['get', 'cm'], identity);
  expect(result.code).toBe(1);
  expect(result.stderr.trim()).toBe('error: You must be logged in to the server (Unauthorized)');
});

test('a user without permission gets the upstream 403 sentence', async () => {
  const result = await kubectl(['get', 'configmaps'], 'alice');
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(
    'Error from server (Forbidden): configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "default"',
  );
});

test('apply --server-side, patch --type=merge and replace reach the handler with their patch types', async () => {
  const manifest = join(home, 'ssa.yaml');
  writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: v1\n');
  const applied = await kubectl(['apply', '--server-side', '-f', manifest]);
  expect(applied.stderr).toBe('');
  expect(applied.stdout.trim()).toBe('configmap/ssa serverside-applied');
  const apply = server.configMaps.calls.find((call) => call.method === 'patch');
  expect(apply?.body).toMatchObject({ type: 'apply' });
  expect(apply?.context.write).toMatchObject({ fieldManager: 'kubectl', force: false });

  const patched = await kubectl(['patch', 'cm', 'ssa', '--type=merge', '-p', '{"data":{"k":"v2"}}']);
  expect(patched.stdout.trim()).toBe('configmap/ssa patched');
  expect(server.configMaps.objects.get('default/ssa')?.data).toEqual({ k: 'v2' });

  writeFileSync(manifest, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  k: v3\n');
  const replaced = await kubectl(['replace', '-f', manifest]);
  expect(replaced.stdout.trim()).toBe('configmap/ssa replaced');
  expect(server.configMaps.calls.some((call) => call.method === 'update' && call.context.write.fieldManager === 'kubectl-replace')).toBe(true);
  await kubectl(['delete', 'cm', 'ssa']);
});

test('get -w streams watch events to kubectl as they happen', async () => {
  const child: ChildProcessWithoutNullStreams = spawn(
    'kubectl',
    ['get', 'configmaps', '--watch', '-o', 'name', '--kubeconfig', server.kubeconfig('admin'), '--cache-dir', join(home, 'cache')],
    { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home } },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  try {
    const deadline = Date.now() + 15_000;
    while (server.configMaps.watcherCount === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.configMaps.watcherCount).toBe(1);
    const created = await server.request('POST', '/api/v1/namespaces/default/configmaps', {
      body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'watched' } }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect(created.status).toBe(201);
    while (!stdout.includes('configmap/watched') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stdout).toContain('configmap/watched');
  } finally {
    child.kill('SIGTERM');
    await exited;
    server.configMaps.objects.clear();
  }
  const deadline = Date.now() + 5000;
  while (server.configMaps.watcherCount > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  expect(server.configMaps.watcherCount).toBe(0);
});
