import {
  ConfigError,
  HelpRequested,
  computeClusterId,
  computeMemberId,
  parseEtcdFlags,
  type EtcdLiteConfig,
} from './config';

const MASK_53_BITS = (1n << 53n) - 1n;
const THREE_MEMBERS = 'infra0=http://10.0.1.10:2380,infra1=http://10.0.1.11:2380,infra2=http://10.0.1.12:2380';

describe('parseEtcdFlags', () => {
  test('defaults are etcd\'s', () => {
    const config = parseEtcdFlags([], {});
    expect(config).toMatchObject<Partial<EtcdLiteConfig>>({
      name: 'default',
      dataDir: 'default.etcd',
      listenClientUrls: ['http://localhost:2379'],
      advertiseClientUrls: ['http://localhost:2379'],
      listenPeerUrls: ['http://localhost:2380'],
      initialAdvertisePeerUrls: ['http://localhost:2380'],
      initialClusterState: 'new',
      initialClusterToken: 'etcd-cluster',
      heartbeatIntervalMs: 100,
      electionTimeoutMs: 1000,
      electionTicks: 10,
      snapshotCount: 100000,
      listenMetricsUrls: [],
      maxRequestBytes: 1572864,
      quotaBackendBytes: 0,
      logLevel: 'info',
      warnings: [],
    });
    expect(config.initialCluster.map((m) => [m.name, m.peerUrls])).toEqual([['default', ['http://localhost:2380']]]);
  });

  test.each<{ name: string; argv: string[]; env?: Record<string, string>; expected: Partial<EtcdLiteConfig> }>([
    { name: '--flag value', argv: ['--name', 'infra1', '--initial-cluster', THREE_MEMBERS, '--initial-advertise-peer-urls', 'http://10.0.1.11:2380'], expected: { name: 'infra1', dataDir: 'infra1.etcd' } },
    { name: '--flag=value', argv: ['--name=infra2', `--initial-cluster=${THREE_MEMBERS}`, '--initial-advertise-peer-urls=http://10.0.1.12:2380', '--data-dir=/var/lib/etcd'], expected: { name: 'infra2', dataDir: '/var/lib/etcd' } },
    { name: 'ETCD_* variables', argv: [], env: { ETCD_NAME: 'infra0', ETCD_INITIAL_CLUSTER: THREE_MEMBERS, ETCD_INITIAL_ADVERTISE_PEER_URLS: 'http://10.0.1.10:2380', ETCD_HEARTBEAT_INTERVAL: '50', ETCD_ELECTION_TIMEOUT: '500' }, expected: { name: 'infra0', heartbeatIntervalMs: 50, electionTimeoutMs: 500, electionTicks: 10 } },
    { name: 'a flag beats its variable, with a warning', argv: ['--log-level', 'debug'], env: { ETCD_LOG_LEVEL: 'error' }, expected: { logLevel: 'debug', warnings: ['ETCD_LOG_LEVEL is shadowed by --log-level'] } },
    { name: 'a name alone implies a one-member cluster of itself', argv: ['--name', 'solo'], expected: { name: 'solo', dataDir: 'solo.etcd' } },
    { name: 'client URLs with their advertised form', argv: ['--listen-client-urls', 'http://0.0.0.0:2379,http://127.0.0.1:12379', '--advertise-client-urls', 'http://10.0.1.10:2379'], expected: { listenClientUrls: ['http://0.0.0.0:2379', 'http://127.0.0.1:12379'], advertiseClientUrls: ['http://10.0.1.10:2379'] } },
    { name: 'numbers', argv: ['--snapshot-count', '5000', '--max-request-bytes', '10485760', '--quota-backend-bytes', '8589934592', '--listen-metrics-urls', 'http://127.0.0.1:2381'], expected: { snapshotCount: 5000, maxRequestBytes: 10485760, quotaBackendBytes: 8589934592, listenMetricsUrls: ['http://127.0.0.1:2381'] } },
    { name: 'a port equal to the scheme default', argv: ['--listen-metrics-urls', 'http://127.0.0.1:80,https://[::1]:443'], expected: { listenMetricsUrls: ['http://127.0.0.1:80', 'https://[::1]:443'] } },
    { name: 'existing cluster state', argv: ['--initial-cluster-state', 'existing'], expected: { initialClusterState: 'existing' } },
  ])('accepts $name', ({ argv, env, expected }) => {
    expect(parseEtcdFlags(argv, env ?? {})).toMatchObject(expected);
  });

  test.each<{ name: string; argv: string[]; env?: Record<string, string>; message: RegExp }>([
    { name: 'a bad cluster state', argv: ['--initial-cluster-state', 'foo'], message: /^--initial-cluster-state must be "new" or "existing", got "foo"$/ },
    { name: 'a bad cluster state from the environment', argv: [], env: { ETCD_INITIAL_CLUSTER_STATE: 'old' }, message: /--initial-cluster-state must be "new" or "existing", got "old"/ },
    { name: 'a name missing from the cluster', argv: ['--name', 'infra9', '--initial-cluster', THREE_MEMBERS], message: /--name "infra9" is not in --initial-cluster \(infra0, infra1, infra2\)/ },
    { name: 'advertised peer URLs that disagree with the cluster', argv: ['--name', 'infra1', '--initial-cluster', THREE_MEMBERS], message: /--initial-cluster has infra1=http:\/\/10.0.1.11:2380 but --initial-advertise-peer-urls is http:\/\/localhost:2380/ },
    { name: 'an election timeout under 5 heartbeats', argv: ['--heartbeat-interval', '100', '--election-timeout', '400'], message: /--election-timeout \(400 ms\) must be at least 5 times --heartbeat-interval \(100 ms\)/ },
    { name: 'an election timeout over 50 s', argv: ['--heartbeat-interval', '1000', '--election-timeout', '60000'], message: /--election-timeout \(60000 ms\) is too long/ },
    { name: 'a non-numeric heartbeat', argv: ['--heartbeat-interval', 'fast'], message: /--heartbeat-interval must be a whole number of milliseconds, got "fast"/ },
    { name: 'a zero snapshot count', argv: ['--snapshot-count', '0'], message: /--snapshot-count must be a positive whole number/ },
    { name: 'a URL without scheme', argv: ['--listen-peer-urls', 'localhost:2380'], message: /--listen-peer-urls URL "localhost:2380" must use http:\/\/ or https:\/\// },
    { name: 'a URL without port', argv: ['--listen-peer-urls', 'http://localhost'], message: /--listen-peer-urls URL "http:\/\/localhost" must have the form scheme:\/\/host:port/ },
    { name: 'a URL with a path', argv: ['--listen-peer-urls', 'http://localhost:2380/raft'], message: /must not contain a path/ },
    { name: 'a malformed URL', argv: ['--listen-peer-urls', 'http://[::1:2380'], message: /--listen-peer-urls has a malformed URL/ },
    { name: 'an initial-cluster entry without "="', argv: ['--initial-cluster', 'default'], message: /--initial-cluster entry "default" must have the form name=http:\/\/host:port/ },
    { name: 'one URL for two members', argv: ['--initial-cluster', 'default=http://localhost:2380,other=http://localhost:2380'], message: /gives the URL http:\/\/localhost:2380 to both "default" and "other"/ },
    { name: 'listen client URLs without advertised ones', argv: ['--listen-client-urls', 'http://0.0.0.0:2379'], message: /--advertise-client-urls is required when --listen-client-urls is set explicitly/ },
    { name: 'a bad log level', argv: ['--log-level', 'verbose'], message: /--log-level must be one of debug, info, warn, error, panic, fatal, got "verbose"/ },
    { name: 'an unknown flag', argv: ['--listen-peer-url', 'http://localhost:2380'], message: /unknown option '--listen-peer-url'/ },
    { name: 'a flag without its value', argv: ['--name'], message: /option '--name <value>' argument missing/ },
  ])('refuses $name with a ConfigError naming the flag', ({ argv, env, message }) => {
    let thrown: unknown;
    try {
      parseEtcdFlags(argv, env ?? {});
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
  });

  test('--help is not an error', () => {
    expect(() => parseEtcdFlags(['--help'], {})).toThrow(HelpRequested);
    try {
      parseEtcdFlags(['--help'], {});
    } catch (error) {
      expect((error as HelpRequested).text).toContain('--initial-cluster-token');
    }
  });
});

describe('member and cluster ids', () => {
  // etcd's well-known id of a default single member ("8e9e05c52164694d"),
  // masked to 53 bits: the hashing is etcd's, only the width differs.
  test('a default member gets etcd\'s id, masked to 53 bits', () => {
    expect(computeMemberId(['http://localhost:2380'], 'etcd-cluster')).toBe(Number(0x8e9e05c52164694dn & MASK_53_BITS));
    expect(parseEtcdFlags([], {}).memberId).toBe(Number(0x8e9e05c52164694dn & MASK_53_BITS));
  });

  test('ids are deterministic, below 2^53, and differ by URL and token', () => {
    const a = parseEtcdFlags(['--name', 'infra0', '--initial-cluster', THREE_MEMBERS, '--initial-advertise-peer-urls', 'http://10.0.1.10:2380'], {});
    const b = parseEtcdFlags(['--name', 'infra1', '--initial-cluster', THREE_MEMBERS, '--initial-advertise-peer-urls', 'http://10.0.1.11:2380'], {});
    const otherToken = parseEtcdFlags(
      ['--name', 'infra0', '--initial-cluster', THREE_MEMBERS, '--initial-advertise-peer-urls', 'http://10.0.1.10:2380', '--initial-cluster-token', 'other'],
      {},
    );
    expect(a.clusterId).toBe(b.clusterId);
    expect(a.memberId).not.toBe(b.memberId);
    expect(otherToken.clusterId).not.toBe(a.clusterId);
    expect(otherToken.memberId).not.toBe(a.memberId);
    for (const id of [...a.initialCluster.map((m) => m.id), a.clusterId]) {
      expect(Number.isSafeInteger(id) && id > 0).toBe(true);
    }
    expect(computeClusterId([3, 1, 2])).toBe(computeClusterId([1, 2, 3]));
    expect(computeMemberId(['http://b:1', 'http://a:1'], 't')).toBe(computeMemberId(['http://a:1', 'http://b:1'], 't'));
  });
});
