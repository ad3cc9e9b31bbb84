import { percentile, summarize } from './latency-summary';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  test.each([
    { sample: hundred, fraction: 0.5, expected: 50 },
    { sample: hundred, fraction: 0.9, expected: 90 },
    { sample: hundred, fraction: 0.99, expected: 99 },
    { sample: hundred, fraction: 1, expected: 100 },
    { sample: [7], fraction: 0.99, expected: 7 },
    { sample: [10, 20, 30], fraction: 0.5, expected: 20 },
    { sample: [10, 20, 30, 40], fraction: 0.5, expected: 20 },
    { sample: [10, 20, 30, 40], fraction: 0.51, expected: 30 },
  ])('p$fraction of $sample.length values is $expected', ({ sample, fraction, expected }) => {
    expect(percentile(sample, fraction)).toBe(expected);
  });

  test('an empty sample has no percentile', () => {
    expect(percentile([], 0.5)).toBeNaN();
  });

  test.each([0, -0.1, 1.5, Number.NaN])('fraction %p is refused', (fraction) => {
    expect(() => percentile([1, 2], fraction)).toThrow(RangeError);
  });
});

describe('summarize', () => {
  test('sorts its input and reports count, p50, p90, p99 and max', () => {
    const shuffled = [5, 1, 4, 2, 3, 10, 9, 8, 7, 6];
    expect(summarize(shuffled)).toEqual({ count: 10, p50Ms: 5, p90Ms: 9, p99Ms: 10, maxMs: 10 });
    expect(shuffled[0]).toBe(5);
  });

  test('an empty sample gives a count of 0 and NaN statistics', () => {
    const summary = summarize([]);
    expect(summary.count).toBe(0);
    expect(summary.p99Ms).toBeNaN();
    expect(summary.maxMs).toBeNaN();
  });
});
