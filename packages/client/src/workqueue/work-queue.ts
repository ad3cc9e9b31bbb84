// The queue between informer event handlers and a controller's workers, with
// client-go's guarantees: a key queued twice is handed out once; a key is
// never handed to two workers at once (re-added while in process, it is
// queued again when the worker calls done); failures come back after a
// per-key backoff. Unlike client-go's queue it is bounded: past maxSize keys
// add() throws QueueFullError instead of growing without limit.
import { ClientConfigError, QueueFullError } from '../errors';
import { defaultControllerRateLimiter, type RateLimiter } from './rate-limiter';

export interface WorkQueueOptions<K> {
  /** Names the queue in errors and logs ("deployment"). */
  name?: string;
  /** Most distinct keys queued (or due to be requeued) at once; 100000 by default. Delayed keys are bounded separately by the same number. */
  maxSize?: number;
  /** Delays for addRateLimited; client-go's default controller limiter when absent. */
  rateLimiter?: RateLimiter<K>;
}

interface Delayed {
  readyAtMs: number;
  timer: NodeJS.Timeout;
}

/** Retry interval of a delayed key that came due while the queue was full. */
const FULL_QUEUE_RETRY_MS = 50;

/** Keys should be primitives (strings, usually "namespace/name"): they are compared by identity. */
export class WorkQueue<K> {
  readonly name: string;
  private readonly maxSize: number;
  private readonly rateLimiter: RateLimiter<K>;
  /** Keys to hand out, in order; each is also in `dirty`. */
  private readonly queue: K[] = [];
  /** Keys that need processing: queued, or re-added while being processed. */
  private readonly dirty = new Set<K>();
  /** Keys handed to a worker and not yet done. */
  private readonly processing = new Set<K>();
  private readonly delayed = new Map<K, Delayed>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions<K> = {}) {
    this.name = options.name ?? 'queue';
    this.maxSize = options.maxSize ?? 100_000;
    if (!Number.isInteger(this.maxSize) || this.maxSize < 1) throw new ClientConfigError(`work queue maxSize must be a positive integer, got ${this.maxSize}`);
    this.rateLimiter = options.rateLimiter ?? defaultControllerRateLimiter<K>();
  }

  /** Queues `key` unless it is queued already; throws QueueFullError past maxSize. Ignored after shutDown. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    if (this.dirty.size >= this.maxSize) throw new QueueFullError(this.name, this.maxSize);
    this.dirty.add(key);
    // A key in process is handed out again by done(), never twice at once.
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      this.processing.add(key);
      this.dirty.delete(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /**
   * The next key to process, waiting for one if need be; undefined once the
   * queue is shut down and empty. Call done(key) when finished with it.
   */
  get(): Promise<K | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker finished `key`; if it was re-added meanwhile it is queued again now. */
  done(key: K): void {
    if (!this.processing.delete(key)) return;
    if (this.dirty.has(key)) {
      const waiter = this.waiters.shift();
      if (waiter !== undefined) {
        this.dirty.delete(key);
        this.processing.add(key);
        waiter(key);
      } else {
        this.queue.push(key);
      }
    }
    if (this.processing.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Queues `key` after `delayMs`; an earlier pending time for the same key wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const readyAtMs = Date.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing !== undefined) {
      if (existing.readyAtMs <= readyAtMs) return;
      clearTimeout(existing.timer);
    } else if (this.delayed.size >= this.maxSize) {
      throw new QueueFullError(`${this.name} (delayed)`, this.maxSize);
    }
    this.schedule(key, readyAtMs, delayMs);
  }

  /** Queues `key` after its rate limiter's delay (5 ms, 10 ms, 20 ms ... per consecutive failure). */
  addRateLimited(key: K): void {
    this.addAfter(key, this.rateLimiter.when(key));
  }

  /** The key succeeded: its next failure starts the backoff over. */
  forget(key: K): void {
    this.rateLimiter.forget(key);
  }

  /** Consecutive failures of `key` so far. */
  numRequeues(key: K): number {
    return this.rateLimiter.numRequeues(key);
  }

  /** Keys waiting to be handed out (not those in process or delayed). */
  len(): number {
    return this.queue.length;
  }

  /** Keys delayed by addAfter or addRateLimited. */
  delayedLen(): number {
    return this.delayed.size;
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Stops accepting keys and drops delayed ones; workers still get the keys
   * already queued, then undefined.
   */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /** shutDown, then wait until no key is in process. */
  async shutDownWithDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private schedule(key: K, readyAtMs: number, delayMs: number): void {
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      try {
        this.add(key);
      } catch (error) {
        if (!(error instanceof QueueFullError)) throw error;
        // Back-pressure: keep the key delayed until the workers make room.
        this.schedule(key, Date.now() + FULL_QUEUE_RETRY_MS, FULL_QUEUE_RETRY_MS);
      }
    }, delayMs);
    this.delayed.set(key, { readyAtMs, timer });
  }
}
