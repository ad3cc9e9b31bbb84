#!/usr/bin/env node
// kubelet: parse flags, connect to the API server, run the node agent until
// SIGTERM. Upstream's flag names where upstream has the flag; the connection
// flags are the other components' (--kubeconfig, --master, --insecure...).
// On SIGTERM the kubelet stops syncing and serving but leaves every container
// running: the next kubelet on the same --root-dir adopts them.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { isIP } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import forge from 'node-forge';
import { Quantity } from '@kube-lite/api';
import { ClientConnectionError, GrpcApiClient, JsonLogger, KubeconfigError, loadClientConfig, type GrpcApiClientOptions, type LogLevel } from '@kube-lite/client';
import { Kubelet } from './kubelet';
import { AddressBlockError, AddressPool } from './runtime/process/address-pool';
import { ProcessRuntime } from './runtime/process/process-runtime';
import { DockerRuntime } from './runtime/docker';

/** A bad flag or an unusable file named by one: printed as one line, exit code 2. */
export class ConfigError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConfigError';
  }
}

export interface KubeletFlags {
  /** How to reach the API server's gRPC front end. */
  connection: GrpcApiClientOptions;
  nodeName: string;
  nodeIP: string;
  /** process (host processes) or docker (containers through the Docker Engine API). */
  containerRuntime: 'process' | 'docker';
  /** Docker runtime: the daemon (unix:///var/run/docker.sock, tcp://host:port); undefined: $DOCKER_HOST or the standard socket. */
  dockerEndpoint: string | undefined;
  /** Docker runtime: the network pod IPs come from; undefined: the kubelet container's own network, else "bridge". */
  podNetwork: string | undefined;
  rootDirectory: string;
  /** The node's share of 127.0.0.0/8 for pod IPs (process runtime). */
  podIPBlock: string;
  port: number;
  address: string;
  /** Where a self-signed serving certificate is kept when no --tls-cert-file is given. */
  certDirectory: string;
  /** PEM contents from --tls-cert-file / --tls-private-key-file; undefined: self-signed. */
  tls: { certificate: string; key: string } | undefined;
  /** PEM from --client-ca-file: client certificates it signed authenticate callers of the kubelet API. */
  clientCaPem: string | undefined;
  apiToken: string | undefined;
  registerNode: boolean;
  nodeStatusUpdateFrequencyMs: number;
  nodeStatusReportFrequencyMs: number;
  nodeLeaseDurationSeconds: number;
  capacity: { cpuMillis?: number; memoryBytes?: number; pods?: number };
  nodeLabels: Record<string, string>;
  /** --cluster-dns: IPs of the cluster DNS servers for ClusterFirst pods; empty: the node's resolver. */
  clusterDns: string[];
  /** --cluster-domain: the cluster's DNS domain, for the pods' search list. */
  clusterDomain: string;
  /** --service-route-cidr: the Service range every docker-runtime pod routes via this node (where kube-proxy serves ClusterIPs). */
  serviceRouteCidr: string | undefined;
  logLevel: LogLevel;
}

/** What the flags default to from the machine; replaced in tests. */
export interface FlagEnvironment {
  hostname: string;
  nodeIP: string;
  readFile(path: string): string;
}

/** The first non-loopback IPv4 address of this machine, else 127.0.0.1 (upstream picks the default route's). */
export function detectNodeIP(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === 'IPv4' && !address.internal) return address.address;
  }
  return '127.0.0.1';
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("10s", "1m30s", "500ms") in milliseconds. */
export function parseDurationMs(text: string, flag: string): number {
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 's'] ?? 1000);
    consumed = pattern.lastIndex;
  }
  if (text === '' || consumed !== text.length || total <= 0) throw new ConfigError(`invalid value "${text}" for --${flag}: use a positive duration such as 10s, 1m30s or 500ms`);
  return total;
}

function integerFlag(flag: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^\d+$/.test(value) || number < minimum || number > maximum) throw new ConfigError(`invalid value "${value}" for --${flag}: use an integer from ${minimum} to ${maximum}`);
    return number;
  };
}

