import { ClockRegressionError, SimClock } from './clock';

describe('SimClock', () => {
  it('moves only when told to', () => {
    const clock = new SimClock(100);
    expect(clock.nowMs).toBe(100);
    clock.advanceBy(25);
    expect(clock.nowMs).toBe(125);
    clock.advanceTo(125);
    clock.advanceTo(400);
    expect(clock.nowMs).toBe(400);
  });

  it.each([
    { name: 'advanceTo an earlier time', act: (clock: SimClock) => clock.advanceTo(9) },
    { name: 'advanceBy a negative duration', act: (clock: SimClock) => clock.advanceBy(-1) },
  ])('refuses to $name', ({ act }) => {
    const clock = new SimClock(10);
    expect(() => act(clock)).toThrow(ClockRegressionError);
    expect(clock.nowMs).toBe(10);
  });
});
