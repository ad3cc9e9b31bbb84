// A bounded single-consumer queue of watch events that is also the watch's
// async iterable. The producer (an etcd watch stream) cannot be slowed down,
// so a full queue ends the watch instead of growing without bound; the
// consumer then rewatches from the last resourceVersion it saw, as
// client-go's reflector does when a watch closes.

import type { StoredObject } from './codec';
import type { StorageWatch, WatchEvent } from './watch-types';

export class WatchEventQueue<T extends StoredObject> implements StorageWatch<T> {
  private readonly items: WatchEvent<T>[] = [];
  private head = 0;
  private wake: (() => void) | undefined;
  private ending = false;
  private iterating = false;
  private reason: string | undefined;

  constructor(
    private readonly capacityEvents: number,
    private readonly onEnd: () => void,
  ) {
    if (!Number.isInteger(capacityEvents) || capacityEvents < 1) throw new RangeError(`capacityEvents must be a positive integer, got ${capacityEvents}`);
  }

  get endReason(): string | undefined {
    return this.reason;
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Queues an event; when the queue is full the watch ends and false is returned. */
  push(event: WatchEvent<T>): boolean {
    if (this.ending) return false;
    if (this.length >= this.capacityEvents) {
      this.end(`consumer too slow: ${this.capacityEvents} events queued`);
      return false;
    }
    this.items.push(event);
    this.signal();
    return true;
  }

  /** Queues a final event even when full (an ERROR must reach the consumer), then ends. */
  pushFinal(event: WatchEvent<T>, reason: string): void {
    if (this.ending) return;
    this.items.push(event);
    this.end(reason);
  }

  /** Ends the watch once the queued events are consumed. */
  end(reason: string): void {
    if (this.ending) return;
    this.ending = true;
    this.reason = reason;
    this.signal();
    this.onEnd();
  }

  stop(): void {
    if (!this.ending) this.end('stopped');
    // Events still queued are dropped: the consumer asked to stop.
    this.items.length = 0;
    this.head = 0;
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.iterating) throw new Error('a storage watch has a single consumer and is already being iterated');
    this.iterating = true;
    try {
      for (;;) {
        if (this.head < this.items.length) {
          const event = this.items[this.head] as WatchEvent<T>;
          this.head++;
          if (this.head > 1024 && this.head * 2 > this.items.length) {
            this.items.splice(0, this.head);
            this.head = 0;
          }
          yield event;
          continue;
        }
        if (this.ending) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    } finally {
      // A consumer that breaks out of its loop has stopped watching.
      this.stop();
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
