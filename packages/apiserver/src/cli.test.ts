import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startEtcdCluster, type EtcdCluster } from '@kube-lite/testing';
import { main } from './cli';
import { parseArguments } from './config';
import { startKubeApiServer } from './kube-apiserver';
import { silentLogger } from './server';

let directory: string;

beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'kube-lite-cli-'));
});

afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

interface Kubeconfig {
  clusters: Array<{ cluster: { server: string; 'certificate-authority-data': string } }>;
  users: Array<{ user: { token?: string; 'client-certificate-data'?: string; 'client-key-data'?: string } }>;
}

function get(kubeconfig: Kubeconfig, path: string): Promise<number> {
  const url = new URL(kubeconfig.clusters[0]!.cluster.server);
  const user = kubeconfig.users[0]!.user;
  const decode = (text: string | undefined): string | undefined => (text === undefined ? undefined : Buffer.from(text, 'base64').toString());
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        path,
        ca: decode(kubeconfig.clusters[0]!.cluster['certificate-authority-data']),
        cert: decode(user['client-certificate-data']),
        key: decode(user['client-key-data']),
        headers: user.token === undefined ? {} : { Authorization: `Bearer ${user.token}` },
        agent: false,
      },
      (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      },
    );
    outgoing.on('error', reject);
    outgoing.end();
  });
}

function parsed(argv: string[]) {
  const result = parseArguments(argv);
  if (result.kind !== 'config') throw new Error('expected a config');
  return result.config;
}

describe('kube-apiserver from its flags', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startEtcdCluster({ implementation: 'etcd', members: 1 });
  });
  afterAll(async () => {
    await etcd.stop();
  });
  const start = (argv: string[]) => startKubeApiServer({ ...parsed(['--etcd-servers', etcd.endpoints.join(','), '--grpc-port', '0', ...argv]), logger: silentLogger });

  test('generates PKI and an admin token, writes a working kubeconfig, reuses both on restart over the same etcd data', async () => {
    const argv = ['--secure-port', '0', '--bind-address', '127.0.0.1', '--cert-dir', join(directory, 'pki'), '--kubeconfig-out', join(directory, 'admin.conf')];
    const first = await start(argv);
    const kubeconfig = parseYaml(readFileSync(join(directory, 'admin.conf'), 'utf8')) as Kubeconfig;
    try {
      expect(await get(kubeconfig, '/api')).toBe(200);
    } finally {
      await first.stop();
    }
    const second = await start(argv);
    try {
      const again = parseYaml(readFileSync(join(directory, 'admin.conf'), 'utf8')) as Kubeconfig;
      expect(again.users[0]?.user.token).toBe(kubeconfig.users[0]?.user.token);
      expect(again.clusters[0]?.cluster['certificate-authority-data']).toBe(kubeconfig.clusters[0]?.cluster['certificate-authority-data']);
    } finally {
      await second.stop();
    }
  });

  test('a token file without a system:masters member gets a client-certificate kubeconfig', async () => {
    writeFileSync(join(directory, 'tokens.csv'), 'sched-token,system:kube-scheduler,sched\n');
    const argv = ['--secure-port', '0', '--bind-address', '127.0.0.1', '--cert-dir', join(directory, 'pki'), '--token-auth-file', join(directory, 'tokens.csv'), '--kubeconfig-out', join(directory, 'admin.conf')];
    const running = await start(argv);
    try {
      const kubeconfig = parseYaml(readFileSync(join(directory, 'admin.conf'), 'utf8')) as Kubeconfig;
      expect(kubeconfig.users[0]?.user.token).toBeUndefined();
      expect(await get(kubeconfig, '/metrics')).toBe(200);
    } finally {
      await running.stop();
    }
  });
});

describe('main', () => {
  test('a bad flag prints the ConfigError and exits 2', async () => {
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(['--secure-port', 'abc'])).toBe(2);
    } finally {
      process.stderr.write = original;
    }
    expect(written.join('')).toBe('kube-apiserver: --secure-port: "abc" is not a port number (0-65535; 0 picks a free port)\n');
  });

  test('a bad --encryption-provider-config names the file and field, hides the key and exits 2 before reaching etcd', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'kube-lite-cli-enc-'));
    const file = join(directory, 'encryption.yaml');
    const shortKey = Buffer.alloc(10, 7).toString('base64');
    writeFileSync(file, `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: [{name: k1, secret: "${shortKey}"}]}\n`);
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => {
      written.push(chunk);
      return true;
    }) as typeof process.stderr.write;
    try {
      expect(await main(['--etcd-servers', 'http://127.0.0.1:1', '--cert-dir', directory, '--encryption-provider-config', file, '--v', '0'])).toBe(2);
    } finally {
      process.stderr.write = original;
      rmSync(directory, { recursive: true, force: true });
    }
    const output = written.join('');
    expect(output).toContain(`kube-apiserver: --encryption-provider-config ${file}: resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 10, expected one of [16 24 32]\n`);
    expect(output).not.toContain(shortKey);
  });
});
