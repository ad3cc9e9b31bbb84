// In-memory stable storage: the reference Storage the tests and the
// simulator use, and the model the server's RocksDB storage mirrors.
import { cloneConfState, limitSize } from './entries';
import { invariant, SnapshotOutOfDateError } from './errors';
import {
  CompactedError,
  EMPTY_BYTES,
  UnavailableError,
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  type Storage,
} from './types';

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: 0, commit: 0 };
  private currentSnapshot: Snapshot = {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: EMPTY_BYTES,
  };
  /**
   * entries[0] is a placeholder standing for the last compacted entry (the
   * snapshot's index and term): it keeps term(firstIndex - 1) answerable.
   */
  private log: Entry[] = [{ term: 0, index: 0, type: 'normal', data: EMPTY_BYTES }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.currentSnapshot.metadata.confState) };
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  entries(low: number, high: number, maxSizeBytes: number): Entry[] {
    const offset = this.placeholder().index;
    if (low <= offset) throw new CompactedError(low);
    if (high > this.lastIndex() + 1) throw new UnavailableError(high - 1);
    invariant(low <= high, () => `storage entries: low ${low} > high ${high}`);
    return limitSize(this.log.slice(low - offset, high - offset), maxSizeBytes);
  }

  term(index: number): number {
    const offset = this.placeholder().index;
    if (index < offset) throw new CompactedError(index);
    const entry = this.log[index - offset];
    if (entry === undefined) throw new UnavailableError(index);
    return entry.term;
  }

  lastIndex(): number {
    return this.placeholder().index + this.log.length - 1;
  }

  firstIndex(): number {
    return this.placeholder().index + 1;
  }

  snapshot(): Snapshot {
    return this.currentSnapshot;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    const currentIndex = this.currentSnapshot.metadata.index;
    if (snapshot.metadata.index <= currentIndex) {
      throw new SnapshotOutOfDateError(snapshot.metadata.index, currentIndex);
    }
    this.currentSnapshot = {
      metadata: { ...snapshot.metadata, confState: cloneConfState(snapshot.metadata.confState) },
      data: snapshot.data,
    };
    this.log = [{ term: snapshot.metadata.term, index: snapshot.metadata.index, type: 'normal', data: EMPTY_BYTES }];
  }

  /**
   * Records the application's image as of `index` (which must be applied, so
   * in the log). The log itself is untouched: call compact() to drop entries.
   */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    const currentIndex = this.currentSnapshot.metadata.index;
    if (index <= currentIndex) throw new SnapshotOutOfDateError(index, currentIndex);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    const term = this.term(index);
    this.currentSnapshot = { metadata: { index, term, confState: cloneConfState(confState) }, data };
    return this.currentSnapshot;
  }

  /** Drops the entries before `compactIndex`; the entry at compactIndex becomes the placeholder. */
  compact(compactIndex: number): void {
    const offset = this.placeholder().index;
    if (compactIndex <= offset) throw new CompactedError(compactIndex);
    if (compactIndex > this.lastIndex()) throw new UnavailableError(compactIndex);
    const kept = this.log.slice(compactIndex - offset);
    const first = kept[0]!;
    kept[0] = { term: first.term, index: first.index, type: 'normal', data: EMPTY_BYTES };
    this.log = kept;
  }

  /** Appends entries that the core handed out in a Ready; a conflicting suffix is replaced. */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const lastNew = entries[0]!.index + entries.length - 1;
    // Entries that are all below the snapshot are already covered by it.
    if (lastNew < first) return;
    const usable = first > entries[0]!.index ? entries.slice(first - entries[0]!.index) : entries;
    const position = usable[0]!.index - this.placeholder().index;
    invariant(
      position <= this.log.length,
      () => `storage append: gap before index ${usable[0]!.index} (last index ${this.lastIndex()})`,
    );
    for (let i = 1; i < usable.length; i++) {
      invariant(usable[i]!.index === usable[i - 1]!.index + 1, 'storage append: entries are not contiguous');
    }
    this.log = this.log.slice(0, position).concat(usable);
  }

  private placeholder(): Entry {
    return this.log[0]!;
  }
}
