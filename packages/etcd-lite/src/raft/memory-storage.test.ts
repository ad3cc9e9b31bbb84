import { SnapshotOutOfDateError } from './errors';
import { MemoryStorage } from './memory-storage';
import { CompactedError, EMPTY_BYTES, UnavailableError, type Entry } from './types';

function entry(index: number, term: number, size = 0): Entry {
  return { index, term, type: 'normal', data: new Uint8Array(size) };
}

/** Storage whose placeholder is (3, 3) and entries are 4@4, 5@5. */
function compactedStorage(): MemoryStorage {
  const storage = new MemoryStorage();
  storage.append([entry(1, 1), entry(2, 2), entry(3, 3), entry(4, 4), entry(5, 5)]);
  storage.createSnapshot(3, { voters: [1], learners: [] }, EMPTY_BYTES);
  storage.compact(3);
  return storage;
}

describe('MemoryStorage', () => {
  test.each([
    { index: 2, expected: CompactedError },
    { index: 3, expected: 3 },
    { index: 5, expected: 5 },
    { index: 6, expected: UnavailableError },
  ])('term($index)', ({ index, expected }) => {
    const storage = compactedStorage();
    if (typeof expected === 'number') expect(storage.term(index)).toBe(expected);
    else expect(() => storage.term(index)).toThrow(expected);
  });

  test.each([
    { low: 2, high: 6, maxSizeBytes: 100, expected: CompactedError },
    { low: 3, high: 4, maxSizeBytes: 100, expected: CompactedError },
    { low: 4, high: 5, maxSizeBytes: 100, expected: [4] },
    { low: 4, high: 6, maxSizeBytes: 100, expected: [4, 5] },
    { low: 4, high: 7, maxSizeBytes: 100, expected: UnavailableError },
  ])('entries($low, $high, $maxSizeBytes)', ({ low, high, maxSizeBytes, expected }) => {
    const storage = compactedStorage();
    if (Array.isArray(expected)) {
      expect(storage.entries(low, high, maxSizeBytes).map((e) => e.index)).toEqual(expected);
    } else {
      expect(() => storage.entries(low, high, maxSizeBytes)).toThrow(expected);
    }
  });

  test('size bound counts entry data bytes', () => {
    const storage = new MemoryStorage();
    storage.append([entry(1, 1, 10), entry(2, 1, 10), entry(3, 1, 10)]);
    expect(storage.entries(1, 4, 20).map((e) => e.index)).toEqual([1, 2]);
    expect(storage.entries(1, 4, 19).map((e) => e.index)).toEqual([1]);
    // The size bound keeps at least one entry.
    expect(storage.entries(1, 4, 0).map((e) => e.index)).toEqual([1]);
  });

  test('first and last index follow compaction', () => {
    const storage = compactedStorage();
    expect([storage.firstIndex(), storage.lastIndex()]).toEqual([4, 5]);
    expect(storage.initialState().confState).toEqual({ voters: [1], learners: [] });
  });

  test.each([
    { name: 'overwrites a conflicting suffix', append: [entry(4, 6), entry(5, 6)], expected: [4, 6, 5, 6] },
    { name: 'extends the log', append: [entry(6, 5)], expected: [4, 4, 5, 5, 6, 5] },
    { name: 'truncates from the middle', append: [entry(5, 6)], expected: [4, 4, 5, 6] },
    { name: 'ignores entries covered by the snapshot', append: [entry(2, 2), entry(3, 3)], expected: [4, 4, 5, 5] },
    { name: 'trims the covered prefix', append: [entry(3, 3), entry(4, 7)], expected: [4, 7] },
  ])('append $name', ({ append, expected }) => {
    const storage = compactedStorage();
    storage.append(append);
    const pairs: number[] = [];
    for (let index = storage.firstIndex(); index <= storage.lastIndex(); index++) pairs.push(index, storage.term(index));
    expect(pairs).toEqual(expected);
  });

  test('append refuses a gap', () => {
    const storage = compactedStorage();
    expect(() => storage.append([entry(7, 5)])).toThrow(/gap/);
  });

  test.each([
    { name: 'compact at the placeholder', act: (s: MemoryStorage) => s.compact(3), expected: CompactedError },
    { name: 'compact beyond the log', act: (s: MemoryStorage) => s.compact(6), expected: UnavailableError },
    {
      name: 'createSnapshot not newer',
      act: (s: MemoryStorage) => s.createSnapshot(3, { voters: [1], learners: [] }, EMPTY_BYTES),
      expected: SnapshotOutOfDateError,
    },
    {
      name: 'applySnapshot not newer',
      act: (s: MemoryStorage) =>
        s.applySnapshot({ metadata: { index: 2, term: 2, confState: { voters: [1], learners: [] } }, data: EMPTY_BYTES }),
      expected: SnapshotOutOfDateError,
    },
  ])('$name throws', ({ act, expected }) => {
    expect(() => act(compactedStorage())).toThrow(expected);
  });

  test('applySnapshot replaces the log', () => {
    const storage = compactedStorage();
    storage.applySnapshot({
      metadata: { index: 10, term: 7, confState: { voters: [1, 2], learners: [3] } },
      data: EMPTY_BYTES,
    });
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(10)]).toEqual([11, 10, 7]);
    expect(storage.initialState().confState).toEqual({ voters: [1, 2], learners: [3] });
  });
});
