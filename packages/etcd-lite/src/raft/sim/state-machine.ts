// The replicated application of the simulator: an ordered list of client
// values. Its snapshot image is JSON, so a restored node can be compared
// value by value with what the others applied.
import type { AppliedItem } from './checkers';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A snapshot image that does not decode: the disk or the transfer corrupted it. */
export class SnapshotImageError extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`simulator snapshot image: ${reason}`, options);
    this.name = 'SnapshotImageError';
  }
}

export class ValueList {
  private readonly items: AppliedItem[];

  constructor(items: readonly AppliedItem[] = []) {
    this.items = items.slice();
  }

  static fromImage(image: Uint8Array): ValueList {
    if (image.byteLength === 0) return new ValueList();
    let parsed: unknown;
    try {
      parsed = JSON.parse(decoder.decode(image));
    } catch (error) {
      throw new SnapshotImageError('not JSON', { cause: error });
    }
    if (!Array.isArray(parsed)) throw new SnapshotImageError('not a list of items');
    return new ValueList(parsed as AppliedItem[]);
  }

  add(item: AppliedItem): void {
    this.items.push(item);
  }

  get contents(): readonly AppliedItem[] {
    return this.items;
  }

  values(): string[] {
    return this.items.map((item) => item.value);
  }

  toImage(): Uint8Array {
    return encoder.encode(JSON.stringify(this.items));
  }
}

export function encodeValue(value: string): Uint8Array {
  return encoder.encode(value);
}

export function decodeValue(data: Uint8Array): string {
  return decoder.decode(data);
}
