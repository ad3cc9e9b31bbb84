// kube-proxy's command line, with upstream's flag names where upstream has
// the flag (--kubeconfig, --master, --hostname-override, --bind-address,
// --nodeport-addresses, --proxy-mode, --cluster-domain, --healthz-bind-address,
// --metrics-bind-address, --udp-timeout, --config-sync-period) and ours for
// what upstream runs elsewhere (cluster DNS, the ingress controller).
import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { cidrContains, isIPv4 } from '../core/addresses';
import { upstreamFromResolvConf } from '../dns/resolv-conf';
import type { HostPort } from '../kube-proxy';
import type { ProxyMode } from '../proxier/proxier';

export interface KubeProxyFlags {
  kubeconfig: string | undefined;
  /** API server address overriding the kubeconfig's server. */
  master: string | undefined;
  /** Bearer token overriding the kubeconfig's. */
  token: string | undefined;
  /** PEM file of the cluster CA overriding the kubeconfig's. */
  caFile: string | undefined;
  /** Plaintext gRPC to the API server, for local development and tests only. */
  insecure: boolean;
  /** This node's name. */
  nodeName: string;
  /** The node's IP; the default for every other address. */
  bindAddress: string;
  /** Resolved addresses NodePorts listen on. */
  nodePortAddresses: string[];
  mode: ProxyMode;
  /** How ClusterIPs are presented: mapped into 127/8 (shared host) or unchanged (kernel mode, or ClusterIPs on a dummy interface). */
  serviceAddressMapping: 'loopback' | 'cluster-ip';
  clusterDomain: string;
  dns: HostPort | undefined;
  /** Upstream resolver "ip:port" for names outside the cluster domain. */
  dnsUpstream: string | undefined;
  ingress: HostPort | undefined;
  ingressClass: string | undefined;
  healthz: HostPort | undefined;
  metrics: HostPort | undefined;
  syncPeriodMs: number;
  udpIdleTimeoutMs: number;
  maxConnections: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** A bad flag: the message names it; the binary prints it and exits 2. */
export class FlagError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlagError';
  }
}

export interface FlagEnvironment {
  readFile?: (path: string) => string;
  /** This machine's IPv4 addresses (for CIDRs in --nodeport-addresses). */
  localAddresses?: () => string[];
  hostname?: () => string;
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "250ms", "30s", "1m30s" -> milliseconds. */
export function parseDurationMs(flag: string, text: string): number {
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((part) => part[0]).join('') !== text) throw new FlagError(`invalid duration "${text}" for ${flag}: use e.g. 250ms, 30s, 5m`);
  return parts.reduce((total, part) => total + Number(part[1]) * (DURATION_UNITS_MS[part[2] ?? 's'] ?? 1000), 0);
}

/** "host:port" -> HostPort; "none" or "" -> undefined; a bare port takes `defaultHost`. */
export function parseHostPort(flag: string, text: string, defaultHost: string): HostPort | undefined {
  if (text === '' || text === 'none') return undefined;
  const match = /^(?:(.*):)?(\d{1,5})$/.exec(text);
  const port = Number(match?.[2]);
  const host = match?.[1] || defaultHost;
  if (!match || port > 65535 || !isIPv4(host)) throw new FlagError(`invalid address "${text}" for ${flag}: use IPv4:port (e.g. 127.0.0.1:8080), a port, or none`);
  return { host, port };
}

function defaultLocalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .filter((entry) => entry.family === 'IPv4')
    .map((entry) => entry.address);
}

/** IPs stay as they are; a CIDR becomes the local addresses inside it (and the bind address, when inside). */
export function resolveNodePortAddresses(items: readonly string[], bindAddress: string, localAddresses: () => string[]): string[] {
  const resolved = new Set<string>();
  for (const item of items) {
    if (isIPv4(item)) {
      resolved.add(item);
      continue;
    }
    try {
      for (const address of [...localAddresses(), bindAddress]) if (address !== '0.0.0.0' && cidrContains(item, address)) resolved.add(address);
    } catch (error) {
      throw new FlagError(`invalid value "${item}" in --nodeport-addresses: use IPv4 addresses or CIDRs`, { cause: error });
    }
  }
  return [...resolved];
}

