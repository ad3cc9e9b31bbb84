// A real multi-process etcd cluster on 127.0.0.1 for integration tests and
// benchmarks. The same harness runs the real etcd 3.4 binary or etcd-lite
// (which takes etcd's own flags), so one suite proves a behaviour against etcd
// and then checks etcd-lite against it.
//
// Members are OS processes: they are killed with real signals (SIGKILL for a
// crash, SIGSTOP/SIGCONT for a member that stops answering), and every process
// started here is killed when the test process exits, whatever happens.

import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export type EtcdImplementation = 'etcd' | 'etcd-lite';

export interface EtcdClusterOptions {
  /** Which server runs: the real etcd binary, or etcd-lite's built dist/cli.js. */
  implementation: EtcdImplementation;
  /** Number of voting members; 3 is the smallest cluster that survives a crash. */
  members?: number;
  /**
   * Parent directory for the members' data and log files. Left in place by
   * stop(); without it a temporary directory is made and removed by stop().
   */
  dataDir?: string;
  /** --heartbeat-interval: how often the leader heartbeats, in milliseconds. */
  heartbeatIntervalMs?: number;
  /** --election-timeout: how long a follower waits without a leader, in milliseconds. */
  electionTimeoutMs?: number;
  /** --snapshot-count: applied entries between snapshots; the server's default when unset. */
  snapshotCount?: number;
  /** How long start and restart wait for `etcdctl endpoint health` to pass on every member. */
  startTimeoutMs?: number;
  /** Flags appended to every member's command line, after the harness's own. */
  extraArgs?: readonly string[];
}

/** A member as the tests see it; pid and state change when it is killed or restarted. */
export interface EtcdMember {
  readonly name: string;
  /** http://127.0.0.1:port, as given to --listen-client-urls and --advertise-client-urls. */
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly metricsUrl: string;
  /** Directory given to --data-dir. */
  readonly dataDir: string;
  /** File receiving the member's stdout and stderr, appended to across restarts. */
  readonly logFile: string;
  readonly pid: number | undefined;
  /** 'paused' after SIGSTOP until SIGCONT; 'exited' after it died or was killed. */
  readonly state: 'running' | 'paused' | 'exited';
}

export interface EtcdctlOptions {
  /** Client URLs to talk to; defaults to every member that is running (not paused or exited). */
  endpoints?: readonly string[];
  /** Written to etcdctl's stdin (txn's interactive form, put's value from stdin). */
  input?: string | Buffer;
  /** etcdctl's --command-timeout; the process itself is killed a few seconds later. */
  commandTimeoutMs?: number;
}

export interface EtcdctlResult {
  stdout: string;
  stderr: string;
  /** Exit code; null when the process was killed by a signal. */
  code: number | null;
}

/** One member's answer to `etcdctl endpoint status`. Ids are lowercase hex, as etcdctl prints them. */
export interface EtcdEndpointStatus {
  member: EtcdMember;
  memberId: string;
  /** '0' when the member knows no leader. */
  leaderId: string;
  raftTerm: number;
  raftIndex: number;
  revision: number;
  version: string;
  dbSizeBytes: number;
  isLearner: boolean;
}

/** The server binary (etcd-lite's dist/cli.js, or etcd on PATH) does not exist. */
export class EtcdBinaryNotFoundError extends Error {
  constructor(implementation: EtcdImplementation, location: string) {
    const hint = implementation === 'etcd-lite' ? ' (build it with `npm run build`)' : '';
    super(`${implementation} binary not found at ${location}${hint}`);
    this.name = 'EtcdBinaryNotFoundError';
  }
}

/** Members did not all become healthy in time, or one exited while starting. */
export class EtcdClusterStartError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtcdClusterStartError';
  }
}

/** The running members did not agree on a leader in time. */
export class EtcdLeaderNotFoundError extends Error {
  constructor(waitedMs: number, lastStatus: string) {
    super(`no leader agreed by all running members after ${waitedMs} ms; last status: ${lastStatus}`);
    this.name = 'EtcdLeaderNotFoundError';
  }
}

/** A member name that is not part of this cluster. */
export class UnknownEtcdMemberError extends Error {
  constructor(name: string, known: readonly string[]) {
    super(`no member named "${name}"; members are ${known.join(', ')}`);
    this.name = 'UnknownEtcdMemberError';
  }
}

const DEFAULT_COMMAND_TIMEOUT_MS = 5000;
const HEALTH_POLL_INTERVAL_MS = 200;
const STOP_GRACE_MS = 3000;
const PORT_CLASH_ATTEMPTS = 3;
const LOG_TAIL_LINES = 40;

