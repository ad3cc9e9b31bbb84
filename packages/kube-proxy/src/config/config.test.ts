import { FlagError, parseDurationMs, parseFlags, resolveNodePortAddresses, type KubeProxyFlags } from './flags';

const environment = { hostname: () => 'host-1', localAddresses: () => ['127.0.0.1', '192.168.1.10'], readFile: () => 'nameserver 10.0.0.2\n' };

describe('parseFlags', () => {
  test('defaults', () => {
    expect(parseFlags([], environment)).toMatchObject<Partial<KubeProxyFlags>>({
      nodeName: 'host-1',
      bindAddress: '0.0.0.0',
      nodePortAddresses: ['0.0.0.0'],
      mode: 'userspace',
      serviceAddressMapping: 'loopback',
      clusterDomain: 'cluster.local',
      dns: { host: '127.0.0.1', port: 10053 },
      dnsUpstream: undefined,
      ingress: undefined,
      healthz: { host: '0.0.0.0', port: 10256 },
      metrics: { host: '127.0.0.1', port: 10249 },
      syncPeriodMs: 30_000,
      udpIdleTimeoutMs: 10_000,
      insecure: false,
    });
  });

  test('a local-cluster node', () => {
    const flags = parseFlags(
      ['--master', '127.0.0.1:6443', '--insecure', '--hostname-override', 'node-2', '--bind-address', '127.0.1.2', '--ingress-address', '127.0.0.1:8080', '--dns-upstream', 'resolv.conf', '--udp-timeout', '250ms', '--cluster-domain', 'kube.lite.'],
      environment,
    );
    expect(flags).toMatchObject<Partial<KubeProxyFlags>>({
      master: '127.0.0.1:6443',
      insecure: true,
      nodeName: 'node-2',
      nodePortAddresses: ['127.0.1.2'],
      dns: { host: '127.0.1.2', port: 10053 },
      dnsUpstream: '10.0.0.2:53',
      ingress: { host: '127.0.0.1', port: 8080 },
      healthz: { host: '127.0.1.2', port: 10256 },
      metrics: { host: '127.0.1.2', port: 10249 },
      udpIdleTimeoutMs: 250,
      clusterDomain: 'kube.lite',
    });
  });

  test('a compose worker in kernel mode', () => {
    const flags = parseFlags(['--kubeconfig', '/etc/kube/proxy.conf', '--proxy-mode', 'iptables', '--cluster-dns-address', '0.0.0.0:53', '--dns-upstream', '10.0.0.3', '--nodeport-addresses', '192.168.0.0/16'], environment);
    expect(flags).toMatchObject<Partial<KubeProxyFlags>>({ mode: 'iptables', serviceAddressMapping: 'cluster-ip', dns: { host: '0.0.0.0', port: 53 }, dnsUpstream: '10.0.0.3:53', nodePortAddresses: ['192.168.1.10'] });
  });

  test.each([
    [['--proxy-mode', 'ipvs'], /--proxy-mode.*ipvs/],
    [['--bind-address', 'localhost'], 'invalid value "localhost" for --bind-address: use an IPv4 address'],
    [['--ingress-address', 'x:y'], 'invalid address "x:y" for --ingress-address'],
    [['--udp-timeout', '10'], 'invalid duration "10" for --udp-timeout'],
    [['--log-level', 'loud'], 'invalid value "loud" for --log-level'],
    [['--max-connections', '0'], 'invalid value "0" for --max-connections'],
    [['--nodeport-addresses', '10.0.0.0/99'], 'invalid value "10.0.0.0/99" in --nodeport-addresses'],
    [['--no-such-flag'], /unknown option '--no-such-flag'/],
  ])('%p is rejected', (argv, message) => {
    expect(() => parseFlags(argv, environment)).toThrow(FlagError);
    expect(() => parseFlags(argv, environment)).toThrow(message);
  });

  test.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
  ])('duration %p = %p ms', (text, ms) => {
    expect(parseDurationMs('--x', text)).toBe(ms);
  });

  test('NodePort addresses: IPs as given, CIDRs resolved to local addresses', () => {
    expect(resolveNodePortAddresses(['127.0.1.3', '127.0.0.0/8'], '127.0.1.3', () => ['127.0.0.1', '10.1.1.1'])).toEqual(['127.0.1.3', '127.0.0.1']);
  });
});
