// serveGrpcWatch against a stand-in for grpc-js's server stream (an object-mode
// Writable whose write callbacks the test releases), so the batching rules
// can be checked message by message: events of one turn share a message, in
// order, bounded in count and bytes; an ERROR closes its batch; a client that
// reads nothing is cut off after maxQueuedEvents.

import { Writable } from 'node:stream';
import type { apiserverpb } from '@kube-lite/client';
import { decodeJson } from '@kube-lite/client';
import type { RequestContext, WatchSink } from '../server';
import { StatusError } from '../server';
import { serveGrpcWatch, type ActiveGrpcWatch, type GrpcWatchOptions, type WatchStreamCall } from './watch-stream';

class FakeStreamCall extends Writable {
  readonly messages: apiserverpb.WatchEventBatchMessage[] = [];
  readonly errors: { code?: number; details?: string }[] = [];
  cancelled = false;
  ended = false;
  /** When false, write callbacks wait for release(): the client is not reading. */
  reading = true;
  private readonly held: (() => void)[] = [];

  constructor() {
    super({ objectMode: true, highWaterMark: 1_000_000 });
    this.on('error', (error: { code?: number; details?: string }) => this.errors.push(error));
    this.on('finish', () => {
      this.ended = true;
    });
  }

  override _write(chunk: apiserverpb.WatchEventBatchMessage, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.messages.push(chunk);
    if (this.reading) callback();
    else this.held.push(() => callback());
  }

  /** The events of each message as "TYPE name". */
  shapes(): string[][] {
    return this.messages.map((message) => message.events.map((event) => `${event.type} ${(decodeJson<{ metadata?: { name?: string } }>(event.object).metadata?.name ?? '')}`));
  }
}

function context(allowWatchBookmarks = false): RequestContext {
  return {
    user: { name: 'test', uid: '', groups: [] },
    verb: 'watch',
    group: '',
    version: 'v1',
    resource: 'configmaps',
    subresource: '',
    namespace: 'default',
    name: '',
    list: { labelSelector: '', fieldSelector: '', continue: '', resourceVersion: '', allowWatchBookmarks },
    write: { fieldManager: '', fieldValidation: 'Warn', dryRun: false, force: false },
    output: {},
    query: new URLSearchParams(),
    signal: new AbortController().signal,
    addWarning: () => undefined,
  };
}

function object(name: string, sizeBytes = 0): unknown {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: sizeBytes > 0 ? { pad: 'x'.repeat(sizeBytes) } : {} };
}

/** Watches to end after each test, so no timeout timer outlives it. */
const running: ActiveGrpcWatch['finish'][] = [];
afterEach(() => {
  for (const finish of running.splice(0)) finish('server-stopping');
});

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function start(
  options: Partial<GrpcWatchOptions> = {},
  allowWatchBookmarks = false,
): Promise<{ call: FakeStreamCall; sink: WatchSink; stopped: () => number; done: Promise<string>; finish: ActiveGrpcWatch['finish'] }> {
  const call = new FakeStreamCall();
  let sink: WatchSink | undefined;
  let stops = 0;
  const active = await serveGrpcWatch(
    call as unknown as WatchStreamCall,
    {
      watch: async (_context, given) => {
        sink = given;
        return { stop: () => void (stops += 1) };
      },
    },
    context(allowWatchBookmarks),
    { timeoutMs: 60_000, maxQueuedEvents: 10_000, controller: new AbortController(), ...options },
  );
  if (sink === undefined) throw new Error('the handler was not called');
  running.push(active.finish);
  return { call, sink, stopped: () => stops, done: active.done, finish: active.finish };
}