/** Absolute path of etcd-lite's built entry point in this repository. */
export function etcdLiteBinaryPath(): string {
  return path.join(findRepositoryRoot(), 'packages', 'etcd-lite', 'dist', 'cli.js');
}

/** Whether etcd-lite has been built, so its suites can run. */
export function etcdLiteAvailable(): boolean {
  return fs.existsSync(etcdLiteBinaryPath());
}

/** The etcdctl binary the harness runs: $ETCDCTL_BINARY, else etcdctl on PATH. */
export function etcdctlBinary(): string {
  return process.env['ETCDCTL_BINARY'] ?? 'etcdctl';
}

/**
 * Parses etcdctl's `-w json` output keeping 64-bit ids exact: etcd prints
 * uint64 ids as bare JSON numbers, which lose digits as JS numbers, so any
 * integer of 16 digits or more becomes a decimal string.
 */
export function parseEtcdctlJson(text: string): unknown {
  return JSON.parse(text.replace(/([:,[]\s*)(\d{16,})(?=\s*[,\]}])/g, '$1"$2"'));
}

/** An id from etcdctl's JSON (number or decimal string) as the hex etcdctl prints elsewhere. */
export function etcdIdToHex(id: unknown): string {
  if (typeof id !== 'number' && typeof id !== 'string') return '0';
  return BigInt(id).toString(16);
}

/** Starts a cluster and resolves once every member answers `endpoint health`. */
export async function startEtcdCluster(options: EtcdClusterOptions): Promise<EtcdCluster> {
  const command = serverCommand(options.implementation);
  const ownsDataDir = options.dataDir === undefined;
  const baseDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), `kube-lite-${options.implementation}-`));
  fs.mkdirSync(baseDir, { recursive: true });
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_CLASH_ATTEMPTS; attempt++) {
    const cluster = new EtcdCluster(options, command, baseDir, ownsDataDir, await allocateMembers(options, baseDir));
    try {
      await cluster.startAll();
      return cluster;
    } catch (error) {
      lastError = error;
      const portClash = cluster.logTails().includes('address already in use');
      await cluster.stop({ keepDataDir: !portClash || attempt === PORT_CLASH_ATTEMPTS, quiet: true });
      if (!portClash) break;
      // Another process took a port between our probe and the bind: try fresh
      // ports in a clean directory.
      for (const member of cluster.members) fs.rmSync(member.dataDir, { recursive: true, force: true });
    }
  }
  throw lastError;
}

interface ServerCommand {
  file: string;
  leadingArgs: string[];
}

function serverCommand(implementation: EtcdImplementation): ServerCommand {
  if (implementation === 'etcd-lite') {
    const cli = etcdLiteBinaryPath();
    if (!fs.existsSync(cli)) throw new EtcdBinaryNotFoundError(implementation, cli);
    return { file: process.execPath, leadingArgs: [cli] };
  }
  const binary = process.env['ETCD_BINARY'] ?? 'etcd';
  const found = binary.includes('/') ? fs.existsSync(binary) : findOnPath(binary) !== undefined;
  if (!found) throw new EtcdBinaryNotFoundError(implementation, binary);
  return { file: binary, leadingArgs: [] };
}

class MemberProcess implements EtcdMember {
  process: ChildProcess | undefined;
  state: 'running' | 'paused' | 'exited' = 'exited';
  exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly clientUrl: string,
    readonly peerUrl: string,
    readonly metricsUrl: string,
    readonly dataDir: string,
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.state === 'exited' ? undefined : this.process?.pid;
  }
}

async function allocateMembers(options: EtcdClusterOptions, baseDir: string): Promise<MemberProcess[]> {
  const count = options.members ?? 3;
  const ports = await freePorts(count * 3);
  const url = (index: number): string => `http://127.0.0.1:${ports[index] ?? 0}`;
  return Array.from({ length: count }, (_, index) => {
    const name = `member-${index + 1}`;
    return new MemberProcess(
      name,
      url(index * 3),
      url(index * 3 + 1),
      url(index * 3 + 2),
      path.join(baseDir, name),
      path.join(baseDir, `${name}.log`),
    );
  });
}

export class EtcdCluster {
  private readonly memberProcesses: MemberProcess[];
  private readonly helpers = new Set<ChildProcess>();
  private readonly token: string;
  private failed = false;
  private stopped = false;

  constructor(
    private readonly options: EtcdClusterOptions,
    private readonly command: ServerCommand,
    /** Parent directory of every member's data dir and log file. */
    readonly baseDir: string,
    private readonly ownsDataDir: boolean,
    members: MemberProcess[],
  ) {
    this.memberProcesses = members;
    this.token = `kube-lite-${path.basename(baseDir)}`;
  }

