// Makes an image present according to the container's pull policy, with
// upstream's per-image back-off: after a failed pull the next attempts fail
// fast with ImagePullBackOff (10 s doubling up to 5 min) instead of asking
// the registry again on every sync.
import { ImageNeverPullError, ImagePullBackOffError, ImagePullError } from './errors';
import type { PullPolicy } from './convert';

export interface ImageStore {
  /** True when the daemon has the image locally. */
  has(image: string): Promise<boolean>;
  /** Pulls the image; rejects with the registry's message. */
  pull(image: string): Promise<void>;
}

export interface PullBackOffOptions {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_PULL_BACKOFF: PullBackOffOptions = { initialMs: 10_000, maxMs: 300_000 };

interface FailureRecord {
  delayMs: number;
  retryAtMs: number;
  message: string;
}

export type PullOutcome = 'present' | 'pulled';

export class ImagePuller {
  private readonly failures = new Map<string, FailureRecord>();
  /** One pull per image at a time: pods starting together share it. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: ImageStore,
    private readonly nowMs: () => number = Date.now,
    private readonly backOff: PullBackOffOptions = DEFAULT_PULL_BACKOFF,
  ) {}

  async ensure(image: string, policy: PullPolicy): Promise<PullOutcome> {
    if (policy !== 'Always' && (await this.store.has(image))) return 'present';
    if (policy === 'Never') throw new ImageNeverPullError(image);
    const failure = this.failures.get(image);
    if (failure && this.nowMs() < failure.retryAtMs) throw new ImagePullBackOffError(image, failure.retryAtMs, failure.message);
    try {
      await this.pullOnce(image);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const delayMs = failure ? Math.min(failure.delayMs * 2, this.backOff.maxMs) : this.backOff.initialMs;
      this.failures.set(image, { delayMs, retryAtMs: this.nowMs() + delayMs, message });
      throw new ImagePullError(image, message, { cause: error });
    }
    this.failures.delete(image);
    return 'pulled';
  }

  private pullOnce(image: string): Promise<void> {
    const running = this.inFlight.get(image);
    if (running) return running;
    const pull = this.store.pull(image).finally(() => this.inFlight.delete(image));
    this.inFlight.set(image, pull);
    return pull;
  }
}