function booleanFlag(flag: string): (value: string) => boolean {
  return (value) => {
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw new ConfigError(`invalid value "${value}" for --${flag}: use true or false`);
  };
}

function quantityFlag(flag: string, unit: (quantity: Quantity) => number): (value: string) => number {
  return (value) => {
    const quantity = Quantity.tryParse(value);
    const number = quantity === undefined ? NaN : unit(quantity);
    if (!(number > 0)) throw new ConfigError(`invalid value "${value}" for --${flag}: use a positive quantity such as ${flag === 'cpu' ? '4 or 1500m' : '8Gi or 512Mi'}`);
    return number;
  };
}

function labelsFlag(value: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of value.split(',').filter((entry) => entry !== '')) {
    const [key, ...rest] = pair.split('=');
    if (!key || rest.length === 0) throw new ConfigError(`invalid value "${value}" for --node-labels: use key=value pairs separated by commas`);
    labels[key] = rest.join('=');
  }
  return labels;
}

/** --cluster-dns: comma-separated IPs, the flag repeatable (upstream's string slice). */
function clusterDnsFlag(value: string, previous: string[] | undefined): string[] {
  const addresses = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  for (const address of addresses) if (isIP(address) === 0) throw new ConfigError(`invalid value "${value}" for --cluster-dns: use IP addresses separated by commas`);
  return [...(previous ?? []), ...addresses];
}

