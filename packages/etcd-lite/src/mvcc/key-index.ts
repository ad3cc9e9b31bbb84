// The history of one key, as etcd's keyIndex: a list of generations, each
// running from a creating put to the deletion (tombstone) that ends it. The
// last generation is the current one and is empty while the key is deleted.
// Records are shared with the store's revision-ordered history.

import type { KeyValue } from '../etcdpb/types';

export interface StoreRecord {
  main: number;
  sub: number;
  /** The key as a latin1 string: one char per byte, so string order is byte order. */
  key: string;
  /** For a tombstone: only key and mod_revision (the deletion revision) are set. */
  kv: KeyValue;
  tombstone: boolean;
  /** Set once compaction dropped the record; the history array is then filtered. */
  removed: boolean;
}

export class KeyIndex {
  private readonly generations: StoreRecord[][] = [[]];

  constructor(readonly key: string) {}

  private get current(): StoreRecord[] {
    return this.generations[this.generations.length - 1]!;
  }

  put(record: StoreRecord): void {
    this.current.push(record);
  }

  tombstone(record: StoreRecord): void {
    if (this.current.length === 0) throw new Error(`mvcc: tombstone of key ${JSON.stringify(this.key)} that is not live`);
    this.current.push(record);
    this.generations.push([]);
  }

  /** Reverts the latest put or tombstone (an aborted write transaction). */
  undo(record: StoreRecord): void {
    if (record.tombstone) {
      if (this.current.length !== 0 || this.generations.length < 2) throw new Error('mvcc: undo of a tombstone that is not the latest change');
      this.generations.pop();
    }
    if (this.current.pop() !== record) throw new Error('mvcc: undo of a record that is not the latest change');
  }

  /** The live record now, or undefined while the key is deleted. */
  latest(): StoreRecord | undefined {
    const current = this.current;
    return current[current.length - 1];
  }

  /** The record visible at main revision `main`, or undefined if the key did not exist then. */
  at(main: number): StoreRecord | undefined {
    for (let index = this.generations.length - 1; index >= 0; index--) {
      const generation = this.generations[index]!;
      if (generation.length === 0) continue;
      const isCurrent = index === this.generations.length - 1;
      if (!isCurrent && generation[generation.length - 1]!.main <= main) return undefined;
      if (generation[0]!.main <= main) return generation[lastAtOrBefore(generation, main)];
    }
    return undefined;
  }

  /**
   * Drops what no read at or after `atMain` can see: generations deleted at
   * or before it, and within the generation visible at it, every record
   * before the one visible at it. Returns the dropped records.
   */
  compact(atMain: number): StoreRecord[] {
    const dropped: StoreRecord[] = [];
    while (this.generations.length > 1) {
      const oldest = this.generations[0]!;
      if (oldest[oldest.length - 1]!.main > atMain) break;
      for (const record of oldest) dropped.push(record);
      this.generations.shift();
    }
    const oldest = this.generations[0]!;
    const keepFrom = oldest.length > 0 && oldest[0]!.main <= atMain ? lastAtOrBefore(oldest, atMain) : 0;
    for (const record of oldest.splice(0, keepFrom)) dropped.push(record);
    return dropped;
  }

  isEmpty(): boolean {
    return this.generations.length === 1 && this.current.length === 0;
  }
}

/** Index of the last record with main <= `main`; the caller knows one exists. */
function lastAtOrBefore(records: StoreRecord[], main: number): number {
  let low = 0;
  let high = records.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (records[middle]!.main <= main) low = middle;
    else high = middle - 1;
  }
  return low;
}
