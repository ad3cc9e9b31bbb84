// Starts components as detached processes (each leads its own process group,
// its output appended to <log-directory>/<name>.log), records them in the
// state file, waits for readiness, and stops them: SIGTERM to the group, then
// SIGKILL after a bound. A crash is reported, never restarted: in a teaching
// cluster the crash is the interesting part.
//
// Detached with file output (not pipes) on purpose: the components outlive
// the launcher when it is killed or returns, and `down` finds them through
// the state file.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ComponentExitedError, ReadinessTimeoutError } from '../errors';
import { lastLogLines } from './log-tail';
import { identify, isAlive, signalGroup, type ProcessIdentity } from './process-identity';
import { probe } from './readiness';
import type { StateStore, SupervisorState } from './state-file';
import type { ComponentRecord, ComponentSpec } from './types';

export interface SupervisorOptions {
  /** Directory of the per-component log files. */
  logDirectory: string;
  /** How long a component gets to exit after SIGTERM before its group gets SIGKILL. */
  stopGraceMs: number;
  /** Pause between two readiness probes of one component. */
  probeIntervalMs?: number;
  /** How many log lines a crash report carries. */
  crashLogLines?: number;
  /** Receives one line per event a person would want to see (ready, stopped). */
  report?: (line: string) => void;
}

export type StopOutcome = 'terminated' | 'killed' | 'not-running';

/**
 * Asked on every readiness poll: an error stops the wait (e.g. a component
 * started earlier has died, so waiting for this one is pointless).
 */
export type AbortCheck = () => Error | undefined;

interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const DEFAULT_PROBE_INTERVAL_MS = 200;
const DEFAULT_CRASH_LOG_LINES = 12;
/** After SIGKILL the kernel needs a moment; longer than this means the process is stuck in the kernel (D state). */
const KILL_SETTLE_MS = 3_000;
const STOP_POLL_MS = 50;
/** Column the progress word ("ready") starts at, so the lines of a group align. */
const PROGRESS_NAME_WIDTH = 28;

export class Supervisor<TCluster> {
  /** Exits of the processes this launcher spawned itself, by pid (others' exits are only seen as "gone"). */
  private readonly exits = new Map<number, ExitInfo>();
  private readonly probeIntervalMs: number;
  private readonly crashLogLines: number;

  constructor(
    readonly store: StateStore<TCluster>,
    private readonly options: SupervisorOptions,
  ) {
    this.probeIntervalMs = options.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
    this.crashLogLines = options.crashLogLines ?? DEFAULT_CRASH_LOG_LINES;
  }

  logFileOf(name: string): string {
    return path.join(this.options.logDirectory, `${name}.log`);
  }

  /** Spawns the component and records it (desired: running). The state file must exist. */
  async start(spec: ComponentSpec): Promise<ComponentRecord> {
    const logFile = this.logFileOf(spec.name);
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const output = fs.openSync(logFile, 'a');
    let pid: number | undefined;
    try {
      fs.writeSync(output, `\n=== kube-lite started ${spec.name} at ${new Date().toISOString()}: ${[spec.entryFile, ...spec.args].join(' ')}\n`);
      const child = spawn(process.execPath, [spec.entryFile, ...spec.args], {
        detached: true,
        stdio: ['ignore', output, output],
        env: { ...process.env, ...spec.env },
        ...(spec.workingDirectory === undefined ? {} : { cwd: spec.workingDirectory }),
      });
      pid = child.pid;
      if (pid === undefined) {
        // spawn() reports the reason asynchronously; wait for it so the message says why.
        const reason = await new Promise<string>((resolve) => child.once('error', (error) => resolve(error.message)));
        throw new ComponentExitedError(spec.name, `could not be started (${reason})`, logFile, []);
      }
      const childPid = pid;
      child.once('exit', (code, signal) => this.exits.set(childPid, { code, signal }));
      child.unref();
    } finally {
      fs.closeSync(output);
    }
    const record: ComponentRecord = { spec, logFile, desired: 'running', process: identify(pid), startedAtMs: Date.now() };
    await this.store.update((state) => upsert(state, record));
    return record;
  }

