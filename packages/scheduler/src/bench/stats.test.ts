import { formatNumber, markdownTable, percentile, perSecond } from './stats';

describe('percentile (nearest rank)', () => {
  it.each([
    { samples: [], fraction: 0.5, expected: NaN },
    { samples: [7], fraction: 0.5, expected: 7 },
    { samples: [7], fraction: 0.99, expected: 7 },
    { samples: [4, 1, 3, 2], fraction: 0.5, expected: 2 },
    { samples: [4, 1, 3, 2], fraction: 0.75, expected: 3 },
    { samples: [4, 1, 3, 2], fraction: 1, expected: 4 },
    { samples: Array.from({ length: 100 }, (_, index) => 100 - index), fraction: 0.99, expected: 99 },
    { samples: Array.from({ length: 1000 }, (_, index) => index + 1), fraction: 0.99, expected: 990 },
  ])('$fraction of $samples.length samples is $expected', ({ samples, fraction, expected }) => {
    expect(percentile(samples, fraction)).toBe(expected);
  });

  it('does not reorder the caller’s samples', () => {
    const samples = [3, 1, 2];
    percentile(samples, 0.5);
    expect(samples).toEqual([3, 1, 2]);
  });
});

describe('perSecond and formatNumber', () => {
  it.each([
    { count: 300, elapsedMs: 1000, expected: 300 },
    { count: 50, elapsedMs: 250, expected: 200 },
    { count: 5, elapsedMs: 0, expected: NaN },
  ])('$count in $elapsedMs ms is $expected/s', ({ count, elapsedMs, expected }) => {
    expect(perSecond(count, elapsedMs)).toBe(expected);
  });

  it.each([
    { value: 12.345, digits: 1, expected: '12.3' },
    { value: 12.5, digits: 0, expected: '13' },
    { value: NaN, digits: 2, expected: '-' },
    { value: Infinity, digits: 0, expected: '-' },
  ])('formats $value with $digits digits as "$expected"', ({ value, digits, expected }) => {
    expect(formatNumber(value, digits)).toBe(expected);
  });
});

describe('markdownTable', () => {
  it('pads the first column left-aligned and the others right-aligned', () => {
    expect(markdownTable(['nodes', 'pods/s'], [['100', '5'], ['1000', '321']])).toBe(
      ['| nodes | pods/s |', '|-------|-------:|', '| 100   |      5 |', '| 1000  |    321 |', ''].join('\n'),
    );
  });

  it('prints an empty cell for a missing one', () => {
    expect(markdownTable(['a', 'b'], [['x']])).toContain('| x |   |');
  });
});
