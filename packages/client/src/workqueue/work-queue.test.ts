import { QueueFullError } from '../errors';
import { sleep, waitFor } from '../test-support';
import { BucketRateLimiter, ItemExponentialRateLimiter, MaxOfRateLimiter } from './rate-limiter';
import { runWorkers } from './run-workers';
import { WorkQueue } from './work-queue';

describe('WorkQueue', () => {
  it('hands out a key queued several times only once, in FIFO order', async () => {
    const queue = new WorkQueue<string>();
    for (const key of ['a', 'b', 'a', 'c', 'b']) queue.add(key);
    expect(queue.len()).toBe(3);
    expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['a', 'b', 'c']);
    expect(queue.len()).toBe(0);
  });

  it('never hands a key to two workers at once: re-added while in process, it comes back after done', async () => {
    const queue = new WorkQueue<string>();
    queue.add('k');
    const first = await queue.get();
    queue.add('k');
    queue.add('k');
    expect(queue.len()).toBe(0);
    let second: string | undefined;
    void queue.get().then((key) => (second = key));
    await sleep(5);
    expect(second).toBeUndefined();
    queue.done(first as string);
    await waitFor(() => second === 'k', 'the requeued key');
    queue.done('k');
    expect(queue.len()).toBe(0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const queue = new WorkQueue<string>();
    const pending = queue.get();
    queue.add('x');
    await expect(pending).resolves.toBe('x');
  });

  it('rejects new keys past maxSize with QueueFullError, but accepts keys already queued', () => {
    const queue = new WorkQueue<string>({ name: 'pods', maxSize: 2 });
    queue.add('a');
    queue.add('b');
    expect(() => queue.add('a')).not.toThrow();
    expect(() => queue.add('c')).toThrow(QueueFullError);
    expect(() => queue.add('c')).toThrow('work queue "pods" is full (2 keys waiting)');
  });

  it('counts keys re-added while in process against the bound', async () => {
    const queue = new WorkQueue<string>({ maxSize: 1 });
    queue.add('a');
    await queue.get();
    queue.add('a');
    expect(() => queue.add('b')).toThrow(QueueFullError);
  });

  it('addAfter delays a key, and an earlier time for the same key wins', async () => {
    const queue = new WorkQueue<string>();
    queue.addAfter('slow', 10_000);
    queue.addAfter('slow', 20);
    expect(queue.len()).toBe(0);
    expect(queue.delayedLen()).toBe(1);
    await waitFor(() => queue.len() === 1, 'the delayed key');
    expect(await queue.get()).toBe('slow');
    queue.shutDown();
  });

  it('keeps a delayed key waiting while the queue is full (back-pressure), then delivers it', async () => {
    const queue = new WorkQueue<string>({ maxSize: 1 });
    queue.add('busy');
    queue.addAfter('later', 5);
    await sleep(30);
    expect(queue.len()).toBe(1);
    expect(queue.delayedLen()).toBe(1);
    const busy = await queue.get();
    queue.done(busy as string);
    await waitFor(() => queue.len() === 1, 'the delayed key after room was made');
    expect(await queue.get()).toBe('later');
    queue.shutDown();
  });

  it('after shutDown drains what is queued, then answers undefined, and drops delayed keys', async () => {
    const queue = new WorkQueue<string>();
    queue.add('a');
    queue.addAfter('delayed', 10);
    const waiting = new WorkQueue<string>();
    const blocked = waiting.get();
    waiting.shutDown();
    await expect(blocked).resolves.toBeUndefined();
    queue.shutDown();
    queue.add('ignored');
    expect(await queue.get()).toBe('a');
    expect(await queue.get()).toBeUndefined();
    expect(queue.delayedLen()).toBe(0);
  });

  it('shutDownWithDrain waits for keys in process', async () => {
    const queue = new WorkQueue<string>();
    queue.add('a');
    const key = await queue.get();
    let drained = false;
    const draining = queue.shutDownWithDrain().then(() => (drained = true));
    await sleep(5);
    expect(drained).toBe(false);
    queue.done(key as string);
    await draining;
    expect(drained).toBe(true);
  });
});