  get implementation(): EtcdImplementation {
    return this.options.implementation;
  }

  get members(): readonly EtcdMember[] {
    return this.memberProcesses;
  }

  /** Every member's client URL, running or not. */
  get endpoints(): string[] {
    return this.memberProcesses.map((member) => member.clientUrl);
  }

  /** Client URLs of the members currently running (neither paused nor exited). */
  runningEndpoints(): string[] {
    return this.memberProcesses.filter((member) => member.state === 'running').map((member) => member.clientUrl);
  }

  member(name: string): EtcdMember {
    return this.memberProcess(name);
  }

  /** @internal started by startEtcdCluster */
  async startAll(): Promise<void> {
    for (const member of this.memberProcesses) this.spawnMember(member);
    await this.waitForHealthy(this.memberProcesses);
  }

  /** Runs etcdctl (API v3) against the cluster and collects its output; never throws on a non-zero exit. */
  etcdctl(args: readonly string[], options: EtcdctlOptions = {}): Promise<EtcdctlResult> {
    const child = this.spawnEtcdctl(args, options);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    // etcdctl honours --command-timeout for requests but not always for
    // dialing; the wall-clock kill keeps a hung call from hanging the test.
    const wallTimeoutMs = (options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS) + 5000;
    const killer = setTimeout(() => child.kill('SIGKILL'), wallTimeoutMs);
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
    return new Promise((resolve, reject) => {
      child.on('error', (error) => {
        clearTimeout(killer);
        reject(error);
      });
      child.on('close', (code) => {
        clearTimeout(killer);
        resolve({
          stdout: Buffer.concat(stdout).toString('utf8'),
          stderr: Buffer.concat(stderr).toString('utf8'),
          code,
        });
      });
    });
  }

