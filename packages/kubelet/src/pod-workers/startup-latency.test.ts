import { PodStartupTracker, type StartupStage } from './startup-latency';

describe('PodStartupTracker', () => {
  const cases: { name: string; steps: ({ atMs: number } & ({ seen: string } | { mark: [string, StartupStage] } | { forget: string }))[]; finish: string; expected: ReturnType<PodStartupTracker['finish']> }[] = [
    {
      name: 'offsets are measured from when the pod was seen',
      steps: [{ atMs: 100, seen: 'a' }, { atMs: 105, mark: ['a', 'syncStarted'] }, { atMs: 140, mark: ['a', 'containersStarted'] }, { atMs: 400, mark: ['a', 'statusWritten'] }],
      finish: 'a',
      expected: { seenAtMs: 100, stageOffsetsMs: { syncStarted: 5, containersStarted: 40, statusWritten: 300 } },
    },
    {
      name: 'only the first time a stage is reached counts',
      steps: [{ atMs: 0, seen: 'a' }, { atMs: 10, mark: ['a', 'sandboxReady'] }, { atMs: 99, mark: ['a', 'sandboxReady'] }],
      finish: 'a',
      expected: { seenAtMs: 0, stageOffsetsMs: { sandboxReady: 10 } },
    },
    {
      name: 'seeing a pod again does not restart its clock',
      steps: [{ atMs: 0, seen: 'a' }, { atMs: 50, seen: 'a' }, { atMs: 60, mark: ['a', 'statusSent'] }],
      finish: 'a',
      expected: { seenAtMs: 0, stageOffsetsMs: { statusSent: 60 } },
    },
    {
      name: 'a pod never seen, or forgotten, has no record',
      steps: [{ atMs: 0, seen: 'a' }, { atMs: 1, mark: ['b', 'syncStarted'] }, { atMs: 2, forget: 'a' }],
      finish: 'a',
      expected: undefined,
    },
    {
      name: 'the oldest pod is dropped past the bound',
      steps: [{ atMs: 0, seen: 'a' }, { atMs: 1, seen: 'b' }, { atMs: 2, seen: 'c' }],
      finish: 'a',
      expected: undefined,
    },
  ];
  it.each(cases)('$name', ({ steps, finish, expected }) => {
    let nowMs = 0;
    const tracker = new PodStartupTracker(() => nowMs, 2);
    for (const step of steps) {
      nowMs = step.atMs;
      if ('seen' in step) tracker.seen(step.seen);
      else if ('mark' in step) tracker.mark(...step.mark);
      else tracker.forget(step.forget);
    }
    expect(tracker.finish(finish)).toEqual(expected);
  });

  it('reports a pod once: after finish it is neither tracked nor seen again', () => {
    let nowMs = 0;
    const tracker = new PodStartupTracker(() => nowMs);
    tracker.seen('a');
    expect(tracker.tracking('a')).toBe(true);
    nowMs = 10;
    expect(tracker.finish('a')).toEqual({ seenAtMs: 0, stageOffsetsMs: {} });
    tracker.seen('a');
    expect(tracker.tracking('a')).toBe(false);
    expect(tracker.finish('a')).toBeUndefined();
  });
});
