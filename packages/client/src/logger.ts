// The logging interface every part of the client accepts, and a small
// implementation writing one JSON object per line ({"level","ts","msg",...}),
// the shape the other components log in. Components may pass their own
// logger as long as it has these four methods.

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface JsonLoggerOptions {
  /** Lines below this level are dropped; "info" by default. */
  level?: LogLevel;
  /** Fields written on every line, e.g. {component: "kube-scheduler"}. */
  fields?: LogFields;
  /** Receives each line without its newline; stderr by default (tests capture lines here). */
  write?: (line: string) => void;
  /** Clock for "ts"; injectable so tests get stable lines. */
  now?: () => Date;
}

export class JsonLogger implements Logger {
  private readonly level: LogLevel;
  private readonly fields: LogFields;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(options: JsonLoggerOptions = {}) {
    this.level = options.level ?? 'info';
    this.fields = options.fields ?? {};
    this.write = options.write ?? ((line) => process.stderr.write(line + '\n'));
    this.now = options.now ?? (() => new Date());
  }

  /** A logger adding `fields` to every line of this one. */
  child(fields: LogFields): JsonLogger {
    return new JsonLogger({ level: this.level, fields: { ...this.fields, ...fields }, write: this.write, now: this.now });
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

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVEL_RANK[level] < LEVEL_RANK[this.level]) return;
    const line: LogFields = { level, ts: this.now().toISOString(), msg };
    for (const [name, value] of Object.entries({ ...this.fields, ...fields })) {
      if (name in line) continue;
      line[name] = value instanceof Error ? describeError(value) : value;
    }
    let text: string;
    try {
      text = JSON.stringify(line);
    } catch {
      // A cyclic or bigint field must not turn a log call into a crash.
      text = JSON.stringify({ level, ts: line['ts'], msg, fieldsError: 'fields could not be serialized' });
    }
    this.write(text);
  }
}

function describeError(error: Error): LogFields {
  const described: LogFields = { name: error.name, message: error.message };
  if (error.cause instanceof Error) described['cause'] = { name: error.cause.name, message: error.cause.message };
  return described;
}

/** A logger that drops everything; the default where none is given. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
