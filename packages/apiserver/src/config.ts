// kube-apiserver's command line, with upstream's flag names and defaults.
// Every bad value is a ConfigError naming the flag and what is allowed; the
// CLI prints it and exits 2.

import { Command, CommanderError, Option } from 'commander';
import { isIP, isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';

/** A flag is missing, unknown or has a value outside what is allowed. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface ServiceIpRange {
  /** The CIDR as given, e.g. `10.96.0.0/12`. */
  cidr: string;
  /** The range's first usable address, reserved for the `kubernetes` Service (and put in the serving certificate). */
  firstIp: string;
}

export interface PortRange {
  min: number;
  max: number;
}

export interface ApiServerConfig {
  /** etcd client URLs (--etcd-servers); empty until storage is wired. */
  etcdServers: string[];
  /** HTTPS port (--secure-port, default 6443); 0 picks a free port. */
  securePort: number;
  /** Address to listen on (--bind-address, default 0.0.0.0). */
  bindAddress: string;
  /** Address advertised to clients and put in the serving certificate (--advertise-address; default: the bind address, or this host's first external IPv4). */
  advertiseAddress: string;
  /** Range Service cluster IPs are allocated from (--service-cluster-ip-range, default 10.96.0.0/12). */
  serviceClusterIpRange: ServiceIpRange;
  /** Range NodePorts are allocated from (--service-node-port-range, default 30000-32767). */
  serviceNodePortRange: PortRange;
  /** CSV bearer-token file (--token-auth-file); when absent an admin token file is generated in the cert dir. */
  tokenAuthFile?: string;
  /** Where the CA and serving certificate live (--cert-dir, default /var/run/kubernetes). */
  certDir: string;
  /**
   * Client certificate and key (PEM files) the API server presents to kubelets when it proxies logs, exec,
   * attach and port-forward (--kubelet-client-certificate, --kubelet-client-key); when absent one is issued
   * from the cluster CA into the cert dir.
   */
  kubeletClientCertificate?: string;
  /** Private key of kubeletClientCertificate (--kubelet-client-key); given together with it. */
  kubeletClientKey?: string;
  /** Where to write an admin kubeconfig after start (--kubeconfig-out); nothing is written when absent. */
  kubeconfigOut?: string;
  /** Log verbosity (-v/--v as upstream's klog); 4 and above logs every request. */
  verbosity: number;
  /** Port of the gRPC front end the components use (--grpc-port, default 6444); 0 picks a free one. */
  grpcPort?: number;
  /** How long Events live (--event-ttl); default 3600 seconds. */
  eventTtlSeconds?: number;
  /** Toleration seconds added to pods for the not-ready taint (--default-not-ready-toleration-seconds); default 300. */
  defaultNotReadyTolerationSeconds?: number;
  /** Toleration seconds added to pods for the unreachable taint (--default-unreachable-toleration-seconds); default 300. */
  defaultUnreachableTolerationSeconds?: number;
  /** Minimum watch lifetime when clients give no timeoutSeconds (--min-request-timeout); default 1800. */
  minRequestTimeoutSeconds?: number;
  /** How often the kubelets are scraped for metrics.k8s.io (--metric-resolution, metrics-server's flag); default 15 seconds. */
  metricResolutionSeconds?: number;
  /** EncryptionConfiguration file (--encryption-provider-config): which resources are encrypted at rest, with which keys; unset stores everything as it is. */
  encryptionProviderConfig?: string;
}

export type ParseResult = { kind: 'config'; config: ApiServerConfig } | { kind: 'help'; text: string };

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

/** Parses an IPv4 service CIDR; upstream allows at most 20 host bits (a /12) and needs room for at least one Service. */
export function parseServiceIpRange(cidr: string): ServiceIpRange {
  const flag = '--service-cluster-ip-range';
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr.trim());
  if (match === null || !isIPv4(match[1] as string)) {
    throw new ConfigError(`${flag}: "${cidr}" is not an IPv4 CIDR (e.g. 10.96.0.0/12); IPv6 ranges are not supported yet`);
  }
  const prefix = Number(match[2]);
  if (prefix < 12 || prefix > 30) {
    throw new ConfigError(`${flag}: "${cidr}" has prefix length /${prefix}; allowed are /12 (at most 20 host bits) to /30`);
  }
  const size = 2 ** (32 - prefix);
  const network = Math.floor(ipv4ToNumber(match[1] as string) / size) * size;
  return { cidr: `${numberToIpv4(network)}/${prefix}`, firstIp: numberToIpv4(network + 1) };
}

