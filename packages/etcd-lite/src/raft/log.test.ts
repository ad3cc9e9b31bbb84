import { RaftLog } from './log';
import { MemoryStorage } from './memory-storage';
import { CompactedError, EMPTY_BYTES, type Entry } from './types';

function entry(index: number, term: number): Entry {
  return { index, term, type: 'normal', data: EMPTY_BYTES };
}

function entriesOf(terms: number[], firstIndex = 1): Entry[] {
  return terms.map((term, offset) => entry(firstIndex + offset, term));
}

/** A log with `stable` terms in storage from index 1 and `unstable` terms after them. */
function logWith(stable: number[], unstable: number[] = []): RaftLog {
  const storage = new MemoryStorage();
  storage.append(entriesOf(stable));
  const log = new RaftLog(storage, Number.MAX_SAFE_INTEGER);
  if (unstable.length > 0) log.append(entriesOf(unstable, stable.length + 1));
  return log;
}

function terms(log: RaftLog): number[] {
  return log.slice(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER).map((e) => e.term);
}

describe('RaftLog', () => {
  test.each([
    { name: 'no conflict, empty', entries: [], expected: 0 },
    { name: 'no conflict, all present', entries: entriesOf([1, 2, 3]), expected: 0 },
    { name: 'no conflict, suffix present', entries: entriesOf([2, 3], 2), expected: 0 },
    { name: 'new entries', entries: entriesOf([3, 4, 4], 3), expected: 4 },
    { name: 'conflict at the start', entries: entriesOf([4, 4], 1), expected: 1 },
    { name: 'conflict in the middle', entries: entriesOf([4, 4], 2), expected: 2 },
    { name: 'conflict at the end', entries: entriesOf([4, 4], 3), expected: 3 },
  ])('findConflict: $name', ({ entries, expected }) => {
    expect(logWith([1, 2, 3]).findConflict(entries)).toBe(expected);
  });

  // Log terms by index 1..: [1 1 1 4 4 5 5 6 6 6] (figure 7's leader).
  test.each([
    { index: 10, term: 6, expected: { index: 10, term: 6 } },
    { index: 10, term: 5, expected: { index: 7, term: 5 } },
    { index: 10, term: 3, expected: { index: 3, term: 1 } },
    { index: 5, term: 4, expected: { index: 5, term: 4 } },
    { index: 10, term: 0, expected: { index: 0, term: 0 } },
    { index: 10, term: 9, expected: { index: 10, term: 6 } },
  ])('findConflictByTerm($index, $term)', ({ index, term, expected }) => {
    expect(logWith([1, 1, 1, 4, 4, 5, 5, 6, 6, 6]).findConflictByTerm(index, term)).toEqual(expected);
  });

  test.each([
    { name: 'mismatched previous entry', index: 3, logTerm: 2, entries: [], expected: undefined, log: [1, 2, 3] },
    { name: 'previous entry beyond the log', index: 4, logTerm: 3, entries: [], expected: undefined, log: [1, 2, 3] },
    { name: 'heartbeat-like empty append', index: 3, logTerm: 3, entries: [], expected: 3, log: [1, 2, 3] },
    { name: 'extends', index: 3, logTerm: 3, entries: entriesOf([4, 4], 4), expected: 5, log: [1, 2, 3, 4, 4] },
    { name: 'truncates a conflicting suffix', index: 1, logTerm: 1, entries: entriesOf([4], 2), expected: 2, log: [1, 4] },
    { name: 'keeps a longer matching log', index: 1, logTerm: 1, entries: entriesOf([2], 2), expected: 2, log: [1, 2, 3] },
  ])('maybeAppend: $name', ({ index, logTerm, entries, expected, log: expectedLog }) => {
    const log = logWith([1, 2], [3]);
    expect(log.maybeAppend(index, logTerm, 100, entries)).toBe(expected);
    expect(terms(log)).toEqual(expectedLog);
  });

  test('maybeAppend commits at most the last new index', () => {
    const log = logWith([1, 2, 3]);
    log.maybeAppend(1, 1, 3, []);
    expect(log.committed).toBe(1);
    log.maybeAppend(2, 2, 3, entriesOf([3], 3));
    expect(log.committed).toBe(3);
  });

  test('a conflict inside the committed prefix is a bug', () => {
    const log = logWith([1, 2, 3]);
    log.commitTo(2);
    expect(() => log.maybeAppend(1, 1, 3, entriesOf([4], 2))).toThrow(/committed/);
  });

  test.each([
    { name: 'old-term index', maxIndex: 2, term: 3, expected: false },
    { name: 'current-term index', maxIndex: 3, term: 3, expected: true },
    { name: 'beyond the log', maxIndex: 4, term: 3, expected: false },
  ])('maybeCommit only commits entries of the given term (figure 8): $name', ({ maxIndex, term, expected }) => {
    const log = logWith([1, 2, 3]);
    expect(log.maybeCommit(maxIndex, term)).toBe(expected);
    expect(log.committed).toBe(expected ? maxIndex : 0);
  });

  test('isUpToDate compares last term, then last index (§5.4.1)', () => {
    const log = logWith([1, 2, 2]);
    expect([
      log.isUpToDate(3, 2),
      log.isUpToDate(2, 2),
      log.isUpToDate(4, 2),
      log.isUpToDate(1, 3),
      log.isUpToDate(9, 1),
    ]).toEqual([true, false, true, true, false]);
  });

  test('unstable entries leave when persisted, unless they were replaced', () => {
    const log = logWith([1], [1, 2]);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([2, 3]);
    log.stableTo(2, 1);
    expect(log.unstableEntries().map((e) => e.index)).toEqual([3]);
    log.append(entriesOf([3], 3));
    log.stableTo(3, 2); // the term-2 entry was replaced before it was persisted
    expect(log.unstableEntries().map((e) => e.term)).toEqual([3]);
  });

  test('slice spans storage and the unstable tail and respects the size bound', () => {
    const storage = new MemoryStorage();
    storage.append([1, 2].map((index) => ({ index, term: 1, type: 'normal' as const, data: new Uint8Array(5) })));
    const log = new RaftLog(storage, 100);
    log.append([3, 4].map((index) => ({ index, term: 1, type: 'normal' as const, data: new Uint8Array(5) })));
    expect(log.slice(1, 5, 100).map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(log.slice(2, 5, 10).map((e) => e.index)).toEqual([2, 3]);
    expect(log.slice(1, 5, 7).map((e) => e.index)).toEqual([1]);
  });

  test('compacted indexes throw CompactedError', () => {
    const storage = new MemoryStorage();
    storage.append(entriesOf([1, 1, 1]));
    storage.createSnapshot(2, { voters: [1], learners: [] }, EMPTY_BYTES);
    storage.compact(2);
    const log = new RaftLog(storage, 100);
    expect(log.term(2)).toBe(1);
    expect(() => log.term(1)).toThrow(CompactedError);
    expect(() => log.entriesFrom(2, 100)).toThrow(CompactedError);
    expect(log.committed).toBe(2);
  });

  // Storage holds terms [1 1 1 2] at indexes 1..4, compacted up to 2; the unstable tail [3 3] is at 5..6.
  test.each([
    { name: 'compacted', index: 1, expected: undefined },
    { name: 'the compaction point (dummy entry)', index: 2, expected: 1 },
    { name: 'stored', index: 4, expected: 2 },
    { name: 'unstable', index: 6, expected: 3 },
    { name: 'beyond the log', index: 7, expected: undefined },
  ])('termIfKnown: $name', ({ index, expected }) => {
    const storage = new MemoryStorage();
    storage.append(entriesOf([1, 1, 1, 2]));
    storage.createSnapshot(2, { voters: [1], learners: [] }, EMPTY_BYTES);
    storage.compact(2);
    const log = new RaftLog(storage, 100);
    log.append(entriesOf([3, 3], 5));
    expect(log.termIfKnown(index)).toBe(expected);
    expect(log.termOrZero(index)).toBe(expected ?? 0);
    expect(log.matchTerm(index, expected ?? 0)).toBe(expected !== undefined);
  });

  test('restore replaces the log with a snapshot', () => {
    const log = logWith([1, 2, 3]);
    log.restore({ metadata: { index: 9, term: 5, confState: { voters: [1], learners: [] } }, data: EMPTY_BYTES });
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm(), log.committed]).toEqual([10, 9, 5, 9]);
    expect(log.hasPendingSnapshot()).toBe(true);
    expect(log.nextCommittedEntries()).toEqual([]);
  });
});
