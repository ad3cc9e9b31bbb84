// How long a failed key waits before its next try, after client-go's
// workqueue rate limiters: per-key exponential backoff (5 ms doubling up to
// 1000 s by default), an overall token bucket, and the max of several.

export interface RateLimiter<K> {
  /** The delay before `key` may be retried, counting this as one more failure. */
  when(key: K): number;
  /** The key succeeded: start its backoff over. */
  forget(key: K): void;
  /** Failures counted for `key` since it was last forgotten. */
  numRequeues(key: K): number;
}

export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();

  constructor(
    /** Delay after the first failure. */
    private readonly baseDelayMs = 5,
    /** Ceiling of the delay, however many failures. */
    private readonly maxDelayMs = 1_000_000,
  ) {}

  when(key: K): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    // 2^failures overflows to Infinity long after the ceiling is reached; min() keeps it finite.
    return Math.min(this.baseDelayMs * 2 ** failures, this.maxDelayMs);
  }

  forget(key: K): void {
    this.failures.delete(key);
  }

  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

/** An overall rate (qps with a burst) shared by all keys; forgets nothing because it tracks no key. */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private lastRefillMs: number;

  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly nowMs: () => number = Date.now,
  ) {
    this.tokens = burst;
    this.lastRefillMs = nowMs();
  }

  when(_key: K): number {
    const now = this.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastRefillMs) / 1000) * this.qps);
    this.lastRefillMs = now;
    // Reserve a token even if it is in the future, as rate.Limiter.Reserve does.
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }

  forget(_key: K): void {}

  numRequeues(_key: K): number {
    return 0;
  }
}

/** The longest delay of several limiters. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];

  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }

  when(key: K): number {
    return Math.max(0, ...this.limiters.map((limiter) => limiter.when(key)));
  }

  forget(key: K): void {
    for (const limiter of this.limiters) limiter.forget(key);
  }

  numRequeues(key: K): number {
    return Math.max(0, ...this.limiters.map((limiter) => limiter.numRequeues(key)));
  }
}

/** client-go's DefaultControllerRateLimiter: 5 ms..1000 s per key, and 10 qps with a burst of 100 overall. */
export function defaultControllerRateLimiter<K>(): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(new ItemExponentialRateLimiter<K>(5, 1_000_000), new BucketRateLimiter<K>(10, 100));
}
