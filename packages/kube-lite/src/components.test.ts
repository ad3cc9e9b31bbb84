import { planLayout, possibleWorkerNames, wantsPort53ClusterDns, type ClusterLayout } from './cluster/layout';
import { clusterComponents, resolveArguments, type ComponentDefinition } from './components';

const layout: ClusterLayout = planLayout({ dataDir: '/data', workers: 3, runtime: 'process', ingressPort: 8080 });

function byName(name: string, target: ClusterLayout = layout): ComponentDefinition {
  const definition = clusterComponents(target).find((candidate) => candidate.name === name);
  if (definition === undefined) throw new Error(`no component ${name}`);
  return definition;
}

function flagValue(definition: ComponentDefinition, flag: string): string | undefined {
  return definition.args.find((argument) => argument.flag === flag)?.value;
}

describe('component table', () => {
  it('starts 3 etcd members, the control plane and a kubelet and kube-proxy per worker, in that order', () => {
    expect(clusterComponents(layout).map((definition) => `${definition.group}/${definition.name}`)).toEqual([
      'etcd/etcd-1',
      'etcd/etcd-2',
      'etcd/etcd-3',
      'apiserver/kube-apiserver',
      'control-plane/kube-scheduler',
      'control-plane/kube-controller-manager',
      'control-plane/kube-proxy-ingress',
      'node:worker-1/kubelet-worker-1',
      'node:worker-1/kube-proxy-worker-1',
      'node:worker-2/kubelet-worker-2',
      'node:worker-2/kube-proxy-worker-2',
      'node:worker-3/kubelet-worker-3',
      'node:worker-3/kube-proxy-worker-3',
    ]);
  });

  it.each([
    { name: 'etcd-1', flag: '--initial-cluster', value: 'etcd-1=http://127.0.0.1:2380,etcd-2=http://127.0.0.1:12380,etcd-3=http://127.0.0.1:22380' },
    { name: 'etcd-2', flag: '--listen-client-urls', value: 'http://127.0.0.1:12379' },
    { name: 'etcd-3', flag: '--data-dir', value: '/data/etcd-3' },
    { name: 'etcd-3', flag: '--listen-metrics-urls', value: 'http://127.0.0.1:22381' },
    { name: 'kube-apiserver', flag: '--etcd-servers', value: 'http://127.0.0.1:2379,http://127.0.0.1:12379,http://127.0.0.1:22379' },
    { name: 'kube-apiserver', flag: '--token-auth-file', value: '/data/auth/tokens.csv' },
    { name: 'kube-apiserver', flag: '--cert-dir', value: '/data/pki' },
    { name: 'kube-apiserver', flag: '--default-not-ready-toleration-seconds', value: '5' },
    { name: 'kube-scheduler', flag: '--master', value: '127.0.0.1:6444' },
    { name: 'kube-controller-manager', flag: '--node-monitor-grace-period', value: '10s' },
    { name: 'kubelet-worker-2', flag: '--node-ip', value: '127.0.1.2' },
    { name: 'kubelet-worker-2', flag: '--port', value: '10260' },
    { name: 'kubelet-worker-2', flag: '--pod-ip-block', value: '127.2.0.0/16' },
    { name: 'kubelet-worker-2', flag: '--root-dir', value: '/data/nodes/worker-2' },
    { name: 'kubelet-worker-2', flag: '--kubeconfig', value: '/data/auth/kubelet-worker-2.kubeconfig' },
    { name: 'kubelet-worker-3', flag: '--hostname-override', value: 'worker-3' },
    { name: 'kube-proxy-worker-3', flag: '--ingress-address', value: '127.0.1.3:8080' },
    { name: 'kube-proxy-worker-3', flag: '--cluster-dns-address', value: '127.0.1.3:10053' },
    { name: 'kube-proxy-worker-3', flag: '--metrics-bind-address', value: '127.0.1.3:10249' },
    { name: 'kube-apiserver', flag: '--service-cluster-ip-range', value: '10.96.0.0/12' },
    { name: 'kube-proxy-ingress', flag: '--ingress-address', value: '127.0.0.1:8080' },
    { name: 'kube-proxy-ingress', flag: '--bind-address', value: '127.0.0.1' },
    { name: 'kube-proxy-ingress', flag: '--healthz-bind-address', value: '127.0.0.1:10256' },
    { name: 'kube-proxy-ingress', flag: '--cluster-dns-address', value: 'none' },
    { name: 'kube-apiserver', flag: '--encryption-provider-config', value: '/data/auth/encryption-config.yaml' },
    { name: 'kube-controller-manager', flag: '--local-path-root', value: '/data/local-path' },
    { name: 'kube-controller-manager', flag: '--horizontal-pod-autoscaler-sync-period', value: '5s' },
    { name: 'kube-controller-manager', flag: '--horizontal-pod-autoscaler-downscale-stabilization', value: '30s' },
  ])('$name gets $flag $value', ({ name, flag, value }) => {
    expect(flagValue(byName(name), flag)).toBe(value);
  });

  it('gives every node its own IP, kubelet port, pod block and root dir', () => {
    const big = planLayout({ dataDir: '/data', workers: 20, runtime: 'process', ingressPort: 8080 });
    for (const key of ['nodeIp', 'kubeletPort', 'podIpBlock', 'rootDir'] as const) {
      expect(new Set(big.workers.map((worker) => worker[key])).size).toBe(20);
    }
    const taken = [...big.etcd.flatMap((m) => [m.clientUrl, m.peerUrl, m.metricsUrl].map((url) => Number(url.split(':')[2]))), 6443, 6444, 10252, 10256];
    for (const worker of big.workers) expect(taken).not.toContain(worker.kubeletPort);
  });

  it('keeps the ingress on 127.0.0.1 out of every node: stop-node never touches it', () => {
    const ingress = byName('kube-proxy-ingress');
    expect(ingress.group).toBe('control-plane');
    // Required, not optional: a cluster without its ingress must not start silently.
    expect(ingress.args.find((argument) => argument.flag === '--ingress-address')?.optional).toBeUndefined();
    expect(ingress.endpoints.ingress).toBe('127.0.0.1:8080');
  });

  it('moves every port but the ingress port by --port-offset, and every address by --subnet', () => {
    const shifted = planLayout({ dataDir: '/data', workers: 3, runtime: 'process', ingressPort: 9080, portOffset: 1000, subnet: 2 });
    const ports = (target: ClusterLayout): number[] =>
      clusterComponents(target).flatMap((definition) => Object.values(definition.endpoints).map((endpoint) => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1))));
    const basePorts = ports(layout).filter((port) => port !== 8080);
    expect(ports(shifted).filter((port) => port !== 9080)).toEqual(basePorts.map((port) => port + 1000));
    expect(byName('kube-apiserver', shifted).endpoints.https).toBe('127.0.0.1:7443');
    expect(flagValue(byName('kube-scheduler', shifted), '--master')).toBe('127.0.0.1:7444');
    expect(flagValue(byName('kube-apiserver', shifted), '--service-cluster-ip-range')).toBe('10.112.0.0/12');
    expect(flagValue(byName('kubelet-worker-2', shifted), '--node-ip')).toBe('127.0.2.2');
    expect(flagValue(byName('kubelet-worker-2', shifted), '--pod-ip-block')).toBe('127.52.0.0/16');
    expect(flagValue(byName('kube-proxy-ingress', shifted), '--ingress-address')).toBe('127.0.0.1:9080');
    // Two such clusters share no listening address.
    const endpoints = (target: ClusterLayout): string[] => clusterComponents(target).flatMap((definition) => Object.values(definition.endpoints));
    expect(endpoints(shifted).filter((endpoint) => endpoints(layout).includes(endpoint))).toEqual([]);
  });

  it.each([
    [{ portOffset: -1 }, /--port-offset must be a whole number from 0 to 43154/],
    [{ portOffset: 50_000 }, /--port-offset must be a whole number/],
    [{ subnet: 4 }, /--subnet must be a whole number from 1 to 3/],
    [{ subnet: 2, workers: 46 }, /--subnet 2 leaves room for 45 workers \(pod blocks 127.51-127.95\)/],
  ])('refuses %j', (options, message) => {
    expect(() => planLayout({ dataDir: '/data', workers: 3, runtime: 'process', ingressPort: 8080, ...options })).toThrow(message);
  });

  it('asks for the docker runtime with a required flag, the process runtime with an optional one', () => {
    const docker = planLayout({ dataDir: '/data', workers: 1, runtime: 'docker', ingressPort: 8080 });
    expect(byName('kubelet-worker-1', docker).args.find((a) => a.flag === '--container-runtime')).toEqual({ flag: '--container-runtime', value: 'docker', optional: false });
    expect(byName('kubelet-worker-1').args.find((a) => a.flag === '--container-runtime')?.optional).toBe(true);
  });

  it('points process-runtime pods at their node\'s DNS, on port 53 when up runs as root (not moved by the offset)', () => {
    const root = planLayout({ dataDir: '/data', workers: 2, runtime: 'process', ingressPort: 8080, portOffset: 1000, subnet: 2, clusterDnsOnPort53: true });
    expect(flagValue(byName('kubelet-worker-2', root), '--cluster-dns')).toBe('127.0.2.2');
    expect(flagValue(byName('kube-proxy-worker-2', root), '--cluster-dns-address')).toBe('127.0.2.2:53');
    expect(byName('kube-proxy-worker-2', root).endpoints.dns).toBe('127.0.2.2:53');
    expect(flagValue(byName('kube-proxy-worker-2', root), '--dns-upstream')).toBe('resolv.conf');
    // Not root: the same nameserver (pods get its search list in env, and a warning), the DNS on the high port.
    expect(flagValue(byName('kubelet-worker-2'), '--cluster-dns')).toBe('127.0.1.2');
    expect(flagValue(byName('kube-proxy-worker-2'), '--cluster-dns-address')).toBe('127.0.1.2:10053');
    // Docker-runtime pods have a network of their own: the node IP is no nameserver of theirs.
    const docker = planLayout({ dataDir: '/data', workers: 1, runtime: 'docker', ingressPort: 8080 });
    expect(flagValue(byName('kubelet-worker-1', docker), '--cluster-dns')).toBeUndefined();
  });

  it.each([
    { runtime: 'process' as const, platform: 'linux' as const, uid: 0, port53: true },
    { runtime: 'process' as const, platform: 'linux' as const, uid: 1000, port53: false },
    { runtime: 'process' as const, platform: 'darwin' as const, uid: 0, port53: false },
    { runtime: 'docker' as const, platform: 'linux' as const, uid: 0, port53: false },
  ])('puts the cluster DNS on port 53 for $runtime on $platform as uid $uid: $port53', ({ runtime, platform, uid, port53 }) => {
    expect(wantsPort53ClusterDns(runtime, platform, uid)).toBe(port53);
  });

  it('keeps the pod blocks and service-range images of the three subnets apart', () => {
    const octets = (subnet: number): number[] => {
      const big = planLayout({ dataDir: '/data', workers: possibleWorkerNames(subnet).length, runtime: 'process', ingressPort: 8080, subnet });
      return big.workers.map((worker) => Number(worker.podIpBlock.split('.')[1]));
    };
    const blocks = [1, 2, 3].map(octets);
    expect(blocks.map((list) => [list[0], list.at(-1)])).toEqual([
      [1, 50],
      [51, 95],
      [145, 194],
    ]);
    const serviceImages = [1, 2, 3].flatMap((subnet) => {
      const first = Number(planLayout({ dataDir: '/data', workers: 1, runtime: 'process', ingressPort: 8080, subnet }).apiserver.serviceClusterIpRange.split('.')[1]);
      return Array.from({ length: 16 }, (_, i) => first + i);
    });
    expect(serviceImages.at(-1)).toBe(143);
    const all = blocks.flat();
    expect(new Set(all).size).toBe(all.length);
    expect(all.filter((block) => serviceImages.includes(block))).toEqual([]);
  });

  it('gives a node added later the same flags as the first ones, with its own addresses', () => {
    const grown = planLayout({ dataDir: '/data', workers: 4, runtime: 'process', ingressPort: 8080 });
    const [first, added] = [byName('kubelet-worker-1', grown), byName('kubelet-worker-4', grown)];
    expect(added.args.map((argument) => argument.flag)).toEqual(first.args.map((argument) => argument.flag));
    expect(flagValue(added, '--node-ip')).toBe('127.0.1.4');
    expect(flagValue(added, '--port')).toBe('10280');
    expect(added.group).toBe('node:worker-4');
    // The first three are unchanged by the fourth.
    for (const name of ['kubelet-worker-3', 'kube-proxy-worker-3']) expect(byName(name, grown)).toEqual(byName(name));
  });

  it.each([
    { subnet: 1, count: 50, last: 'worker-50' },
    { subnet: 2, count: 45, last: 'worker-45' },
    { subnet: 3, count: 50, last: 'worker-50' },
  ])('reserves node names up to the room of subnet $subnet', ({ subnet, count, last }) => {
    const names = possibleWorkerNames(subnet);
    expect(names).toHaveLength(count);
    expect(names[0]).toBe('worker-1');
    expect(names.at(-1)).toBe(last);
    expect(() => planLayout({ dataDir: '/data', workers: count, runtime: 'process', ingressPort: 8080, subnet })).not.toThrow();
  });

  it.each([{ workers: 0 }, { workers: 51 }, { workers: 1.5 }])('refuses --workers $workers', ({ workers }) => {
    expect(() => planLayout({ dataDir: '/data', workers, runtime: 'process', ingressPort: 8080 })).toThrow(/--workers must be a whole number from 1 to 50/);
  });
});

