import { CrashLoopBackOff, formatBackOffDuration } from './backoff';

describe('CrashLoopBackOff', () => {
  it('lets the first restart through, then doubles from 10 s to the 5 min cap', () => {
    const backOff = new CrashLoopBackOff();
    let nowMs = 0;
    const delays: number[] = [];
    for (let restart = 0; restart < 9; restart++) {
      // The container exits right when it starts; wait until back-off allows the restart.
      const exitedMs = nowMs;
      let waitedMs = 0;
      while (backOff.isInBackOffSince('pod/app', exitedMs, exitedMs + waitedMs)) waitedMs += 1000;
      delays.push(waitedMs / 1000);
      nowMs = exitedMs + waitedMs;
      backOff.next('pod/app', nowMs);
    }
    expect(delays).toEqual([0, 10, 20, 40, 80, 160, 300, 300, 300]);
  });

  it('starts over after twice the cap without a restart, and forgets a pod', () => {
    const backOff = new CrashLoopBackOff({ initialMs: 10_000, maxMs: 300_000 });
    backOff.next('a/x', 0);
    backOff.next('a/x', 10_000);
    expect(backOff.delayMs('a/x')).toBe(20_000);
    expect(backOff.isInBackOffSince('a/x', 10_000 + 600_001, 10_000 + 600_001)).toBe(false);
    backOff.next('a/x', 10_000 + 600_001);
    expect(backOff.delayMs('a/x')).toBe(10_000);
    backOff.forget('a/');
    expect(backOff.delayMs('a/x')).toBe(0);
  });

  it.each([
    [10_000, '10s'],
    [160_000, '2m40s'],
    [300_000, '5m0s'],
  ])('formats %d ms as %s', (ms, text) => expect(formatBackOffDuration(ms)).toBe(text));
});
