import { hostsFileText, resolvConfText, resolverEnvironment } from './pod-files';
import type { DnsConfig, PodHostsConfig } from './runtime';

const clusterFirst: DnsConfig = { servers: ['127.0.1.1'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };

describe('resolvConfText', () => {
  const cases: { name: string; dns: DnsConfig; text: string }[] = [
    {
      name: 'ClusterFirst: the node IP as nameserver, the namespace search list, ndots:5',
      dns: clusterFirst,
      text: 'nameserver 127.0.1.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    },
    {
      name: 'several nameservers, several options',
      dns: { servers: ['10.96.0.10', '1.1.1.1'], searches: ['a.example'], options: ['ndots:2', 'edns0'] },
      text: 'nameserver 10.96.0.10\nnameserver 1.1.1.1\nsearch a.example\noptions ndots:2 edns0\n',
    },
    { name: 'None with nameservers only: no search or options line', dns: { servers: ['9.9.9.9'], searches: [], options: [] }, text: 'nameserver 9.9.9.9\n' },
    { name: 'searches only: no nameserver line (the resolver then asks 127.0.0.1)', dns: { servers: [], searches: ['corp.example'], options: [] }, text: 'search corp.example\n' },
  ];
  it.each(cases)('$name', ({ dns, text }) => {
    expect(resolvConfText(dns)).toBe(text);
  });
});

describe('hostsFileText', () => {
  const header = '# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n';
  const cases: { name: string; ip: string; hostname: string; hosts: PodHostsConfig; text: string }[] = [
    { name: 'the pod IP with its hostname', ip: '127.1.0.7', hostname: 'web-1', hosts: { hostAliases: [] }, text: `${header}127.1.0.7\tweb-1\n` },
    {
      name: 'a pod with a subdomain: the fully qualified name first',
      ip: '127.1.0.8',
      hostname: 'db-0',
      hosts: { fullyQualifiedName: 'db-0.db.shop.svc.cluster.local', hostAliases: [] },
      text: `${header}127.1.0.8\tdb-0.db.shop.svc.cluster.local\tdb-0\n`,
    },
    {
      name: 'hostAliases under their own header; empty ones left out',
      ip: '127.1.0.9',
      hostname: 'web-2',
      hosts: { hostAliases: [{ ip: '10.1.2.3', hostnames: ['foo.local', 'bar.local'] }, { ip: '10.1.2.4', hostnames: [] }] },
      text: `${header}127.1.0.9\tweb-2\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.local\tbar.local\n`,
    },
    { name: 'no hostname: no line for the pod', ip: '127.1.0.10', hostname: '', hosts: { hostAliases: [] }, text: header },
  ];
  it.each(cases)('$name', ({ ip, hostname, hosts, text }) => {
    expect(hostsFileText(ip, hostname, hosts)).toBe(text);
  });
});

describe('resolverEnvironment', () => {
  const cases: { name: string; dns: DnsConfig | undefined; environment: Record<string, string> }[] = [
    { name: 'ClusterFirst: LOCALDOMAIN is the search list, RES_OPTIONS the options', dns: clusterFirst, environment: { LOCALDOMAIN: 'shop.svc.cluster.local svc.cluster.local cluster.local', RES_OPTIONS: 'ndots:5' } },
    { name: 'no settings (Default policy): nothing', dns: undefined, environment: {} },
    { name: 'nameservers only: nothing env can carry', dns: { servers: ['9.9.9.9'], searches: [], options: [] }, environment: {} },
    { name: 'options without searches', dns: { servers: [], searches: [], options: ['ndots:2', 'edns0'] }, environment: { RES_OPTIONS: 'ndots:2 edns0' } },
  ];
  it.each(cases)('$name', ({ dns, environment }) => {
    expect(resolverEnvironment(dns)).toEqual(environment);
  });
});
