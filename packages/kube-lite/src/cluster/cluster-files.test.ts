import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PortInUseError } from '../errors';
import { entryFileOf, parseHelpFlags } from './binaries';
import { clusterIdentities, ensureTokenFile, parseTokenFile, renderKubeconfig, writeKubeconfigs } from './credentials';
import { leaderEndpoint } from './etcd-status';
import { planLayout } from './layout';
import { findContainerProcesses } from './pod-processes';
import { checkPortsFree, holderPid } from './preflight';

describe('credentials', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-credentials-'))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('gives every identity its user name and groups, as the API server policy expects them', () => {
    const layout = planLayout({ dataDir, workers: 2, runtime: 'process', ingressPort: 8080 });
    expect(clusterIdentities(layout).map((identity) => `${identity.user} [${identity.groups.join(',')}]`)).toEqual([
      'admin [system:masters]',
      'system:kube-scheduler []',
      'system:kube-controller-manager []',
      'system:kube-proxy []',
      'system:node:worker-1 [system:nodes]',
      'system:node:worker-2 [system:nodes]',
    ]);
  });

  it('keeps existing tokens and adds tokens for new workers', () => {
    let counter = 0;
    const next = (): string => `token-${++counter}`;
    const small = planLayout({ dataDir, workers: 1, runtime: 'process', ingressPort: 8080 });
    const first = ensureTokenFile(small, next);
    const bigger = planLayout({ dataDir, workers: 2, runtime: 'process', ingressPort: 8080 });
    const second = ensureTokenFile(bigger, next);
    expect(second.slice(0, first.length)).toEqual(first);
    expect(second.map((record) => record.user).slice(-1)).toEqual(['system:node:worker-2']);
    const text = fs.readFileSync(bigger.files.tokenFile, 'utf8');
    expect(text).toContain('token-1,admin,admin,system:masters\n');
    expect(text).toContain('token-5,system:node:worker-1,system:node:worker-1,system:nodes\n');
    expect(parseTokenFile(text)).toEqual(second);
    expect(fs.statSync(bigger.files.tokenFile).mode & 0o077).toBe(0);
  });

  it('parses a groups column with several quoted groups', () => {
    expect(parseTokenFile('abc,alice,u1,"system:masters,devs"\n# comment\n')).toEqual([{ token: 'abc', user: 'alice', uid: 'u1', groups: ['system:masters', 'devs'] }]);
  });

  it('writes a kubeconfig per identity, with the CA inline and its own token', () => {
    const layout = planLayout({ dataDir, workers: 1, runtime: 'process', ingressPort: 8080 });
    const tokens = ensureTokenFile(layout);
    writeKubeconfigs(layout, tokens, '-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n');
    const kubelet = JSON.parse(fs.readFileSync(layout.workers[0]!.kubeconfig, 'utf8'));
    expect(kubelet.clusters[0].cluster.server).toBe('https://127.0.0.1:6443');
    expect(Buffer.from(kubelet.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toContain('BEGIN CERTIFICATE');
    expect(kubelet.users[0]).toEqual({ name: 'system:node:worker-1', user: { token: tokens.find((t) => t.user === 'system:node:worker-1')?.token } });
    expect(kubelet['current-context']).toBe(kubelet.contexts[0].name);
    expect(fs.existsSync(layout.files.adminKubeconfig)).toBe(true);
  });

  it('renders JSON that any YAML reader takes', () => {
    expect(() => JSON.parse(renderKubeconfig({ server: 'https://x:1', caPem: 'ca', user: 'u', token: 't' }))).not.toThrow();
  });
});

describe('preflight', () => {
  it('names the port, the component and the holder of a taken port', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const failure = await checkPortsFree([{ address: '127.0.0.1', port, wantedBy: 'kube-apiserver' }]).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(PortInUseError);
      expect((failure as Error).message).toMatch(new RegExp(`^port ${port} on 127.0.0.1 \\(for kube-apiserver\\) is in use`));
    } finally {
      server.close();
    }
  });

  it('passes free ports', async () => {
    await expect(checkPortsFree([{ address: '127.0.1.1', port: 0, wantedBy: 'x' }])).resolves.toBeUndefined();
  });

  it.each([
    { port: 6443, pid: 4242 },
    { port: 2379, pid: 77 },
    { port: 9999, pid: undefined },
  ])('finds the pid listening on $port in ss output', ({ port, pid }) => {
    const output = [
      'LISTEN 0      511        127.0.0.1:6443       0.0.0.0:*    users:(("node",pid=4242,fd=21))',
      'LISTEN 0      4096               *:2379             *:*    users:(("etcd",pid=77,fd=7))',
      'LISTEN 0      4096       127.0.0.1:19999      0.0.0.0:*    users:(("x",pid=1,fd=7))',
    ].join('\n');
    expect(holderPid(output, port)).toBe(pid);
  });
});

describe('binaries', () => {
  it.each([
    { environment: {}, expected: '/repo/packages/apiserver/dist/cli.js' },
    { environment: { KUBE_LITE_ENTRY_KUBE_APISERVER: '/tmp/patched.js' }, expected: '/tmp/patched.js' },
    { environment: { KUBE_LITE_ENTRY_KUBELET: '/tmp/patched.js' }, expected: '/repo/packages/apiserver/dist/cli.js' },
  ])('runs kube-apiserver from $expected with $environment', ({ environment, expected }) => {
    expect(entryFileOf('/repo', 'kube-apiserver', environment)).toBe(expected);
  });
});

describe('help flags', () => {
  it.each([
    { help: 'Options:\n  --etcd-servers <urls>  etcd\n  --secure-port <port>\n  -h, --help', flags: ['--etcd-servers', '--secure-port'] },
    { help: '      --node-ip string   IP\n      --root-dir string (default "/var/lib/kubelet")', flags: ['--node-ip', '--root-dir'] },
    { help: '', flags: undefined },
  ])('reads $flags', ({ help, flags }) => {
    const parsed = parseHelpFlags(help);
    expect(parsed === undefined ? undefined : [...parsed]).toEqual(flags);
  });
});

describe('etcd leader', () => {
  it.each([
    { leaders: ['2', '2', '2'], expected: 'b' },
    { leaders: ['2', '2', '0'], expected: 'b' },
    { leaders: ['0', '0', '0'], expected: undefined },
  ])('picks the member the others name: $leaders', ({ leaders, expected }) => {
    const statuses = ['a', 'b', 'c'].map((endpoint, i) => ({ endpoint, memberId: String(i + 1), leaderId: leaders[i] as string }));
    expect(leaderEndpoint(statuses)).toBe(expected);
  });
});

describe('container processes of a node', () => {
  it('reads the process runtime state file below the root dir, and nothing else', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-node-'));
    try {
      fs.mkdirSync(path.join(root, 'runtime', 'process'), { recursive: true });
      fs.writeFileSync(
        path.join(root, 'runtime', 'process', 'state.json'),
        JSON.stringify({ version: 1, nextAddressIndex: 2, sandboxes: [], containers: [{ status: { pid: 4321, name: 'web' }, processStartTicks: 99 }, { status: { name: 'never-started' } }] }),
      );
      fs.mkdirSync(path.join(root, 'pods', 'uid', 'volumes'), { recursive: true });
      fs.writeFileSync(path.join(root, 'pods', 'uid', 'volumes', 'state.json'), JSON.stringify({ containers: [{ status: { pid: 1234 } }] }));
      expect(findContainerProcesses(root)).toEqual([{ pid: 4321, startTicks: 99, name: 'web' }]);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
