// A bitmap of used offsets in a range, kept in etcd as one RangeAllocation
// object (upstream's /registry/ranges/serviceips and servicenodeports) and
// changed only by compare-and-swap, so several API servers can share it and a
// restart loses nothing. Offset i is bit (i % 8) of byte floor(i / 8).

import { randomInt } from 'node:crypto';
import type { EtcdStore } from '../../storage';

interface RangeAllocationObject {
  apiVersion: 'v1';
  kind: 'RangeAllocation';
  metadata: { name: string; resourceVersion?: string; creationTimestamp?: string };
  /** The range as the user gave it, e.g. `10.96.0.0/12` or `30000-32767`. */
  range: string;
  /** The bitmap, base64. */
  data: string;
}

/** The range has no free offset left. */
export class RangeFullError extends Error {
  override readonly name = 'RangeFullError';
  constructor(readonly rangeText: string) {
    super(`range is full (${rangeText})`);
  }
}

/** The stored bitmap belongs to a different range (the flag changed between restarts). */
export class RangeMismatchError extends Error {
  override readonly name = 'RangeMismatchError';
  constructor(readonly storedRange: string, readonly configuredRange: string) {
    super(`the stored allocation is for range ${storedRange} but the server is configured with ${configuredRange}`);
  }
}

export interface RangeAllocatorOptions {
  store: EtcdStore;
  /** etcd key of the RangeAllocation object. */
  key: string;
  /** Printed form of the range, stored with the bitmap. */
  rangeText: string;
  /** Number of offsets, [0, size). */
  size: number;
  /** Offsets never handed out by allocateNext (network and broadcast addresses). */
  reservedOffsets?: readonly number[];
}

export class RangeAllocator {
  private readonly store: EtcdStore;
  private readonly key: string;
  readonly rangeText: string;
  readonly size: number;
  private readonly reserved: ReadonlySet<number>;

  constructor(options: RangeAllocatorOptions) {
    if (!Number.isSafeInteger(options.size) || options.size < 1) throw new RangeError(`range size must be a positive integer, got ${options.size}`);
    this.store = options.store;
    this.key = options.key;
    this.rangeText = options.rangeText;
    this.size = options.size;
    this.reserved = new Set(options.reservedOffsets ?? []);
  }

  /** Marks offset used; false when it already was. */
  async allocate(offset: number): Promise<boolean> {
    this.checkOffset(offset);
    let taken = false;
    await this.change((bitmap) => {
      taken = testBit(bitmap, offset);
      if (taken) return false;
      setBit(bitmap, offset, true);
      return true;
    });
    return !taken;
  }

  /** Marks a free offset used and returns it; RangeFullError when none is left. Starts at a random point to spread values. */
  async allocateNext(): Promise<number> {
    let chosen = -1;
    await this.change((bitmap) => {
      chosen = -1;
      const start = randomInt(0, this.size);
      for (let step = 0; step < this.size; step++) {
        const offset = (start + step) % this.size;
        if (this.reserved.has(offset) || testBit(bitmap, offset)) continue;
        chosen = offset;
        setBit(bitmap, offset, true);
        return true;
      }
      return false;
    });
    if (chosen < 0) throw new RangeFullError(this.rangeText);
    return chosen;
  }

  /** Marks offset free; releasing a free offset is not an error. */
  async release(offset: number): Promise<void> {
    if (offset < 0 || offset >= this.size) return;
    await this.change((bitmap) => {
      if (!testBit(bitmap, offset)) return false;
      setBit(bitmap, offset, false);
      return true;
    });
  }

  async isAllocated(offset: number): Promise<boolean> {
    this.checkOffset(offset);
    const bitmap = await this.read();
    return testBit(bitmap, offset);
  }

  /** Number of offsets in use. */
  async used(): Promise<number> {
    const bitmap = await this.read();
    let count = 0;
    for (const byte of bitmap) for (let bit = byte; bit !== 0; bit &= bit - 1) count++;
    return count;
  }

  private checkOffset(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset >= this.size) {
      throw new RangeError(`offset ${offset} is outside the range ${this.rangeText}`);
    }
  }

  private async read(): Promise<Buffer> {
    try {
      const stored = await this.store.get<RangeAllocationObject>(this.key);
      return this.bitmapOf(stored);
    } catch (error) {
      if ((error as { code?: string }).code === 'NotFound') return Buffer.alloc(Math.ceil(this.size / 8));
      throw error;
    }
  }

  private bitmapOf(stored: RangeAllocationObject | undefined): Buffer {
    const bitmap = Buffer.alloc(Math.ceil(this.size / 8));
    if (stored === undefined) return bitmap;
    if (stored.range !== this.rangeText) throw new RangeMismatchError(stored.range, this.rangeText);
    Buffer.from(stored.data, 'base64').copy(bitmap, 0, 0, bitmap.length);
    return bitmap;
  }

  /** Applies `mutate` to the stored bitmap with compare-and-swap; `mutate` returns false to write nothing. */
  private async change(mutate: (bitmap: Buffer) => boolean): Promise<void> {
    await this.store.guaranteedUpdate<RangeAllocationObject>(
      this.key,
      (current) => {
        const bitmap = this.bitmapOf(current);
        if (!mutate(bitmap)) return null;
        const name = this.key.slice(this.key.lastIndexOf('/') + 1);
        return {
          apiVersion: 'v1',
          kind: 'RangeAllocation',
          metadata: current?.metadata ?? { name },
          range: this.rangeText,
          data: bitmap.toString('base64'),
        };
      },
      { ignoreNotFound: true },
    ).catch((error: unknown) => {
      // tryUpdate returning null on an absent key reports NotFound: nothing needed writing.
      if ((error as { code?: string }).code === 'NotFound') return undefined;
      throw error;
    });
  }
}

function testBit(bitmap: Buffer, offset: number): boolean {
  return (((bitmap[offset >> 3] ?? 0) >> (offset & 7)) & 1) === 1;
}

function setBit(bitmap: Buffer, offset: number, value: boolean): void {
  const index = offset >> 3;
  const mask = 1 << (offset & 7);
  bitmap[index] = value ? (bitmap[index] ?? 0) | mask : (bitmap[index] ?? 0) & ~mask;
}
