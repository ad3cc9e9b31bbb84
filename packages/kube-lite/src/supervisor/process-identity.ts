// Whether a recorded pid still names the process we started. Pids are reused,
// and `down` may run days after `up` was killed: signalling a stranger's
// process because it inherited a pid would be a serious bug. So a pid is
// recorded with its start time (field 22 of /proc/<pid>/stat, clock ticks
// since boot), and a process counts as ours only when both still match.
import fs from 'node:fs';

export interface ProcessIdentity {
  pid: number;
  /** Start time in clock ticks after boot; undefined where /proc is unavailable (then the pid alone is trusted). */
  startTicks: number | undefined;
}

/** The start time of `pid` in clock ticks after boot, or undefined when it has exited or /proc is missing. */
export function readStartTicks(pid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces or ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); field 22 is starttime.
  if (fields[0] === 'Z') return undefined;
  const ticks = Number(fields[22 - 3]);
  return Number.isFinite(ticks) ? ticks : undefined;
}

/** The identity of a process that is running now. */
export function identify(pid: number): ProcessIdentity {
  return { pid, startTicks: readStartTicks(pid) };
}

/** True when the process is still running and is the same one that was recorded. */
export function isAlive(identity: ProcessIdentity): boolean {
  if (!Number.isInteger(identity.pid) || identity.pid <= 1) return false;
  try {
    process.kill(identity.pid, 0);
  } catch {
    // ESRCH: gone; EPERM: it exists but belongs to another user, so it cannot be ours.
    return false;
  }
  if (identity.startTicks === undefined) return true;
  return readStartTicks(identity.pid) === identity.startTicks;
}

/**
 * Sends `signal` to the process group led by the recorded process (our
 * children are spawned detached, so each leads its own group and the signal
 * also reaches anything it forked). Returns false when the process is gone.
 */
export function signalGroup(identity: ProcessIdentity, signal: NodeJS.Signals): boolean {
  if (!isAlive(identity)) return false;
  try {
    process.kill(-identity.pid, signal);
    return true;
  } catch {
    try {
      process.kill(identity.pid, signal);
      return true;
    } catch {
      return false;
    }
  }
}
