// Crash-loop back-off as upstream's kubelet applies it (flowcontrol.Backoff):
// a container that exits is restarted at once the first time, then only
// after 10 s, 20 s, 40 s ... capped at 5 min, measured from when it exited.
// A container that stayed up for twice the cap (10 min) starts over at 10 s.
// Pure: every method takes the time.

export interface BackOffOptions {
  /** Delay after the second exit. */
  initialMs: number;
  /** The delay doubles up to this. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackOffOptions = { initialMs: 10_000, maxMs: 300_000 };

interface Entry {
  delayMs: number;
  lastUpdateMs: number;
}

export class CrashLoopBackOff {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: BackOffOptions = DEFAULT_BACKOFF) {}

  private expired(eventMs: number, entry: Entry): boolean {
    return eventMs - entry.lastUpdateMs > 2 * this.options.maxMs;
  }

  /** The current delay for a key (0 when it has none). */
  delayMs(key: string): number {
    return this.entries.get(key)?.delayMs ?? 0;
  }

  /** True while a restart of something that exited at eventMs must still wait. */
  isInBackOffSince(key: string, eventMs: number, nowMs: number): boolean {
    const entry = this.entries.get(key);
    if (!entry || this.expired(eventMs, entry)) return false;
    return nowMs - eventMs < entry.delayMs;
  }

  /** When the restart of something that exited at eventMs may happen. */
  readyAtMs(key: string, eventMs: number): number {
    return eventMs + this.delayMs(key);
  }

  /** Records a restart at nowMs: the next one waits twice as long (or the initial delay after a quiet period). */
  next(key: string, nowMs: number): void {
    const entry = this.entries.get(key);
    if (!entry || this.expired(nowMs, entry)) {
      this.entries.set(key, { delayMs: this.options.initialMs, lastUpdateMs: nowMs });
      return;
    }
    entry.delayMs = Math.min(entry.delayMs * 2, this.options.maxMs);
    entry.lastUpdateMs = nowMs;
  }

  /** Forgets every key starting with prefix (a deleted pod's containers). */
  forget(prefix: string): void {
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}

/** "10s", "2m40s", "5m0s": the way upstream prints back-off durations. */
export function formatBackOffDuration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  return `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}
