import { MemoryBackend } from '../backend';
import { EmptyWatchRangeError, WatchIdInUseError } from './errors';
import { MvccStore } from './kv-store';
import { WatchableStore, type WatchStream, type WatchUpdate } from './watchable-store';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

interface Fixture {
  store: MvccStore;
  watchable: WatchableStore;
  index: number;
  put(...keys: string[]): void;
  del(key: string, end?: string): void;
}

async function fixture(maxRevisionsPerUpdate?: number): Promise<Fixture> {
  const store = await MvccStore.open(new MemoryBackend());
  const fx: Fixture = {
    store,
    watchable: new WatchableStore(store, { maxRevisionsPerUpdate }),
    index: 0,
    put(...keys) {
      const txn = store.write(++fx.index);
      for (const key of keys) txn.put(b(key), b(`${key}@${txn.beginRevision + 1}`), 0);
      txn.end();
    },
    del(key, end) {
      const txn = store.write(++fx.index);
      txn.deleteRange(b(key), end === undefined ? undefined : b(end));
      txn.end();
    },
  };
  return fx;
}

function drain(stream: WatchStream): WatchUpdate[] {
  const updates: WatchUpdate[] = [];
  for (let update = stream.next(); update !== undefined; update = stream.next()) updates.push(update);
  return updates;
}

/** "PUT a@3" / "DELETE a@4" per event, grouped per update. */
const describeUpdates = (updates: WatchUpdate[]): string[][] =>
  updates.map((update) => update.events.map((event) => `${event.type} ${event.kv.key.toString()}@${event.kv.mod_revision}`));