/** Parses `30000-32767` (or a single port) as upstream's PortRange. */
export function parsePortRange(text: string): PortRange {
  const flag = '--service-node-port-range';
  const match = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(text);
  if (match === null) throw new ConfigError(`${flag}: "${text}" is not a port range like 30000-32767`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (min < 1 || max > 65535 || min > max) {
    throw new ConfigError(`${flag}: "${text}" must be MIN-MAX with 1 <= MIN <= MAX <= 65535`);
  }
  return { min, max };
}

function parsePort(flag: string, text: string): number {
  if (!/^\d+$/.test(text) || Number(text) > 65535) {
    throw new ConfigError(`${flag}: "${text}" is not a port number (0-65535; 0 picks a free port)`);
  }
  return Number(text);
}

/** Upstream durations are Go durations (`1h`, `30m`, `300s`); plain numbers are seconds. */
function parseDurationSeconds(flag: string, text: string): number {
  const match = /^(\d+)(h|m|s)?$/.exec(text.trim());
  if (match === null) throw new ConfigError(`${flag}: "${text}" is not a duration like 1h, 30m, 300s or 300`);
  const unitSeconds = { h: 3600, m: 60, s: 1 }[(match[2] ?? 's') as 'h' | 'm' | 's'];
  return Number(match[1]) * unitSeconds;
}

function parseSeconds(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError(`${flag}: "${text}" is not a whole number of seconds`);
  return Number(text);
}

function parseEtcdServers(text: string): string[] {
  const servers = text
    .split(',')
    .map((server) => server.trim())
    .filter((server) => server !== '');
  for (const server of servers) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new ConfigError(`--etcd-servers: "${server}" is not a URL; expected a comma-separated list like http://127.0.0.1:2379`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`--etcd-servers: "${server}" must use http:// or https://`);
    }
    if (url.port === '') throw new ConfigError(`--etcd-servers: "${server}" must name a port (etcd listens on 2379)`);
  }
  return servers;
}

function parseAddress(flag: string, text: string): string {
  if (isIP(text) === 0) throw new ConfigError(`${flag}: "${text}" is not an IP address`);
  return text;
}

/** The first non-internal IPv4 address of this host, as upstream picks for --advertise-address. */
function defaultAdvertiseAddress(bindAddress: string): string {
  if (bindAddress !== '0.0.0.0' && bindAddress !== '::') return bindAddress;
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return address.address;
    }
  }
  return '127.0.0.1';
}

function buildCommand(): Command {
  return new Command('kube-apiserver')
    .description('kube-lite API server: serves the Kubernetes REST API over HTTPS, stores objects in etcd')
    .helpOption('-h, --help', 'show this help')
    .option('--etcd-servers <urls>', 'comma-separated etcd client URLs', '')
    .option('--secure-port <port>', 'HTTPS port (0 picks a free port)', '6443')
    .option('--bind-address <ip>', 'address to listen on', '0.0.0.0')
    .option('--advertise-address <ip>', 'address advertised to clients (default: bind address or first external IPv4)')
    .option('--service-cluster-ip-range <cidr>', 'IPv4 CIDR Service cluster IPs come from', '10.96.0.0/12')
    .option('--service-node-port-range <range>', 'range NodePorts come from', '30000-32767')
    .option('--token-auth-file <path>', 'CSV of token,user,uid,"group1,group2" (default: generate an admin token in --cert-dir)')
    .option('--cert-dir <dir>', 'where the CA and serving certificate are kept (created on first start)', '/var/run/kubernetes')
    .option('--kubelet-client-certificate <path>', 'client certificate presented to kubelets (default: issued from the CA into --cert-dir)')
    .option('--kubelet-client-key <path>', 'private key of --kubelet-client-certificate')
    .option('--kubeconfig-out <path>', 'write an admin kubeconfig for this server here after start')
    .option('--grpc-port <port>', 'port of the gRPC front end the components use (0 picks a free port)', '6444')
    .option('--event-ttl <duration>', 'how long Events are kept', '1h')
    .option('--default-not-ready-toleration-seconds <seconds>', 'tolerationSeconds of the not-ready NoExecute toleration added to every pod', '300')
    .option('--default-unreachable-toleration-seconds <seconds>', 'tolerationSeconds of the unreachable NoExecute toleration added to every pod', '300')
    .option('--min-request-timeout <seconds>', 'minimum lifetime of a watch without timeoutSeconds (randomized up to twice this)', '1800')
    .option('--metric-resolution <duration>', 'how often every Ready node\'s kubelet is scraped for metrics.k8s.io (kubectl top, autoscaling; default 15s)')
    .option('--encryption-provider-config <file>', 'EncryptionConfiguration (apiserver.config.k8s.io/v1) naming the resources to encrypt at rest and their providers (aescbc, aesgcm, identity)')
    .addOption(new Option('-v, --v <level>', 'log verbosity (4 or more logs every request)').default('2'))
    .exitOverride()
    .allowExcessArguments(false);
}

