// The worker loop of a controller: take a key, sync it, forget it on success,
// requeue it through the rate limiter on failure. Sync functions are
// level-triggered and idempotent, so retrying is always safe.
import { silentLogger, type Logger } from '../logger';
import type { WorkQueue } from './work-queue';

export interface RunWorkersOptions {
  /** Where sync failures are logged (one line per failure). */
  logger?: Logger;
  /** Failures after which a key is dropped (logged) instead of retried; unlimited by default. */
  maxRetries?: number;
}

/** Runs `count` workers until the queue is shut down and drained; resolves when all have exited. */
export async function runWorkers<K>(queue: WorkQueue<K>, count: number, sync: (key: K) => Promise<void>, options: RunWorkersOptions = {}): Promise<void> {
  const logger = options.logger ?? silentLogger;
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await sync(key);
        queue.forget(key);
      } catch (error) {
        const failures = queue.numRequeues(key) + 1;
        if (options.maxRetries !== undefined && failures > options.maxRetries) {
          logger.error('dropping key after repeated sync failures', { queue: queue.name, key: String(key), failures, error });
          queue.forget(key);
        } else {
          logger.warn('sync failed; requeued with backoff', { queue: queue.name, key: String(key), failures, error });
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, count) }, worker));
}
