// One JSON object per line: what operators grep and ship. Same shape as the
// other components' logs (level, ts, msg, component, then fields).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const levelOrder: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  /** Lines below this level are dropped; default `info`. */
  level?: LogLevel;
  /** Where lines go; default stderr, in batches written once per turn of the event loop and at exit. */
  write?: (line: string) => void;
  component?: string;
  /** Injected clock (tests). */
  now?: () => Date;
}

function serialize(value: unknown): unknown {
  if (value instanceof Error) {
    const error: Record<string, unknown> = { name: value.name, message: value.message };
    if (value.cause !== undefined) error.cause = serialize(value.cause);
    return error;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/** A batch larger than this is written at once rather than at the end of the event loop's turn. */
const MAX_PENDING_LOG_BYTES = 64 * 1024;

/**
 * Log lines written in batches: one write per turn of the event loop instead
 * of one per line. A busy server logs hundreds of request lines a second, and
 * each write to stderr is a synchronous system call.
 */
export class BatchedLineWriter {
  private pending: string[] = [];
  private pendingBytes = 0;
  private scheduled = false;

  constructor(
    /** Receives whole lines, each ending in a newline. */
    private readonly sink: (text: string) => void,
    private readonly maxPendingBytes = MAX_PENDING_LOG_BYTES,
  ) {}

  write(line: string): void {
    this.pending.push(line);
    this.pendingBytes += line.length + 1;
    if (this.pendingBytes >= this.maxPendingBytes) {
      this.flush();
    } else if (!this.scheduled) {
      this.scheduled = true;
      // unref: a pending batch never keeps the process alive; the exit hook writes it.
      setImmediate(() => this.flush()).unref();
    }
  }

  /** Writes what is pending now. */
  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.pending = [];
    this.pendingBytes = 0;
    this.sink(text);
  }
}

const stderrLines = new BatchedLineWriter((text) => process.stderr.write(text));
let exitHooked = false;

/**
 * The default destination: stderr, batched. The batch is written
 * synchronously (stderr is synchronous for files and pipes) when the process
 * exits for any reason: process.exit after SIGTERM, the event loop running
 * dry, an uncaught exception. Only SIGKILL loses the last turn's lines.
 */
function writeToStderr(line: string): void {
  if (!exitHooked) {
    exitHooked = true;
    process.on('exit', () => stderrLines.flush());
  }
  stderrLines.write(line);
}

/** Writes out the log lines still waiting for the end of the event loop's turn (before writing to stderr directly). */
export function flushLogs(): void {
  stderrLines.flush();
}

export class Logger {
  private readonly threshold: number;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(
    private readonly options: LoggerOptions = {},
    private readonly fixed: LogFields = {},
  ) {
    this.threshold = levelOrder[options.level ?? 'info'];
    this.write = options.write ?? writeToStderr;
    this.now = options.now ?? (() => new Date());
  }

  enabled(level: LogLevel): boolean {
    return levelOrder[level] >= this.threshold;
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    // One object built in place: this runs for every request a busy server answers.
    const record: LogFields = {};
    for (const key of Object.keys(this.fixed)) record[key] = serialize(this.fixed[key]);
    for (const key of Object.keys(fields)) record[key] = serialize(fields[key]);
    record.level = level;
    record.ts = this.now().toISOString();
    record.msg = msg;
    record.component = this.options.component ?? 'kube-apiserver';
    this.write(JSON.stringify(record));
  }

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }
}

/** A logger that writes nothing (tests that do not look at logs). */
export const silentLogger = new Logger({ level: 'error', write: () => {} });