/** Parses command-line arguments (without the node and script entries). */
export function parseArguments(argv: readonly string[]): ParseResult {
  const command = buildCommand();
  let help = '';
  let error = '';
  command.configureOutput({
    writeOut: (text) => {
      help += text;
    },
    writeErr: (text) => {
      error += text;
    },
  });
  try {
    command.parse([...argv], { from: 'user' });
  } catch (cause) {
    if (cause instanceof CommanderError && (cause.code === 'commander.helpDisplayed' || cause.code === 'commander.help')) {
      return { kind: 'help', text: help };
    }
    const message = (cause instanceof CommanderError ? cause.message : error || String(cause)).replace(/^error: /, '');
    throw new ConfigError(message, { cause });
  }
  const raw = command.opts<Record<string, string | undefined>>();
  const verbosityText = raw.v ?? '2';
  if (!/^\d+$/.test(verbosityText)) throw new ConfigError(`--v: "${verbosityText}" is not a non-negative integer`);
  const bindAddress = parseAddress('--bind-address', raw.bindAddress ?? '0.0.0.0');
  const config: ApiServerConfig = {
    etcdServers: parseEtcdServers(raw.etcdServers ?? ''),
    securePort: parsePort('--secure-port', raw.securePort ?? '6443'),
    grpcPort: parsePort('--grpc-port', raw.grpcPort ?? '6444'),
    eventTtlSeconds: parseDurationSeconds('--event-ttl', raw.eventTtl ?? '1h'),
    defaultNotReadyTolerationSeconds: parseSeconds('--default-not-ready-toleration-seconds', raw.defaultNotReadyTolerationSeconds ?? '300'),
    defaultUnreachableTolerationSeconds: parseSeconds('--default-unreachable-toleration-seconds', raw.defaultUnreachableTolerationSeconds ?? '300'),
    minRequestTimeoutSeconds: parseSeconds('--min-request-timeout', raw.minRequestTimeout ?? '1800'),
    bindAddress,
    advertiseAddress: raw.advertiseAddress === undefined ? defaultAdvertiseAddress(bindAddress) : parseAddress('--advertise-address', raw.advertiseAddress),
    serviceClusterIpRange: parseServiceIpRange(raw.serviceClusterIpRange ?? '10.96.0.0/12'),
    serviceNodePortRange: parsePortRange(raw.serviceNodePortRange ?? '30000-32767'),
    certDir: raw.certDir ?? '/var/run/kubernetes',
    verbosity: Number(verbosityText),
  };
  if (raw.tokenAuthFile !== undefined) config.tokenAuthFile = raw.tokenAuthFile;
  if (raw.kubeconfigOut !== undefined) config.kubeconfigOut = raw.kubeconfigOut;
  if (raw.metricResolution !== undefined) {
    const seconds = parseDurationSeconds('--metric-resolution', raw.metricResolution);
    if (seconds < 1) throw new ConfigError(`--metric-resolution: "${raw.metricResolution}" must be at least 1s`);
    config.metricResolutionSeconds = seconds;
  }
  if (raw.encryptionProviderConfig !== undefined) {
    if (raw.encryptionProviderConfig.trim() === '') throw new ConfigError('--encryption-provider-config: must name a file');
    config.encryptionProviderConfig = raw.encryptionProviderConfig;
  }
  if ((raw.kubeletClientCertificate === undefined) !== (raw.kubeletClientKey === undefined)) {
    throw new ConfigError('--kubelet-client-certificate and --kubelet-client-key go together: give both or neither');
  }
  if (raw.kubeletClientCertificate !== undefined) config.kubeletClientCertificate = raw.kubeletClientCertificate;
  if (raw.kubeletClientKey !== undefined) config.kubeletClientKey = raw.kubeletClientKey;
  if (config.certDir.trim() === '') throw new ConfigError('--cert-dir: must not be empty');
  return { kind: 'config', config };
}
