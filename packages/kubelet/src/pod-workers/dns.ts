// A pod's resolv.conf as upstream's kubelet computes it from dnsPolicy,
// dnsConfig and the kubelet's --cluster-dns / --cluster-domain:
// - ClusterFirst (the default; ClusterFirstWithHostNet too): the cluster DNS
//   servers, searches "<ns>.svc.<domain> svc.<domain> <domain>", ndots:5.
//   Without --cluster-dns it falls back to Default, with a MissingClusterDNS
//   event. A hostNetwork pod with ClusterFirst uses Default, as upstream.
// - Default: the node's resolver (the runtime's default), plus dnsConfig.
// - None: dnsConfig alone.
// dnsConfig's nameservers and searches are appended (duplicates dropped) and
// its options override options of the same name. Upstream's limits apply
// (3 nameservers, 32 search domains of 2048 characters in all), with a
// DNSConfigForming event when something was cut.
// The node's own search domains (upstream appends those of --resolv-conf)
// are not added.
import type { Pod } from '@kube-lite/api';
import type { DnsConfig, PodHostsConfig } from '../runtime/runtime';

export interface ClusterDnsSettings {
  /** --cluster-dns: the IPs of the cluster DNS servers; empty: ClusterFirst pods fall back to Default. */
  servers: string[];
  /** --cluster-domain: the cluster's DNS domain (cluster.local). */
  domain: string;
}

export const DEFAULT_CLUSTER_DOMAIN = 'cluster.local';
const MAX_NAMESERVERS = 3;
const MAX_SEARCH_DOMAINS = 32;
const MAX_SEARCH_LINE_CHARACTERS = 2048;

export interface PodDnsOutcome {
  /** The pod's resolver settings; undefined: the runtime's default (the node's). */
  config: DnsConfig | undefined;
  /** Events for the pod (MissingClusterDNS, DNSConfigForming), as upstream records them. */
  warnings: { reason: string; message: string }[];
}

function withoutDuplicates(values: string[]): string[] {
  return values.filter((value, index) => value !== '' && values.indexOf(value) === index);
}

function optionName(option: string): string {
  return option.split(':')[0] ?? option;
}

function mergeOptions(existing: string[], extra: { name?: string; value?: string }[] | undefined): string[] {
  const merged = new Map(existing.map((option) => [optionName(option), option]));
  for (const option of extra ?? []) {
    if (!option.name) continue;
    merged.set(option.name, option.value === undefined ? option.name : `${option.name}:${option.value}`);
  }
  return [...merged.values()];
}

function fitSearches(searches: string[]): string[] {
  const kept: string[] = [];
  let characters = 0;
  for (const search of searches) {
    if (kept.length >= MAX_SEARCH_DOMAINS || characters + search.length + (kept.length > 0 ? 1 : 0) > MAX_SEARCH_LINE_CHARACTERS) break;
    characters += search.length + (kept.length > 0 ? 1 : 0);
    kept.push(search);
  }
  return kept;
}

type DnsType = 'cluster' | 'host' | 'none';

function dnsType(pod: Pod): DnsType {
  const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
  if (policy === 'None') return 'none';
  if (policy === 'ClusterFirstWithHostNet') return 'cluster';
  if (policy === 'ClusterFirst') return pod.spec?.hostNetwork ? 'host' : 'cluster';
  return 'host';
}

/** The pod's resolv.conf, and the events to record about it. */
export function podDnsConfig(pod: Pod, settings: ClusterDnsSettings): PodDnsOutcome {
  const warnings: PodDnsOutcome['warnings'] = [];
  let type = dnsType(pod);
  if (type === 'cluster' && settings.servers.length === 0) {
    const policy = pod.spec?.dnsPolicy ?? 'ClusterFirst';
    const podName = `${pod.metadata?.name ?? ''}_${pod.metadata?.namespace ?? 'default'}(${pod.metadata?.uid ?? ''})`;
    warnings.push({ reason: 'MissingClusterDNS', message: `pod: "${podName}". kubelet does not have ClusterDNS IP configured and cannot create Pod using "${policy}" policy. Falling back to "Default" policy.` });
    type = 'host';
  }
  const dnsConfig = pod.spec?.dnsConfig;
  if (type === 'host' && !dnsConfig) return { config: undefined, warnings };
  let config: DnsConfig = { servers: [], searches: [], options: [] };
  if (type === 'cluster') {
    const namespace = pod.metadata?.namespace ?? 'default';
    const domain = settings.domain;
    config = { servers: [...settings.servers], searches: domain ? [`${namespace}.svc.${domain}`, `svc.${domain}`, domain] : [], options: ['ndots:5'] };
  }
  config = {
    servers: withoutDuplicates([...config.servers, ...(dnsConfig?.nameservers ?? [])]),
    searches: withoutDuplicates([...config.searches, ...(dnsConfig?.searches ?? [])]),
    options: mergeOptions(config.options, dnsConfig?.options),
  };
  if (config.servers.length > MAX_NAMESERVERS) {
    config.servers = config.servers.slice(0, MAX_NAMESERVERS);
    warnings.push({ reason: 'DNSConfigForming', message: `Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: ${config.servers.join(' ')}` });
  }
  const searches = fitSearches(config.searches);
  if (searches.length < config.searches.length) {
    config.searches = searches;
    warnings.push({ reason: 'DNSConfigForming', message: `Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${searches.join(' ')}` });
  }
  return { config, warnings };
}

/**
 * What the pod's kubelet-managed /etc/hosts holds beside the localhost lines
 * and its IP with its hostname: the fully qualified name of a pod with
 * spec.subdomain (<hostname>.<subdomain>.<ns>.svc.<domain>, the name its
 * headless Service's DNS answers) and spec.hostAliases. Undefined for a
 * hostNetwork pod, which keeps the node's file, as upstream.
 */
export function podHostsConfig(pod: Pod, settings: ClusterDnsSettings): PodHostsConfig | undefined {
  const spec = pod.spec;
  if (spec?.hostNetwork) return undefined;
  const hostname = spec?.hostname ?? pod.metadata?.name ?? '';
  const namespace = pod.metadata?.namespace ?? 'default';
  const fullyQualifiedName = spec?.subdomain && hostname && settings.domain ? `${hostname}.${spec.subdomain}.${namespace}.svc.${settings.domain}` : undefined;
  const hostAliases = (spec?.hostAliases ?? []).map((alias) => ({ ip: alias.ip, hostnames: [...(alias.hostnames ?? [])] }));
  return { ...(fullyQualifiedName ? { fullyQualifiedName } : {}), hostAliases };
}
