/**
 * Runs operation(0..count-1) with at most `concurrency` in flight, in index
 * order of start; rejects with the first failure once the running ones end.
 */
export async function inParallel(count: number, concurrency: number, operation: (index: number) => Promise<void>): Promise<void> {
  if (!(concurrency >= 1)) throw new RangeError(`concurrency must be at least 1, got ${concurrency}`);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const index = next++;
      try {
        await operation(index);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) throw failure.error;
}
