// Watches over the MVCC store, in etcd's shape. A watcher is either synced
// (it has seen everything up to the store's revision and gets each new
// transaction's events as it commits) or unsynced (it is behind and catches
// up from the store's history, a bounded number of revisions at a time).
//
// Each WatchStream (one per client watch stream) has a bounded queue of
// updates. When a synced watcher's update does not fit, the watcher becomes
// unsynced at that revision and is caught up from history once the consumer
// drains the queue: nothing is dropped and events stay in revision order,
// one update per revision at most for live delivery (a transaction's events
// arrive together). A watcher whose next revision has been compacted gets a
// single update with compactRevision set and is removed.

import type { Event, WatchFilterType } from '../etcdpb/types';
import { EmptyWatchRangeError, WatchIdInUseError } from './errors';
import { keyRange, rangeContains, rangeIsEmpty, toLatin1, type KeyRange } from './key-range';
import type { MvccStore } from './kv-store';

export interface WatchableStoreOptions {
  /** Most revisions one catch-up update covers (etcd's watchBatchMaxRevs); default 1000. */
  maxRevisionsPerUpdate?: number;
}

export interface WatchStreamOptions {
  /** Updates queued before watchers fall back to catching up from history; default 128 (etcd's chanBufLen). */
  capacityUpdates?: number;
}

export interface WatchOptions {
  key: Uint8Array;
  /** etcd range-end convention; see key-range.ts. */
  rangeEnd?: Uint8Array | null;
  /** First revision to report, inclusive; 0 or absent means the next one. */
  startRevision?: number;
  /** Attach the previous key-value to each event (when it is not compacted). */
  prevKv?: boolean;
  /** Event kinds to leave out. */
  filters?: readonly WatchFilterType[];
  /** Include this watcher in notifyProgress() ticks. */
  progressNotify?: boolean;
  /** A client-chosen id; 0 or absent picks the lowest free one on the stream, as etcd does. */
  watchId?: number;
}

export interface WatchUpdate {
  /** -1 for a stream-wide progress notification. */
  watchId: number;
  /** In revision order; empty for progress notifications and the compaction answer. */
  events: Event[];
  /** Header revision: every later update of this watcher has only events after it. */
  revision: number;
  /** Non-zero: the watcher needed history compacted at this revision and has been removed. */
  compactRevision: number;
}

/** @internal A watch as the store tracks it. */
export interface Watcher {
  readonly id: number;
  readonly stream: WatchStream;
  readonly range: KeyRange;
  readonly prevKv: boolean;
  readonly skipPut: boolean;
  readonly skipDelete: boolean;
  readonly progressNotify: boolean;
  /** While unsynced, or synced with a start revision still in the future: the next revision to report. */
  nextRevision: number;
  synced: boolean;
  /** Something was sent since the last notifyProgress() tick. */
  sentSinceTick: boolean;
}

const defaultMaxRevisionsPerUpdate = 1000;
const defaultCapacityUpdates = 128;

export class WatchableStore {
  private readonly synced = new Set<Watcher>();
  private readonly syncedByKey = new Map<string, Set<Watcher>>();
  private readonly syncedRanges = new Set<Watcher>();
  private readonly unsynced = new Set<Watcher>();
  private readonly maxRevisionsPerUpdate: number;
  private readonly unsubscribe: Array<() => void>;
  /** The last revision synced watchers have been given (or skipped). */
  private deliveredRevision: number;

  constructor(
    readonly store: MvccStore,
    options: WatchableStoreOptions = {},
  ) {
    this.maxRevisionsPerUpdate = Math.max(1, options.maxRevisionsPerUpdate ?? defaultMaxRevisionsPerUpdate);
    this.deliveredRevision = store.revision;
    this.unsubscribe = [
      store.onCommit((revision, events) => this.deliver(revision, events)),
      store.onCompact(() => this.syncUnsynced()),
      store.onReload(() => this.afterReload()),
    ];
  }

  newStream(options: WatchStreamOptions = {}): WatchStream {
    return new WatchStream(this, Math.max(1, options.capacityUpdates ?? defaultCapacityUpdates));
  }

  get syncedCount(): number {
    return this.synced.size;
  }

  get unsyncedCount(): number {
    return this.unsynced.size;
  }

  /** Catches unsynced watchers up as far as their streams have room. */
  syncUnsynced(): void {
    for (const watcher of [...this.unsynced]) this.catchUp(watcher);
  }

  /**
   * A periodic tick (the server picks the interval): each synced watcher
   * created with progressNotify that got nothing since the previous tick is
   * sent an empty update carrying the current revision.
   */
  notifyProgress(): void {
    for (const watcher of this.synced) {
      if (!watcher.progressNotify) continue;
      if (!watcher.sentSinceTick && watcher.nextRevision <= this.store.revision + 1) {
        watcher.stream.push({ watchId: watcher.id, events: [], revision: this.store.revision, compactRevision: 0 });
      }
      watcher.sentSinceTick = false;
    }
  }

  close(): void {
    for (const unsubscribe of this.unsubscribe) unsubscribe();
  }