describe('rate limiters', () => {
  it('ItemExponentialRateLimiter doubles from 5 ms per failure up to 1000 s, per key, until forgotten', () => {
    const limiter = new ItemExponentialRateLimiter<string>();
    const delays = Array.from({ length: 20 }, () => limiter.when('a'));
    expect(delays.slice(0, 6)).toEqual([5, 10, 20, 40, 80, 160]);
    expect(delays[17]).toBe(655_360);
    expect(delays[18]).toBe(1_000_000);
    expect(delays[19]).toBe(1_000_000);
    expect(limiter.numRequeues('a')).toBe(20);
    expect(limiter.when('b')).toBe(5);
    limiter.forget('a');
    expect(limiter.numRequeues('a')).toBe(0);
    expect(limiter.when('a')).toBe(5);
    for (let i = 0; i < 2000; i += 1) limiter.when('c');
    expect(limiter.when('c')).toBe(1_000_000);
  });

  it('BucketRateLimiter allows a burst, then spaces requests by 1/qps', () => {
    let now = 0;
    const limiter = new BucketRateLimiter<string>(10, 3, () => now);
    expect([limiter.when('a'), limiter.when('b'), limiter.when('c')]).toEqual([0, 0, 0]);
    expect(limiter.when('d')).toBe(100);
    expect(limiter.when('e')).toBe(200);
    now = 1000;
    expect(limiter.when('f')).toBe(0);
  });

  it('MaxOfRateLimiter answers the longest delay', () => {
    let now = 0;
    const limiter = new MaxOfRateLimiter<string>(new ItemExponentialRateLimiter(5, 1000), new BucketRateLimiter(1, 1, () => now));
    expect(limiter.when('a')).toBe(5);
    expect(limiter.when('a')).toBe(1000);
    expect(limiter.numRequeues('a')).toBe(2);
  });
});

describe('runWorkers', () => {
  it('retries a failing key through the rate limiter until it succeeds, then forgets it', async () => {
    const queue = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter(1, 50) });
    const attempts = new Map<string, number>();
    const warnings: string[] = [];
    const logger = { debug: () => undefined, info: () => undefined, warn: (msg: string) => warnings.push(msg), error: () => undefined };
    const running = runWorkers(
      queue,
      2,
      async (key) => {
        const attempt = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, attempt);
        if (key === 'flaky' && attempt < 4) throw new Error('not yet');
      },
      { logger },
    );
    queue.add('flaky');
    queue.add('fine');
    await waitFor(() => attempts.get('flaky') === 4, 'four attempts of the flaky key');
    expect(attempts.get('fine')).toBe(1);
    expect(queue.numRequeues('flaky')).toBe(0);
    expect(warnings).toEqual(['sync failed; requeued with backoff', 'sync failed; requeued with backoff', 'sync failed; requeued with backoff']);
    queue.shutDown();
    await running;
  });

  it('drops a key after maxRetries failures', async () => {
    const queue = new WorkQueue<string>({ rateLimiter: new ItemExponentialRateLimiter(1, 10) });
    let attempts = 0;
    const running = runWorkers(
      queue,
      1,
      async () => {
        attempts += 1;
        throw new Error('always');
      },
      { maxRetries: 2 },
    );
    queue.add('bad');
    await waitFor(() => attempts === 3 && queue.delayedLen() === 0 && queue.len() === 0, 'the key to be dropped');
    await sleep(30);
    expect(attempts).toBe(3);
    queue.shutDown();
    await running;
  });

  it('never runs one key on two workers at once', async () => {
    const queue = new WorkQueue<string>();
    let running = 0;
    let overlaps = 0;
    let syncs = 0;
    const workers = runWorkers(queue, 4, async () => {
      running += 1;
      if (running > 1) overlaps += 1;
      await sleep(2);
      running -= 1;
      syncs += 1;
    });
    for (let i = 0; i < 20; i += 1) {
      queue.add('same');
      await sleep(1);
    }
    await waitFor(() => queue.len() === 0 && running === 0, 'the queue to empty');
    expect(overlaps).toBe(0);
    expect(syncs).toBeGreaterThan(1);
    queue.shutDown();
    await workers;
  });
});
