import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PortInUseError } from '../errors';
import { entryFileOf, parseHelpFlags } from './binaries';
import { ClusterNotRunningError, NoClusterError } from '../errors';
import { StateStore } from '../supervisor';
import { clusterIdentities, ensureTokenFile, parseTokenFile, renderKubeconfig, writeKubeconfigs } from './credentials';
import { ENCRYPTION_KEY_BYTES, ensureEncryptionConfig, renderEncryptionConfig } from './encryption';
import { LocalCluster, type ClusterRecord } from './local-cluster';
import { leaderEndpoint } from './etcd-status';
import { planLayout, possibleWorkerNames } from './layout';
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

  it('reserves kubelet tokens for nodes added later, and keeps them across restarts', () => {
    const layout = planLayout({ dataDir, workers: 2, runtime: 'process', ingressPort: 8080, subnet: 2 });
    const first = ensureTokenFile(layout, undefined, possibleWorkerNames(2));
    expect(first.filter((record) => record.groups.includes('system:nodes')).map((record) => record.user)).toEqual(possibleWorkerNames(2).map((name) => `system:node:${name}`));
    expect(new Set(first.map((record) => record.token)).size).toBe(first.length);
    const again = ensureTokenFile(planLayout({ ...layout.options, workers: 3 }), undefined, possibleWorkerNames(2));
    expect(again).toEqual(first);
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

describe('encryption at rest', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-encryption-'))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('writes an owner-only EncryptionConfiguration once: aescbc for secrets, then identity', () => {
    const file = path.join(dataDir, 'auth', 'encryption-config.yaml');
    const key = Buffer.alloc(ENCRYPTION_KEY_BYTES, 7);
    expect(ensureEncryptionConfig(file, () => key)).toBe(true);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toBe(renderEncryptionConfig(key.toString('base64')));
    const lines = text.split('\n').filter((line) => !line.startsWith('#'));
    expect(lines).toEqual([
      'apiVersion: apiserver.config.k8s.io/v1',
      'kind: EncryptionConfiguration',
      'resources:',
      '  - resources:',
      '      - secrets',
      '    providers:',
      '      - aescbc:',
      '          keys:',
      '            - name: key1',
      `              secret: ${key.toString('base64')}`,
      '      - identity: {}',
      '',
    ]);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    // Never replaced: the Secrets in etcd need the first key.
    expect(ensureEncryptionConfig(file, () => Buffer.alloc(ENCRYPTION_KEY_BYTES, 9))).toBe(false);
    expect(fs.readFileSync(file, 'utf8')).toBe(text);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['encryption-config.yaml']);
  });

  it('generates a fresh random 32-byte key by default', () => {
    const keys = ['a', 'b'].map((name) => {
      const file = path.join(dataDir, name);
      ensureEncryptionConfig(file);
      return Buffer.from(/secret: (\S+)/.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? '', 'base64');
    });
    expect(keys.map((key) => key.length)).toEqual([ENCRYPTION_KEY_BYTES, ENCRYPTION_KEY_BYTES]);
    expect(keys[0]?.equals(keys[1] as Buffer)).toBe(false);
  });
});

describe('add-node', () => {
  let dataDir: string;
  beforeEach(() => (dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-add-node-'))));
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const quiet = { report: () => undefined };

  it('needs a cluster in the data dir', () => {
    expect(() => LocalCluster.open(dataDir, quiet)).toThrow(NoClusterError);
  });

  it('refuses a cluster whose API server is not running, and changes nothing', async () => {
    const options = { dataDir, workers: 2, runtime: 'process' as const, ingressPort: 8080 };
    const store = new StateStore<ClusterRecord>(path.join(dataDir, 'state.json'));
    store.write({ version: 1, components: [], cluster: { options, groups: {} } });
    const before = fs.readFileSync(store.file, 'utf8');
    await expect(LocalCluster.open(dataDir, quiet).addNode()).rejects.toThrow(ClusterNotRunningError);
    expect(fs.readFileSync(store.file, 'utf8')).toBe(before);
  });

  it('remembers the workers a cluster last ran with', () => {
    const store = new StateStore<ClusterRecord>(path.join(dataDir, 'state.json'));
    store.write({ version: 1, components: [], cluster: { options: { dataDir: '/elsewhere', workers: 4, runtime: 'process', ingressPort: 8080 }, groups: {} } });
    expect(LocalCluster.recordedOptions(dataDir)).toEqual({ dataDir, workers: 4, runtime: 'process', ingressPort: 8080 });
    expect(LocalCluster.open(dataDir, quiet).layout.workers.map((worker) => worker.name)).toEqual(['worker-1', 'worker-2', 'worker-3', 'worker-4']);
  });
});

