import type { QueuedPodInfo } from '../../framework';
import { newPodInfo } from '../../snapshot';
import { makePod } from '../../test-fixtures';
import { PrioritySort } from '.';

const queued = (priority: number | undefined, timestampMs: number): QueuedPodInfo => ({
  podInfo: newPodInfo(makePod(`p-${priority}-${timestampMs}`, { priority })),
  timestampMs,
  initialAttemptTimestampMs: timestampMs,
  attempts: 0,
  unschedulablePlugins: new Set(),
});

describe('PrioritySort', () => {
  test.each([
    ['higher priority first', queued(10, 5), queued(0, 1), true],
    ['lower priority later', queued(0, 1), queued(10, 5), false],
    ['same priority: older first', queued(5, 1), queued(5, 2), true],
    ['same priority: newer later', queued(5, 2), queued(5, 1), false],
    ['missing priority is 0', queued(undefined, 1), queued(-1, 0), true],
    ['equal: not less', queued(1, 1), queued(1, 1), false],
  ])('%s', (_name, a, b, expected) => {
    expect(new PrioritySort().less(a, b)).toBe(expected);
  });
});
