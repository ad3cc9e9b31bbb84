// The Raft log: stable storage plus the unstable tail, with the commit and
// apply cursors. All index arithmetic of the core goes through here.
import { limitSize } from './entries';
import { invariant, RaftInvariantError } from './errors';
import { UnstableLog } from './log-unstable';
import { CompactedError, UnavailableError, type Entry, type Snapshot, type Storage } from './types';

export class RaftLog {
  readonly unstable: UnstableLog;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the application has applied (acknowledged through advance()). */
  applied: number;

  constructor(
    readonly storage: Storage,
    /** Bound on the data bytes of committed entries handed out in one Ready. */
    private readonly maxCommittedSizePerReadyBytes: number,
  ) {
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new UnstableLog(lastIndex + 1);
    // The snapshot (index firstIndex - 1) is committed and applied by definition.
    this.committed = firstIndex - 1;
    this.applied = firstIndex - 1;
  }

  firstIndex(): number {
    return this.unstable.firstIndexIfKnown() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndexIfKnown() ?? this.storage.lastIndex();
  }

  /** Term of the entry at `index`; throws CompactedError / UnavailableError outside [firstIndex - 1, lastIndex]. */
  term(index: number): number {
    const unstableTerm = this.unstable.termIfKnown(index);
    if (unstableTerm !== undefined) return unstableTerm;
    if (index + 1 < this.firstIndex()) throw new CompactedError(index);
    if (index > this.lastIndex()) throw new UnavailableError(index);
    return this.storage.term(index);
  }

  /**
   * Term of the entry at `index`, or undefined outside [firstIndex - 1,
   * lastIndex]. The paths that expect misses (a follower checks every new
   * entry it receives against its log) come here: building an error, with
   * its stack trace, per entry costs more than the rest of the check.
   */
  termIfKnown(index: number): number | undefined {
    const unstableTerm = this.unstable.termIfKnown(index);
    if (unstableTerm !== undefined) return unstableTerm;
    if (index + 1 < this.firstIndex() || index > this.lastIndex()) return undefined;
    try {
      return this.storage.term(index);
    } catch (error) {
      // Storage compacted between our bounds check and the read: still a miss.
      if (error instanceof CompactedError || error instanceof UnavailableError) return undefined;
      throw error;
    }
  }

  /** Term at `index`, or 0 when compacted or beyond the log (no entry has term 0 except the origin). */
  termOrZero(index: number): number {
    return this.termIfKnown(index) ?? 0;
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  matchTerm(index: number, term: number): boolean {
    return this.termIfKnown(index) === term;
  }

  /** Election restriction (§5.4.1): is a log ending at (lastIndex, lastTerm) at least as up-to-date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourLastTerm = this.lastTerm();
    return lastTerm > ourLastTerm || (lastTerm === ourLastTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries: if our log matches (index, logTerm), merge
   * `entries` after it and commit up to min(committed, last new index).
   * Returns the last index the leader now knows we match, or undefined on a mismatch.
   */
  maybeAppend(index: number, logTerm: number, committed: number, entries: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + entries.length;
    const conflictIndex = this.findConflict(entries);
    if (conflictIndex !== 0) {
      invariant(
        conflictIndex > this.committed,
        () => `entry ${conflictIndex} conflicts with the committed prefix (committed ${this.committed})`,
      );
      this.append(entries.slice(conflictIndex - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  /** Appends after truncating any conflicting suffix; returns the new last index. */
  append(entries: Entry[]): number {
    if (entries.length === 0) return this.lastIndex();
    const after = entries[0]!.index - 1;
    invariant(after >= this.committed, () => `append after ${after} would overwrite committed ${this.committed}`);
    invariant(after <= this.lastIndex(), () => `append after ${after} leaves a gap (last ${this.lastIndex()})`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * Index of the first entry whose term differs from ours (a conflict), or of
   * the first new entry; 0 when every entry is already present.
   */
  findConflict(entries: Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term. A
   * rejection hint built from it lets the leader skip a whole diverging term
   * in one round trip instead of one index per round trip.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const ourTerm = this.termIfKnown(index);
      if (ourTerm === undefined) return { index, term: 0 };
      if (ourTerm <= term) return { index, term: ourTerm };
    }
    return { index: 0, term: 0 };
  }

  commitTo(commit: number): void {
    if (commit <= this.committed) return;
    invariant(commit <= this.lastIndex(), () => `commit ${commit} is beyond the last index ${this.lastIndex()}`);
    this.committed = commit;
  }

  /** Leader side: commit `maxIndex` only if it is from the current term (figure 8). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrZero(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    invariant(
      index <= this.committed && index >= this.applied,
      () => `applied ${index} outside [${this.applied}, ${this.committed}]`,
    );
    this.applied = index;
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Committed entries not yet handed to the application (none while a snapshot waits to be applied). */
  nextCommittedEntries(): Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const low = Math.max(this.applied + 1, this.firstIndex());
    const high = this.committed + 1;
    if (low >= high) return [];
    return this.slice(low, high, this.maxCommittedSizePerReadyBytes);
  }

  hasNextCommittedEntries(): boolean {
    if (this.hasPendingSnapshot()) return false;
    return this.committed + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  /** Entries from `index` to the end, at most `maxSizeBytes` (at least one). Throws CompactedError. */
  entriesFrom(index: number, maxSizeBytes: number): Entry[] {
    if (index > this.lastIndex()) return [];
    return this.slice(index, this.lastIndex() + 1, maxSizeBytes);
  }

  /** Entries in [low, high) across storage and the unstable tail. Throws CompactedError below firstIndex. */
  slice(low: number, high: number, maxSizeBytes: number): Entry[] {
    invariant(low <= high, () => `slice: low ${low} > high ${high}`);
    if (low < this.firstIndex()) throw new CompactedError(low);
    invariant(high <= this.lastIndex() + 1, () => `slice [${low}, ${high}) beyond last index ${this.lastIndex()}`);
    if (low === high) return [];
    let result: Entry[] = [];
    const unstableOffset = this.unstable.offset;
    if (low < unstableOffset) {
      const storedHigh = Math.min(high, unstableOffset);
      try {
        result = this.storage.entries(low, storedHigh, maxSizeBytes);
      } catch (error) {
        if (error instanceof UnavailableError) {
          // The core believes these entries are stable: the driver lost persisted data.
          throw new RaftInvariantError(`storage is missing stable entries in [${low}, ${storedHigh})`, { cause: error });
        }
        throw error;
      }
      // Storage stopped early because of the size bound: the unstable part would not fit either.
      if (result.length < storedHigh - low) return result;
    }
    if (high > unstableOffset) {
      const unstableEntries = this.unstable.slice(Math.max(low, unstableOffset), high);
      result = result.length > 0 ? result.concat(unstableEntries) : unstableEntries;
    }
    return limitSize(result, maxSizeBytes);
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  /** The snapshot to send a lagging follower. May throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Installs a snapshot received from the leader: the whole log is replaced by it. */
  restore(snapshot: Snapshot): void {
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapshotTo(index: number): void {
    this.unstable.stableSnapshotTo(index);
  }
}

