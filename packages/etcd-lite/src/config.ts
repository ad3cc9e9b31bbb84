// etcd-lite's command line: etcd's own flag names, defaults and ETCD_*
// environment variables, so scripts and manifests written for etcd 3.4 start
// etcd-lite unchanged. Parsing is commander's; the checks and their messages
// are ours, each naming the flag and what it allows.

import { createHash } from 'crypto';
import { Command, CommanderError, Option } from 'commander';

/** A flag or environment variable has a value etcd-lite cannot run with. The CLI prints the message and exits 2. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** --help or --version was given; `text` is what to print before exiting 0. */
export class HelpRequested extends Error {
  constructor(readonly text: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

export const LOG_LEVEL_FLAG_VALUES = ['debug', 'info', 'warn', 'error', 'panic', 'fatal'] as const;
export type LogLevelFlag = (typeof LOG_LEVEL_FLAG_VALUES)[number];

export interface InitialClusterMember {
  name: string;
  peerUrls: string[];
  /** Derived from the peer URLs and the cluster token, as etcd derives it; see computeMemberId. */
  id: number;
}

export interface EtcdLiteConfig {
  /** Human-readable name of this member; must appear in --initial-cluster. */
  name: string;
  /** Where the write-ahead log, snapshots and the key-value backend live. */
  dataDir: string;
  /** URLs to serve the etcd v3 gRPC API on. */
  listenClientUrls: string[];
  /** Client URLs this member tells the rest of the cluster and clients about. */
  advertiseClientUrls: string[];
  /** URLs to serve peer (Raft) traffic on. */
  listenPeerUrls: string[];
  /** Peer URLs this member tells the rest of the cluster about; must match its --initial-cluster entry. */
  initialAdvertisePeerUrls: string[];
  /** Members of the cluster at bootstrap, in --initial-cluster order. */
  initialCluster: InitialClusterMember[];
  /** "new" bootstraps a cluster; "existing" joins one already running. */
  initialClusterState: 'new' | 'existing';
  /** Distinguishes clusters bootstrapped from the same URLs; feeds every member id and the cluster id. */
  initialClusterToken: string;
  /** Time between leader heartbeats, which is also the Raft tick. */
  heartbeatIntervalMs: number;
  /** Time a follower waits without hearing a leader before campaigning. */
  electionTimeoutMs: number;
  /** electionTimeoutMs in ticks of heartbeatIntervalMs, what the Raft core is given. */
  electionTicks: number;
  /** Committed entries between two snapshots of the state machine. */
  snapshotCount: number;
  /** Extra URLs serving only /metrics and /health. */
  listenMetricsUrls: string[];
  /** Largest client request accepted (and so the largest Raft entry). */
  maxRequestBytes: number;
  /** Backend size that raises the NOSPACE alarm; 0 means etcd's default of 2 GiB. */
  quotaBackendBytes: number;
  logLevel: LogLevelFlag;
  /** This member's id (from its --initial-cluster entry). */
  memberId: number;
  /** The cluster id, derived from all initial member ids; peers from another cluster are refused. */
  clusterId: number;
  /** Things worth a log line but not worth refusing to start (an ETCD_* variable shadowed by a flag). */
  warnings: string[];
}

const DEFAULT_NAME = 'default';
const DEFAULT_CLIENT_URL = 'http://localhost:2379';
const DEFAULT_PEER_URL = 'http://localhost:2380';
/** etcd refuses election timeouts above 50 s: a dead leader would go unnoticed for too long. */
const MAX_ELECTION_TIMEOUT_MS = 50_000;
/** 2^53 - 1: ids are JS numbers and must be exact (see computeMemberId). */
const ID_MASK = (1n << 53n) - 1n;

interface FlagSpec {
  flag: string;
  description: string;
  /** The default as etcd prints it; undefined when derived from other flags. */
  defaultValue?: string;
}

const FLAGS: FlagSpec[] = [
  { flag: 'name', description: 'Human-readable name for this member.', defaultValue: DEFAULT_NAME },
  { flag: 'data-dir', description: 'Path to the data directory (default "${name}.etcd").' },
  { flag: 'listen-client-urls', description: 'List of URLs to listen on for client traffic.', defaultValue: DEFAULT_CLIENT_URL },
  { flag: 'advertise-client-urls', description: 'List of this member\'s client URLs to advertise to the public.', defaultValue: DEFAULT_CLIENT_URL },
  { flag: 'listen-peer-urls', description: 'List of URLs to listen on for peer traffic.', defaultValue: DEFAULT_PEER_URL },
  { flag: 'initial-advertise-peer-urls', description: 'List of this member\'s peer URLs to advertise to the rest of the cluster.', defaultValue: DEFAULT_PEER_URL },
  { flag: 'initial-cluster', description: 'Initial cluster configuration for bootstrapping (name=url,...; default "${name}=${initial-advertise-peer-urls}").' },
  { flag: 'initial-cluster-state', description: 'Initial cluster state ("new" or "existing").', defaultValue: 'new' },
  { flag: 'initial-cluster-token', description: 'Initial cluster token for the etcd cluster during bootstrap.', defaultValue: 'etcd-cluster' },
  { flag: 'heartbeat-interval', description: 'Time (in milliseconds) of a heartbeat interval.', defaultValue: '100' },
  { flag: 'election-timeout', description: 'Time (in milliseconds) for an election to timeout.', defaultValue: '1000' },
  { flag: 'snapshot-count', description: 'Number of committed transactions to trigger a snapshot to disk.', defaultValue: '100000' },
  { flag: 'listen-metrics-urls', description: 'List of URLs to listen on for the metrics and health endpoints.', defaultValue: '' },
  { flag: 'max-request-bytes', description: 'Maximum client request size in bytes the server will accept.', defaultValue: String(1.5 * 1024 * 1024) },
  { flag: 'quota-backend-bytes', description: 'Raise alarms when backend size exceeds the given quota (0 defaults to low space quota).', defaultValue: '0' },
  { flag: 'log-level', description: `Log level, one of ${LOG_LEVEL_FLAG_VALUES.join(', ')}.`, defaultValue: 'info' },
];

/** ETCD_DATA_DIR for --data-dir, as etcd maps flags to environment variables. */
export function environmentVariableOf(flag: string): string {
  return 'ETCD_' + flag.toUpperCase().replace(/-/g, '_');
}

function attributeOf(flag: string): string {
  return flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Parses etcd-lite's arguments (without the node and script paths) and the
 * ETCD_* variables of `environment`; a flag beats its variable. Throws
 * ConfigError for anything etcd would refuse, HelpRequested for --help.
 */
export function parseEtcdFlags(argv: string[], environment: NodeJS.ProcessEnv = process.env): EtcdLiteConfig {
  let output = '';
  const program = new Command('etcd-lite')
    .description('A Raft-replicated key-value store speaking etcd\'s v3 gRPC API')
    .version('etcd-lite 0.1.0 (etcd API 3.4)', '--version')
    .exitOverride()
    .configureOutput({ writeOut: (text) => (output += text), writeErr: (text) => (output += text) })
    .allowExcessArguments(false);
  for (const spec of FLAGS) program.addOption(new Option(`--${spec.flag} <value>`, spec.description));

  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') throw new HelpRequested(output);
      throw new ConfigError(error.message.replace(/^error: /, ''));
    }
    throw error;
  }

  const cliValues = program.opts<Record<string, string | undefined>>();
  const warnings: string[] = [];
  const explicitlySet = new Set<string>();
  const raw = (flag: string): string | undefined => {
    const fromCli = cliValues[attributeOf(flag)];
    const variable = environmentVariableOf(flag);
    const fromEnvironment = environment[variable];
    if (fromCli !== undefined) {
      if (fromEnvironment !== undefined) warnings.push(`${variable} is shadowed by --${flag}`);
      explicitlySet.add(flag);
      return fromCli;
    }
    if (fromEnvironment !== undefined) {
      explicitlySet.add(flag);
      return fromEnvironment;
    }
    return FLAGS.find((spec) => spec.flag === flag)?.defaultValue;
  };
  const value = (flag: string): string => raw(flag) ?? '';

  const name = value('name');
  if (name === '') throw new ConfigError('--name must not be empty');
  const dataDir = raw('data-dir') ?? `${name}.etcd`;

  const listenClientUrls = parseUrlList('listen-client-urls', value('listen-client-urls'));
  const advertiseClientUrls = parseUrlList('advertise-client-urls', value('advertise-client-urls'));
  if (explicitlySet.has('listen-client-urls') && !explicitlySet.has('advertise-client-urls')) {
    throw new ConfigError('--advertise-client-urls is required when --listen-client-urls is set explicitly');
  }
  const listenPeerUrls = parseUrlList('listen-peer-urls', value('listen-peer-urls'));
  const initialAdvertisePeerUrls = parseUrlList('initial-advertise-peer-urls', value('initial-advertise-peer-urls'));
  const listenMetricsUrls = value('listen-metrics-urls') === '' ? [] : parseUrlList('listen-metrics-urls', value('listen-metrics-urls'));

  const initialClusterState = value('initial-cluster-state');
  if (initialClusterState !== 'new' && initialClusterState !== 'existing') {
    throw new ConfigError(`--initial-cluster-state must be "new" or "existing", got ${JSON.stringify(initialClusterState)}`);
  }
  const initialClusterToken = value('initial-cluster-token');

  const initialClusterText = raw('initial-cluster') ?? initialAdvertisePeerUrls.map((url) => `${name}=${url}`).join(',');
  const initialCluster = parseInitialCluster(initialClusterText, initialClusterToken);
  const self = initialCluster.find((member) => member.name === name);
  if (self === undefined) {
    throw new ConfigError(
      `--name ${JSON.stringify(name)} is not in --initial-cluster (${initialCluster.map((m) => m.name).join(', ')}); add "${name}=<peer URL>" to --initial-cluster`,
    );
  }
  if (!sameUrls(self.peerUrls, initialAdvertisePeerUrls)) {
    throw new ConfigError(
      `--initial-cluster has ${name}=${self.peerUrls.join(',')} but --initial-advertise-peer-urls is ${initialAdvertisePeerUrls.join(',')}; they must list the same URLs`,
    );
  }

  const heartbeatIntervalMs = parsePositiveInteger('heartbeat-interval', value('heartbeat-interval'), 'milliseconds');
  const electionTimeoutMs = parsePositiveInteger('election-timeout', value('election-timeout'), 'milliseconds');
  if (electionTimeoutMs < 5 * heartbeatIntervalMs) {
    throw new ConfigError(
      `--election-timeout (${electionTimeoutMs} ms) must be at least 5 times --heartbeat-interval (${heartbeatIntervalMs} ms), so that a few lost heartbeats do not start an election`,
    );
  }
  if (electionTimeoutMs > MAX_ELECTION_TIMEOUT_MS) {
    throw new ConfigError(`--election-timeout (${electionTimeoutMs} ms) is too long; it must be at most ${MAX_ELECTION_TIMEOUT_MS} ms`);
  }

  const logLevel = value('log-level');
  if (!(LOG_LEVEL_FLAG_VALUES as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`--log-level must be one of ${LOG_LEVEL_FLAG_VALUES.join(', ')}, got ${JSON.stringify(logLevel)}`);
  }

  return {
    name,
    dataDir,
    listenClientUrls,
    advertiseClientUrls,
    listenPeerUrls,
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState,
    initialClusterToken,
    heartbeatIntervalMs,
    electionTimeoutMs,
    electionTicks: Math.floor(electionTimeoutMs / heartbeatIntervalMs),
    snapshotCount: parsePositiveInteger('snapshot-count', value('snapshot-count'), 'entries'),
    listenMetricsUrls,
    maxRequestBytes: parsePositiveInteger('max-request-bytes', value('max-request-bytes'), 'bytes'),
    quotaBackendBytes: parseNonNegativeInteger('quota-backend-bytes', value('quota-backend-bytes'), 'bytes'),
    logLevel: logLevel as LogLevelFlag,
    memberId: self.id,
    clusterId: computeClusterId(initialCluster.map((member) => member.id)),
    warnings,
  };
}

/**
 * Parses a comma-separated URL list the way etcd accepts it: http or https,
 * an explicit host:port, nothing after the port. Returns the URLs normalized
 * to scheme://host:port, the form member ids are computed from.
 */
export function parseUrlList(flag: string, text: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === '')) throw new ConfigError(`--${flag} has an empty URL in ${JSON.stringify(text)}`);
  return items.map((item) => parseUrl(flag, item));
}

function parseUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`--${flag} has a malformed URL ${JSON.stringify(text)}; expected http://host:port or https://host:port`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`--${flag} URL ${JSON.stringify(text)} must use http:// or https://, not ${url.protocol}//`);
  }
  // Checked on the text: URL drops a port equal to the scheme's default (":80").
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(text)?.[1] ?? '';
  if (!/:\d+$/.test(authority)) {
    throw new ConfigError(`--${flag} URL ${JSON.stringify(text)} must have the form scheme://host:port (the port is missing)`);
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new ConfigError(`--${flag} URL ${JSON.stringify(text)} must not contain a path, query, fragment or credentials`);
  }
  // Written as Go prints a URL, so member ids hash the same bytes as etcd's.
  return `${url.protocol}//${authority.toLowerCase()}`;
}

/**
 * Parses --initial-cluster ("name=url,name=url"; a name repeated gives that
 * member several URLs) and derives every member id.
 */
export function parseInitialCluster(text: string, clusterToken: string): InitialClusterMember[] {
  const urlsByName = new Map<string, string[]>();
  for (const item of text.split(',').map((part) => part.trim())) {
    const equals = item.indexOf('=');
    if (equals <= 0 || equals === item.length - 1) {
      throw new ConfigError(`--initial-cluster entry ${JSON.stringify(item)} must have the form name=http://host:port`);
    }
    const name = item.slice(0, equals);
    const url = parseUrl('initial-cluster', item.slice(equals + 1));
    urlsByName.set(name, [...(urlsByName.get(name) ?? []), url]);
  }
  const owner = new Map<string, string>();
  for (const [name, urls] of urlsByName) {
    for (const url of urls) {
      const other = owner.get(url);
      if (other !== undefined) {
        throw new ConfigError(`--initial-cluster gives the URL ${url} to both ${JSON.stringify(other)} and ${JSON.stringify(name)}`);
      }
      owner.set(url, name);
    }
  }
  const members = [...urlsByName].map(([name, peerUrls]) => ({ name, peerUrls, id: computeMemberId(peerUrls, clusterToken) }));
  const ids = new Set(members.map((m) => m.id));
  if (ids.size !== members.length) throw new ConfigError('--initial-cluster yields two members with the same id; use distinct URLs');
  return members;
}

