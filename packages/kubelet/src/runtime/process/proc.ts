// Reading /proc for container and node statistics. Linux only; on other
// systems every reader returns empty results instead of failing.
import fs from 'node:fs';

/** Linux reports CPU times in clock ticks of 1/100 s on every common architecture. */
const CLOCK_TICKS_PER_SECOND = 100;
const PAGE_SIZE_BYTES = 4096;

export interface ProcessStat {
  pid: number;
  parentPid: number;
  processGroupId: number;
  state: string;
  /** utime + stime. */
  cpuNanoSeconds: number;
  /** Start time in clock ticks after boot: with the pid it names one process across pid reuse. */
  startTicks: number;
  residentBytes: number;
}

export function parseProcessStat(text: string): ProcessStat | undefined {
  // The command name is in parentheses and may itself contain spaces or ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const fields = text.slice(close + 2).split(' ');
  // fields[0] is field 3 (state) of proc(5).
  const field = (number: number): number => Number(fields[number - 3]);
  if (!Number.isFinite(pid) || fields.length < 22) return undefined;
  return {
    pid,
    state: fields[0] ?? '?',
    parentPid: field(4),
    processGroupId: field(5),
    cpuNanoSeconds: ((field(14) + field(15)) * 1e9) / CLOCK_TICKS_PER_SECOND,
    startTicks: field(22),
    residentBytes: field(24) * PAGE_SIZE_BYTES,
  };
}

export function readProcessStat(pid: number): ProcessStat | undefined {
  try {
    return parseProcessStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Every live process whose process group is `processGroupId`. */
export function processGroupMembers(processGroupId: number): ProcessStat[] {
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return [];
  }
  const members: ProcessStat[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readProcessStat(Number(entry));
    if (stat && stat.processGroupId === processGroupId && stat.state !== 'Z') members.push(stat);
  }
  return members;
}

/** True when `pid` is alive (not a zombie) and, if given, started at `startTicks`. */
export function processAlive(pid: number, startTicks?: number): boolean {
  const stat = readProcessStat(pid);
  if (!stat || stat.state === 'Z' || stat.state === 'X') return false;
  return startTicks === undefined || stat.startTicks === startTicks;
}

export interface NodeCpuMemory {
  cpuNanoSeconds: number;
  memoryTotalBytes: number;
  memoryAvailableBytes: number;
}

/** Busy CPU time of the whole machine and its memory, from /proc/stat and /proc/meminfo. */
export function readNodeCpuMemory(): NodeCpuMemory | undefined {
  try {
    const cpuLine = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = cpuLine.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
    const busyTicks = ticks.slice(0, 8).reduce((sum, value, index) => (index === 3 || index === 4 ? sum : sum + (value || 0)), 0);
    const meminfo = fs.readFileSync('/proc/meminfo', 'utf8');
    const kilobytes = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
    return {
      cpuNanoSeconds: (busyTicks * 1e9) / CLOCK_TICKS_PER_SECOND,
      memoryTotalBytes: kilobytes('MemTotal') * 1024,
      memoryAvailableBytes: kilobytes('MemAvailable') * 1024,
    };
  } catch {
    return undefined;
  }
}
