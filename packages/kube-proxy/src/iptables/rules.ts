// The kernel proxy mode's rules, generated from the forwarding table as one
// iptables-restore document, in upstream's chain layout:
//   nat   KUBE-SERVICES   ClusterIP:port  -> KUBE-SVC-<hash>   (then -> KUBE-NODEPORTS for local addresses)
//         KUBE-NODEPORTS  :nodePort       -> KUBE-EXT-<hash> -> mark for SNAT -> KUBE-SVC-<hash>
//         KUBE-SVC-<hash> ClientIP affinity (-m recent), then -m statistic random to each
//                         KUBE-SEP-<hash> (probability 1/n, 1/(n-1), ... so each endpoint gets 1/n)
//         KUBE-SEP-<hash> hairpin mark, DNAT to ip:port
//         KUBE-POSTROUTING MASQUERADE what was marked
//   filter KUBE-SERVICES   REJECT ClusterIP:port of Services without endpoints
// Pure text; the runner applies it with `iptables-restore --noflush`, which
// replaces our chains wholesale (declaring a chain flushes it) and leaves
// everyone else's rules alone. Chains of the previous sync that are no longer
// wanted are deleted in the same transaction.
import { createHash } from 'node:crypto';
import type { ServicePortEntry, ServiceTable } from '../core/service-table';

export const MASQUERADE_MARK = '0x4000';

/** The jumps from the built-in chains into ours, as `iptables -t <table> -C/-I <chain> ...` arguments. */
export const JUMP_RULES: readonly { table: 'nat' | 'filter'; chain: string; args: string[] }[] = [
  { table: 'nat', chain: 'PREROUTING', args: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'OUTPUT', args: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'nat', chain: 'POSTROUTING', args: ['-m', 'comment', '--comment', 'kubernetes postrouting rules', '-j', 'KUBE-POSTROUTING'] },
  { table: 'filter', chain: 'INPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'filter', chain: 'OUTPUT', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
  { table: 'filter', chain: 'FORWARD', args: ['-m', 'conntrack', '--ctstate', 'NEW', '-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'] },
];

const BASE_NAT_CHAINS = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ'];

/** Upstream's naming: a prefix and 16 base32 characters of a SHA-256 (chain names are limited to 28 characters). */
export function chainName(prefix: 'KUBE-SVC-' | 'KUBE-SEP-' | 'KUBE-EXT-', key: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const digest = createHash('sha256').update(key).digest();
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= 16) break;
  }
  return prefix + out;
}

function quote(text: string): string {
  return `"${text.replace(/"/g, '')}"`;
}

export interface IptablesRules {
  /** The iptables-restore input (nat and filter tables). */
  restoreText: string;
  /** Every per-service chain of the nat table in this generation, to delete once unused. */
  serviceChains: string[];
}

export interface RulesOptions {
  /** Per-service chains the previous sync created; those not wanted now are deleted. */
  previousServiceChains?: readonly string[];
}

function protocolMatch(entry: ServicePortEntry): string {
  const protocol = entry.protocol.toLowerCase();
  return `-m ${protocol} -p ${protocol}`;
}

