// etcd's key-range convention, shared by reads, deletes, compares and
// watches: no range end means the key alone; a range end of a single 0x00
// byte means every key from `key` on; otherwise the half-open [key, rangeEnd).
// Keys are handled as latin1 strings (one char per byte), so string order is
// byte order and they can key a Map.

export type KeyRange =
  | { kind: 'single'; start: string }
  | { kind: 'from'; start: string }
  | { kind: 'between'; start: string; end: string };

export const toLatin1 = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

export function keyRange(key: Uint8Array | null | undefined, rangeEnd?: Uint8Array | null): KeyRange {
  const start = key === undefined || key === null ? '' : toLatin1(key);
  if (rangeEnd === undefined || rangeEnd === null || rangeEnd.length === 0) return { kind: 'single', start };
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return { kind: 'from', start };
  return { kind: 'between', start, end: toLatin1(rangeEnd) };
}

export function rangeContains(range: KeyRange, key: string): boolean {
  switch (range.kind) {
    case 'single':
      return key === range.start;
    case 'from':
      return key >= range.start;
    case 'between':
      return key >= range.start && key < range.end;
  }
}

/** True when no key can fall in the range (an end at or before the start). */
export function rangeIsEmpty(range: KeyRange): boolean {
  return range.kind === 'between' && range.end <= range.start;
}