  /**
   * Starts a long-running etcdctl (e.g. `watch`) with piped stdio. The caller
   * reads its output and kills it; stop() kills any still alive.
   */
  spawnEtcdctl(args: readonly string[], options: Omit<EtcdctlOptions, 'input'> = {}): ChildProcess {
    const endpoints = options.endpoints ?? this.runningEndpoints();
    const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const child = spawn(
      etcdctlBinary(),
      [`--endpoints=${endpoints.join(',')}`, `--command-timeout=${commandTimeoutMs}ms`, '--dial-timeout=2s', ...args],
      { env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.helpers.add(child);
    liveProcesses.add(child);
    child.on('exit', () => {
      this.helpers.delete(child);
      liveProcesses.delete(child);
    });
    return child;
  }

  /** `endpoint status` of every running member (or the given endpoints); members that do not answer are left out. */
  async status(endpoints: readonly string[] = this.runningEndpoints()): Promise<EtcdEndpointStatus[]> {
    if (endpoints.length === 0) return [];
    const result = await this.etcdctl(['endpoint', 'status', '-w', 'json'], { endpoints, commandTimeoutMs: 2000 });
    const text = result.stdout.trim();
    if (!text.startsWith('[')) return [];
    const parsed = parseEtcdctlJson(text) as RawEndpointStatus[];
    const statuses: EtcdEndpointStatus[] = [];
    for (const raw of parsed) {
      const member = this.memberProcesses.find((candidate) => sameHostPort(candidate.clientUrl, raw.Endpoint));
      const status = raw.Status;
      if (!member || !status) continue;
      statuses.push({
        member,
        memberId: etcdIdToHex(status.header?.member_id),
        leaderId: etcdIdToHex(status.leader),
        raftTerm: Number(status.raftTerm ?? 0),
        raftIndex: Number(status.raftIndex ?? 0),
        revision: Number(status.header?.revision ?? 0),
        version: String(status.version ?? ''),
        dbSizeBytes: Number(status.dbSize ?? 0),
        isLearner: status.isLearner === true,
      });
    }
    return statuses;
  }

  /**
   * The member every running member names as leader, polling until they
   * agree (right after a crash they may still disagree or know none).
   */
  async leader(options: { timeoutMs?: number } = {}): Promise<EtcdMember> {
    const timeoutMs = options.timeoutMs ?? 5000;
    const startedMs = Date.now();
    let lastStatus = 'none';
    for (;;) {
      const statuses = await this.status();
      lastStatus = JSON.stringify(statuses.map((status) => [status.member.name, status.leaderId, status.raftTerm]));
      const leaderIds = new Set(statuses.map((status) => status.leaderId));
      const [leaderId] = [...leaderIds];
      const leaderStatus = statuses.find((status) => status.memberId === leaderId);
      if (statuses.length === this.runningEndpoints().length && leaderIds.size === 1 && leaderStatus) {
        return leaderStatus.member;
      }
      if (Date.now() - startedMs > timeoutMs) throw new EtcdLeaderNotFoundError(Date.now() - startedMs, lastStatus);
      await delay(HEALTH_POLL_INTERVAL_MS);
    }
  }

  /**
   * Sends a signal to one member. For signals that end the process it waits
   * for the exit; SIGSTOP/SIGCONT pause and resume it.
   */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const member = this.memberProcess(name);
    if (member.state === 'exited' || !member.process) return;
    if (signal === 'SIGSTOP' || signal === 'SIGCONT') {
      member.process.kill(signal);
      member.state = signal === 'SIGSTOP' ? 'paused' : 'running';
      return;
    }
    // A paused process would not act on SIGTERM until resumed.
    if (member.state === 'paused') member.process.kill('SIGCONT');
    member.process.kill(signal);
    const forceKill = setTimeout(() => member.process?.kill('SIGKILL'), STOP_GRACE_MS);
    await member.exited;
    clearTimeout(forceKill);
  }

  /**
   * Starts members again with their data dirs and flags (killing any still
   * running first) and waits until all of them are healthy. Restart a quorum
   * in one call: a lone member of a dead cluster never becomes healthy.
   */
  async restart(names: string | readonly string[]): Promise<void> {
    const members = (typeof names === 'string' ? [names] : names).map((name) => this.memberProcess(name));
    for (const member of members) await this.kill(member.name, 'SIGKILL');
    for (const member of members) this.spawnMember(member);
    await this.waitForHealthy(members);
  }

  /** Makes stop() keep the data dirs and print the members' log tails: call it when a test failed. */
  markFailed(): void {
    this.failed = true;
  }

  /** The last lines of every member's log, headed by the file name. */
  logTails(lines = LOG_TAIL_LINES): string {
    return this.memberProcesses
      .map((member) => {
        const text = fs.existsSync(member.logFile) ? fs.readFileSync(member.logFile, 'utf8') : '(no log)';
        return `==> ${member.logFile} <==\n${text.split('\n').slice(-lines).join('\n')}`;
      })
      .join('\n');
  }

  /**
   * Kills every member and helper process. The temporary data dir is removed
   * unless markFailed() was called (then the log tails are printed) or
   * keepDataDir is set.
   */
  async stop(options: { keepDataDir?: boolean; quiet?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const helper of this.helpers) helper.kill('SIGKILL');
    // The cluster is thrown away, so there is no point waiting for graceful
    // shutdowns (a real etcd's last member can wait seconds for lost peers).
    await Promise.all(this.memberProcesses.map((member) => this.kill(member.name, 'SIGKILL')));
    if (this.failed && !options.quiet) {
      console.error(`[etcd-cluster] ${this.implementation} data and logs kept in ${this.baseDir}\n${this.logTails()}`);
    }
    if (this.ownsDataDir && !this.failed && !options.keepDataDir) {
      fs.rmSync(this.baseDir, { recursive: true, force: true });
    }
  }

  private memberProcess(name: string): MemberProcess {
    const member = this.memberProcesses.find((candidate) => candidate.name === name);
    if (!member) throw new UnknownEtcdMemberError(name, this.memberProcesses.map((candidate) => candidate.name));
    return member;
  }

  private memberArgs(member: MemberProcess): string[] {
    const initialCluster = this.memberProcesses.map((peer) => `${peer.name}=${peer.peerUrl}`).join(',');
    const args = [
      `--name=${member.name}`,
      `--data-dir=${member.dataDir}`,
      `--listen-client-urls=${member.clientUrl}`,
      `--advertise-client-urls=${member.clientUrl}`,
      `--listen-peer-urls=${member.peerUrl}`,
      `--initial-advertise-peer-urls=${member.peerUrl}`,
      `--initial-cluster=${initialCluster}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${this.token}`,
      `--heartbeat-interval=${this.options.heartbeatIntervalMs ?? 50}`,
      `--election-timeout=${this.options.electionTimeoutMs ?? 250}`,
      `--listen-metrics-urls=${member.metricsUrl}`,
    ];
    if (this.options.snapshotCount !== undefined) args.push(`--snapshot-count=${this.options.snapshotCount}`);
    return [...args, ...(this.options.extraArgs ?? [])];
  }

  private spawnMember(member: MemberProcess): void {
    const logFd = fs.openSync(member.logFile, 'a');
    try {
      fs.writeSync(logFd, `\n[etcd-cluster] ${new Date().toISOString()} starting ${member.name}\n`);
      const child = spawn(this.command.file, [...this.command.leadingArgs, ...this.memberArgs(member)], {
        stdio: ['ignore', logFd, logFd],
      });
      member.process = child;
      member.state = 'running';
      liveProcesses.add(child);
      member.exited = new Promise((resolve) => {
        child.on('exit', () => {
          liveProcesses.delete(child);
          if (member.process === child) member.state = 'exited';
          resolve();
        });
        child.on('error', (error) => {
          fs.appendFileSync(member.logFile, `[etcd-cluster] spawn failed: ${String(error)}\n`);
          liveProcesses.delete(child);
          if (member.process === child) member.state = 'exited';
          resolve();
        });
      });
    } finally {
      fs.closeSync(logFd);
    }
  }

  private async allMembersPublished(endpoints: readonly string[], count: number): Promise<boolean> {
    const result = await this.etcdctl(['member', 'list', '-w', 'json'], { endpoints, commandTimeoutMs: 1000 });
    if (result.code !== 0) return false;
    try {
      const list = JSON.parse(result.stdout) as { members?: { name?: string; clientURLs?: string[] }[] };
      const published = (list.members ?? []).filter((member) => (member.name ?? '') !== '' && (member.clientURLs ?? []).length > 0);
      return published.length >= count;
    } catch {
      return false;
    }
  }

  private async waitForHealthy(members: readonly MemberProcess[]): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs ?? 30000;
    const startedMs = Date.now();
    const endpoints = members.map((member) => member.clientUrl);
    let last: EtcdctlResult | undefined;
    for (;;) {
      const dead = members.filter((member) => member.state === 'exited');
      if (dead.length > 0) {
        throw new EtcdClusterStartError(
          `${this.implementation} member(s) ${dead.map((member) => member.name).join(', ')} exited while starting\n${this.logTails()}`,
        );
      }
      last = await this.etcdctl(['endpoint', 'health'], { endpoints, commandTimeoutMs: 1000 });
      // Healthy, and every member has published its name and client URLs (a member's first attempt may wait out a
      // request timeout when its proposal was dropped before it knew the leader), so member lists are complete.
      if (last.code === 0 && (await this.allMembersPublished(endpoints, members.length))) return;
      if (Date.now() - startedMs > timeoutMs) {
        throw new EtcdClusterStartError(
          `${this.implementation} members ${members.map((member) => member.name).join(', ')} not healthy after ${timeoutMs} ms: ` +
            `${last.stderr.trim()}\n${this.logTails()}`,
        );
      }
      await delay(HEALTH_POLL_INTERVAL_MS);
    }
  }
}

