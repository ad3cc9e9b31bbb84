import { CheckPerfOutputError, parseCheckPerfOutput } from './check-perf';

// The tail of a real run (etcdctl 3.4.23, load s), progress bar included.
const PASSED = [
  ' 59 / 60   98.33%\r 60 / 60  100.00% 1m0s',
  'PASS: Throughput is 150 writes/s',
  'PASS: Slowest request took 0.044890s',
  'PASS: Stddev is 0.001640s',
  'PASS',
  '',
].join('\n');

// Built from the FAIL format strings in the etcdctl 3.4 binary.
const FAILED = [
  ' 60 / 60  100.00% 1m0s',
  'FAIL: Throughput too low: 612 writes/s',
  'FAIL: Slowest request took too long: 1.503021s',
  'PASS: Stddev is 0.094418s',
  'FAIL',
  '',
].join('\n');

describe('parseCheckPerfOutput', () => {
  it.each([
    ['a passing run', PASSED, { writesPerSecond: 150, slowestRequestSeconds: 0.04489, stddevSeconds: 0.00164, passed: true }],
    ['a failing run', FAILED, { writesPerSecond: 612, slowestRequestSeconds: 1.503021, stddevSeconds: 0.094418, passed: false }],
  ])('%s', (_name, output, expected) => {
    expect(parseCheckPerfOutput(output)).toEqual(expected);
  });

  it.each([
    ['no output at all', ''],
    ['an error instead of results', 'Error: context deadline exceeded\n'],
    ['results without a verdict', PASSED.replace(/^PASS$/m, '')],
    ['no stddev line', PASSED.replace(/^PASS: Stddev.*$/m, '')],
  ])('rejects %s', (_name, output) => {
    expect(() => parseCheckPerfOutput(output)).toThrow(CheckPerfOutputError);
  });
});
