import { inParallel } from './parallel';

describe('inParallel', () => {
  it.each([
    { count: 0, concurrency: 4 },
    { count: 1, concurrency: 4 },
    { count: 10, concurrency: 3 },
    { count: 10, concurrency: 32 },
  ])('runs each of $count operations once with at most $concurrency in flight', async ({ count, concurrency }) => {
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    await inParallel(count, concurrency, async (index) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      seen.push(index);
      running--;
    });
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: count }, (_, index) => index));
    expect(peak).toBeLessThanOrEqual(Math.max(1, Math.min(concurrency, count)));
  });

  it('rejects with the first failure and starts nothing new after it', async () => {
    const started: number[] = [];
    await expect(
      inParallel(100, 2, async (index) => {
        started.push(index);
        await new Promise((resolve) => setImmediate(resolve));
        if (index === 3) throw new Error('boom at 3');
      }),
    ).rejects.toThrow('boom at 3');
    expect(started.length).toBeLessThan(10);
  });

  it('refuses a concurrency below one', async () => {
    await expect(inParallel(1, 0, async () => undefined)).rejects.toThrow(RangeError);
  });
});
