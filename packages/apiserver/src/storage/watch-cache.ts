// The watch cache of one resource (upstream's Cacher): one etcd watch per
// resource prefix, however many API clients watch it. It lists the prefix,
// watches from that revision, keeps the current objects in memory and the
// most recent events in a ring buffer. Clients read the buffer through their
// own cursor, so a slow client never holds up the others or the etcd watch:
// once its cursor falls out of the window it gets Expired (410) and relists,
// as client-go's reflectors do.
//
// Objects handed out are shared between clients and frozen: copy before
// changing one.
//
// The cache only knows it has caught up to a revision when its etcd watch
// says so (an event or a progress notification). A quiet prefix can sit far
// behind the global etcd revision that a consistent list returns, so a read or
// watch at a revision the cache has not confirmed, but which etcd has reached,
// is served from etcd itself; such a watch moves over to the cache as soon as
// the cache confirms the revision the watch has reached. Asking etcd for
// progress on the cache's own watch stream would be cheaper, but etcd before
// 3.4.31 can answer such a request ahead of events still queued on the stream
// (etcd-io/etcd#15220), and etcd-lite reports the same 3.4 version, so the
// request cannot be limited to servers that answer it safely.

import { deepFreeze, type StoredObject, withResourceVersion } from './codec';
import { expiredError, internalError, isStorageError, notFoundError, StorageError, tooLargeResourceVersionError } from './errors';
import type { EtcdWatchStream, RawWatchEvent } from './etcd-watch-stream';
import { normalizePrefix, prefixRangeEnd, validateKey } from './keys';
import { parseResourceVersion } from './resource-version';
import { RingBuffer } from './ring-buffer';
import type { EtcdStore, GetOptions, ListOptions, ListResult } from './store';
import { bookmarkEvent, filterChange, type Predicate, type StorageWatch, type WatchEvent } from './watch-types';

export interface WatchCacheOptions {
  store: EtcdStore;
  /** The resource's prefix, e.g. "/registry/pods/"; every key the cache serves lies below it. */
  prefix: string;
  /** Recent events kept for watchers that start in the past or fall behind. */
  eventBufferSize?: number;
  /** How often watchers that allow bookmarks get a BOOKMARK with the cache's revision. */
  bookmarkIntervalMs?: number;
  /** How long a read or watch at a resourceVersion newer than etcd's own revision waits for it before Timeout. */
  freshnessTimeoutMs?: number;
  /**
   * How long a read or watch at a resourceVersion etcd has reached but the
   * cache has not confirmed waits for the cache before going to etcd instead.
   */
  catchUpWaitMs?: number;
  /** First wait before retrying a failed relist; doubles up to maxRelistDelayMs. */
  relistRetryDelayMs?: number;
  /** Longest wait between relist attempts while etcd is unreachable. */
  maxRelistDelayMs?: number;
  /** Receives one structured record per meaningful event (etcd watch lost, relist); silent when unset. */
  log?: (record: WatchCacheLogRecord) => void;
}

export interface WatchCacheLogRecord {
  event: 'etcd-watch-disconnected' | 'etcd-watch-lost' | 'relisted' | 'relist-failed';
  prefix: string;
  revision: number;
  message?: string;
  /** For 'relisted': whether the gap hid changes, so every watcher got Expired. */
  expiredWatchers?: number;
}

export interface CacheListOptions<T> extends ListOptions<T> {
  /**
   * Serve resourceVersion "" (normally a consistent read from etcd) from
   * memory too; the result may be slightly stale.
   */
  allowCachedRead?: boolean;
}

export interface CacheWatchOptions<T> {
  /** "" or "0": ADDED events for the cached state, then changes; "N": every change after revision N. */
  resourceVersion?: string;
  predicate?: Predicate<T>;
  /** Send a BOOKMARK every bookmarkIntervalMs while the watcher is caught up. */
  allowWatchBookmarks?: boolean;
}

export interface WatchCacheStats {
  /** The revision the cache has caught up to. */
  revision: number;
  /** Watches can start at any resourceVersion at or after this one. */
  windowStartRevision: number;
  bufferedEvents: number;
  objects: number;
  watchers: number;
  /** Times the cache had to list etcd again after losing its watch. */
  relists: number;
}

