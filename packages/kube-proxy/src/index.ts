// @kube-lite/kube-proxy: Service proxying (userspace or iptables), NodePorts,
// cluster DNS and the ingress controller. The binary is cli.ts; this is what
// the launcher, the kubelet's docs and the benchmarks need.

export { KubeProxy, CacheSyncTimeoutError, type HostPort, type KubeProxyOptions } from './kube-proxy';
export { ListenError } from './errors';

// The pure core.
export {
  buildServiceTable,
  cidrContains,
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  diffTables,
  identityServiceAddress,
  LoadBalancer,
  loopbackServiceAddress,
  poolsFromTable,
  type ServiceAddressMapper,
  type ServiceEndpoint,
  type ServicePortEntry,
  type ServiceTable,
} from './core';

// Proxy modes.
export type { Proxier, ProxyMode } from './proxier/proxier';
export { UserspaceProxier, type UserspaceProxierOptions } from './userspace/userspace-proxier';
export { IptablesProxier, ExecIptablesRunner, IptablesError, type IptablesRunner } from './iptables/iptables-proxier';
export { buildIptablesRules } from './iptables/rules';

// Cluster DNS.
export { ClusterDnsZone, type ZoneOptions } from './dns/zone';
export { DnsServer, type DnsServerOptions } from './dns/dns-server';
export { DnsForwarder, ForwardError } from './dns/forwarder';
export { podResolvConf, upstreamFromResolvConf } from './dns/resolv-conf';

// Ingress.
export { IngressController, type IngressControllerOptions } from './ingress/ingress-controller';
export { IngressRouter, REWRITE_TARGET_ANNOTATION, USE_REGEX_ANNOTATION, type RouteMatch } from './ingress/routes';

// Flags and metrics.
export { parseFlags, FlagError, type KubeProxyFlags } from './config/flags';
export { ProxyMetrics } from './server/metrics';
