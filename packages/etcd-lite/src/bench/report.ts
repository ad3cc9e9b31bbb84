// The benchmark's table: one row per (load, implementation), with etcd-lite's
// throughput as a fraction of the real etcd's measured in the same run.

import type { EtcdImplementation } from '@kube-lite/testing';
import type { CheckPerfLoad, CheckPerfResult } from './check-perf';

export interface BenchRow {
  load: CheckPerfLoad;
  implementation: EtcdImplementation;
  /** The measurement, or why there is none (cluster failed to start, unreadable output). */
  outcome: CheckPerfResult | { error: string };
}

const HEADERS = ['load', 'implementation', 'writes/s', 'slowest', 'stddev', 'result', 'ratio etcd-lite/etcd'] as const;

function measured(row: BenchRow | undefined): CheckPerfResult | undefined {
  return row && !('error' in row.outcome) ? row.outcome : undefined;
}

/** etcd-lite writes/s over etcd writes/s for the row's load, when both were measured. */
export function throughputRatio(rows: readonly BenchRow[], load: CheckPerfLoad): number | undefined {
  const lite = measured(rows.find((row) => row.load === load && row.implementation === 'etcd-lite'));
  const etcd = measured(rows.find((row) => row.load === load && row.implementation === 'etcd'));
  if (!lite || !etcd || etcd.writesPerSecond === 0) return undefined;
  return lite.writesPerSecond / etcd.writesPerSecond;
}

function cells(row: BenchRow, rows: readonly BenchRow[]): string[] {
  if ('error' in row.outcome) return [row.load, row.implementation, '-', '-', '-', `ERROR: ${row.outcome.error}`, '-'];
  const ratio = row.implementation === 'etcd-lite' ? throughputRatio(rows, row.load) : undefined;
  return [
    row.load,
    row.implementation,
    String(row.outcome.writesPerSecond),
    `${(row.outcome.slowestRequestSeconds * 1000).toFixed(1)} ms`,
    `${(row.outcome.stddevSeconds * 1000).toFixed(1)} ms`,
    row.outcome.passed ? 'PASS' : 'FAIL',
    ratio === undefined ? '-' : ratio.toFixed(2),
  ];
}

/** A plain-text table (also valid Markdown), columns padded to their widest cell. */
export function formatTable(rows: readonly BenchRow[]): string {
  const body = rows.map((row) => cells(row, rows));
  const widths = HEADERS.map((header, column) => Math.max(header.length, ...body.map((line) => (line[column] ?? '').length)));
  const format = (line: readonly string[]): string => `| ${line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  return [format(HEADERS), rule, ...body.map(format)].join('\n');
}
