import { Inflights } from './inflights';
import { Progress } from './progress';
import { majorityCommittedIndex, voteResult } from './quorum';

describe('quorum', () => {
  test.each([
    { voters: [], acked: {}, expected: 0 },
    { voters: [1], acked: { 1: 5 }, expected: 5 },
    { voters: [1, 2], acked: { 1: 5, 2: 3 }, expected: 3 },
    { voters: [1, 2, 3], acked: { 1: 5, 2: 3 }, expected: 3 },
    { voters: [1, 2, 3], acked: { 1: 5 }, expected: 0 },
    { voters: [1, 2, 3, 4], acked: { 1: 9, 2: 8, 3: 7, 4: 1 }, expected: 7 },
    { voters: [1, 2, 3, 4, 5], acked: { 1: 9, 2: 8, 3: 7, 4: 1, 5: 1 }, expected: 7 },
  ])('majorityCommittedIndex($voters, $acked) = $expected', ({ voters, acked, expected }) => {
    const table = acked as Record<number, number>;
    expect(majorityCommittedIndex(voters, (id) => table[id] ?? 0)).toBe(expected);
  });

  test.each([
    { voters: [1], votes: [], expected: 'pending' },
    { voters: [1], votes: [[1, true]], expected: 'won' },
    { voters: [1, 2, 3], votes: [[1, true]], expected: 'pending' },
    { voters: [1, 2, 3], votes: [[1, true], [2, true]], expected: 'won' },
    { voters: [1, 2, 3], votes: [[1, true], [2, false], [3, false]], expected: 'lost' },
    { voters: [1, 2, 3, 4], votes: [[1, true], [2, true], [3, false]], expected: 'pending' },
    { voters: [1, 2, 3, 4], votes: [[1, true], [2, false], [3, false]], expected: 'lost' },
    // A learner's vote (4 is not a voter) never counts.
    { voters: [1, 2, 3], votes: [[1, true], [4, true]], expected: 'pending' },
  ] as const)('voteResult($voters, $votes) = $expected', ({ voters, votes, expected }) => {
    expect(voteResult(voters, new Map(votes))).toBe(expected);
  });
});

describe('Inflights', () => {
  test.each([
    { name: 'count bound', maxMessages: 3, maxBytes: 0, sizes: [10, 10, 10], full: [false, false, true] },
    { name: 'byte bound', maxMessages: 10, maxBytes: 25, sizes: [10, 10, 10], full: [false, false, true] },
    { name: 'byte bound reached exactly', maxMessages: 10, maxBytes: 20, sizes: [10, 10], full: [false, true] },
  ])('$name', ({ maxMessages, maxBytes, sizes, full }) => {
    const inflights = new Inflights(maxMessages, maxBytes);
    const observed = sizes.map((size, offset) => {
      inflights.add(offset + 1, size);
      return inflights.full();
    });
    expect(observed).toEqual(full);
    expect(() => inflights.add(100, 1)).toThrow(/full/);
  });

  test('freeing acknowledged messages reopens the window across the ring boundary', () => {
    const inflights = new Inflights(3, 0);
    for (let round = 0; round < 4; round++) {
      for (let i = 1; i <= 3; i++) inflights.add(round * 10 + i, 1);
      expect(inflights.full()).toBe(true);
      inflights.freeLessOrEqual(round * 10 + 2);
      expect([inflights.count, inflights.bytes]).toEqual([1, 1]);
      inflights.freeLessOrEqual(round * 10 + 3);
    }
    expect(inflights.count).toBe(0);
  });

  test('indexes must increase', () => {
    const inflights = new Inflights(3, 0);
    inflights.add(5, 1);
    expect(() => inflights.add(5, 1)).toThrow(/not above/);
  });
});

describe('Progress', () => {
  test.each([
    // state, match, next, rejected, hint -> accepted, next
    { state: 'replicate', match: 5, next: 10, rejected: 5, hint: 5, accepted: false, expectedNext: 10 },
    { state: 'replicate', match: 5, next: 10, rejected: 9, hint: 9, accepted: true, expectedNext: 6 },
    { state: 'probe', match: 0, next: 10, rejected: 5, hint: 5, accepted: false, expectedNext: 10 },
    { state: 'probe', match: 0, next: 10, rejected: 9, hint: 3, accepted: true, expectedNext: 4 },
    { state: 'probe', match: 0, next: 10, rejected: 9, hint: 20, accepted: true, expectedNext: 9 },
    { state: 'probe', match: 4, next: 10, rejected: 9, hint: 1, accepted: true, expectedNext: 5 },
  ] as const)(
    'maybeDecreaseTo in $state (match $match, next $next) of rejection $rejected hint $hint',
    ({ state, match, next, rejected, hint, accepted, expectedNext }) => {
      const progress = new Progress(match, next, false, 4, 0);
      if (state === 'replicate') {
        progress.becomeReplicate();
        progress.next = next;
      }
      expect(progress.maybeDecreaseTo(rejected, hint)).toBe(accepted);
      expect(progress.next).toBe(expectedNext);
    },
  );

  test('probe sends one message until answered; replicate pipelines within the window', () => {
    const progress = new Progress(0, 1, false, 2, 0);
    progress.sentEntries(1, 1);
    expect(progress.isPaused()).toBe(true);
    expect(progress.maybeUpdate(1)).toBe(true);
    expect(progress.isPaused()).toBe(false);
    progress.becomeReplicate();
    progress.sentEntries(2, 1);
    progress.sentEntries(3, 1);
    expect([progress.next, progress.isPaused()]).toEqual([7, true]);
  });

  test('leaving snapshot state resumes after the snapshot', () => {
    const progress = new Progress(3, 4, false, 2, 0);
    progress.becomeSnapshot(20);
    expect(progress.isPaused()).toBe(true);
    progress.becomeProbe();
    expect(progress.next).toBe(21);
  });
});