describe('WatchableStore', () => {
  it('delivers the events of one transaction together, in order, to matching watchers only', async () => {
    const fx = await fixture();
    const stream = fx.watchable.newStream();
    const single = stream.watch({ key: b('a') });
    const prefix = stream.watch({ key: b('p/'), rangeEnd: b('p0') });
    fx.put('a', 'p/1', 'q');
    fx.put('p/2');
    fx.del('a');
    const updates = drain(stream);
    expect(updates.map((update) => [update.watchId, update.revision])).toEqual([
      [single, 1],
      [prefix, 1],
      [prefix, 2],
      [single, 3],
    ]);
    expect(describeUpdates(updates)).toEqual([['PUT a@1'], ['PUT p/1@1'], ['PUT p/2@2'], ['DELETE a@3']]);
  });

  const resumeCases: Array<{ title: string; startRevision: number; expected: string[][] }> = [
    { title: 'from the first revision', startRevision: 1, expected: [['PUT k@1', 'PUT k@2', 'DELETE k@3', 'PUT k@4']] },
    { title: 'from the middle', startRevision: 3, expected: [['DELETE k@3', 'PUT k@4']] },
    { title: 'from the current revision', startRevision: 4, expected: [['PUT k@4']] },
    { title: 'from the next revision (0)', startRevision: 0, expected: [] },
  ];
  it.each(resumeCases)('resumes $title, then continues live', async ({ startRevision, expected }) => {
    const fx = await fixture();
    fx.put('k');
    fx.put('k');
    fx.del('k');
    fx.put('k');
    const stream = fx.watchable.newStream();
    stream.watch({ key: b('k'), startRevision });
    expect(describeUpdates(drain(stream))).toEqual(expected);
    fx.put('k');
    expect(describeUpdates(drain(stream))).toEqual([['PUT k@5']]);
  });

  it('waits for a future start revision', async () => {
    const fx = await fixture();
    const stream = fx.watchable.newStream();
    stream.watch({ key: b('k'), startRevision: 3 });
    fx.put('k');
    fx.put('k');
    fx.put('k');
    expect(describeUpdates(drain(stream))).toEqual([['PUT k@3']]);
  });

  it('attaches prev_kv only when asked, for historical and live events', async () => {
    const fx = await fixture();
    fx.put('k');
    fx.put('k');
    const stream = fx.watchable.newStream();
    const withPrev = stream.watch({ key: b('k'), startRevision: 1, prevKv: true });
    const without = stream.watch({ key: b('k'), startRevision: 1 });
    fx.del('k');
    fx.put('k');
    const updates = drain(stream);
    const prevValues = (id: number): string[] =>
      updates
        .filter((update) => update.watchId === id)
        .flatMap((update) => update.events.map((event) => `${event.type}:${event.prev_kv?.value.toString() ?? '-'}`));
    expect(prevValues(withPrev)).toEqual(['PUT:-', 'PUT:k@1', 'DELETE:k@2', 'PUT:-']);
    expect(prevValues(without)).toEqual(['PUT:-', 'PUT:-', 'DELETE:-', 'PUT:-']);
  });

  const filterCases: Array<{ filters: Array<'NOPUT' | 'NODELETE'>; expected: string[][] }> = [
    { filters: [], expected: [['PUT k@1'], ['DELETE k@2'], ['PUT k@3']] },
    { filters: ['NOPUT'], expected: [['DELETE k@2']] },
    { filters: ['NODELETE'], expected: [['PUT k@1'], ['PUT k@3']] },
    { filters: ['NOPUT', 'NODELETE'], expected: [] },
  ];
  it.each(filterCases)('filters $filters', async ({ filters, expected }) => {
    const fx = await fixture();
    const stream = fx.watchable.newStream();
    stream.watch({ key: b('k'), filters });
    fx.put('k');
    fx.del('k');
    fx.put('k');
    expect(describeUpdates(drain(stream))).toEqual(expected);
  });

  it('answers a watch on compacted history with compact_revision and removes it', async () => {
    const fx = await fixture();
    fx.put('k');
    fx.put('k');
    fx.put('k');
    fx.store.compact(2, ++fx.index);
    const stream = fx.watchable.newStream();
    const compacted = stream.watch({ key: b('k'), startRevision: 1 });
    const atCompaction = stream.watch({ key: b('k'), startRevision: 2 });
    const updates = drain(stream);
    expect(updates[0]).toEqual({ watchId: compacted, events: [], revision: 3, compactRevision: 2 });
    expect(describeUpdates(updates.slice(1))).toEqual([['PUT k@2', 'PUT k@3']]);
    expect(stream.watchIds).toEqual([atCompaction]);
  });

  it('catches a slow consumer up from history without gaps, in bounded updates', async () => {
    const fx = await fixture(7);
    const stream = fx.watchable.newStream({ capacityUpdates: 4 });
    stream.watch({ key: b('k/'), rangeEnd: b('k0') });
    const total = 200;
    for (let i = 0; i < total; i++) fx.put(`k/${i % 5}`);
    expect(stream.pendingCount).toBe(4);
    expect(fx.watchable.unsyncedCount).toBe(1);
    const updates = drain(stream);
    const revisions = updates.flatMap((update) => update.events.map((event) => event.kv.mod_revision));
    expect(revisions).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(Math.max(...updates.map((update) => update.events.length))).toBeLessThanOrEqual(7);
    for (const update of updates) expect(update.revision).toBe(update.events[update.events.length - 1]!.kv.mod_revision);
    expect(fx.watchable.unsyncedCount).toBe(0);
    fx.put('k/x');
    expect(describeUpdates(drain(stream))).toEqual([['PUT k/x@201']]);
  });

  it('reports an overflowing watcher as compacted if its history is compacted before it catches up', async () => {
    const fx = await fixture();
    const stream = fx.watchable.newStream({ capacityUpdates: 1 });
    const id = stream.watch({ key: b('k') });
    fx.put('k'); // queued
    fx.put('k'); // overflow: unsynced from revision 2
    fx.put('k');
    fx.store.compact(3, ++fx.index);
    const updates = drain(stream);
    expect(describeUpdates(updates.slice(0, 1))).toEqual([['PUT k@1']]);
    expect(updates[1]).toEqual({ watchId: id, events: [], revision: 3, compactRevision: 3 });
    expect(updates).toHaveLength(2);
  });

  it('assigns ids like etcd and rejects duplicates and empty ranges', async () => {
    const fx = await fixture();
    const stream = fx.watchable.newStream();
    expect(stream.watch({ key: b('a') })).toBe(0);
    expect(stream.watch({ key: b('a'), watchId: 5 })).toBe(5);
    expect(stream.watch({ key: b('a') })).toBe(1);
    expect(() => stream.watch({ key: b('a'), watchId: 5 })).toThrow(WatchIdInUseError);
    expect(() => stream.watch({ key: b('b'), rangeEnd: b('a') })).toThrow(EmptyWatchRangeError);
    expect(stream.watchIds.sort()).toEqual([0, 1, 5]);
  });

  it('stops delivering and drops queued updates on cancel', async () => {
    const fx = await fixture();
    const stream = fx.watchable.newStream();
    const cancelled = stream.watch({ key: b('k') });
    const kept = stream.watch({ key: b('k') });
    fx.put('k');
    expect(stream.cancel(cancelled)).toBe(true);
    expect(stream.cancel(cancelled)).toBe(false);
    fx.put('k');
    expect(drain(stream).map((update) => update.watchId)).toEqual([kept, kept]);
    stream.close();
    fx.put('k');
    expect(stream.next()).toBeUndefined();
    expect(fx.watchable.syncedCount).toBe(0);
  });

  it('sends a requested progress update only once every watch is caught up', async () => {
    const fx = await fixture();
    fx.put('k');
    fx.put('k');
    const stream = fx.watchable.newStream({ capacityUpdates: 1 });
    stream.watch({ key: b('k'), startRevision: 1 });
    fx.put('k');
    stream.requestProgress();
    const updates = drain(stream);
    expect(updates[updates.length - 1]).toEqual({ watchId: -1, events: [], revision: 3, compactRevision: 0 });
    expect(updates.slice(0, -1).flatMap((update) => update.events.map((event) => event.kv.mod_revision))).toEqual([1, 2, 3]);
  });

  it('notifies progress to idle progress_notify watchers only', async () => {
    const fx = await fixture();
    const stream = fx.watchable.newStream();
    const notified = stream.watch({ key: b('a'), progressNotify: true });
    stream.watch({ key: b('b') });
    const busy = stream.watch({ key: b('c'), progressNotify: true });
    fx.put('c');
    drain(stream);
    fx.watchable.notifyProgress();
    expect(drain(stream)).toEqual([{ watchId: notified, events: [], revision: 1, compactRevision: 0 }]);
    fx.watchable.notifyProgress();
    expect(drain(stream).map((update) => update.watchId).sort()).toEqual([notified, busy].sort());
  });

  it('calls onReadable once per transition from empty', async () => {
    const fx = await fixture();
    const stream = fx.watchable.newStream();
    let calls = 0;
    stream.onReadable(() => calls++);
    stream.watch({ key: b('k') });
    fx.put('k');
    fx.put('k');
    await Promise.resolve();
    expect(calls).toBe(1);
    drain(stream);
    fx.put('k');
    await Promise.resolve();
    expect(calls).toBe(2);
  });

  it('resumes watchers from their position after the store reloads a snapshot', async () => {
    const leader = await fixture();
    for (let i = 0; i < 5; i++) leader.put('k');
    const follower = await fixture();
    follower.put('k');
    follower.put('k');
    const stream = follower.watchable.newStream();
    stream.watch({ key: b('k') }); // at revision 3 onwards
    await follower.store.backend.restoreSnapshot(await leader.store.backend.exportSnapshot());
    await follower.store.reload();
    expect(follower.store.revision).toBe(5);
    expect(describeUpdates(drain(stream))).toEqual([['PUT k@3', 'PUT k@4', 'PUT k@5']]);
    follower.index = follower.store.consistentIndex;
    follower.put('k');
    expect(describeUpdates(drain(stream))).toEqual([['PUT k@6']]);
  });
});
