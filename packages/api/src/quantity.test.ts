import { Quantity, canonicalQuantity, compareQuantities } from './quantity';
import { QuantityParseError } from './errors';

describe('Quantity canonical form', () => {
  test.each([
    ['0', '0'],
    ['0.0', '0'],
    ['1', '1'],
    ['100m', '100m'],
    ['0.1', '100m'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['1000m', '1'],
    ['1000', '1k'],
    ['1500', '1500'],
    ['1k', '1k'],
    ['1M', '1M'],
    ['1000k', '1M'],
    ['100M', '100M'],
    ['1Ki', '1Ki'],
    ['1024', '1024'],
    ['2048Ki', '2Mi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Ki', '512'],
    ['1023Ki', '1023Ki'],
    ['1e3', '1e3'],
    ['1E3', '1e3'],
    ['1.5e3', '1500'],
    ['1e-3', '1e-3'],
    ['12e6', '12e6'],
    ['1n', '1n'],
    ['0.1n', '1n'],
    ['1u', '1u'],
    ['-1', '-1'],
    ['-100m', '-100m'],
    ['+5', '5'],
    ['.5', '500m'],
    ['5.', '5'],
    ['1234567n', '1234567n'],
    ['12345Ki', '12345Ki'],
    ['1Ei', '1Ei'],
    ['1024Ei', '1024Ei'],
    ['2000E', '2000E'],
  ])('%s -> %s', (input, expected) => {
    expect(canonicalQuantity(input)).toBe(expected);
  });

  test.each([
    [1, '1'],
    [0.25, '250m'],
    [2048, '2048'],
  ])('number %p -> %s', (input, expected) => {
    expect(Quantity.parse(input).toString()).toBe(expected);
  });
});

describe('Quantity parse errors', () => {
  test.each([
    ['', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['abc', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1KiB', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1.2.3', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1Kb', "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"],
    ['1e', "unable to parse quantity's suffix"],
    ['1mi', "unable to parse quantity's suffix"],
    ['1K', "unable to parse quantity's suffix"],
    ['1e99999', 'unable to parse numeric part of quantity'],
  ])('%p', (input, message) => {
    expect(() => Quantity.parse(input)).toThrow(QuantityParseError);
    expect(() => Quantity.parse(input)).toThrow(message);
    expect(Quantity.tryParse(input)).toBeUndefined();
  });
});

describe('Quantity values and arithmetic', () => {
  test.each([
    ['100m', 1, 100],
    ['1', 1, 1000],
    ['1.2', 2, 1200],
    ['1Gi', 1073741824, 1073741824000],
    ['1n', 1, 1],
  ])('%s value=%d milli=%d', (input, value, milli) => {
    const quantity = Quantity.parse(input);
    expect(quantity.value()).toBe(value);
    expect(quantity.milliValue()).toBe(milli);
  });

  test.each([
    ['1', '1000m', 0],
    ['1Ki', '1024', 0],
    ['1', '2', -1],
    ['1Gi', '1G', 1],
    ['-1', '0', -1],
  ])('compare %s %s = %d', (a, b, expected) => {
    expect(compareQuantities(a, b)).toBe(expected);
  });

  test.each([
    ['100m', '200m', '300m'],
    ['1Gi', '1Gi', '2Gi'],
    ['0', '1Ki', '1Ki'],
    ['1', '-1', '0'],
    ['500m', '500m', '1'],
  ])('%s + %s = %s', (a, b, sum) => {
    expect(Quantity.parse(a).add(Quantity.parse(b)).toString()).toBe(sum);
  });

  test('sub, neg, constructors and JSON', () => {
    expect(Quantity.parse('1').sub(Quantity.parse('250m')).toString()).toBe('750m');
    expect(Quantity.parse('1Ki').neg().toString()).toBe('-1Ki');
    expect(Quantity.fromMilli(250).toString()).toBe('250m');
    expect(Quantity.fromValue(1073741824, 'BinarySI').toString()).toBe('1Gi');
    expect(JSON.stringify({ cpu: Quantity.parse('0.5') })).toBe('{"cpu":"500m"}');
    expect(Quantity.parse('2').asNumber()).toBe(2);
  });
});
