// Time for the kubelet's node-local machinery. Back-off, probe periods and
// grace periods all read this instead of Date.now()/setTimeout so that tests
// can drive minutes of pod life in milliseconds with a ManualClock.

/** A scheduled callback that can be cancelled. */
export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  nowMs(): number;
  /** Runs callback once after delayMs (never synchronously). */
  setTimer(callback: () => void, delayMs: number): TimerHandle;
  /** Resolves after delayMs. */
  sleep(delayMs: number): Promise<void>;
}

/** The machine's wall clock and Node's timers. */
export const systemClock: Clock = {
  nowMs: () => Date.now(),
  setTimer(callback, delayMs) {
    const timer = setTimeout(callback, Math.max(0, delayMs));
    timer.unref?.();
    return { cancel: () => clearTimeout(timer) };
  },
  sleep(delayMs) {
    return new Promise((resolve) => setTimeout(resolve, Math.max(0, delayMs)));
  },
};

interface ManualTimer {
  dueMs: number;
  sequence: number;
  callback: () => void;
  cancelled: boolean;
}

/** Time moved backwards on a ManualClock: a bug in the test driving it. */
export class ManualClockRegressionError extends Error {
  constructor(nowMs: number, targetMs: number) {
    super(`manual clock cannot move back from ${nowMs} ms to ${targetMs} ms`);
    this.name = 'ManualClockRegressionError';
  }
}

/**
 * A clock that moves only when told. `advanceBy` fires due timers in order and
 * lets the promise chains they start settle before firing the next, so async
 * code driven by a fake runtime behaves as it would in real time.
 */
export class ManualClock implements Clock {
  private currentMs: number;
  private sequence = 0;
  private timers: ManualTimer[] = [];

  constructor(startMs = Date.UTC(2024, 0, 1)) {
    this.currentMs = startMs;
  }

  nowMs(): number {
    return this.currentMs;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer: ManualTimer = { dueMs: this.currentMs + Math.max(0, delayMs), sequence: this.sequence++, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => { timer.cancelled = true; } };
  }

  sleep(delayMs: number): Promise<void> {
    return new Promise((resolve) => this.setTimer(resolve, delayMs));
  }

  /** Number of timers still waiting to fire. */
  get pendingTimers(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }

  /** Lets every promise chain that can progress without time do so. */
  async settle(): Promise<void> {
    // A few macrotask turns: each drains the whole microtask queue, and some
    // chains hop through setImmediate (streams) on the way.
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
  }

  async advanceTo(targetMs: number): Promise<void> {
    if (targetMs < this.currentMs) throw new ManualClockRegressionError(this.currentMs, targetMs);
    await this.settle();
    // Bounded: a timer that re-arms itself at zero delay would otherwise spin forever.
    for (let fired = 0; fired < 100_000; fired++) {
      this.timers = this.timers.filter((timer) => !timer.cancelled);
      let next: ManualTimer | undefined;
      for (const timer of this.timers) {
        if (timer.dueMs > targetMs) continue;
        if (!next || timer.dueMs < next.dueMs || (timer.dueMs === next.dueMs && timer.sequence < next.sequence)) next = timer;
      }
      if (!next) break;
      next.cancelled = true;
      this.currentMs = Math.max(this.currentMs, next.dueMs);
      next.callback();
      await this.settle();
    }
    this.currentMs = targetMs;
    await this.settle();
  }

  advanceBy(durationMs: number): Promise<void> {
    return this.advanceTo(this.currentMs + durationMs);
  }
}