interface CacheEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  key: string;
  /** The new state; for DELETED the last state carrying the deletion's revision. */
  object: T;
  /** The state before the change (undefined for ADDED). */
  previous: T | undefined;
  revision: number;
}

interface RevisionWaiter {
  revision: number;
  resolve: () => void;
  reject: (error: StorageError) => void;
  timer: NodeJS.Timeout;
}

const DEFAULT_EVENT_BUFFER_SIZE = 10_000;
const DEFAULT_BOOKMARK_INTERVAL_MS = 60_000;
const DEFAULT_FRESHNESS_TIMEOUT_MS = 3_000;
/** Long enough for the cache's etcd watch to deliver a write the client just made, short enough not to be felt. */
const DEFAULT_CATCH_UP_WAIT_MS = 100;

export class WatchCache<T extends StoredObject> {
  readonly prefix: string;
  private readonly store: EtcdStore;
  private readonly eventBufferSize: number;
  private readonly freshnessTimeoutMs: number;
  private readonly catchUpWaitMs: number;
  private readonly relistRetryDelayMs: number;
  private readonly maxRelistDelayMs: number;
  private objects = new Map<string, T>();
  private events: RingBuffer<CacheEvent<T>>;
  private revisionValue = 0;
  private windowStart = 0;
  /** Bumped when a relist finds changes the buffer never saw: every existing cursor is then invalid. */
  private generationValue = 0;
  private bookmarkTickValue = 0;
  private relists = 0;
  private stream: EtcdWatchStream | undefined;
  private readonly watchers = new Set<CacheWatcher<T>>();
  private waiters: RevisionWaiter[] = [];
  private readonly bookmarkTimer: NodeJS.Timeout;
  private relisting = false;
  private stopped = false;
  private readonly log: (record: WatchCacheLogRecord) => void;

  /** Lists the prefix and starts watching it; resolves once the cache can serve. */
  static async start<T extends StoredObject>(options: WatchCacheOptions): Promise<WatchCache<T>> {
    const cache = new WatchCache<T>(options);
    try {
      await cache.initialize();
    } catch (error) {
      cache.stop();
      throw error;
    }
    return cache;
  }

  private constructor(options: WatchCacheOptions) {
    this.store = options.store;
    this.prefix = normalizePrefix(options.prefix);
    this.eventBufferSize = options.eventBufferSize ?? DEFAULT_EVENT_BUFFER_SIZE;
    this.freshnessTimeoutMs = options.freshnessTimeoutMs ?? DEFAULT_FRESHNESS_TIMEOUT_MS;
    this.catchUpWaitMs = options.catchUpWaitMs ?? DEFAULT_CATCH_UP_WAIT_MS;
    this.relistRetryDelayMs = options.relistRetryDelayMs ?? 200;
    this.maxRelistDelayMs = options.maxRelistDelayMs ?? 5_000;
    this.events = new RingBuffer(this.eventBufferSize);
    this.log = options.log ?? (() => undefined);
    const bookmarkIntervalMs = options.bookmarkIntervalMs ?? DEFAULT_BOOKMARK_INTERVAL_MS;
    this.bookmarkTimer = setInterval(() => {
      this.bookmarkTickValue++;
      this.wakeWatchers();
    }, bookmarkIntervalMs);
    this.bookmarkTimer.unref();
  }

