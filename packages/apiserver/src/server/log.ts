// One JSON object per line: what operators grep and ship. Same shape as the
// other components' logs (level, ts, msg, component, then fields).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const levelOrder: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export type LogFields = Record<string, unknown>;

export interface LoggerOptions {
  /** Lines below this level are dropped; default `info`. */
  level?: LogLevel;
  /** Where lines go; default stderr. */
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

export class Logger {
  private readonly threshold: number;
  private readonly write: (line: string) => void;
  private readonly now: () => Date;

  constructor(
    private readonly options: LoggerOptions = {},
    private readonly fixed: LogFields = {},
  ) {
    this.threshold = levelOrder[options.level ?? 'info'];
    this.write = options.write ?? ((line) => process.stderr.write(`${line}\n`));
    this.now = options.now ?? (() => new Date());
  }

  enabled(level: LogLevel): boolean {
    return levelOrder[level] >= this.threshold;
  }

  log(level: LogLevel, msg: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    const record: LogFields = {};
    for (const [key, value] of Object.entries({ ...this.fixed, ...fields })) record[key] = serialize(value);
    this.write(JSON.stringify({ ...record, level, ts: this.now().toISOString(), msg, component: this.options.component ?? 'kube-apiserver' }));
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