export function parseFlags(argv: readonly string[], environment: FlagEnvironment = {}): KubeProxyFlags {
  const readFile = environment.readFile ?? ((path: string) => readFileSync(path, 'utf8'));
  const program = new Command('kube-proxy')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .option('--kubeconfig <file>', 'path to a kubeconfig with the API server location and credentials')
    .option('--master <address>', 'the API server address (host:port or URL); overrides the kubeconfig')
    .option('--server <address>', 'alias of --master')
    .option('--token <token>', 'bearer token for the API server; overrides the kubeconfig')
    .option('--ca-file <file>', 'PEM file of the cluster CA; overrides the kubeconfig')
    .option('--insecure', 'plaintext connection to the API server (development only)', false)
    .option('--hostname-override <name>', "this node's name (default: the host name)")
    .option('--bind-address <ip>', "the node's IP; default of the other addresses", '0.0.0.0')
    .option('--nodeport-addresses <list>', 'comma-separated IPs or CIDRs NodePorts listen on (default: --bind-address)')
    .addOption(new Option('--proxy-mode <mode>', 'userspace (kube-proxy forwards) or iptables (kernel forwards; root)').choices(['userspace', 'iptables']).default('userspace'))
    .addOption(new Option('--service-address <mapping>', 'where ClusterIPs are served: loopback (10.96.a.b -> 127.96.a.b, shared host) or cluster-ip').choices(['loopback', 'cluster-ip']))
    .option('--cluster-domain <domain>', 'the cluster DNS domain', 'cluster.local')
    .option('--cluster-dns-address <address>', 'cluster DNS listen address (ip:port; none to disable); default <bind-address>:10053')
    .option('--dns-upstream <upstream>', 'where other names go: none (REFUSED), resolv.conf (its first nameserver) or ip:port', 'none')
    .option('--ingress-address <address>', 'run the ingress controller on ip:port (e.g. 127.0.0.1:8080); off by default')
    .option('--ingress-class <name>', 'serve only Ingresses of this class (and those naming none)')
    .option('--healthz-bind-address <address>', 'where /healthz is served (ip:port or none); default <bind-address>:10256')
    .option('--metrics-bind-address <address>', 'where /metrics is served (ip:port or none); default <bind-address or 127.0.0.1>:10249')
    .option('--config-sync-period <duration>', 'full resync period even without changes', '30s')
    .option('--udp-timeout <duration>', 'idle time after which a UDP session is closed (userspace)', '10s')
    .option('--max-connections <count>', 'TCP connections the userspace proxy holds at once', '10000')
    .option('--log-level <level>', 'debug, info, warn or error', 'info');
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) throw new FlagError(error.message.replace(/^error: /, ''), { cause: error });
    throw error;
  }
  const options = program.opts<Record<string, string | boolean | undefined>>();
  const text = (name: string): string | undefined => (typeof options[name] === 'string' ? (options[name] as string) : undefined);
  const bindAddress = text('bindAddress') ?? '0.0.0.0';
  if (!isIPv4(bindAddress)) throw new FlagError(`invalid value "${bindAddress}" for --bind-address: use an IPv4 address`);
  const specific = bindAddress !== '0.0.0.0';
  const localHost = specific ? bindAddress : '127.0.0.1';
  const mode = (text('proxyMode') ?? 'userspace') as ProxyMode;
  const logLevel = text('logLevel') ?? 'info';
  if (!['debug', 'info', 'warn', 'error'].includes(logLevel)) throw new FlagError(`invalid value "${logLevel}" for --log-level: use debug, info, warn or error`);
  const maxConnections = Number(text('maxConnections'));
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new FlagError(`invalid value "${text('maxConnections')}" for --max-connections: use a positive integer`);
  const nodePortItems = (text('nodeportAddresses') ?? bindAddress).split(',').map((item) => item.trim()).filter(Boolean);
  let dnsUpstream: string | undefined;
  const upstream = text('dnsUpstream') ?? 'none';
  if (upstream === 'resolv.conf') {
    let resolvConf: string;
    try {
      resolvConf = readFile('/etc/resolv.conf');
    } catch (error) {
      throw new FlagError('--dns-upstream resolv.conf: cannot read /etc/resolv.conf', { cause: error });
    }
    dnsUpstream = upstreamFromResolvConf(resolvConf);
    if (dnsUpstream === undefined) throw new FlagError('--dns-upstream resolv.conf: /etc/resolv.conf names no nameserver');
  } else if (upstream !== 'none') {
    const parsed = parseHostPort('--dns-upstream', upstream.includes(':') ? upstream : `${upstream}:53`, '');
    dnsUpstream = parsed ? `${parsed.host}:${parsed.port}` : undefined;
  }
  return {
    kubeconfig: text('kubeconfig'),
    master: text('master') ?? text('server'),
    token: text('token'),
    caFile: text('caFile'),
    insecure: options.insecure === true,
    nodeName: text('hostnameOverride') ?? (environment.hostname ?? hostname)(),
    bindAddress,
    nodePortAddresses: resolveNodePortAddresses(nodePortItems, bindAddress, environment.localAddresses ?? defaultLocalAddresses),
    mode,
    serviceAddressMapping: (text('serviceAddress') as KubeProxyFlags['serviceAddressMapping'] | undefined) ?? (mode === 'userspace' ? 'loopback' : 'cluster-ip'),
    clusterDomain: (text('clusterDomain') ?? 'cluster.local').replace(/\.$/, ''),
    dns: parseHostPort('--cluster-dns-address', text('clusterDnsAddress') ?? `${localHost}:10053`, localHost),
    dnsUpstream,
    ingress: parseHostPort('--ingress-address', text('ingressAddress') ?? 'none', '127.0.0.1'),
    ingressClass: text('ingressClass'),
    healthz: parseHostPort('--healthz-bind-address', text('healthzBindAddress') ?? `${bindAddress}:10256`, bindAddress),
    metrics: parseHostPort('--metrics-bind-address', text('metricsBindAddress') ?? `${localHost}:10249`, localHost),
    syncPeriodMs: parseDurationMs('--config-sync-period', text('configSyncPeriod') ?? '30s'),
    udpIdleTimeoutMs: parseDurationMs('--udp-timeout', text('udpTimeout') ?? '10s'),
    maxConnections,
    logLevel: logLevel as KubeProxyFlags['logLevel'],
  };
}