describe('serveGrpcWatch batching', () => {
  it('sends the events of one turn as one message, in order, and later turns as later messages', async () => {
    const { call, sink, done } = await start();
    sink.send({ type: 'ADDED', object: object('a') });
    sink.send({ type: 'MODIFIED', object: object('a') });
    sink.send({ type: 'DELETED', object: object('b') });
    expect(call.messages).toHaveLength(0);
    await nextTurn();
    sink.send({ type: 'ADDED', object: object('c') });
    await nextTurn();
    expect(call.shapes()).toEqual([['ADDED a', 'MODIFIED a', 'DELETED b'], ['ADDED c']]);
    sink.end();
    expect(await done).toBe('handler-ended');
    expect(call.messages).toHaveLength(2);
  });

  it.each([
    ['maxBatchEvents 3: 7 events', { maxBatchEvents: 3 }, 7, 0, [3, 3, 1]],
    ['maxBatchEvents 1: every event alone', { maxBatchEvents: 1 }, 3, 0, [1, 1, 1]],
    ['maxBatchBytes: about two 1 KiB objects a message', { maxBatchBytes: 2500 }, 5, 1000, [2, 2, 1]],
    ['an object larger than maxBatchBytes goes alone', { maxBatchBytes: 500 }, 3, 1000, [1, 1, 1]],
  ])('bounds a message: %s', async (_case, options, count, sizeBytes, sizes) => {
    const { call, sink } = await start(options);
    for (let index = 0; index < count; index += 1) sink.send({ type: 'ADDED', object: object(`o${index}`, sizeBytes) });
    await nextTurn();
    expect(call.messages.map((message) => message.events.length)).toEqual(sizes);
    expect(call.shapes().flat()).toEqual(Array.from({ length: count }, (_, index) => `ADDED o${index}`));
    sink.end();
  });

  it('drops bookmarks unless asked for, and keeps them in order when asked', async () => {
    const without = await start();
    without.sink.send({ type: 'BOOKMARK', object: object('') });
    without.sink.send({ type: 'ADDED', object: object('a') });
    await nextTurn();
    expect(without.call.shapes()).toEqual([['ADDED a']]);
    const withBookmarks = await start({}, true);
    withBookmarks.sink.send({ type: 'ADDED', object: object('a') });
    withBookmarks.sink.send({ type: 'BOOKMARK', object: object('') });
    await nextTurn();
    expect(withBookmarks.call.shapes()).toEqual([['ADDED a', 'BOOKMARK ']]);
  });

  it('sends a failure as the last event of the turn\'s message, then ends the stream normally', async () => {
    const { call, sink, stopped, done } = await start();
    sink.send({ type: 'ADDED', object: object('a') });
    sink.fail(new StatusError(410, 'Expired', 'too old resource version: 1 (5)'));
    expect(await done).toBe('handler-failed');
    expect(call.messages.map((message) => message.events.map((event) => event.type))).toEqual([['ADDED', 'ERROR']]);
    const status = decodeJson<{ code: number }>(call.messages[0]?.events[1]?.object ?? Buffer.alloc(0));
    expect(status.code).toBe(410);
    expect(sink.send({ type: 'ADDED', object: object('late') })).toBe(false);
    await nextTurn();
    expect(call.messages).toHaveLength(1);
    expect(call.errors).toEqual([]);
    expect(stopped()).toBe(1);
  });

  it('sends the events of the turn before ending (shutdown, timeout), and nothing to a cancelled client', async () => {
    const { call, sink, done, finish } = await start();
    sink.send({ type: 'ADDED', object: object('a') });
    sink.send({ type: 'ADDED', object: object('b') });
    finish('server-stopping');
    expect(await done).toBe('server-stopping');
    expect(call.shapes()).toEqual([['ADDED a', 'ADDED b']]);
    await nextTurn();
    expect(call.ended).toBe(true);
    const timed = await start({ timeoutMs: 20 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(await timed.done).toBe('timeout');
    expect(timed.sink.send({ type: 'ADDED', object: object('a') })).toBe(false);
    expect(timed.call.messages).toHaveLength(0);
    const second = await start({ timeoutMs: 60_000 });
    second.sink.send({ type: 'ADDED', object: object('b') });
    second.call.emit('cancelled');
    expect(await second.done).toBe('client-cancelled');
    await nextTurn();
    // A cancelled client gets nothing more.
    expect(second.call.messages).toHaveLength(0);
  });

  it('cuts off a client that reads nothing once more than maxQueuedEvents wait, whatever the batching', async () => {
    const { call, sink, stopped, done } = await start({ maxQueuedEvents: 10, maxBatchEvents: 4 });
    call.reading = false;
    let accepted = 0;
    for (let turn = 0; turn < 10 && accepted < 100; turn += 1) {
      for (let index = 0; index < 3; index += 1) {
        if (sink.send({ type: 'ADDED', object: object(`o${accepted}`) })) accepted += 1;
        else break;
      }
      await nextTurn();
    }
    expect(await done).toBe('slow-client');
    // 4 messages of 3 events are 12 > 10 unread: the fourth write ends the watch with 429 (the Writable hands the
    // first message over and keeps the other three).
    expect(accepted).toBe(12);
    expect(call.messages.map((message) => message.events.length)).toEqual([3]);
    expect(call.writableLength).toBe(4);
    expect(call.errors).toHaveLength(1);
    expect(call.errors[0]?.details).toMatch(/more than 10 events unread/);
    expect(stopped()).toBe(1);
  });

  it('does not cut off a client that keeps up, however many events pass', async () => {
    const { call, sink, done } = await start({ maxQueuedEvents: 10, maxBatchEvents: 4 });
    for (let turn = 0; turn < 20; turn += 1) {
      for (let index = 0; index < 8; index += 1) expect(sink.send({ type: 'ADDED', object: object(`o${turn}-${index}`) })).toBe(true);
      await nextTurn();
    }
    sink.end();
    expect(await done).toBe('handler-ended');
    expect(call.shapes().flat()).toHaveLength(160);
    expect(call.errors).toEqual([]);
  });
});