describe('resolveArguments', () => {
  const apiserver = byName('kube-apiserver');
  const proxy = byName('kube-proxy-worker-1');

  it('passes every flag when the help could not be read', () => {
    const resolved = resolveArguments(apiserver, undefined);
    expect(resolved.args).toContain('--grpc-port');
    expect(resolved.dropped).toEqual([]);
    expect(resolved.unsupported).toEqual([]);
  });

  it('drops optional flags the binary does not list and names required ones', () => {
    const accepted = new Set(['--etcd-servers', '--secure-port', '--bind-address', '--advertise-address', '--service-cluster-ip-range', '--cert-dir']);
    const resolved = resolveArguments(apiserver, accepted);
    expect(resolved.dropped).toEqual(['--grpc-port', '--default-not-ready-toleration-seconds', '--default-unreachable-toleration-seconds', '--encryption-provider-config']);
    expect(resolved.unsupported).toEqual(['--service-node-port-range', '--token-auth-file']);
    expect(resolved.args).not.toContain('--grpc-port');
    expect(resolved.args.slice(0, 2)).toEqual(['--etcd-servers', 'http://127.0.0.1:2379,http://127.0.0.1:12379,http://127.0.0.1:22379']);
  });

  it.each([
    { accepted: ['--kubeconfig', '--master', '--hostname-override', '--bind-address', '--healthz-bind-address'], readiness: 'http' },
    { accepted: ['--kubeconfig', '--master', '--hostname-override', '--bind-address'], readiness: 'settle' },
  ])('probes kube-proxy by $readiness when it accepts $accepted', ({ accepted, readiness }) => {
    expect(resolveArguments(proxy, new Set(accepted)).readiness.kind).toBe(readiness);
  });
});
