// The window of MsgApp messages sent to one follower and not yet acknowledged,
// bounded by count and by data bytes: the flow control of 'replicate' state.
import { invariant } from './errors';

export class Inflights {
  // Ring buffer of (last index of the message, its data bytes).
  private readonly indexes: number[];
  private readonly sizes: number[];
  private start = 0;
  private countValue = 0;
  private bytesValue = 0;

  constructor(
    /** Most messages in flight at once. */
    readonly maxMessages: number,
    /** Most data bytes in flight at once; 0 = unlimited. */
    readonly maxBytes: number,
  ) {
    invariant(maxMessages > 0, 'inflights: maxMessages must be positive');
    this.indexes = new Array<number>(maxMessages).fill(0);
    this.sizes = new Array<number>(maxMessages).fill(0);
  }

  get count(): number {
    return this.countValue;
  }

  get bytes(): number {
    return this.bytesValue;
  }

  /** Records a sent message whose last entry is `index`. Indexes must increase. */
  add(index: number, sizeBytes: number): void {
    invariant(!this.full(), 'inflights: add to a full window');
    if (this.countValue > 0) {
      const lastIndex = this.indexes[(this.start + this.countValue - 1) % this.maxMessages]!;
      invariant(index > lastIndex, () => `inflights: index ${index} not above the last in flight ${lastIndex}`);
    }
    const slot = (this.start + this.countValue) % this.maxMessages;
    this.indexes[slot] = index;
    this.sizes[slot] = sizeBytes;
    this.countValue++;
    this.bytesValue += sizeBytes;
  }

  /** Frees every message whose last index is <= `index` (they were acknowledged). */
  freeLessOrEqual(index: number): void {
    while (this.countValue > 0 && this.indexes[this.start]! <= index) {
      this.bytesValue -= this.sizes[this.start]!;
      this.start = (this.start + 1) % this.maxMessages;
      this.countValue--;
    }
    if (this.countValue === 0) this.start = 0;
  }

  full(): boolean {
    return this.countValue === this.maxMessages || (this.maxBytes > 0 && this.bytesValue >= this.maxBytes);
  }

  reset(): void {
    this.start = 0;
    this.countValue = 0;
    this.bytesValue = 0;
  }
}
