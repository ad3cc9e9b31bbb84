/** Time moved backwards: a bug in the simulation driving the clock. */
export class ClockRegressionError extends Error {
  constructor(nowMs: number, requestedMs: number) {
    super(`simulated clock cannot move back from ${nowMs} ms to ${requestedMs} ms`);
    this.name = 'ClockRegressionError';
  }
}

/**
 * Virtual time for a simulation: it moves only when the simulation says so,
 * which is what lets one seed replay a whole run, whatever the machine's speed.
 */
export class SimClock {
  private currentMs: number;

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  get nowMs(): number {
    return this.currentMs;
  }

  advanceTo(targetMs: number): void {
    if (targetMs < this.currentMs) throw new ClockRegressionError(this.currentMs, targetMs);
    this.currentMs = targetMs;
  }

  advanceBy(durationMs: number): void {
    this.advanceTo(this.currentMs + durationMs);
  }
}
