// Decoded int64 fields arrive as decimal strings; etcd-lite computes with JS
// numbers, which is exact below 2^53. Revisions and counts never get near
// that; ids chosen by a client could, so they are checked rather than rounded.

import type { Int64 } from './types';

export class Int64RangeError extends Error {
  constructor(
    readonly field: string,
    readonly value: string,
  ) {
    super(`${field} ${value} is outside the range etcd-lite supports (-(2^53-1) .. 2^53-1)`);
    this.name = 'Int64RangeError';
  }
}

/** An int64 field as a number; undefined/null/'' read as 0 (the proto3 default). */
export function int64ToNumber(value: Int64 | null | undefined, field: string): number {
  if (value === undefined || value === null || value === '') return 0;
  const result = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(result)) throw new Int64RangeError(field, String(value));
  return result;
}