  /** @internal */
  addWatcher(stream: WatchStream, id: number, options: WatchOptions): Watcher {
    const range = keyRange(options.key, options.rangeEnd);
    if (rangeIsEmpty(range)) throw new EmptyWatchRangeError();
    const filters = options.filters ?? [];
    const start = options.startRevision ?? 0;
    const watcher: Watcher = {
      id,
      stream,
      range,
      prevKv: options.prevKv === true,
      skipPut: filters.includes('NOPUT'),
      skipDelete: filters.includes('NODELETE'),
      progressNotify: options.progressNotify === true,
      nextRevision: start > 0 ? start : this.store.revision + 1,
      synced: false,
      sentSinceTick: false,
    };
    if (watcher.nextRevision > this.store.revision) this.addSynced(watcher);
    else {
      this.unsynced.add(watcher);
      stream.unsyncedCount++;
      this.catchUp(watcher);
    }
    return watcher;
  }

  /** @internal */
  removeWatcher(watcher: Watcher): void {
    if (watcher.synced) this.removeSynced(watcher);
    else if (this.unsynced.delete(watcher)) watcher.stream.unsyncedCount--;
  }

  /** @internal Called as a stream's queue drains. */
  catchUpStream(stream: WatchStream): void {
    for (const watcher of [...this.unsynced]) {
      if (watcher.stream === stream) this.catchUp(watcher);
    }
  }

  /** @internal */
  streamFullySynced(stream: WatchStream): boolean {
    return stream.unsyncedCount === 0;
  }

  private deliver(revision: number, events: readonly Event[]): void {
    this.deliveredRevision = revision;
    const matched = new Map<Watcher, Event[]>();
    const add = (watcher: Watcher, event: Event): void => {
      const list = matched.get(watcher);
      if (list === undefined) matched.set(watcher, [event]);
      else list.push(event);
    };
    for (const event of events) {
      const key = toLatin1(event.kv.key);
      for (const watcher of this.syncedByKey.get(key) ?? []) add(watcher, event);
      for (const watcher of this.syncedRanges) if (rangeContains(watcher.range, key)) add(watcher, event);
    }
    for (const [watcher, watcherEvents] of matched) {
      if (watcher.nextRevision > revision) continue;
      const selected = this.select(watcher, watcherEvents);
      if (selected.length === 0) continue;
      const update: WatchUpdate = { watchId: watcher.id, events: selected, revision, compactRevision: 0 };
      if (watcher.stream.push(update)) {
        watcher.sentSinceTick = true;
      } else {
        // The consumer is behind: catch this watcher up from history later.
        this.removeSynced(watcher);
        watcher.nextRevision = revision;
        this.unsynced.add(watcher);
        watcher.stream.unsyncedCount++;
      }
    }
  }

  private catchUp(watcher: Watcher): void {
    const stream = watcher.stream;
    while (!watcher.synced && this.unsynced.has(watcher) && stream.hasRoom()) {
      const current = this.store.revision;
      const compactRevision = this.store.compactRevision;
      if (watcher.nextRevision < compactRevision) {
        this.removeWatcher(watcher);
        stream.watcherGone(watcher.id);
        stream.push({ watchId: watcher.id, events: [], revision: current, compactRevision });
        return;
      }
      if (watcher.nextRevision > current) {
        this.unsynced.delete(watcher);
        stream.unsyncedCount--;
        this.addSynced(watcher);
        stream.maybeSendRequestedProgress();
        return;
      }
      const to = Math.min(current, watcher.nextRevision + this.maxRevisionsPerUpdate - 1);
      const events = this.select(
        watcher,
        this.store.historyEvents(watcher.nextRevision, to, (key) => rangeContains(watcher.range, key), watcher.prevKv),
      );
      if (events.length > 0) {
        stream.push({ watchId: watcher.id, events, revision: to, compactRevision: 0 });
        watcher.sentSinceTick = true;
      }
      watcher.nextRevision = to + 1;
    }
  }

  /** Applies the watcher's filters and drops prev_kv it did not ask for. */
  private select(watcher: Watcher, events: readonly Event[]): Event[] {
    const selected: Event[] = [];
    for (const event of events) {
      if (event.type === 'PUT' ? watcher.skipPut : watcher.skipDelete) continue;
      selected.push(watcher.prevKv || event.prev_kv === undefined ? event : { type: event.type, kv: event.kv });
    }
    return selected;
  }

  private afterReload(): void {
    // A restored snapshot replaces the history synced watchers were following:
    // they resume from where they were, or get the compaction answer.
    const resumeAt = this.deliveredRevision + 1;
    for (const watcher of [...this.synced]) {
      this.removeSynced(watcher);
      watcher.nextRevision = Math.max(watcher.nextRevision, resumeAt);
      this.unsynced.add(watcher);
      watcher.stream.unsyncedCount++;
    }
    this.deliveredRevision = this.store.revision;
    this.syncUnsynced();
  }

