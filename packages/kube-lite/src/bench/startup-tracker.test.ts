import { DuplicatePodError, isRunningAndReady, StartupTracker, type PodObservation } from './startup-tracker';

const pod = (name: string, fields: { nodeName?: string; phase?: string; ready?: boolean[]; containers?: number }): PodObservation => {
  const containerCount = fields.containers ?? 1;
  const names = Array.from({ length: containerCount }, (_, i) => `c${i}`);
  return {
    metadata: { name, resourceVersion: '1' },
    spec: { ...(fields.nodeName === undefined ? {} : { nodeName: fields.nodeName }), containers: names.map((n) => ({ name: n })) },
    status: {
      ...(fields.phase === undefined ? {} : { phase: fields.phase }),
      ...(fields.ready === undefined ? {} : { containerStatuses: fields.ready.map((ready, i) => ({ name: `c${i}`, ready })) }),
    },
  };
};

describe('isRunningAndReady', () => {
  test.each([
    { why: 'pending', observed: pod('a', { phase: 'Pending', ready: [false] }), expected: false },
    { why: 'running without container statuses', observed: pod('a', { phase: 'Running' }), expected: false },
    { why: 'running, container not ready', observed: pod('a', { phase: 'Running', ready: [false] }), expected: false },
    { why: 'running, the only container ready', observed: pod('a', { phase: 'Running', ready: [true] }), expected: true },
    { why: 'running, one of two containers ready', observed: pod('a', { phase: 'Running', ready: [true, false], containers: 2 }), expected: false },
    { why: 'running, a status missing for the second container', observed: pod('a', { phase: 'Running', ready: [true], containers: 2 }), expected: false },
    { why: 'running, both containers ready', observed: pod('a', { phase: 'Running', ready: [true, true], containers: 2 }), expected: true },
    { why: 'succeeded', observed: pod('a', { phase: 'Succeeded', ready: [true] }), expected: false },
  ])('$why: $expected', ({ observed, expected }) => {
    expect(isRunningAndReady(observed)).toBe(expected);
  });
});

describe('StartupTracker', () => {
  test('times a pod from the create sent to the first running-and-ready event', () => {
    const tracker = new StartupTracker();
    tracker.createSent('p', 1_000);
    tracker.createAnswered('p', 1_040);
    expect(tracker.observe(pod('p', { phase: 'Pending' }), 1_050)).toBe(false);
    expect(tracker.observe(pod('p', { nodeName: 'worker-1', phase: 'Pending' }), 1_200)).toBe(false);
    expect(tracker.observe(pod('p', { nodeName: 'worker-1', phase: 'Running', ready: [false] }), 1_500)).toBe(false);
    expect(tracker.observe(pod('p', { nodeName: 'worker-1', phase: 'Running', ready: [true] }), 1_800)).toBe(true);
    // Later events do not move the first observation.
    expect(tracker.observe(pod('p', { nodeName: 'worker-1', phase: 'Running', ready: [true] }), 9_000)).toBe(false);
    expect(tracker.all()).toEqual([{ name: 'p', createSentMs: 1_000, createdMs: 1_040, boundObservedMs: 1_200, runningObservedMs: 1_800 }]);
    expect(tracker.startupLatenciesMs()).toEqual([800]);
  });

  test('a pod first seen already running counts as bound at that moment', () => {
    const tracker = new StartupTracker();
    tracker.createSent('p', 0);
    tracker.observe(pod('p', { nodeName: 'worker-1', phase: 'Running', ready: [true] }), 700);
    expect(tracker.all()[0]).toMatchObject({ boundObservedMs: 700, runningObservedMs: 700 });
  });

  test('counts each stage and ignores pods it did not send', () => {
    const tracker = new StartupTracker();
    for (const name of ['a', 'b', 'c']) tracker.createSent(name, 0);
    tracker.createAnswered('a', 10);
    tracker.createAnswered('b', 10);
    tracker.observe(pod('a', { nodeName: 'n', phase: 'Running', ready: [true] }), 100);
    tracker.observe(pod('b', { nodeName: 'n', phase: 'Pending' }), 100);
    tracker.observe(pod('stranger', { nodeName: 'n', phase: 'Running', ready: [true] }), 100);
    expect(tracker.counts()).toEqual({ sent: 3, created: 2, bound: 2, running: 1 });
    expect(tracker.startupLatenciesMs()).toEqual([100]);
  });

  test('refuses a second create under the same name', () => {
    const tracker = new StartupTracker();
    tracker.createSent('p', 0);
    expect(() => tracker.createSent('p', 1)).toThrow(DuplicatePodError);
  });
});
