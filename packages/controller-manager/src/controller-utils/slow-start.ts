// Slow start, as upstream's slowStartBatch: run `count` calls in batches of
// 1, 2, 4, ... running each batch in parallel and stopping at the first
// batch with a failure. A controller that cannot create pods (quota, a bad
// template) then makes one failing request instead of hundreds.

export interface SlowStartResult {
  /** Calls that succeeded. */
  successes: number;
  /** The first failure, if any batch failed. */
  error: unknown;
}

export async function slowStartBatch(count: number, initialBatchSize: number, call: () => Promise<void>): Promise<SlowStartResult> {
  let remaining = count;
  let successes = 0;
  for (let batchSize = Math.min(remaining, initialBatchSize); batchSize > 0; batchSize = Math.min(2 * batchSize, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batchSize }, () => call()));
    let error: unknown;
    let failed = false;
    for (const result of results) {
      if (result.status === 'fulfilled') successes += 1;
      else if (!failed) {
        failed = true;
        error = result.reason;
      }
    }
    if (failed) return { successes, error };
    remaining -= batchSize;
  }
  return { successes, error: undefined };
}
