// Small helpers over entry lists shared by the log, the storage and the core.
import type { ConfState, Entry, HardState } from './types';

/** Size of an entry as counted by every byte bound of the core: its data. */
export function entrySizeBytes(entry: Entry): number {
  return entry.data.byteLength;
}

export function entriesSizeBytes(entries: readonly Entry[]): number {
  let total = 0;
  for (const entry of entries) total += entrySizeBytes(entry);
  return total;
}

/**
 * The longest prefix of `entries` whose data fits in `maxSizeBytes`, but never
 * empty when `entries` is not: one oversized entry must still make progress.
 */
export function limitSize(entries: Entry[], maxSizeBytes: number): Entry[] {
  if (entries.length === 0) return entries;
  let total = entrySizeBytes(entries[0]!);
  let count = 1;
  for (; count < entries.length; count++) {
    total += entrySizeBytes(entries[count]!);
    if (total > maxSizeBytes) break;
  }
  return count === entries.length ? entries : entries.slice(0, count);
}

export function hardStatesEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function isEmptyHardState(hardState: HardState): boolean {
  return hardState.term === 0 && hardState.vote === 0 && hardState.commit === 0;
}

export function cloneConfState(confState: ConfState): ConfState {
  return { voters: [...confState.voters], learners: [...confState.learners] };
}

/** Byte strings as map keys (read-index contexts). */
export function bytesKey(bytes: Uint8Array): string {
  let key = '';
  for (const byte of bytes) key += byte.toString(16).padStart(2, '0');
  return key;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}