  private addSynced(watcher: Watcher): void {
    watcher.synced = true;
    this.synced.add(watcher);
    if (watcher.range.kind === 'single') {
      let set = this.syncedByKey.get(watcher.range.start);
      if (set === undefined) {
        set = new Set();
        this.syncedByKey.set(watcher.range.start, set);
      }
      set.add(watcher);
    } else this.syncedRanges.add(watcher);
  }

  private removeSynced(watcher: Watcher): void {
    watcher.synced = false;
    this.synced.delete(watcher);
    if (watcher.range.kind === 'single') {
      const set = this.syncedByKey.get(watcher.range.start);
      set?.delete(watcher);
      if (set?.size === 0) this.syncedByKey.delete(watcher.range.start);
    } else this.syncedRanges.delete(watcher);
  }
}

/**
 * The watches of one client stream and the queue of updates for it. The
 * consumer pulls with next(), typically from an onReadable() callback, and
 * should send a watch's "created" response before pulling its updates.
 */
export class WatchStream {
  private readonly queue: WatchUpdate[] = [];
  private readonly watchers = new Map<number, Watcher>();
  private readonly readableListeners = new Set<() => void>();
  private notifyScheduled = false;
  private progressRequested = false;
  private closed = false;
  /** @internal Watchers of this stream that are catching up. */
  unsyncedCount = 0;

  /** @internal */
  constructor(
    private readonly owner: WatchableStore,
    readonly capacityUpdates: number,
  ) {}

  /** Creates a watch; returns its id. Throws WatchIdInUseError or EmptyWatchRangeError. */
  watch(options: WatchOptions): number {
    this.checkOpen();
    let id = options.watchId ?? 0;
    if (id !== 0) {
      if (this.watchers.has(id)) throw new WatchIdInUseError(id);
    } else {
      while (this.watchers.has(id)) id++;
    }
    // Registered before adding so a catch-up that ends in the compaction answer can remove it.
    const placeholder = { id } as Watcher;
    this.watchers.set(id, placeholder);
    try {
      const watcher = this.owner.addWatcher(this, id, options);
      if (this.watchers.get(id) === placeholder) this.watchers.set(id, watcher);
    } catch (error) {
      this.watchers.delete(id);
      throw error;
    }
    return id;
  }

  /** Stops a watch; its queued updates are discarded. False if there is no such watch. */
  cancel(watchId: number): boolean {
    const watcher = this.watchers.get(watchId);
    if (watcher === undefined) return false;
    this.owner.removeWatcher(watcher);
    this.watchers.delete(watchId);
    for (let index = this.queue.length - 1; index >= 0; index--) {
      if (this.queue[index]!.watchId === watchId) this.queue.splice(index, 1);
    }
    this.afterDrain();
    return true;
  }

  /**
   * Asks for a stream-wide progress update (watchId -1, current revision).
   * It is queued once every watch of the stream has caught up, so it never
   * claims progress past events still to come.
   */
  requestProgress(): void {
    this.checkOpen();
    this.progressRequested = true;
    this.maybeSendRequestedProgress();
  }

  /** The next update, or undefined when the queue is empty. */
  next(): WatchUpdate | undefined {
    const update = this.queue.shift();
    if (update !== undefined) this.afterDrain();
    return update;
  }

  get pendingCount(): number {
    return this.queue.length;
  }

  get watchIds(): number[] {
    return [...this.watchers.keys()];
  }

  /** Called (in a microtask) when updates become available after the queue was empty. */
  onReadable(listener: () => void): () => void {
    this.readableListeners.add(listener);
    return () => this.readableListeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of this.watchers.values()) this.owner.removeWatcher(watcher);
    this.watchers.clear();
    this.queue.length = 0;
    this.readableListeners.clear();
  }

  /** @internal */
  hasRoom(): boolean {
    return !this.closed && this.queue.length < this.capacityUpdates;
  }

  /** @internal Queues an update if there is room. */
  push(update: WatchUpdate): boolean {
    if (!this.hasRoom()) return false;
    this.queue.push(update);
    if (this.queue.length === 1 && !this.notifyScheduled && this.readableListeners.size > 0) {
      this.notifyScheduled = true;
      queueMicrotask(() => {
        this.notifyScheduled = false;
        if (this.queue.length > 0) for (const listener of [...this.readableListeners]) listener();
      });
    }
    return true;
  }

  /** @internal The store removed a watcher (compaction answer). */
  watcherGone(watchId: number): void {
    this.watchers.delete(watchId);
  }

  /** @internal */
  maybeSendRequestedProgress(): void {
    if (!this.progressRequested || !this.owner.streamFullySynced(this) || !this.hasRoom()) return;
    this.progressRequested = false;
    this.push({ watchId: -1, events: [], revision: this.owner.store.revision, compactRevision: 0 });
  }

  private afterDrain(): void {
    if (this.closed) return;
    // Resume catching up once half the queue is free, not on every pull.
    if (this.unsyncedCount > 0 && this.queue.length <= this.capacityUpdates / 2) this.owner.catchUpStream(this);
    this.maybeSendRequestedProgress();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('mvcc: watch stream is closed');
  }
}
