import { cpuSecondsBetween, parseProcStatCpuSeconds } from './process-cpu';

describe('parseProcStatCpuSeconds', () => {
  it.each([
    { title: 'a plain name', text: '12205 (cat) R 12203 12203 23394 0 -1 4194304 99 0 0 0 250 50 0 0 20 0 1 0 769908', expected: 3 },
    { title: 'a name with spaces and parentheses', text: '7 (node (main) x) S 1 7 7 0 -1 4194304 99 0 0 0 12 8 0 0 20 0 1 0 5', expected: 0.2 },
    { title: 'text that is not a stat line', text: 'no such process', expected: undefined },
    { title: 'a line cut short', text: '7 (node) S 1 7', expected: undefined },
  ])('$title', ({ text, expected }) => {
    expect(parseProcStatCpuSeconds(text)).toBe(expected);
  });
});

describe('cpuSecondsBetween', () => {
  it.each([
    { title: 'the same process: the difference', before: { a: { pid: 1, seconds: 2 } }, after: { a: { pid: 1, seconds: 5 } }, expected: { a: 3 } },
    { title: 'a process started in between counts from zero', before: {}, after: { a: { pid: 1, seconds: 5 } }, expected: { a: 5 } },
    { title: 'a restarted process (another pid) counts from zero', before: { a: { pid: 1, seconds: 9 } }, after: { a: { pid: 2, seconds: 4 } }, expected: { a: 4 } },
    { title: 'a process gone by the second reading is left out', before: { a: { pid: 1, seconds: 9 } }, after: {}, expected: {} },
  ])('$title', ({ before, after, expected }) => {
    expect(Object.fromEntries(cpuSecondsBetween(new Map(Object.entries(before)), new Map(Object.entries(after))))).toEqual(expected);
  });
});