export function buildIptablesRules(table: ServiceTable, options: RulesOptions = {}): IptablesRules {
  const chains: string[] = [];
  const nat: string[] = [];
  const filter: string[] = [];
  nat.push(`-A KUBE-POSTROUTING -m mark ! --mark ${MASQUERADE_MARK}/${MASQUERADE_MARK} -j RETURN`);
  nat.push(`-A KUBE-POSTROUTING -j MARK --xor-mark ${MASQUERADE_MARK}`);
  nat.push(`-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE`);
  nat.push(`-A KUBE-MARK-MASQ -j MARK --or-mark ${MASQUERADE_MARK}`);
  const entries = [...table.values()].filter((entry) => entry.protocol !== 'SCTP').sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const nodePortRules: string[] = [];
  for (const entry of entries) {
    if (entry.clusterIP === undefined) continue;
    const chainKey = `${entry.key}/${entry.protocol}`;
    const comment = quote(`${entry.key}`);
    const svcChain = chainName('KUBE-SVC-', chainKey);
    const match = protocolMatch(entry);
    if (entry.clusterEndpoints.length === 0) {
      filter.push(`-A KUBE-SERVICES -m comment --comment ${quote(`${entry.key} has no endpoints`)} ${match} -d ${entry.clusterIP}/32 --dport ${entry.port} -j REJECT`);
    } else {
      chains.push(svcChain);
      nat.push(`-A KUBE-SERVICES -m comment --comment ${quote(`${entry.key} cluster IP`)} ${match} -d ${entry.clusterIP}/32 --dport ${entry.port} -j ${svcChain}`);
      const endpoints = entry.clusterEndpoints;
      const sepChains = endpoints.map((endpoint) => chainName('KUBE-SEP-', `${chainKey}/${endpoint.ip}:${endpoint.port}`));
      if (entry.affinityTimeoutSeconds !== undefined) {
        sepChains.forEach((sep) => nat.push(`-A ${svcChain} -m comment --comment ${comment} -m recent --name ${sep} --mask 255.255.255.255 --rsource --rcheck --seconds ${entry.affinityTimeoutSeconds} --reap -j ${sep}`));
      }
      endpoints.forEach((endpoint, index) => {
        const sep = sepChains[index] as string;
        const remaining = endpoints.length - index;
        const statistic = remaining > 1 ? ` -m statistic --mode random --probability ${(1 / remaining).toFixed(10)}` : '';
        nat.push(`-A ${svcChain} -m comment --comment ${quote(`${entry.key} -> ${endpoint.ip}:${endpoint.port}`)}${statistic} -j ${sep}`);
        chains.push(sep);
        nat.push(`-A ${sep} -m comment --comment ${comment} -s ${endpoint.ip}/32 -j KUBE-MARK-MASQ`);
        const recent = entry.affinityTimeoutSeconds !== undefined ? ` -m recent --name ${sep} --mask 255.255.255.255 --rsource --set` : '';
        nat.push(`-A ${sep} -m comment --comment ${comment}${recent} ${match} -j DNAT --to-destination ${endpoint.ip}:${endpoint.port}`);
      });
    }
    if (entry.nodePort !== undefined) {
      if (entry.externalEndpoints.length === 0 || entry.clusterEndpoints.length === 0) {
        filter.push(`-A KUBE-SERVICES -m comment --comment ${quote(`${entry.key} has no endpoints`)} -m addrtype --dst-type LOCAL ${match} --dport ${entry.nodePort} -j REJECT`);
        continue;
      }
      const extChain = chainName('KUBE-EXT-', chainKey);
      chains.push(extChain);
      // NodePort traffic is masqueraded so replies come back through this node.
      nodePortRules.push(`-A KUBE-NODEPORTS -m comment --comment ${comment} ${match} --dport ${entry.nodePort} -j ${extChain}`);
      nodePortRules.push(`-A ${extChain} -m comment --comment "masquerade traffic for ${entry.key.replace(/"/g, '')} external destinations" -j KUBE-MARK-MASQ`);
      nodePortRules.push(`-A ${extChain} -j ${svcChain}`);
    }
  }
  nat.push(...nodePortRules);
  // Last: anything addressed to this node may be a NodePort.
  nat.push(`-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS`);
  const wanted = new Set(chains);
  const stale = [...new Set(options.previousServiceChains ?? [])].filter((chain) => !wanted.has(chain)).sort();
  const lines = ['*filter', ':KUBE-SERVICES - [0:0]', ...filter, 'COMMIT', '*nat', ...BASE_NAT_CHAINS.map((chain) => `:${chain} - [0:0]`), ...[...wanted].map((chain) => `:${chain} - [0:0]`)];
  // Declaring a stale chain flushes it, so nothing references it when it is deleted.
  for (const chain of stale) lines.push(`:${chain} - [0:0]`);
  lines.push(...nat);
  for (const chain of stale) lines.push(`-X ${chain}`);
  lines.push('COMMIT', '');
  return { restoreText: lines.join('\n'), serviceChains: [...wanted] };
}
