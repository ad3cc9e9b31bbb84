// Order statistics of a latency sample, the way the upstream SLIs state them:
// nearest-rank percentiles (p99 of 100 pods is the 99th fastest, never an
// interpolation between two pods that both exist).

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** Nearest-rank percentile of an ascending sample; `fraction` in (0, 1]. NaN for an empty sample. */
export function percentile(ascending: readonly number[], fraction: number): number {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`percentile fraction must be in (0, 1], got ${fraction}`);
  if (ascending.length === 0) return Number.NaN;
  const rank = Math.ceil(fraction * ascending.length);
  return ascending[rank - 1] as number;
}

export function summarize(samplesMs: readonly number[]): LatencySummary {
  const ascending = [...samplesMs].sort((a, b) => a - b);
  return {
    count: ascending.length,
    p50Ms: percentile(ascending, 0.5),
    p90Ms: percentile(ascending, 0.9),
    p99Ms: percentile(ascending, 0.99),
    maxMs: ascending.length === 0 ? Number.NaN : (ascending[ascending.length - 1] as number),
  };
}
