// Structured logging: one JSON object per line on stderr, the shape etcd's zap
// logger writes ({"level","ts","msg", ...fields}) plus the component.
//
// Keys may be logged but never the values stored under them: those may be
// secrets (Kubernetes Secrets live in etcd). So byte arrays are logged only as
// their length, and fields whose name says they carry data are redacted.

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, unknown>;

/** Field names whose values are replaced with REDACTED whatever their type. */
const REDACTED_FIELD_NAMES = new Set(['value', 'values', 'data', 'prevValue', 'password', 'secret', 'authorization']);
export const REDACTED = '[redacted]';
/** Nested objects deeper than this are summarized, so one log call stays small. */
const MAX_FIELD_DEPTH = 4;

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface LoggerOptions {
  /** Events below this level are dropped. */
  level?: LogLevel;
  /** The part of the program logging (e.g. "raft", "transport"); child loggers may override it. */
  component?: string;
  /** Fields added to every line. */
  fields?: LogFields;
  /** Receives each line without its newline; stderr by default (tests capture lines here). */
  write?: (line: string) => void;
  /** Clock for "ts"; injectable so tests get stable lines. */
  now?: () => Date;
}

export class Logger {
  private readonly level: LogLevel;
  private readonly fixedFields: LogFields;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(options: LoggerOptions = {}) {
    this.level = options.level ?? 'info';
    this.fixedFields = { ...(options.component === undefined ? {} : { component: options.component }), ...options.fields };
    this.write = options.write ?? ((line) => process.stderr.write(line + '\n'));
    this.now = options.now ?? (() => new Date());
  }

  /** A logger adding `fields` (which may set "component") to every line of this one. */
  child(fields: LogFields): Logger {
    return new Logger({
      level: this.level,
      fields: { ...this.fixedFields, ...fields },
      write: this.write,
      now: this.now,
    });
  }

  isEnabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= LEVEL_RANK[this.level];
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

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (!this.isEnabled(level)) return;
    const line: LogFields = { level, ts: this.now().toISOString(), msg };
    for (const [name, value] of Object.entries({ ...this.fixedFields, ...fields })) {
      if (name === 'level' || name === 'ts' || name === 'msg') continue;
      line[name] = safeValue(name, value, 0);
    }
    this.write(JSON.stringify(line));
  }
}

/** A logger that drops everything; for tests and optional dependencies. */
export function silentLogger(): Logger {
  return new Logger({ write: () => undefined });
}

function safeValue(name: string, value: unknown, depth: number): unknown {
  if (REDACTED_FIELD_NAMES.has(name)) return REDACTED;
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value instanceof Error) return describeError(value, depth);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol') return String(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_FIELD_DEPTH) return '[nested too deep]';
  if (Array.isArray(value)) return value.map((item) => safeValue('', item, depth + 1));
  const safe: LogFields = {};
  for (const [key, inner] of Object.entries(value)) safe[key] = safeValue(key, inner, depth + 1);
  return safe;
}

function describeError(error: Error, depth: number): LogFields {
  const described: LogFields = { name: error.name, message: error.message };
  if (error.cause !== undefined && depth < MAX_FIELD_DEPTH) described['cause'] = safeValue('cause', error.cause, depth + 1);
  return described;
}