  /** Resolves with the time from start to ready; throws when the process exits first or the timeout passes. */
  async waitReady(record: ComponentRecord, abortCheck?: AbortCheck): Promise<number> {
    const { spec } = record;
    const startedAtMs = record.startedAtMs ?? Date.now();
    const deadline = startedAtMs + spec.readyTimeoutMs;
    let lastProblem = 'not probed yet';
    for (;;) {
      const exit = this.exitDescription(record);
      if (exit !== undefined) throw this.exitedError(record, exit);
      const abort = abortCheck?.();
      if (abort !== undefined) throw abort;
      const result = await probe(spec.readiness, startedAtMs);
      // Re-checked after the probe: a port answering for a moment before a crash is not readiness.
      const exitAfterProbe = this.exitDescription(record);
      if (exitAfterProbe !== undefined) throw this.exitedError(record, exitAfterProbe);
      if (result.ready) {
        const elapsedMs = Date.now() - startedAtMs;
        this.options.report?.(`  ${spec.name.padEnd(PROGRESS_NAME_WIDTH, ' ')} ready (${(elapsedMs / 1000).toFixed(1)} s)`);
        return elapsedMs;
      }
      lastProblem = result.problem;
      if (Date.now() > deadline) {
        throw new ReadinessTimeoutError(spec.name, spec.readyTimeoutMs, lastProblem, record.logFile, lastLogLines(record.logFile, this.crashLogLines));
      }
      await sleep(this.probeIntervalMs);
    }
  }

  /**
   * Starts every spec at once, then waits until all are ready (members of a
   * Raft group can only become ready together). Rejects with the first
   * failure once every component has either become ready or failed.
   * `abortCheck` is asked on every poll of every component.
   */
  async startGroup(specs: readonly ComponentSpec[], abortCheck?: AbortCheck): Promise<ComponentRecord[]> {
    const records: ComponentRecord[] = [];
    for (const spec of specs) records.push(await this.start(spec));
    const results = await Promise.allSettled(records.map((record) => this.waitReady(record, abortCheck)));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    return records;
  }

  /** Why the recorded process is not running, or undefined while it is. */
  exitDescription(record: ComponentRecord): string | undefined {
    const identity = record.process;
    if (identity === undefined) return 'was never started';
    const exit = this.exits.get(identity.pid);
    if (exit !== undefined) {
      return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with code ${exit.code ?? 'unknown'}`;
    }
    return isAlive(identity) ? undefined : 'is no longer running';
  }

  lastLogLines(record: ComponentRecord): string[] {
    return lastLogLines(record.logFile, this.crashLogLines);
  }

  /**
   * Stops one component and marks it stopped first, so a launcher watching
   * from another shell does not report the stop as a crash. `kill` skips
   * SIGTERM: a simulated power loss gives no chance to clean up.
   */
  async stop(name: string, mode: 'graceful' | 'kill'): Promise<StopOutcome> {
    let identity: ProcessIdentity | undefined;
    await this.store.update((state) => {
      const record = state.components.find((component) => component.spec.name === name);
      if (record === undefined) return;
      record.desired = 'stopped';
      identity = record.process;
    });
    if (identity === undefined) return 'not-running';
    const outcome = await stopProcessGroup(identity, mode === 'kill' ? 0 : this.options.stopGraceMs);
    if (outcome !== 'not-running') this.options.report?.(`  ${name.padEnd(PROGRESS_NAME_WIDTH, ' ')} ${outcome === 'killed' ? 'killed' : 'stopped'}`);
    return outcome;
  }

  private exitedError(record: ComponentRecord, exit: string): ComponentExitedError {
    const current = this.store.read()?.components.find((component) => component.spec.name === record.spec.name);
    if (current?.desired === 'stopped') {
      return new ComponentExitedError(record.spec.name, `${exit}: it was stopped by another kube-lite command (down, stop-node, stop-etcd)`, record.logFile, []);
    }
    return new ComponentExitedError(record.spec.name, exit, record.logFile, this.lastLogLines(record));
  }
}

function upsert<TCluster>(state: SupervisorState<TCluster>, record: ComponentRecord): void {
  const index = state.components.findIndex((component) => component.spec.name === record.spec.name);
  if (index < 0) state.components.push(record);
  else state.components[index] = record;
}

/**
 * SIGTERM to the process group, up to `graceMs` for it to exit, then SIGKILL.
 * graceMs 0 sends SIGKILL straight away.
 */
export async function stopProcessGroup(identity: ProcessIdentity, graceMs: number): Promise<StopOutcome> {
  if (!isAlive(identity)) return 'not-running';
  if (graceMs > 0) {
    signalGroup(identity, 'SIGTERM');
    if (await waitGone(identity, graceMs)) return 'terminated';
  }
  signalGroup(identity, 'SIGKILL');
  await waitGone(identity, KILL_SETTLE_MS);
  return 'killed';
}

async function waitGone(identity: ProcessIdentity, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(identity)) {
    if (Date.now() >= deadline) return false;
    await sleep(STOP_POLL_MS);
  }
  return true;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
