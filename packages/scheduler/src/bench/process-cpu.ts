// CPU time of the control-plane processes, read from /proc, so a run can say
// which process the cores went to. On a shared 2-core machine wall-clock
// latency mixes our work with everyone else's; CPU seconds per pod do not.

import { readFileSync } from 'node:fs';

/**
 * Clock ticks per second of /proc/<pid>/stat times (sysconf(_SC_CLK_TCK)):
 * 100 on every Linux architecture Node supports.
 */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * User plus system CPU seconds from the text of /proc/<pid>/stat; undefined
 * when the text is not one. The command name (field 2) may hold spaces and
 * parentheses, so fields are counted after its last ')'.
 */
export function parseProcStatCpuSeconds(statText: string): number | undefined {
  const end = statText.lastIndexOf(')');
  if (end < 0) return undefined;
  // After the name: state is field 3; utime and stime are fields 14 and 15.
  const fields = statText.slice(end + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

/** CPU seconds used so far by a process; undefined when it is gone or /proc is not there (not Linux). */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return parseProcStatCpuSeconds(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** This process's CPU seconds (portable). */
export function ownCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/** One reading of a named process: which process it was and its CPU seconds so far. */
export interface CpuReading {
  pid: number;
  seconds: number;
}

/**
 * CPU seconds per named process between two readings. A process that started
 * in between (absent before, or another pid under the name) counts from zero;
 * one gone by the second reading is left out.
 */
export function cpuSecondsBetween(before: ReadonlyMap<string, CpuReading>, after: ReadonlyMap<string, CpuReading>): Map<string, number> {
  const delta = new Map<string, number>();
  for (const [name, reading] of after) {
    const earlier = before.get(name);
    delta.set(name, reading.seconds - (earlier?.pid === reading.pid ? earlier.seconds : 0));
  }
  return delta;
}
