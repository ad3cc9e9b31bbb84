// Reading `etcdctl check perf` (etcdctl 3.4): it writes for about 60 s at a
// load's target rate, then prints one PASS/FAIL line per criterion and a
// verdict. Those lines are the benchmark's measurements.

/** The loads `check perf --load` accepts, smallest first. */
export const CHECK_PERF_LOADS = ['s', 'm', 'l', 'xl'] as const;
export type CheckPerfLoad = (typeof CHECK_PERF_LOADS)[number];

export interface CheckPerfResult {
  writesPerSecond: number;
  slowestRequestSeconds: number;
  stddevSeconds: number;
  /** etcdctl's verdict: every criterion within the load's limits. */
  passed: boolean;
}

/** The output lacks a line the benchmark needs (etcdctl failed, or its format changed). */
export class CheckPerfOutputError extends Error {
  constructor(missing: string, output: string) {
    super(`etcdctl check perf output has no ${missing} line:\n${output}`);
    this.name = 'CheckPerfOutputError';
  }
}

// Each criterion is printed as "PASS: <measure> is/took <x>" or, per the
// format strings in etcdctl 3.4's binary, "FAIL: <measure> too low/took too
// long/too high: <x>".
const THROUGHPUT = /Throughput (?:is|too low:) (\d+(?:\.\d+)?) writes\/s/;
const SLOWEST = /Slowest request (?:took|took too long:) (\d+(?:\.\d+)?)s/;
const STDDEV = /Stddev (?:is|too high:) (\d+(?:\.\d+)?)s/;
const VERDICT = /^(PASS|FAIL)\s*$/m;

export function parseCheckPerfOutput(output: string): CheckPerfResult {
  const measure = (pattern: RegExp, name: string): number => {
    const match = pattern.exec(output);
    if (!match?.[1]) throw new CheckPerfOutputError(name, output);
    return Number(match[1]);
  };
  const verdict = VERDICT.exec(output);
  if (!verdict) throw new CheckPerfOutputError('PASS/FAIL verdict', output);
  return {
    writesPerSecond: measure(THROUGHPUT, 'throughput'),
    slowestRequestSeconds: measure(SLOWEST, 'slowest request'),
    stddevSeconds: measure(STDDEV, 'stddev'),
    passed: verdict[1] === 'PASS',
  };
}
