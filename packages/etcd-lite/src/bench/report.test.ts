import { BenchRow, formatTable, throughputRatio } from './report';

const result = (writesPerSecond: number, passed = true) => ({ writesPerSecond, slowestRequestSeconds: 0.0449, stddevSeconds: 0.0016, passed });

describe('throughputRatio', () => {
  it.each<[string, BenchRow[], number | undefined]>([
    [
      'etcd-lite over etcd for the same load',
      [
        { load: 's', implementation: 'etcd-lite', outcome: result(75) },
        { load: 's', implementation: 'etcd', outcome: result(150) },
        { load: 'm', implementation: 'etcd', outcome: result(1000) },
      ],
      0.5,
    ],
    ['only one implementation measured', [{ load: 's', implementation: 'etcd', outcome: result(150) }], undefined],
    [
      'one side failed',
      [
        { load: 's', implementation: 'etcd-lite', outcome: { error: 'did not start' } },
        { load: 's', implementation: 'etcd', outcome: result(150) },
      ],
      undefined,
    ],
  ])('%s', (_name, rows, expected) => {
    expect(throughputRatio(rows, 's')).toBe(expected);
  });
});

describe('formatTable', () => {
  it('prints a header, a rule and one aligned row per measurement', () => {
    const table = formatTable([
      { load: 's', implementation: 'etcd-lite', outcome: result(120, false) },
      { load: 's', implementation: 'etcd', outcome: result(150) },
      { load: 'm', implementation: 'etcd-lite', outcome: { error: 'cluster not healthy' } },
    ]);
    const lines = table.split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\| load \| implementation \| writes\/s \| slowest +\| stddev +\| result +\| ratio etcd-lite\/etcd \|$/);
    expect(lines[1]).toMatch(/^\|[-|]+\|$/);
    expect(lines[2]!.split('|').map((cell) => cell.trim())).toEqual(['', 's', 'etcd-lite', '120', '44.9 ms', '1.6 ms', 'FAIL', '0.80', '']);
    expect(lines[3]!.split('|').map((cell) => cell.trim())).toEqual(['', 's', 'etcd', '150', '44.9 ms', '1.6 ms', 'PASS', '-', '']);
    expect(lines[4]).toContain('ERROR: cluster not healthy');
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
  });
});
