// A bounded hand-off from a synchronous producer (the fake store's writes) to
// an async consumer (a `for await` over a Watch). A consumer that falls more
// than maxBuffered events behind gets its stream ended, as the API server
// drops a slow watcher; the informer then re-watches from its last version.

export class WatchChannel<T> {
  private readonly buffer: T[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly maxBuffered: number) {}

  get isEnded(): boolean {
    return this.ended;
  }

  /** Queues an item; ends the channel (and returns false) when the consumer is too far behind. */
  push(item: T): boolean {
    if (this.ended) return false;
    if (this.buffer.length >= this.maxBuffered) {
      this.end();
      return false;
    }
    this.buffer.push(item);
    this.notify();
    return true;
  }

  /** No more items; the consumer sees the buffered ones, then `error` if given, else the end. */
  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = error;
    this.notify();
  }

  /** Ends at once, dropping what is buffered (the consumer stopped). */
  close(): void {
    this.buffer.length = 0;
    this.ended = true;
    this.failure = undefined;
    this.notify();
  }

  async *items(): AsyncGenerator<T> {
    for (;;) {
      const item = this.buffer.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
