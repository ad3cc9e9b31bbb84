import { formatLogRecord, formatLogTimestamp, LogLineSplitter, parseLogRecord, renderLogLine, selectLogLines, type LogRecord } from './log-format';

const at = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

function record(content: string, offsetMs: number, full = true, stream: 'stdout' | 'stderr' = 'stdout'): LogRecord {
  return { timeMs: at + offsetMs, timestamp: formatLogTimestamp(at + offsetMs), stream, full, content };
}

describe('CRI log records', () => {
  it('round-trips a record through its stored form', () => {
    const line = formatLogRecord({ timeMs: at, stream: 'stderr', full: true, content: 'hello world' });
    expect(line).toBe('2024-01-02T03:04:05.678000000Z stderr F hello world\n');
    expect(parseLogRecord(line.trimEnd())).toEqual({ timeMs: at, timestamp: '2024-01-02T03:04:05.678000000Z', stream: 'stderr', full: true, content: 'hello world' });
    expect(parseLogRecord('garbage')).toBeUndefined();
  });

  it.each([
    ['tail 2', { tailLines: 2 }, ['b', 'c']],
    ['tail 0', { tailLines: 0 }, []],
    ['since the second line', { sinceMs: at + 1000 }, ['b', 'c']],
    ['all', {}, ['a', 'b', 'c']],
  ])('selects lines: %s', (_name, selection, expected) => {
    expect(selectLogLines([record('a', 0), record('b', 1000), record('c', 2000)], selection).map((line) => line.content)).toEqual(expected);
  });

  it('joins partial records into one line and renders timestamps', () => {
    const lines = selectLogLines([record('long ', 0, false), record('line', 1), record('next', 2)], {});
    expect(lines.map((line) => line.content)).toEqual(['long line', 'next']);
    expect(renderLogLine(lines[0] as LogRecord, true)).toBe('2024-01-02T03:04:05.678000000Z long line\n');
  });

  it('splits output into lines, cutting overlong ones into partial records', () => {
    const records: string[] = [];
    const splitter = new LogLineSplitter('stdout', (line) => records.push(`${line.full ? 'F' : 'P'}:${line.content}`), 4);
    splitter.push('ab');
    splitter.push('c\ndefghij');
    splitter.push('k\nlast');
    splitter.end();
    expect(records).toEqual(['F:abc', 'P:defg', 'F:hijk', 'P:last']);
  });
});
