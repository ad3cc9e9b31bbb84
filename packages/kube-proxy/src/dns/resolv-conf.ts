// /etc/resolv.conf both ways: reading the host's upstream resolver (for
// forwarding names outside the cluster domain), and writing the file a
// container gets under the docker runtime. Search-domain expansion is the
// client's job; these lines make a pod's resolver try
// <name>.<ns>.svc.<domain> first, as upstream's kubelet writes them.

/** The first nameserver of a resolv.conf text, as "ip:53"; undefined when none. */
export function upstreamFromResolvConf(text: string): string | undefined {
  for (const line of text.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    if (match?.[1]) return match[1].includes(':') ? `[${match[1]}]:53` : `${match[1]}:53`;
  }
  return undefined;
}

/** The resolv.conf of a pod in `namespace` using the cluster DNS at `nameserver` (an IP; port 53 is implied by the format). */
export function podResolvConf(nameserver: string, namespace: string, clusterDomain = 'cluster.local'): string {
  return [`nameserver ${nameserver}`, `search ${namespace}.svc.${clusterDomain} svc.${clusterDomain} ${clusterDomain}`, 'options ndots:5', ''].join('\n');
}
