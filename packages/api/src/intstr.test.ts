import { resolveFenceposts, scaledValueFromIntOrPercent } from './intstr';
import { formatMicroTime, formatTime, parseTime } from './time';
import { IntOrStringError } from './errors';
import { deepCopy, jsonEqual } from './deepcopy';

describe('scaledValueFromIntOrPercent', () => {
  test.each([
    [3, 10, true, 3],
    ['25%', 10, true, 3],
    ['25%', 10, false, 2],
    ['100%', 7, false, 7],
    ['0%', 7, true, 0],
    ['33%', 3, true, 1],
    ['50%', 1, false, 0],
  ])('%p of %d roundUp=%p -> %d', (value, total, roundUp, expected) => {
    expect(scaledValueFromIntOrPercent(value, total, roundUp)).toBe(expected);
  });

  test.each([
    ['25', 'invalid value for IntOrString: invalid type: string is not a percentage'],
    ['x%', 'invalid value "x%": invalid syntax'],
  ])('%p throws', (value, message) => {
    expect(() => scaledValueFromIntOrPercent(value, 10, true)).toThrow(IntOrStringError);
    expect(() => scaledValueFromIntOrPercent(value, 10, true)).toThrow(message);
  });
});

describe('resolveFenceposts', () => {
  test.each([
    ['25%', '25%', 4, 1, 1],
    ['25%', '25%', 10, 3, 2],
    [0, 0, 5, 0, 1],
    ['0%', '0%', 5, 0, 1],
    [1, 0, 3, 1, 0],
  ])('surge %p unavailable %p of %d', (surge, unavailable, desired, expectedSurge, expectedUnavailable) => {
    expect(resolveFenceposts(surge, unavailable, desired)).toEqual({ surge: expectedSurge, unavailable: expectedUnavailable });
  });
});

describe('time', () => {
  test.each([
    [Date.UTC(2024, 0, 2, 3, 4, 5, 678), '2024-01-02T03:04:05Z', '2024-01-02T03:04:05.678000Z'],
    [0, '1970-01-01T00:00:00Z', '1970-01-01T00:00:00.000000Z'],
  ])('%d', (ms, time, micro) => {
    expect(formatTime(ms)).toBe(time);
    expect(formatMicroTime(new Date(ms))).toBe(micro);
    expect(parseTime(time)).toBe(Math.floor(ms / 1000) * 1000);
  });

  test.each([[undefined], [''], ['yesterday'], ['2024-01-02']])('parseTime(%p) is undefined', (input) => {
    expect(parseTime(input)).toBeUndefined();
  });
});

describe('deepCopy / jsonEqual', () => {
  test('copies deeply and drops undefined', () => {
    const source = { a: [{ b: 1 }], c: undefined, d: null };
    const copy = deepCopy(source);
    expect(copy).toEqual({ a: [{ b: 1 }], d: null });
    expect('c' in copy).toBe(false);
    copy.a[0]!.b = 2;
    expect(source.a[0]!.b).toBe(1);
  });

  test.each([
    [{ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: undefined }, true],
    [[1, 2], [2, 1], false],
    [{ a: null }, {}, false],
    ['1', 1, false],
  ])('%j vs %j -> %p', (a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
  });
});
