// Container log records in the CRI log format upstream runtimes write:
//   2024-01-02T03:04:05.123456789Z stdout F the line
// ("F" a full line, "P" a part of a longer one). Keeping the time of every
// line on disk is what lets `kubectl logs --timestamps/--since` work later.
// Pure code: the process runtime and the fake both format and filter with it.

export type LogStream = 'stdout' | 'stderr';

export interface LogRecord {
  timeMs: number;
  /** The timestamp exactly as stored (nanosecond RFC 3339). */
  timestamp: string;
  stream: LogStream;
  /** False for a "P" record: the line continues in the next record. */
  full: boolean;
  content: string;
}

/** RFC 3339 with nine fractional digits, as CRI log files carry. */
export function formatLogTimestamp(timeMs: number): string {
  const iso = new Date(timeMs).toISOString(); // ...T03:04:05.123Z
  return `${iso.slice(0, -1)}000000Z`;
}

export function formatLogRecord(record: Omit<LogRecord, 'timestamp'> & { timestamp?: string }): string {
  return `${record.timestamp ?? formatLogTimestamp(record.timeMs)} ${record.stream} ${record.full ? 'F' : 'P'} ${record.content}\n`;
}

/** Parses one stored line (without its newline); undefined when it is not a CRI record. */
export function parseLogRecord(line: string): LogRecord | undefined {
  const match = /^(\S+) (stdout|stderr) ([FP]) (.*)$/s.exec(line);
  if (!match) return undefined;
  const [, timestamp = '', stream, flag, content = ''] = match;
  const timeMs = Date.parse(timestamp.replace(/(\.\d{3})\d*Z$/, '$1Z'));
  if (Number.isNaN(timeMs)) return undefined;
  return { timeMs, timestamp, stream: stream as LogStream, full: flag === 'F', content };
}

export interface LogSelection {
  tailLines?: number;
  sinceMs?: number;
  timestamps?: boolean;
}

/** Joins "P" records into whole lines; a trailing partial line is kept as a line. */
export function joinPartialRecords(records: LogRecord[]): LogRecord[] {
  const lines: LogRecord[] = [];
  let pending: LogRecord | undefined;
  for (const record of records) {
    if (pending && pending.stream === record.stream) {
      pending = { ...pending, content: pending.content + record.content, full: record.full };
    } else {
      if (pending) lines.push(pending);
      pending = record;
    }
    if (pending.full) {
      lines.push(pending);
      pending = undefined;
    }
  }
  if (pending) lines.push(pending);
  return lines;
}

/** What `kubectl logs` prints for a record. */
export function renderLogLine(record: LogRecord, timestamps: boolean | undefined): string {
  const text = record.full ? `${record.content}\n` : record.content;
  return timestamps ? `${record.timestamp} ${text}` : text;
}

/** Applies since and tail to whole lines, in order. */
export function selectLogLines(records: LogRecord[], selection: LogSelection): LogRecord[] {
  let lines = joinPartialRecords(records);
  if (selection.sinceMs !== undefined) {
    const sinceMs = selection.sinceMs;
    lines = lines.filter((line) => line.timeMs >= sinceMs);
  }
  if (selection.tailLines !== undefined && selection.tailLines >= 0) lines = selection.tailLines === 0 ? [] : lines.slice(-selection.tailLines);
  return lines;
}

/**
 * Splits a stream's raw output into records. Feed chunks with `push`; a line
 * longer than maxLineBytes is cut into "P" records so no buffer grows unbounded.
 */
export class LogLineSplitter {
  private pending = '';

  constructor(
    private readonly stream: LogStream,
    private readonly emit: (record: Omit<LogRecord, 'timestamp' | 'timeMs'>) => void,
    private readonly maxLineBytes = 16 * 1024,
  ) {}

  push(chunk: Buffer | string): void {
    this.pending += chunk.toString();
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      this.emit({ stream: this.stream, full: true, content: this.pending.slice(0, newline) });
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
    while (this.pending.length > this.maxLineBytes) {
      this.emit({ stream: this.stream, full: false, content: this.pending.slice(0, this.maxLineBytes) });
      this.pending = this.pending.slice(this.maxLineBytes);
    }
  }

  /** The stream ended: a last line without newline is written as a partial record. */
  end(): void {
    if (this.pending.length > 0) this.emit({ stream: this.stream, full: false, content: this.pending });
    this.pending = '';
  }
}
