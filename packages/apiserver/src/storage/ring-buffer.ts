// A fixed-capacity buffer addressed by absolute sequence numbers: the oldest
// entry is overwritten once full, and a reader holding a sequence number can
// tell whether its entry is still there (startSequence <= seq < endSequence).

export class RingBuffer<E> {
  private readonly slots: (E | undefined)[];
  private start = 0;
  private end = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`ring buffer capacity must be a positive integer, got ${capacity}`);
    this.slots = new Array<E | undefined>(capacity);
  }

  /** Sequence number of the oldest entry still held. */
  get startSequence(): number {
    return this.start;
  }

  /** Sequence number the next pushed entry gets. */
  get endSequence(): number {
    return this.end;
  }

  get size(): number {
    return this.end - this.start;
  }

  /** Appends an entry; returns the one it overwrote when full. */
  push(entry: E): E | undefined {
    let evicted: E | undefined;
    if (this.size === this.capacity) {
      evicted = this.slots[this.start % this.capacity];
      this.start++;
    }
    this.slots[this.end % this.capacity] = entry;
    this.end++;
    return evicted;
  }

  /** The entry with this sequence number, or undefined when it was overwritten or not yet written. */
  at(sequence: number): E | undefined {
    if (sequence < this.start || sequence >= this.end) return undefined;
    return this.slots[sequence % this.capacity];
  }

  /** The oldest entry still held. */
  first(): E | undefined {
    return this.at(this.start);
  }

  /** Smallest sequence number whose entry satisfies test, assuming entries are sorted so test flips once from false to true. */
  findFirst(test: (entry: E) => boolean): number {
    let low = this.start;
    let high = this.end;
    while (low < high) {
      const middle = Math.floor((low + high) / 2);
      if (test(this.slots[middle % this.capacity] as E)) high = middle;
      else low = middle + 1;
    }
    return low;
  }
}
