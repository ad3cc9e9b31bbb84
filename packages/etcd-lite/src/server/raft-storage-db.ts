// A promise-returning view of the few operations of the `rocksdb` package
// (a leveldown binding, shipped without types) that the Raft storage uses.

const rocksdb: (location: string) => LevelDownDatabase = require('rocksdb');

type Callback<T = void> = (error: Error | null | undefined, value: T) => void;

interface LevelDownIterator {
  next(callback: (error: Error | null | undefined, key?: Buffer, value?: Buffer) => void): void;
  end(callback: Callback): void;
}

interface RangeOptions {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
}

interface LevelDownDatabase {
  open(options: { createIfMissing: boolean; errorIfExists: boolean }, callback: Callback): void;
  close(callback: Callback): void;
  get(key: Buffer, options: { asBuffer: true }, callback: Callback<Buffer>): void;
  batch(operations: BatchOperation[], options: { sync: boolean }, callback: Callback): void;
  iterator(options: RangeOptions & { keyAsBuffer: true; valueAsBuffer: true }): LevelDownIterator;
  clear(options: RangeOptions, callback: Callback): void;
}

export type BatchOperation = { type: 'put'; key: Buffer; value: Uint8Array } | { type: 'del'; key: Buffer };

/** The write-ahead log database failed (I/O error, corruption, already locked by another process). */
export class WalDatabaseError extends Error {
  constructor(operation: string, location: string, options?: { cause?: unknown }) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`raft storage: ${operation} of ${location} failed${reason}`, options);
    this.name = 'WalDatabaseError';
  }
}

function call<T>(operation: string, location: string, run: (callback: Callback<T>) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    run((error, value) => (error ? reject(new WalDatabaseError(operation, location, { cause: error })) : resolve(value)));
  });
}

export class WalDatabase {
  private constructor(
    private readonly db: LevelDownDatabase,
    readonly location: string,
  ) {}

  static async open(location: string): Promise<WalDatabase> {
    const db = rocksdb(location);
    await call('open', location, (cb) => db.open({ createIfMissing: true, errorIfExists: false }, cb));
    return new WalDatabase(db, location);
  }

  close(): Promise<void> {
    return call('close', this.location, (cb) => this.db.close(cb));
  }

  /** The value of `key`, or undefined when it is absent. */
  async get(key: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) => {
      this.db.get(key, { asBuffer: true }, (error, value) => {
        if (!error) resolve(value);
        else if (/notfound/i.test(error.message)) resolve(undefined);
        else reject(new WalDatabaseError('get', this.location, { cause: error }));
      });
    });
  }

  /** Applies all operations or none (a RocksDB WriteBatch); with `sync`, fsyncs the WAL first. */
  batch(operations: BatchOperation[], sync: boolean): Promise<void> {
    return call('batch write', this.location, (cb) => this.db.batch(operations, { sync }, cb));
  }

  /** Deletes every key in the range; not atomic, so callers only clear data already unreachable. */
  clear(range: RangeOptions): Promise<void> {
    return call('clear', this.location, (cb) => this.db.clear(range, cb));
  }

  /** Every key and value in the range, in key order (bounded by what the range holds). */
  async scan(range: RangeOptions, visit: (key: Buffer, value: Buffer) => void): Promise<void> {
    const iterator = this.db.iterator({ ...range, keyAsBuffer: true, valueAsBuffer: true });
    try {
      for (;;) {
        const pair = await new Promise<[Buffer, Buffer] | undefined>((resolve, reject) => {
          iterator.next((error, key, value) => {
            if (error) reject(new WalDatabaseError('scan', this.location, { cause: error }));
            else resolve(key === undefined || value === undefined ? undefined : [key, value]);
          });
        });
        if (pair === undefined) return;
        visit(pair[0], pair[1]);
      }
    } finally {
      await call('iterator end', this.location, (cb) => iterator.end(cb));
    }
  }
}