interface RawEndpointStatus {
  Endpoint: string;
  Status?: {
    header?: { member_id?: unknown; revision?: unknown };
    version?: unknown;
    dbSize?: unknown;
    leader?: unknown;
    raftIndex?: unknown;
    raftTerm?: unknown;
    isLearner?: unknown;
  };
}

function sameHostPort(url: string, endpoint: string): boolean {
  return url.replace(/^https?:\/\//, '') === endpoint.replace(/^https?:\/\//, '');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Ports the kernel reports free right now. All are held open together so the
 * same port is never handed out twice; another process can still grab one
 * before the member binds it, which startEtcdCluster retries.
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Server>((resolve, reject) => {
          const server = net.createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

function findRepositoryRoot(): string {
  for (let directory = __dirname; ; directory = path.dirname(directory)) {
    const manifest = path.join(directory, 'package.json');
    if (fs.existsSync(manifest) && (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string }).name === 'kube-lite') {
      return directory;
    }
    if (path.dirname(directory) === directory) throw new Error(`kube-lite repository root not found above ${__dirname}`);
  }
}

function findOnPath(binary: string): string | undefined {
  for (const directory of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(directory, binary);
    if (directory && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

// Every server and etcdctl started by any cluster in this process: killed on
// exit so a crashed or interrupted test run leaves no orphans holding ports.
const liveProcesses = new Set<ChildProcess>();
let exitHooksInstalled = false;

function killLiveProcesses(): void {
  for (const child of liveProcesses) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  liveProcesses.clear();
}

function installExitHooks(): void {
  if (exitHooksInstalled) return;
  exitHooksInstalled = true;
  process.on('exit', killLiveProcesses);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killLiveProcesses();
      // Re-raise with our handler gone so the default action (exit) happens.
      process.kill(process.pid, signal);
    });
  }
}

installExitHooks();
