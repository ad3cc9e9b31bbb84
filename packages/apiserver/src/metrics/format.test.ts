import { formatCpuNanoCores, formatGoDuration, formatMemoryBytes } from './format';

describe('metrics-server figures', () => {
  test.each([
    [0, '0'],
    [1_234_567, '1234567n'],
    [250_000_000, '250m'],
    [2_000_000_000, '2'],
    [1_500, '1500n'],
  ])('cpu %d nanocores is %s', (nanoCores, expected) => {
    expect(formatCpuNanoCores(nanoCores)).toBe(expected);
  });

  test.each([
    [0, '0'],
    [1000, '1000'],
    [12_641_280, '12345Ki'],
    [12_641_281, '12641281'],
    [64 * 1024 * 1024, '64Mi'],
  ])('memory %d bytes is %s', (bytes, expected) => {
    expect(formatMemoryBytes(bytes)).toBe(expected);
  });

  test.each([
    [0, '0s'],
    [250, '250ms'],
    [15_000, '15s'],
    [15_012, '15.012s'],
    [60_000, '1m0s'],
    [90_500, '1m30.5s'],
    [3_723_000, '1h2m3s'],
  ])('window %d ms is %s', (ms, expected) => {
    expect(formatGoDuration(ms)).toBe(expected);
  });
});
