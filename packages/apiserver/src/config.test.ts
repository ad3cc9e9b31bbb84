import { ConfigError, parseArguments, parsePortRange, parseServiceIpRange, type ApiServerConfig } from './config';

function configOf(argv: string[]): ApiServerConfig {
  const result = parseArguments(argv);
  if (result.kind !== 'config') throw new Error('expected a config');
  return result.config;
}

describe('parseArguments', () => {
  test('upstream defaults', () => {
    expect(configOf(['--advertise-address', '192.0.2.1'])).toEqual({
      etcdServers: [],
      securePort: 6443,
      bindAddress: '0.0.0.0',
      advertiseAddress: '192.0.2.1',
      serviceClusterIpRange: { cidr: '10.96.0.0/12', firstIp: '10.96.0.1' },
      serviceNodePortRange: { min: 30000, max: 32767 },
      certDir: '/var/run/kubernetes',
      verbosity: 2,
      grpcPort: 6444,
      eventTtlSeconds: 3600,
      defaultNotReadyTolerationSeconds: 300,
      defaultUnreachableTolerationSeconds: 300,
      minRequestTimeoutSeconds: 1800,
    });
  });

  test('every flag', () => {
    const config = configOf([
      '--etcd-servers=http://10.0.0.1:2379,https://10.0.0.2:2379',
      '--secure-port', '7443',
      '--bind-address', '127.0.0.1',
      '--service-cluster-ip-range', '10.100.5.7/16',
      '--service-node-port-range', '31000-31010',
      '--token-auth-file', '/etc/k/tokens.csv',
      '--cert-dir', '/tmp/pki',
      '--kubeconfig-out', '/tmp/admin.conf',
      '--kubelet-client-certificate', '/tmp/pki/kc.crt',
      '--kubelet-client-key', '/tmp/pki/kc.key',
      '--v', '4',
      '--grpc-port', '7444',
      '--event-ttl', '30m',
      '--default-not-ready-toleration-seconds', '5',
      '--default-unreachable-toleration-seconds', '6',
      '--min-request-timeout', '60',
      '--encryption-provider-config', '/etc/k/encryption.yaml',
    ]);
    expect(config).toEqual({
      etcdServers: ['http://10.0.0.1:2379', 'https://10.0.0.2:2379'],
      securePort: 7443,
      bindAddress: '127.0.0.1',
      advertiseAddress: '127.0.0.1',
      serviceClusterIpRange: { cidr: '10.100.0.0/16', firstIp: '10.100.0.1' },
      serviceNodePortRange: { min: 31000, max: 31010 },
      tokenAuthFile: '/etc/k/tokens.csv',
      certDir: '/tmp/pki',
      kubeconfigOut: '/tmp/admin.conf',
      kubeletClientCertificate: '/tmp/pki/kc.crt',
      kubeletClientKey: '/tmp/pki/kc.key',
      verbosity: 4,
      grpcPort: 7444,
      eventTtlSeconds: 1800,
      defaultNotReadyTolerationSeconds: 5,
      defaultUnreachableTolerationSeconds: 6,
      minRequestTimeoutSeconds: 60,
      encryptionProviderConfig: '/etc/k/encryption.yaml',
    });
  });

  test.each([
    { argv: ['--secure-port', 'https'], message: '--secure-port: "https" is not a port number' },
    { argv: ['--secure-port', '70000'], message: '--secure-port' },
    { argv: ['--bind-address', 'localhost'], message: '--bind-address: "localhost" is not an IP address' },
    { argv: ['--advertise-address', '1.2.3'], message: '--advertise-address' },
    { argv: ['--etcd-servers', 'localhost:2379'], message: '--etcd-servers: "localhost:2379" must use http:// or https://' },
    { argv: ['--etcd-servers', 'http://etcd'], message: '--etcd-servers: "http://etcd" must name a port' },
    { argv: ['--service-cluster-ip-range', '10.96.0.0/8'], message: 'allowed are /12' },
    { argv: ['--service-cluster-ip-range', 'fd00::/108'], message: 'IPv6 ranges are not supported' },
    { argv: ['--service-node-port-range', '32767-30000'], message: '--service-node-port-range' },
    { argv: ['--v', 'loud'], message: '--v' },
    { argv: ['--grpc-port', 'x'], message: '--grpc-port: "x" is not a port number' },
    { argv: ['--event-ttl', '1d'], message: '--event-ttl: "1d" is not a duration' },
    { argv: ['--default-unreachable-toleration-seconds', '-1'], message: '--default-unreachable-toleration-seconds' },
    { argv: ['--no-such-flag'], message: "unknown option '--no-such-flag'" },
    { argv: ['--cert-dir'], message: "option '--cert-dir <dir>' argument missing" },
    { argv: ['stray'], message: 'too many arguments' },
    { argv: ['--kubelet-client-certificate', '/tmp/kc.crt'], message: '--kubelet-client-certificate and --kubelet-client-key go together' },
  ])('$argv is a ConfigError mentioning $message', ({ argv, message }) => {
    expect(() => parseArguments(argv)).toThrow(ConfigError);
    expect(() => parseArguments(argv)).toThrow(message);
  });

  test('--help returns the usage text instead of exiting', () => {
    const result = parseArguments(['--help']);
    expect(result.kind).toBe('help');
    expect(result.kind === 'help' && result.text).toContain('--service-cluster-ip-range <cidr>');
  });
});

describe('ranges', () => {
  test.each([
    { cidr: '10.96.0.0/12', firstIp: '10.96.0.1' },
    { cidr: '10.111.22.33/12', firstIp: '10.96.0.1' },
    { cidr: '192.168.4.0/30', firstIp: '192.168.4.1' },
  ])('service range $cidr starts at $firstIp', ({ cidr, firstIp }) => {
    expect(parseServiceIpRange(cidr).firstIp).toBe(firstIp);
  });

  test('a single port is a range of one', () => {
    expect(parsePortRange('30080')).toEqual({ min: 30080, max: 30080 });
  });
});