  /** @internal read by watchers */
  get revision(): number {
    return this.revisionValue;
  }
  /** @internal */
  get generation(): number {
    return this.generationValue;
  }
  /** @internal */
  get bookmarkTick(): number {
    return this.bookmarkTickValue;
  }
  /** @internal */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * A list served from memory for resourceVersion "0", "" with
   * allowCachedRead, or "N" (not older than N) without limit; limit is then
   * ignored, as upstream's cache did. Everything else (continue, Exact,
   * paginated "N", consistent "", an "N" the cache has not confirmed but
   * etcd has reached) is read from etcd.
   */
  async list(prefix: string, options: CacheListOptions<T> = {}): Promise<ListResult<T>> {
    const keyPrefix = normalizePrefix(prefix);
    this.checkCovered(keyPrefix);
    const requested = parseResourceVersion(keyPrefix, options.resourceVersion);
    const rvUnset = options.resourceVersion === undefined || options.resourceVersion === '';
    const fromEtcd =
      Boolean(options.continue) ||
      options.resourceVersionMatch === 'Exact' ||
      (rvUnset && (!options.allowCachedRead || options.resourceVersionMatch !== undefined)) ||
      (requested > 0 && (options.limit ?? 0) > 0 && options.resourceVersionMatch === undefined) ||
      this.stopped;
    if (fromEtcd) return this.store.list<T>(keyPrefix, options);
    if ((await this.catchUp(requested, keyPrefix)) === 'etcd') return this.store.list<T>(keyPrefix, options);
    const matching: [string, T][] = [];
    for (const [key, object] of this.objects) {
      if (key.startsWith(keyPrefix) && (!options.predicate || options.predicate(object))) matching.push([key, object]);
    }
    matching.sort(([left], [right]) => compareKeys(left, right));
    return { items: matching.map(([, object]) => object), resourceVersion: String(this.revisionValue) };
  }

  /** The cached object for resourceVersion "0" or "N" (not older than N); "" reads etcd. */
  async get(key: string, options: GetOptions = {}): Promise<T> {
    validateKey(key);
    this.checkCovered(key);
    if (!options.resourceVersion || this.stopped) return this.store.get<T>(key, options);
    if ((await this.catchUp(parseResourceVersion(key, options.resourceVersion), key)) === 'etcd') return this.store.get<T>(key, options);
    const object = this.objects.get(key);
    if (!object) throw notFoundError(key);
    return object;
  }

  /**
   * The object at key as the cache holds it now, without waiting for any
   * revision: a starting point for a compare-and-swap (guaranteedUpdate's
   * suggestion), never the answer to a read. Undefined when the cache does
   * not hold the key or has stopped.
   */
  peek(key: string): T | undefined {
    if (this.stopped) return undefined;
    return this.objects.get(key);
  }

  /**
   * Watches a key, or every key under a prefix when key ends with "/", from
   * memory. Invalid arguments throw; everything after arrives as events (a
   * too-old resourceVersion is a single ERROR event carrying Expired).
   */
  watch(key: string, options: CacheWatchOptions<T> = {}): StorageWatch<T> {
    validateKey(key);
    this.checkCovered(key);
    const fromRevision = parseResourceVersion(key, options.resourceVersion);
    const watcher = new CacheWatcher<T>(this, key, fromRevision, options);
    if (this.stopped) watcher.stop();
    else this.watchers.add(watcher);
    return watcher;
  }

  stats(): WatchCacheStats {
    return {
      revision: this.revisionValue,
      windowStartRevision: this.windowStart,
      bufferedEvents: this.events.size,
      objects: this.objects.size,
      watchers: this.watchers.size,
      relists: this.relists,
    };
  }

  /** Stops the etcd watch and ends every client watch. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.bookmarkTimer);
    this.stream?.stop();
    for (const watcher of [...this.watchers]) watcher.stop();
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(internalError(this.prefix, 'the watch cache was stopped'));
    }
    this.waiters = [];
  }

  /** @internal Where a watcher starting after `revision` begins reading, or Expired. */
  positionAfter(revision: number, key: string): number {
    if (revision < this.windowStart) throw expiredError(key, revision, this.windowStart);
    return this.events.findFirst((event) => event.revision > revision);
  }

  /** @internal The buffered event at a cursor, undefined when caught up; throws Expired when evicted. */
  eventAt(position: number, generation: number, key: string, lastRevision: number): CacheEvent<T> | undefined {
    if (generation !== this.generationValue || position < this.events.startSequence) {
      throw expiredError(key, lastRevision, this.windowStart);
    }
    return this.events.at(position);
  }

  /** @internal The cached objects under key (or the one key), in key order. */
  snapshot(key: string, recursive: boolean): { objects: T[]; position: number; generation: number; revision: number } {
    let objects: T[];
    if (recursive) {
      const keys = [...this.objects.keys()].filter((candidate) => candidate.startsWith(key)).sort(compareKeys);
      objects = keys.map((candidate) => this.objects.get(candidate) as T);
    } else {
      const object = this.objects.get(key);
      objects = object ? [object] : [];
    }
    return { objects, position: this.events.endSequence, generation: this.generationValue, revision: this.revisionValue };
  }

  /** @internal */
  removeWatcher(watcher: CacheWatcher<T>): void {
    this.watchers.delete(watcher);
  }

  /**
   * @internal Where a read or watch at revision is served from: 'cache' once
   * the cache has confirmed it, 'etcd' when etcd has reached it but the cache
   * did not confirm it within catchUpWaitMs. A revision beyond etcd's own
   * waits freshnessTimeoutMs for the cache, then fails with Timeout.
   */
  async catchUp(revision: number, key: string): Promise<'cache' | 'etcd'> {
    if (revision <= this.revisionValue) return 'cache';
    try {
      await this.waitForRevision(revision, key, this.catchUpWaitMs);
      return 'cache';
    } catch (error) {
      if (!isStorageError(error) || error.code !== 'Timeout') throw error;
    }
    const etcdRevision = await this.store.currentRevision();
    if (revision <= this.revisionValue) return 'cache';
    if (revision <= etcdRevision) return 'etcd';
    await this.waitForRevision(revision, key, this.freshnessTimeoutMs);
    return 'cache';
  }

  /** @internal A watch served by etcd itself, for a watcher the cache cannot serve yet. */
  watchEtcd(key: string, options: CacheWatchOptions<T>): StorageWatch<T> {
    return this.store.watch<T>(key, { resourceVersion: options.resourceVersion, predicate: options.predicate, progressNotify: options.allowWatchBookmarks });
  }

  /** @internal Resolves once the cache has seen revision (Timeout after timeoutMs). */
  waitForRevision(revision: number, key: string, timeoutMs = this.freshnessTimeoutMs): Promise<void> {
    if (revision <= this.revisionValue) return Promise.resolve();
    if (this.stopped) return Promise.reject(internalError(key, 'the watch cache was stopped'));
    return new Promise((resolve, reject) => {
      const waiter: RevisionWaiter = {
        revision,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((candidate) => candidate !== waiter);
          reject(tooLargeResourceVersionError(key, revision, this.revisionValue));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  private async initialize(): Promise<void> {
    const snapshot = await this.store.readSnapshot<T>(this.prefix, true);
    for (const entry of snapshot.entries) this.objects.set(entry.key, deepFreeze(entry.object));
    this.revisionValue = snapshot.revision;
    this.windowStart = snapshot.revision;
    this.openStream(snapshot.revision + 1);
  }

  private openStream(startRevision: number): void {
    if (this.stopped) return;
    this.stream = this.store.openWatchStream(
      { key: Buffer.from(this.prefix), rangeEnd: prefixRangeEnd(Buffer.from(this.prefix)), startRevision, prevKv: false },
      {
        onEvents: (events) => this.applyEvents(events),
        onProgress: (revision) => this.advanceRevision(revision),
        onCompacted: (compactRevision) => {
          this.log({ event: 'etcd-watch-lost', prefix: this.prefix, revision: this.revisionValue, message: `compacted at ${compactRevision}` });
          void this.relist();
        },
        onFailed: (error) => {
          this.log({ event: 'etcd-watch-lost', prefix: this.prefix, revision: this.revisionValue, message: error.message });
          void this.relist();
        },
        onDisconnected: (error) => {
          this.log({ event: 'etcd-watch-disconnected', prefix: this.prefix, revision: this.revisionValue, message: error.message });
        },
      },
    );
  }

  private applyEvents(events: RawWatchEvent[]): void {
    for (const event of events) {
      let cacheEvent: CacheEvent<T> | undefined;
      try {
        cacheEvent = this.toCacheEvent(event);
      } catch (error) {
        // The cache cannot skip an event it cannot read without diverging
        // from etcd: start over from a fresh list.
        if (!isStorageError(error)) throw error;
        this.stream?.stop();
        void this.relist();
        return;
      }
      if (cacheEvent) {
        if (cacheEvent.type === 'DELETED') this.objects.delete(cacheEvent.key);
        else this.objects.set(cacheEvent.key, cacheEvent.object);
        const evicted = this.events.push(cacheEvent);
        if (evicted) this.windowStart = evicted.revision;
      }
      this.revisionValue = Math.max(this.revisionValue, event.revision);
    }
    this.resolveWaiters();
    this.wakeWatchers();
  }

  private toCacheEvent(event: RawWatchEvent): CacheEvent<T> | undefined {
    const previous = this.objects.get(event.key);
    if (event.type === 'delete') {
      // A delete of a key the cache never held (created and deleted within one
      // compacted gap) carries nothing to report.
      if (!previous) return undefined;
      const object = deepFreeze(withResourceVersion(previous, String(event.revision)));
      return { type: 'DELETED', key: event.key, object, previous, revision: event.revision };
    }
    const object = deepFreeze(this.store.decodeKv<T>(event.kv));
    return { type: previous ? 'MODIFIED' : 'ADDED', key: event.key, object, previous, revision: event.revision };
  }

  private advanceRevision(revision: number): void {
    if (revision <= this.revisionValue) return;
    this.revisionValue = revision;
    this.resolveWaiters();
    // Watchers still served by etcd may now move over to the cache.
    this.wakeWatchers();
  }

  /**
   * Lists again after the etcd watch was lost for good (compaction, cancel,
   * undecodable event). If nothing changed in the gap, watchers carry on
   * untouched; otherwise the events in the gap are unknown, so every current
   * watcher gets Expired rather than a silently incomplete stream.
   */
  private async relist(): Promise<void> {
    if (this.relisting || this.stopped) return;
    this.relisting = true;
    this.stream?.stop();
    this.stream = undefined;
    let delayMs = this.relistRetryDelayMs;
    try {
      for (;;) {
        if (this.stopped) return;
        try {
          const snapshot = await this.store.readSnapshot<T>(this.prefix, true);
          if (this.stopped) return;
          this.replace(snapshot.entries.map((entry) => [entry.key, entry.object]), snapshot.revision);
          this.openStream(snapshot.revision + 1);
          return;
        } catch (error) {
          if (!isStorageError(error)) throw error;
          this.log({ event: 'relist-failed', prefix: this.prefix, revision: this.revisionValue, message: error.message });
          await new Promise((resolve) => setTimeout(resolve, delayMs));
          delayMs = Math.min(delayMs * 2, this.maxRelistDelayMs);
        }
      }
    } finally {
      this.relisting = false;
    }
  }

  private replace(entries: [string, T][], revision: number): void {
    this.relists++;
    const fresh = new Map<string, T>();
    let changed = entries.length !== this.objects.size;
    for (const [key, object] of entries) {
      const known = this.objects.get(key);
      if (!known || known.metadata?.resourceVersion !== object.metadata?.resourceVersion) changed = true;
      const unchanged = known !== undefined && known.metadata?.resourceVersion === object.metadata?.resourceVersion;
      fresh.set(key, unchanged ? known : deepFreeze(object));
    }
    this.objects = fresh;
    if (changed) {
      this.generationValue++;
      this.events = new RingBuffer(this.eventBufferSize);
      this.windowStart = revision;
    }
    this.log({ event: 'relisted', prefix: this.prefix, revision, expiredWatchers: changed ? this.watchers.size : 0 });
    this.revisionValue = Math.max(this.revisionValue, revision);
    this.resolveWaiters();
    this.wakeWatchers();
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return;
    const remaining: RevisionWaiter[] = [];
    for (const waiter of this.waiters) {
      if (waiter.revision <= this.revisionValue) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      } else remaining.push(waiter);
    }
    this.waiters = remaining;
  }

  private wakeWatchers(): void {
    for (const watcher of this.watchers) watcher.wake();
  }

  private checkCovered(key: string): void {
    if (!key.startsWith(this.prefix)) {
      throw internalError(key, `the watch cache for ${this.prefix} does not hold this key`);
    }
  }
}

/**
 * One client's watch: a cursor into the cache's event buffer, after (when it
 * starts at a revision only etcd has confirmed) a stretch served by etcd.
 */
class CacheWatcher<T extends StoredObject> implements StorageWatch<T> {
  private readonly recursive: boolean;
  private wakeUp: (() => void) | undefined;
  /** The etcd watch serving this watcher until the cache catches up with it. */
  private etcdWatch: StorageWatch<T> | undefined;
  private stopped = false;
  private iterating = false;
  private reason: string | undefined;

  constructor(
    private readonly cache: WatchCache<T>,
    private readonly key: string,
    private readonly fromRevision: number,
    private readonly options: CacheWatchOptions<T>,
  ) {
    this.recursive = key.endsWith('/');
  }

  get endReason(): string | undefined {
    return this.reason;
  }

  stop(): void {
    this.end('stopped');
  }

  /** @internal */
  wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchEvent<T>> {
    if (this.iterating) throw new Error('a storage watch has a single consumer and is already being iterated');
    this.iterating = true;
    try {
      let position: number;
      let generation: number;
      let lastRevision: number;
      try {
        if (this.fromRevision === 0) {
          const snapshot = this.cache.snapshot(this.key, this.recursive);
          ({ position, generation, revision: lastRevision } = snapshot);
          for (const object of snapshot.objects) {
            if (this.stopped) return;
            if (!this.options.predicate || this.options.predicate(object)) yield { type: 'ADDED', object };
          }
        } else {
          lastRevision = this.fromRevision;
          if ((await this.cache.catchUp(this.fromRevision, this.key)) === 'etcd') {
            const handOver = yield* this.serveFromEtcd();
            if (handOver === undefined) return;
            lastRevision = handOver;
          }
          generation = this.cache.generation;
          position = this.cache.positionAfter(lastRevision, this.key);
        }
      } catch (error) {
        if (!(error instanceof StorageError) || this.stopped) throw error;
        this.end(error.code === 'Expired' ? 'expired' : 'failed');
        yield { type: 'ERROR', object: error };
        return;
      }
      let bookmarkTick = this.cache.bookmarkTick;
      for (;;) {
        if (this.stopped || this.cache.isStopped) return;
        let event: CacheEvent<T> | undefined;
        try {
          event = this.cache.eventAt(position, generation, this.key, lastRevision);
        } catch (error) {
          if (!(error instanceof StorageError)) throw error;
          this.end('fell out of the event window');
          yield { type: 'ERROR', object: error };
          return;
        }
        if (event) {
          position++;
          lastRevision = event.revision;
          const translated = this.translate(event);
          if (translated) yield translated;
          continue;
        }
        if (this.options.allowWatchBookmarks && this.cache.bookmarkTick !== bookmarkTick) {
          bookmarkTick = this.cache.bookmarkTick;
          yield bookmarkEvent<T>(this.cache.revision);
          continue;
        }
        await new Promise<void>((resolve) => (this.wakeUp = resolve));
      }
    } finally {
      this.end('stopped');
    }
  }

  /**
   * Relays etcd's watch until the cache has confirmed the revision this
   * watcher reached; returns that revision to carry on from the cache, or
   * undefined when the watch ended meanwhile (an ERROR, if any, was yielded).
   */
  private async *serveFromEtcd(): AsyncGenerator<WatchEvent<T>, number | undefined> {
    if (this.stopped) return undefined;
    const etcdWatch = this.cache.watchEtcd(this.key, this.options);
    this.etcdWatch = etcdWatch;
    const iterator = etcdWatch[Symbol.asyncIterator]();
    let lastRevision = this.fromRevision;
    let pending = iterator.next();
    try {
      for (;;) {
        if (this.stopped || this.cache.isStopped) return undefined;
        if (this.cache.revision >= lastRevision) return lastRevision;
        const woken = new Promise<undefined>((resolve) => (this.wakeUp = () => resolve(undefined)));
        const result = await Promise.race([pending, woken]);
        if (result === undefined) continue;
        if (result.done) return undefined;
        const event = result.value;
        if (event.type === 'ERROR') {
          this.end(event.object.code === 'Expired' ? 'expired' : 'failed');
          yield event;
          return undefined;
        }
        pending = iterator.next();
        lastRevision = Math.max(lastRevision, parseResourceVersion(this.key, event.object.metadata?.resourceVersion));
        yield event;
      }
    } finally {
      this.etcdWatch = undefined;
      etcdWatch.stop();
    }
  }

  private translate(event: CacheEvent<T>): WatchEvent<T> | undefined {
    if (this.recursive ? !event.key.startsWith(this.key) : event.key !== this.key) return undefined;
    if (event.type === 'DELETED') return filterChange(this.options.predicate, undefined, event.previous, () => event.object);
    // An object that stops matching leaves the watch as DELETED at this event's revision.
    return filterChange(this.options.predicate, event.object, event.previous, (previous) =>
      withResourceVersion(previous, String(event.revision)),
    );
  }

  private end(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    this.cache.removeWatcher(this);
    this.etcdWatch?.stop();
    this.wake();
  }
}

function compareKeys(left: string, right: string): number {
  // etcd orders keys by bytes; for the ASCII keys Kubernetes allows this is code unit order.
  return left < right ? -1 : left > right ? 1 : 0;
}
