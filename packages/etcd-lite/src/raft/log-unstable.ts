// The part of the log not yet in stable storage: entries (and possibly an
// incoming snapshot) that the next Ready hands to the driver to persist.
import { invariant } from './errors';
import type { Entry, Snapshot } from './types';

export class UnstableLog {
  /** A snapshot received from the leader, pending persistence. */
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  /** Index of entries[0]. */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  firstIndexIfKnown(): number | undefined {
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index + 1;
  }

  lastIndexIfKnown(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === undefined ? undefined : this.snapshot.metadata.index;
  }

  termIfKnown(index: number): number | undefined {
    if (index < this.offset) {
      if (this.snapshot !== undefined && this.snapshot.metadata.index === index) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.lastIndexIfKnown();
    if (last === undefined || index > last) return undefined;
    return this.entries[index - this.offset]?.term;
  }

  /** The driver persisted entries up to (index, term): they leave the unstable part. */
  stableTo(index: number, term: number): void {
    // A term mismatch means the entry was replaced after the Ready that carried it: it is still unstable.
    if (this.termIfKnown(index) !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapshotTo(index: number): void {
    if (this.snapshot !== undefined && this.snapshot.metadata.index === index) this.snapshot = undefined;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  truncateAndAppend(entries: Entry[]): void {
    const after = entries[0]!.index;
    if (after === this.offset + this.entries.length) {
      this.entries = this.entries.concat(entries);
    } else if (after <= this.offset) {
      // Replace the whole unstable part; storage entries from `after` on are overwritten when persisted.
      this.offset = after;
      this.entries = [...entries];
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(entries);
    }
  }

  /** Entries in [low, high); the range must lie inside the unstable part. */
  slice(low: number, high: number): Entry[] {
    invariant(
      this.offset <= low && low <= high && high <= this.offset + this.entries.length,
      () => `unstable slice [${low}, ${high}) out of bounds [${this.offset}, ${this.offset + this.entries.length})`,
    );
    return this.entries.slice(low - this.offset, high - this.offset);
  }
}