/**
 * A member's id as etcd computes it: SHA-1 of its sorted peer URLs
 * concatenated, followed by the cluster token; the first 8 bytes big-endian.
 * We then keep only the low 53 bits so the id is an exact JS number all
 * through the Raft core and the wire (uint64 fields carry it unchanged).
 * That costs etcd's exact ids, which no client depends on, for the chance of
 * two members of one cluster colliding: about n^2 / 2^54, nil for real sizes.
 * 0 means "no node" to Raft, so a (vanishingly unlikely) zero becomes 1.
 */
export function computeMemberId(peerUrls: string[], clusterToken: string): number {
  const hash = createHash('sha1')
    .update([...peerUrls].sort().join('') + clusterToken)
    .digest();
  return maskId(hash.readBigUInt64BE(0));
}

/** The cluster id as etcd computes it: SHA-1 of the sorted member ids, 8 bytes each big-endian; masked like member ids. */
export function computeClusterId(memberIds: number[]): number {
  const sorted = [...memberIds].sort((a, b) => a - b);
  const bytes = Buffer.alloc(8 * sorted.length);
  sorted.forEach((id, i) => bytes.writeBigUInt64BE(BigInt(id), 8 * i));
  return maskId(createHash('sha1').update(bytes).digest().readBigUInt64BE(0));
}

function maskId(id: bigint): number {
  return Number(id & ID_MASK) || 1;
}

function sameUrls(a: string[], b: string[]): boolean {
  const left = [...a].sort();
  const right = [...b].sort();
  return left.length === right.length && left.every((url, i) => url === right[i]);
}

function parsePositiveInteger(flag: string, text: string, unit: string): number {
  const n = parseNonNegativeInteger(flag, text, unit);
  if (n === 0) throw new ConfigError(`--${flag} must be a positive whole number of ${unit}, got ${JSON.stringify(text)}`);
  return n;
}

function parseNonNegativeInteger(flag: string, text: string, unit: string): number {
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text))) {
    throw new ConfigError(`--${flag} must be a whole number of ${unit}, got ${JSON.stringify(text)}`);
  }
  return Number(text);
}