function readNamed(environment: FlagEnvironment, file: string, what: string): string {
  try {
    return environment.readFile(file);
  } catch (error) {
    throw new ConfigError(`${what}: cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

// The connection flags read as every component reads them (@kube-lite/client).
export { grpcAddressOf } from '@kube-lite/client';

export function parseKubeletFlags(argv: readonly string[], environment: FlagEnvironment): KubeletFlags {
  const program = new Command('kubelet')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .option('--kubeconfig <file>', 'kubeconfig with the API server, its CA and this kubelet\'s credentials')
    .option('--master <address>', 'API server gRPC address (host:port or URL); overrides the kubeconfig')
    .option('--server <address>', 'alias of --master')
    .option('--apiserver-grpc-port <port>', 'gRPC port of the API server, replacing the port of the kubeconfig or --master address', integerFlag('apiserver-grpc-port', 1, 65535))
    .option('--token <token>', 'bearer token for the API server; overrides the kubeconfig')
    .option('--ca-file <file>', 'PEM file of the cluster CA; overrides the kubeconfig')
    .option('--insecure', 'plaintext connection to the API server (development only)', false)
    .option('--hostname-override <name>', 'node name instead of the OS hostname')
    .option('--node-ip <ip>', 'the address the API server and other nodes reach this node at')
    .option('--node-labels <pairs>', 'labels added to the Node on registration: key=value,...', labelsFlag)
    .option('--root-dir <dir>', 'directory for pod volumes, container logs and runtime state', '/var/lib/kubelet')
    .option('--pod-ip-block <cidr>', 'this node\'s block of 127.0.0.0/8 for pod IPs (process runtime)', '127.1.0.0/16')
    .option('--container-runtime <name>', 'process or docker', 'process')
    .option('--docker-endpoint <url>', 'Docker daemon of the docker runtime (default $DOCKER_HOST or unix:///var/run/docker.sock)')
    .option('--pod-network <name>', 'Docker network pod IPs come from (default: the kubelet container\'s own network, else bridge)')
    .option('--port <port>', 'port of the kubelet API (logs, exec, stats)', integerFlag('port', 0, 65535), 10250)
    .option('--address <ip>', 'address the kubelet API listens on', '0.0.0.0')
    .option('--tls-cert-file <file>', 'serving certificate of the kubelet API; self-signed in --cert-dir when absent')
    .option('--tls-private-key-file <file>', 'private key of --tls-cert-file')
    .option('--cert-dir <dir>', 'where the self-signed serving certificate is kept (default <root-dir>/pki)')
    .option('--client-ca-file <file>', 'PEM CA whose client certificates (the API server\'s) may call the kubelet API; others get 401')
    .option('--kubelet-api-token <token>', 'bearer token callers of the kubelet API may present instead of a client certificate')
    .option('--kubelet-api-token-file <file>', 'file holding --kubelet-api-token')
    .option('--register-node [bool]', 'create the Node object (default true)', booleanFlag('register-node'), true)
    .option('--node-status-update-frequency <duration>', 'lease renewal and node status computation period', '10s')
    .option('--node-status-report-frequency <duration>', 'longest time between unchanged node status posts', '5m')
    .option('--node-lease-duration-seconds <seconds>', 'leaseDurationSeconds of the node Lease', integerFlag('node-lease-duration-seconds', 1), 40)
    .option('--cpu <quantity>', 'CPU capacity to report instead of the machine\'s', quantityFlag('cpu', (quantity) => quantity.milliValue()))
    .option('--memory <quantity>', 'memory capacity to report instead of the machine\'s', quantityFlag('memory', (quantity) => quantity.value()))
    .option('--max-pods <count>', 'pods this node runs at most', integerFlag('max-pods', 1), 110)
    .option('--cluster-dns <ips>', 'IPs of the cluster DNS servers that pods with dnsPolicy ClusterFirst use (comma-separated; the process runtime applies them as root only, in a mount namespace per pod)', clusterDnsFlag)
    .option('--cluster-domain <domain>', 'the cluster\'s DNS domain: pods search <namespace>.svc.<domain>, svc.<domain> and <domain>', 'cluster.local')
    .option('--service-route-cidr <cidr>', 'docker runtime: give every pod a route for this Service range via this node, whose kube-proxy serves the ClusterIPs (the API server\'s --service-cluster-ip-range); no route when unset')
    .option('--log-level <level>', 'debug, info, warn or error', 'info');
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof CommanderError) throw new ConfigError(error.message.replace(/^error: /, ''), { cause: error });
    throw error;
  }
  const options = program.opts<{
    kubeconfig?: string;
    master?: string;
    server?: string;
    apiserverGrpcPort?: number;
    token?: string;
    caFile?: string;
    insecure: boolean;
    hostnameOverride?: string;
    nodeIp?: string;
    nodeLabels?: Record<string, string>;
    rootDir: string;
    podIpBlock: string;
    containerRuntime: string;
    dockerEndpoint?: string;
    podNetwork?: string;
    port: number;
    address: string;
    tlsCertFile?: string;
    tlsPrivateKeyFile?: string;
    certDir?: string;
    clientCaFile?: string;
    kubeletApiToken?: string;
    kubeletApiTokenFile?: string;
    registerNode: boolean;
    nodeStatusUpdateFrequency: string;
    nodeStatusReportFrequency: string;
    nodeLeaseDurationSeconds: number;
    cpu?: number;
    memory?: number;
    maxPods: number;
    clusterDns?: string[];
    clusterDomain: string;
    serviceRouteCidr?: string;
    logLevel: string;
  }>();

  if (options.containerRuntime !== 'process' && options.containerRuntime !== 'docker') throw new ConfigError(`invalid value "${options.containerRuntime}" for --container-runtime: use process or docker`);
  if (!['debug', 'info', 'warn', 'error'].includes(options.logLevel)) throw new ConfigError(`invalid value "${options.logLevel}" for --log-level: use debug, info, warn or error`);
  try {
    new AddressPool(options.podIpBlock);
  } catch (error) {
    if (error instanceof AddressBlockError) throw new ConfigError(`--pod-ip-block: ${error.message}`, { cause: error });
    throw error;
  }
  const nodeIP = options.nodeIp ?? environment.nodeIP;
  if (isIP(nodeIP) === 0) throw new ConfigError(`invalid value "${nodeIP}" for --node-ip: use an IP address`);
  const nodeName = (options.hostnameOverride ?? environment.hostname).trim().toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName) || nodeName.length > 253) {
    throw new ConfigError(`node name "${nodeName}" is not a valid DNS subdomain (lower-case letters, digits, '-' and '.'); give --hostname-override`);
  }
  if ((options.tlsCertFile === undefined) !== (options.tlsPrivateKeyFile === undefined)) throw new ConfigError('--tls-cert-file and --tls-private-key-file go together: give both or neither');
  if (options.kubeletApiToken !== undefined && options.kubeletApiTokenFile !== undefined) throw new ConfigError('give --kubelet-api-token or --kubelet-api-token-file, not both');
  const clusterDomain = options.clusterDomain.replace(/\.$/, '').toLowerCase();
  if (clusterDomain !== '' && (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(clusterDomain) || clusterDomain.length > 253)) {
    throw new ConfigError(`invalid value "${options.clusterDomain}" for --cluster-domain: use a DNS domain such as cluster.local`);
  }

  return {
    connection: connectionOf(options, environment),
    nodeName,
    nodeIP,
    containerRuntime: options.containerRuntime,
    dockerEndpoint: options.dockerEndpoint,
    podNetwork: options.podNetwork,
    rootDirectory: path.resolve(options.rootDir),
    podIPBlock: options.podIpBlock,
    port: options.port,
    address: options.address,
    certDirectory: path.resolve(options.certDir ?? path.join(options.rootDir, 'pki')),
    tls:
      options.tlsCertFile !== undefined && options.tlsPrivateKeyFile !== undefined
        ? { certificate: readNamed(environment, options.tlsCertFile, '--tls-cert-file'), key: readNamed(environment, options.tlsPrivateKeyFile, '--tls-private-key-file') }
        : undefined,
    clientCaPem: options.clientCaFile === undefined ? undefined : readNamed(environment, options.clientCaFile, '--client-ca-file'),
    apiToken: options.kubeletApiToken ?? (options.kubeletApiTokenFile === undefined ? undefined : readNamed(environment, options.kubeletApiTokenFile, '--kubelet-api-token-file').trim() || undefined),
    registerNode: options.registerNode,
    nodeStatusUpdateFrequencyMs: parseDurationMs(options.nodeStatusUpdateFrequency, 'node-status-update-frequency'),
    nodeStatusReportFrequencyMs: parseDurationMs(options.nodeStatusReportFrequency, 'node-status-report-frequency'),
    nodeLeaseDurationSeconds: options.nodeLeaseDurationSeconds,
    capacity: {
      ...(options.cpu === undefined ? {} : { cpuMillis: options.cpu }),
      ...(options.memory === undefined ? {} : { memoryBytes: options.memory }),
      pods: options.maxPods,
    },
    nodeLabels: options.nodeLabels ?? {},
    clusterDns: options.clusterDns ?? [],
    clusterDomain,
    serviceRouteCidr: options.serviceRouteCidr,
    logLevel: options.logLevel as LogLevel,
  };
}

function connectionOf(options: { kubeconfig?: string; master?: string; server?: string; apiserverGrpcPort?: number; token?: string; caFile?: string; insecure: boolean }, environment: FlagEnvironment): GrpcApiClientOptions {
  try {
    return loadClientConfig(
      { kubeconfig: options.kubeconfig, master: options.master ?? options.server, token: options.token, caFile: options.caFile, insecure: options.insecure, grpcPort: options.apiserverGrpcPort },
      (file) => environment.readFile(file),
    );
  } catch (error) {
    if (error instanceof ClientConnectionError || error instanceof KubeconfigError) throw new ConfigError(error.message, { cause: error });
    throw error;
  }
}

/**
 * The serving certificate in certDirectory (kubelet.crt, kubelet.key),
 * created self-signed for the node's name and IP when missing, as upstream
 * does; the API server does not verify kubelet certificates unless told to.
 */
export function ensureSelfSignedCertificate(certDirectory: string, nodeName: string, nodeIP: string): { certificate: string; key: string } {
  const certificateFile = path.join(certDirectory, 'kubelet.crt');
  const keyFile = path.join(certDirectory, 'kubelet.key');
  if (fs.existsSync(certificateFile) && fs.existsSync(keyFile)) return { certificate: fs.readFileSync(certificateFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem);
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e);
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f; // positive in DER
  certificate.serialNumber = serial.toString('hex');
  const now = Date.now();
  certificate.validity.notBefore = new Date(now - 60 * 60_000);
  certificate.validity.notAfter = new Date(now + 365 * 24 * 3600_000);
  const subject = [{ name: 'commonName', value: `${nodeName}@${Math.floor(now / 1000)}` }];
  certificate.setSubject(subject);
  certificate.setIssuer(subject);
  const altNames = [{ type: 2, value: nodeName }, ...[nodeIP, '127.0.0.1'].filter((ip, index, all) => all.indexOf(ip) === index).map((ip) => ({ type: 7, ip }))];
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  certificate.sign(forgeKey, forge.md.sha256.create());
  const certificatePem = forge.pki.certificateToPem(certificate);
  fs.mkdirSync(certDirectory, { recursive: true });
  fs.writeFileSync(keyFile, keyPem, { mode: 0o600 });
  fs.writeFileSync(certificateFile, certificatePem);
  return { certificate: certificatePem, key: keyPem };
}

async function main(): Promise<void> {
  const flags = parseKubeletFlags(process.argv.slice(2), { hostname: os.hostname(), nodeIP: detectNodeIP(), readFile: (file) => fs.readFileSync(file, 'utf8') });
  const logger = new JsonLogger({ level: flags.logLevel, fields: { component: 'kubelet', node: flags.nodeName } });
  const client = new GrpcApiClient({ ...flags.connection, logger });
  const runtime =
    flags.containerRuntime === 'docker'
      ? await DockerRuntime.connect({ nodeName: flags.nodeName, endpoint: flags.dockerEndpoint, podNetwork: flags.podNetwork, serviceRouteCidr: flags.serviceRouteCidr })
      : new ProcessRuntime({ stateDirectory: path.join(flags.rootDirectory, 'runtime'), podAddressBlock: flags.podIPBlock, podMountNamespaces: 'auto' });
  if (runtime instanceof ProcessRuntime) {
    // Once, so an operator can tell why pods do (or do not) resolve Service names.
    logger.info('process runtime pod DNS', { mode: runtime.podIsolation.mode, reason: runtime.podIsolation.reason });
  }
  const kubelet = new Kubelet({
    client,
    runtime,
    nodeName: flags.nodeName,
    nodeIP: flags.nodeIP,
    rootDirectory: flags.rootDirectory,
    port: flags.port,
    address: flags.address,
    tls: flags.tls ?? ensureSelfSignedCertificate(flags.certDirectory, flags.nodeName, flags.nodeIP),
    ...(flags.clientCaPem === undefined ? {} : { clientCaPem: flags.clientCaPem }),
    ...(flags.apiToken === undefined ? {} : { apiToken: flags.apiToken }),
    registerNode: flags.registerNode,
    nodeStatusUpdateFrequencyMs: flags.nodeStatusUpdateFrequencyMs,
    nodeStatusReportFrequencyMs: flags.nodeStatusReportFrequencyMs,
    nodeLeaseDurationSeconds: flags.nodeLeaseDurationSeconds,
    capacity: flags.capacity,
    nodeLabels: flags.nodeLabels,
    clusterDns: flags.clusterDns,
    clusterDomain: flags.clusterDomain,
    containerRuntimeVersion: `${runtime.name}://1`,
    logger,
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down; containers keep running', { signal });
    void kubelet
      .stop()
      .then(() => runtime.close())
      .finally(() => {
        client.close();
        process.exit(0);
      });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  logger.info('starting', { server: flags.connection.address, rootDir: flags.rootDirectory, podIPBlock: flags.podIPBlock, port: flags.port });
  try {
    await kubelet.start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') throw new ConfigError(`--port ${flags.port}: cannot listen on ${flags.address}:${flags.port}: ${(error as Error).message}`, { cause: error });
    throw error;
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`kubelet: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  });
}
