// Matching applied entries to the callers waiting for them.
//
// Every proposal carries a request id that no other in-flight proposal of
// the cluster shares: the top bits come from the proposing member's id, the
// rest from a counter seeded with the clock (so ids do not repeat after a
// restart while old entries are still being applied). When a member applies
// an entry it resolves the waiter registered under the entry's id, if any:
// only the proposer has one.

const counterBits = 37;
const counterModulus = 2 ** counterBits;
/** 53 - counterBits bits of the member id lead every request id. */
const prefixModulus = 2 ** (53 - counterBits);

export class RequestIdGenerator {
  private readonly prefix: number;
  private counter: number;

  constructor(memberId: number, nowMs: number = Date.now()) {
    this.prefix = (memberId % prefixModulus) * counterModulus;
    // Milliseconds times 256 leave room for 256 requests per millisecond before ids run into the next restart's.
    this.counter = (nowMs * 256) % counterModulus;
  }

  next(): number {
    this.counter = (this.counter + 1) % counterModulus;
    // 0 would read as "no id" on the wire.
    if (this.prefix + this.counter === 0) this.counter = 1;
    return this.prefix + this.counter;
  }
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: Error) => void;
}

/** Callers waiting for their request id to be applied, with their outcome type. */
export class WaiterRegistry<T> {
  private readonly waiters = new Map<number, Waiter<T>>();

  /** Registers before proposing, so an entry applied at once still finds its waiter. */
  register(id: number): Promise<T> {
    return new Promise<T>((resolve, reject) => this.waiters.set(id, { resolve, reject }));
  }

  has(id: number): boolean {
    return this.waiters.has(id);
  }

  resolve(id: number, value: T): void {
    const waiter = this.waiters.get(id);
    if (waiter === undefined) return;
    this.waiters.delete(id);
    waiter.resolve(value);
  }

  reject(id: number, error: Error): void {
    const waiter = this.waiters.get(id);
    if (waiter === undefined) return;
    this.waiters.delete(id);
    waiter.reject(error);
  }

  rejectAll(error: Error): void {
    const waiters = [...this.waiters.values()];
    this.waiters.clear();
    for (const waiter of waiters) waiter.reject(error);
  }

  get size(): number {
    return this.waiters.size;
  }
}
