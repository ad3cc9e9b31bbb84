// Container log files of the process runtime: CRI records appended to
// `<dir>/<restartCount>.log`, rotated by size to `<restartCount>.log.<n>`
// (higher n = newer), at most maxFiles rotated files kept.
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { formatLogRecord, parseLogRecord, renderLogLine, selectLogLines, type LogRecord, type LogStream } from '../log-format';
import type { LogOptions } from '../runtime';

export interface LogRotation {
  /** Rotate the current file once it grows past this size. */
  maxSizeBytes: number;
  /** Rotated files kept per container instance besides the current one. */
  maxFiles: number;
}

export const DEFAULT_LOG_ROTATION: LogRotation = { maxSizeBytes: 10 * 1024 * 1024, maxFiles: 2 };

function rotatedFiles(logPath: string): string[] {
  const directory = path.dirname(logPath);
  const base = path.basename(logPath);
  let entries: string[] = [];
  try {
    entries = fs.readdirSync(directory);
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.startsWith(`${base}.`) && /^\d+$/.test(entry.slice(base.length + 1)))
    .sort((a, b) => Number(a.slice(base.length + 1)) - Number(b.slice(base.length + 1)))
    .map((entry) => path.join(directory, entry));
}

/** Every file of one container instance, oldest first, the current one last. */
export function logFilesOf(logPath: string): string[] {
  return [...rotatedFiles(logPath), logPath];
}

export class LogFileWriter {
  private descriptor: number | undefined;
  private sizeBytes = 0;

  constructor(
    readonly logPath: string,
    private readonly rotation: LogRotation,
    private readonly nowMs: () => number,
  ) {
    fs.mkdirSync(path.dirname(logPath), { recursive: true });
    this.open();
  }

  write(stream: LogStream, full: boolean, content: string): void {
    if (this.descriptor === undefined) return;
    const line = formatLogRecord({ timeMs: this.nowMs(), stream, full, content });
    const bytes = Buffer.byteLength(line);
    fs.writeSync(this.descriptor, line);
    this.sizeBytes += bytes;
    if (this.sizeBytes >= this.rotation.maxSizeBytes) this.rotate();
  }

  close(): void {
    if (this.descriptor !== undefined) fs.closeSync(this.descriptor);
    this.descriptor = undefined;
  }

  private open(): void {
    this.descriptor = fs.openSync(this.logPath, 'a');
    this.sizeBytes = fs.fstatSync(this.descriptor).size;
  }

  private rotate(): void {
    this.close();
    const existing = rotatedFiles(this.logPath);
    const last = existing[existing.length - 1];
    const nextNumber = last ? Number(last.slice(last.lastIndexOf('.') + 1)) + 1 : 1;
    fs.renameSync(this.logPath, `${this.logPath}.${nextNumber}`);
    const all = rotatedFiles(this.logPath);
    for (const old of all.slice(0, Math.max(0, all.length - this.rotation.maxFiles))) fs.rmSync(old, { force: true });
    this.open();
  }
}

function readRecords(file: string): LogRecord[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const records: LogRecord[] = [];
  for (const line of text.split('\n')) {
    const record = parseLogRecord(line);
    if (record) records.push(record);
  }
  return records;
}

export interface FollowOptions {
  /** While true the reader keeps polling for new lines. */
  isRunning: () => boolean;
  pollIntervalMs?: number;
}

/**
 * A stream of what `kubectl logs` shows for one container instance. With
 * follow it polls the current file (and follows it across rotation, by
 * keeping the renamed file open until drained) until the container exited.
 */
export function readContainerLog(logPath: string, options: LogOptions, follow: FollowOptions): Readable {
  let remainingBytes = options.limitBytes ?? Infinity;
  const stream = new Readable({ read() {} });
  const pushText = (text: string): boolean => {
    if (remainingBytes <= 0 || text.length === 0) return remainingBytes > 0;
    let bytes = Buffer.from(text);
    if (bytes.length > remainingBytes) bytes = bytes.subarray(0, remainingBytes);
    remainingBytes -= bytes.length;
    stream.push(bytes);
    return remainingBytes > 0;
  };

  // The history: every file, since and tail applied to whole lines.
  const files = logFilesOf(logPath);
  const history = selectLogLines(files.flatMap(readRecords), options);
  const more = pushText(history.map((line) => renderLogLine(line, options.timestamps)).join(''));
  if (!options.follow || !more) {
    stream.push(null);
    return stream;
  }

  // Follow: continue from the end of the current file.
  let descriptor: number | undefined;
  let position = 0;
  let partial = '';
  let timer: NodeJS.Timeout | undefined;
  try {
    descriptor = fs.openSync(logPath, 'r');
    position = fs.fstatSync(descriptor).size;
  } catch {
    descriptor = undefined;
  }
  const finish = (): void => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (descriptor !== undefined) fs.closeSync(descriptor);
    descriptor = undefined;
    stream.push(null);
  };
  const drain = (): boolean => {
    if (descriptor === undefined) return true;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const read = fs.readSync(descriptor, buffer, 0, buffer.length, position);
      if (read <= 0) break;
      position += read;
      partial += buffer.subarray(0, read).toString('utf8');
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const record = parseLogRecord(line);
        if (!record || (options.sinceMs !== undefined && record.timeMs < options.sinceMs)) continue;
        if (!pushText(renderLogLine(record, options.timestamps))) return false;
      }
    }
    return true;
  };
  const poll = (): void => {
    timer = undefined;
    try {
      const running = follow.isRunning();
      if (!drain()) return finish();
      // Rotated: the path now names a new file; the old one was drained above.
      let current: fs.Stats | undefined;
      try {
        current = fs.statSync(logPath);
      } catch {
        current = undefined;
      }
      if (current && (descriptor === undefined || fs.fstatSync(descriptor).ino !== current.ino)) {
        if (descriptor !== undefined) fs.closeSync(descriptor);
        descriptor = fs.openSync(logPath, 'r');
        position = 0;
        partial = '';
        if (!drain()) return finish();
      }
      if (!running) return finish();
      timer = setTimeout(poll, follow.pollIntervalMs ?? 200);
    } catch (error) {
      stream.destroy(error as Error);
    }
  };
  stream.on('close', () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (descriptor !== undefined) fs.closeSync(descriptor);
    descriptor = undefined;
  });
  timer = setTimeout(poll, 0);
  return stream;
}
