// The resolver files a pod gets, as text, and the environment that carries the
// same search list to processes that cannot be given a file of their own.
// Pure: the process runtime writes the text to the pod's directory and binds
// it over /etc/resolv.conf and /etc/hosts inside the pod's mount namespace.
//
// LOCALDOMAIN and RES_OPTIONS are read by glibc's resolver (res_init) and by
// c-ares (Node's dns.resolve*): LOCALDOMAIN replaces the search list of
// /etc/resolv.conf, RES_OPTIONS adds options such as ndots:5. Neither can
// name a nameserver: that needs the file.
import type { DnsConfig, PodHostsConfig } from './runtime';

/** The resolv.conf of `dns`: nameserver lines, then search and options (each left out when empty). */
export function resolvConfText(dns: DnsConfig): string {
  const lines = dns.servers.map((server) => `nameserver ${server}`);
  if (dns.searches.length > 0) lines.push(`search ${dns.searches.join(' ')}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The kubelet-managed /etc/hosts of a pod, in upstream's layout: a header,
 * the localhost and IPv6 lines, the pod IP with its fully qualified name (when
 * it has one) and hostname, then spec.hostAliases under a header of their own.
 */
export function hostsFileText(podIP: string, hostname: string, hosts: PodHostsConfig): string {
  const lines = [
    '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
  ];
  const names = [hosts.fullyQualifiedName, hostname].filter((name): name is string => name !== undefined && name !== '');
  if (podIP !== '' && names.length > 0) lines.push(`${podIP}\t${names.join('\t')}`);
  const aliases = hosts.hostAliases.filter((alias) => alias.ip !== '' && alias.hostnames.length > 0);
  if (aliases.length > 0) {
    lines.push('', '# Entries added by HostAliases.');
    for (const alias of aliases) lines.push(`${alias.ip}\t${alias.hostnames.join('\t')}`);
  }
  return `${lines.join('\n')}\n`;
}

/** LOCALDOMAIN (the search list) and RES_OPTIONS (the options) for `dns`; a variable is left out when its list is empty. */
export function resolverEnvironment(dns: DnsConfig | undefined): Record<string, string> {
  const environment: Record<string, string> = {};
  if (dns === undefined) return environment;
  if (dns.searches.length > 0) environment.LOCALDOMAIN = dns.searches.join(' ');
  if (dns.options.length > 0) environment.RES_OPTIONS = dns.options.join(' ');
  return environment;
}
