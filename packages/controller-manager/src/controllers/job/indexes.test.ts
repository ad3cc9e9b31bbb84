import { formatTime } from '@kube-lite/api';
import { START_MS } from '../../test-support';
import { remainingBackoffMs, BackoffStore, POD_FAILURE_BACKOFF_MAX_MS } from './backoff';
import { firstPendingIndexes, formatIndexes, indexedGenerateName, parseIndexes } from './indexes';
import { job, jobPod } from './test-builders';

describe('completion indexes', () => {
  test.each<[number[], string]>([
    [[], ''],
    [[0], '0'],
    [[0, 1], '0-1'],
    [[0, 1, 2, 4], '0-2,4'],
    [[7, 3, 4, 5, 9, 1], '1,3-5,7,9'],
  ])('formats %j as "%s"', (indexes, text) => {
    expect(formatIndexes(indexes)).toBe(text);
    expect([...parseIndexes(text, 100)].sort((a, b) => a - b)).toEqual([...new Set(indexes)].sort((a, b) => a - b));
  });

  test('parsing drops malformed parts and indexes past completions', () => {
    expect([...parseIndexes('0-2,x,4,8-12', 10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 8, 9]);
  });

  test('the lowest indexes neither succeeded nor active are pending', () => {
    const owner = job('idx', { completions: 6, indexed: true });
    expect(firstPendingIndexes([jobPod(owner, 'a', { index: 1 })], new Set([0, 3]), 3, 6)).toEqual([2, 4, 5]);
    expect(firstPendingIndexes([], new Set([0, 1]), 5, 2)).toEqual([]);
  });

  test('generateName keeps within the generated-name limit', () => {
    expect(indexedGenerateName('idx', 12)).toBe('idx-12-');
    const long = 'a'.repeat(70);
    expect(indexedGenerateName(long, 123)).toHaveLength(58);
    expect(indexedGenerateName(long, 123).endsWith('-123-')).toBe(true);
  });
});

describe('pod failure back-off', () => {
  test.each<[number, number]>([
    // [consecutive failures, delay counted from the last failure]
    [0, 0],
    [1, 10_000],
    [2, 20_000],
    [3, 40_000],
    [6, 320_000],
    [7, POD_FAILURE_BACKOFF_MAX_MS],
    [20, POD_FAILURE_BACKOFF_MAX_MS],
  ])('%i failures wait %i ms', (failures, delayMs) => {
    expect(remainingBackoffMs({ failuresAfterLastSuccess: failures, lastFailureMs: START_MS }, START_MS)).toBe(delayMs);
    expect(remainingBackoffMs({ failuresAfterLastSuccess: failures, lastFailureMs: START_MS }, START_MS + delayMs)).toBe(0);
  });

  test('a success resets the count to the failures after it', () => {
    const owner = job('pi', { completions: 3 });
    const store = new BackoffStore();
    const failed = (name: string, ms: number) => jobPod(owner, name, { phase: 'Failed', finishedMs: ms });
    store.set('default/pi', store.next('default/pi', [], [failed('a', START_MS - 3000), failed('b', START_MS - 2000)]));
    expect(store.get('default/pi')).toEqual({ failuresAfterLastSuccess: 2, lastFailureMs: START_MS - 2000 });
    const next = store.next('default/pi', [jobPod(owner, 'ok', { phase: 'Succeeded', finishedMs: START_MS - 1500 })], [failed('c', START_MS - 1000)]);
    expect(next).toEqual({ failuresAfterLastSuccess: 1, lastFailureMs: Date.parse(formatTime(START_MS - 1000)) });
  });
});
