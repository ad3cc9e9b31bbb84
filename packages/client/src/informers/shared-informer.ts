// A SharedInformer keeps a local cache of one resource in step with the API
// server and tells event handlers what changed, as client-go's
// sharedIndexInformer + Reflector do:
//
//   list (paged) -> replace the cache -> watch from the list's version
//   -> apply events -> (stream ends) watch again from the last version seen
//
// A 410 Expired (the server's history no longer reaches our version) means
// events were lost: list again and reconcile the cache against the list, so
// handlers see each lost change once (add, update, or delete with
// DeletedFinalStateUnknown) and nothing twice. Other failures back off
// exponentially before retrying. Handlers run synchronously and should only
// enqueue keys; a handler that throws is logged and does not stop the others.
import type { FieldSelector, KubeObject, Selector } from '@kube-lite/api';
import { selectorString, type ApiClient, type ResourceRef } from '../api-client';
import { isGone } from '../errors';
import { silentLogger, type Logger } from '../logger';
import { refString } from '../resources';
import { Indexer, NAMESPACE_INDEX, namespaceIndexFunc, objectKey, type IndexFunc } from './indexer';
import { Lister } from './lister';

/** Handed to onDelete when an object vanished while the informer was not watching: its last known state. */
export class DeletedFinalStateUnknown<T> {
  constructor(
    readonly key: string,
    readonly object: T,
  ) {}
}

export interface ResourceEventHandler<T> {
  /** A new object; isInInitialList is true for objects delivered by the first list or to a handler added late. */
  onAdd?(object: T, isInInitialList: boolean): void;
  /** A changed object, or the same object twice on resync (compare resourceVersions to tell). */
  onUpdate?(oldObject: T, newObject: T): void;
  /** A deleted object's final state, or DeletedFinalStateUnknown when the deletion was missed. */
  onDelete?(object: T | DeletedFinalStateUnknown<T>): void;
}

export interface HandlerRegistration {
  /** Stops delivering events to the handler. */
  remove(): void;
}

export interface SharedInformerOptions<T> {
  client: ApiClient;
  resource: ResourceRef;
  /** Watch one namespace only; all namespaces when absent. */
  namespace?: string;
  /** Cache only objects matching this label selector. */
  labelSelector?: string | Selector;
  /** Cache only objects matching this field selector ("spec.nodeName=node-1" for a kubelet). */
  fieldSelector?: string | FieldSelector;
  /** How often every cached object is re-delivered as an update to handlers without their own period; 0 (never) by default. */
  resyncPeriodMs?: number;
  /** Indexes beyond the namespace index every informer has. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Items per list page; 500 by default. */
  listPageSize?: number;
  /** Watch streams are asked to end after between this and twice this many seconds (so load spreads); 300 by default. */
  watchTimeoutSeconds?: number;
  /** First retry delay after a failure, doubled per consecutive failure; 100 ms by default. */
  initialBackoffMs?: number;
  /** Ceiling of the retry delay; 30 s by default. */
  maxBackoffMs?: number;
  logger?: Logger;
}

interface Listener<T> {
  handler: ResourceEventHandler<T>;
  resyncPeriodMs: number;
  nextResyncAtMs: number;
}

/** Cached objects are frozen: a handler changing one would corrupt every controller's view, so it fails loudly instead. */
function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value as Record<string, unknown>)) deepFreeze(member);
  }
  return value;
}

export class SharedInformer<T extends KubeObject> {
  readonly indexer: Indexer<T>;
  readonly lister: Lister<T>;
  readonly resource: ResourceRef;
  private readonly options: SharedInformerOptions<T>;
  private readonly logger: Logger;
  private readonly listeners = new Set<Listener<T>>();
  private readonly syncWaiters: (() => void)[] = [];
  private lastResourceVersion = '';
  private synced = false;
  private started = false;
  private stopped = false;
  private loopDone: Promise<void> | undefined;
  private currentWatch: { stop(): void } | undefined;
  private wakeSleep: (() => void) | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private watchDeliveredEvents = false;

  constructor(options: SharedInformerOptions<T>) {
    this.options = options;
    this.resource = options.resource;
    this.logger = options.logger ?? silentLogger;
    this.indexer = new Indexer<T>({ [NAMESPACE_INDEX]: namespaceIndexFunc, ...options.indexers });
    this.lister = new Lister(this.indexer);
  }

  /**
   * Registers a handler. Added after the first list, it first gets an onAdd
   * for every cached object. `resyncPeriodMs` overrides the informer's period
   * for this handler (0: never).
   */
  addEventHandler(handler: ResourceEventHandler<T>, resyncPeriodMs?: number): HandlerRegistration {
    const period = resyncPeriodMs ?? this.options.resyncPeriodMs ?? 0;
    const listener: Listener<T> = { handler, resyncPeriodMs: period, nextResyncAtMs: Date.now() + period };
    this.listeners.add(listener);
    if (this.synced) for (const object of this.indexer.list()) this.call(listener, 'onAdd', () => handler.onAdd?.(object, true));
    this.scheduleResync();
    return { remove: () => this.listeners.delete(listener) };
  }

  /** Adds cache indexes; allowed before or after start. */
  addIndexers(indexers: Record<string, IndexFunc<T>>): void {
    this.indexer.addIndexers(indexers);
  }

  /** Starts listing and watching in the background; calling it again does nothing. */
  run(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.scheduleResync();
    this.loopDone = this.loop();
  }

  /** Ends the watch and timers; resolves when the background loop has exited. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.currentWatch?.stop();
    this.wakeSleep?.();
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    for (const waiter of this.syncWaiters.splice(0)) waiter();
    await this.loopDone;
  }

  /** True once the first list has been delivered to the cache and handlers. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, false if `timeoutMs` passes first or the informer stops. */
  waitForSync(timeoutMs?: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(this.synced);
      };
      this.syncWaiters.push(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const index = this.syncWaiters.indexOf(done);
          if (index >= 0) this.syncWaiters.splice(index, 1);
          resolve(this.synced);
        }, timeoutMs);
      }
    });
  }

  /** The resourceVersion of the last list or event applied; "" before the first list. */
  lastSyncResourceVersion(): string {
    return this.lastResourceVersion;
  }

  private async loop(): Promise<void> {
    const initialBackoffMs = this.options.initialBackoffMs ?? 100;
    const maxBackoffMs = this.options.maxBackoffMs ?? 30_000;
    let backoffMs = initialBackoffMs;
    let needList = true;
    let consecutiveGone = 0;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.listAndReplace();
          needList = false;
        }
        const eventCount = await this.watchOnce();
        consecutiveGone = 0;
        if (eventCount > 0) backoffMs = initialBackoffMs;
        // A stream that ended at once with nothing in it would otherwise spin.
        else await this.sleep(backoffMs);
      } catch (error) {
        if (this.stopped) break;
        if (isGone(error)) {
          consecutiveGone += 1;
          needList = true;
          this.logger.info('resource version expired; listing again', { resource: refString(this.resource), resourceVersion: this.lastResourceVersion });
          // The first 410 relists at once; repeated ones mean the server is churning, so back off.
          if (consecutiveGone === 1) continue;
        } else {
          // A stream that worked for a while before breaking is a fresh failure, not a repeated one.
          if (this.watchDeliveredEvents) backoffMs = initialBackoffMs;
          this.logger.warn(needList ? 'list failed; retrying' : 'watch failed; resuming', { resource: refString(this.resource), retryInMs: backoffMs, error });
        }
        await this.sleep(jitter(backoffMs));
        backoffMs = Math.min(backoffMs * 2, maxBackoffMs);
      }
    }
  }

  private async listAndReplace(): Promise<void> {
    const { client, resource, namespace } = this.options;
    const items: T[] = [];
    let continueToken: string | undefined;
    let listVersion = '';
    for (;;) {
      const page = await client.list<T>(resource, namespace, {
        labelSelector: selectorString(this.options.labelSelector),
        fieldSelector: selectorString(this.options.fieldSelector),
        limit: this.options.listPageSize ?? 500,
        ...(continueToken === undefined ? {} : { continue: continueToken }),
      });
      if (this.stopped) return;
      // The first page's version is the snapshot all pages come from.
      if (continueToken === undefined) listVersion = page.metadata?.resourceVersion ?? '';
      items.push(...page.items);
      continueToken = page.metadata?.continue;
      if (!continueToken) break;
    }
    this.replace(items, listVersion);
  }

  /** Reconciles the cache with a full list, telling handlers only what differs. */
  private replace(items: T[], listVersion: string): void {
    const initial = !this.synced;
    const seen = new Set<string>();
    for (const item of items) {
      const object = deepFreeze(item);
      const key = objectKey(object);
      seen.add(key);
      const existing = this.indexer.get(key);
      if (existing !== undefined && existing.metadata?.resourceVersion === object.metadata?.resourceVersion) continue;
      this.indexer.set(object);
      if (existing === undefined) this.dispatch('onAdd', (handler) => handler.onAdd?.(object, initial));
      else this.dispatch('onUpdate', (handler) => handler.onUpdate?.(existing, object));
    }
    for (const key of this.indexer.listKeys()) {
      if (seen.has(key)) continue;
      const gone = this.indexer.deleteKey(key) as T;
      const tombstone = new DeletedFinalStateUnknown(key, gone);
      this.dispatch('onDelete', (handler) => handler.onDelete?.(tombstone));
    }
    this.lastResourceVersion = listVersion;
    if (!this.synced) {
      this.synced = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter();
    }
  }

  /** One watch stream, until it ends; returns how many events it carried, throws what ended it abnormally. */
  private async watchOnce(): Promise<number> {
    const base = this.options.watchTimeoutSeconds ?? 300;
    const watch = this.options.client.watch<T>(this.options.resource, this.options.namespace, {
      labelSelector: selectorString(this.options.labelSelector),
      fieldSelector: selectorString(this.options.fieldSelector),
      resourceVersion: this.lastResourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: Math.round(base * (1 + Math.random())),
    });
    this.currentWatch = watch;
    this.watchDeliveredEvents = false;
    let count = 0;
    try {
      for await (const event of watch) {
        if (this.stopped) break;
        count += 1;
        this.watchDeliveredEvents = true;
        const object = deepFreeze(event.object);
        const version = object.metadata?.resourceVersion;
        switch (event.type) {
          case 'ADDED':
          case 'MODIFIED': {
            const key = objectKey(object);
            const existing = this.indexer.get(key);
            this.indexer.set(object);
            if (existing === undefined) this.dispatch('onAdd', (handler) => handler.onAdd?.(object, false));
            else this.dispatch('onUpdate', (handler) => handler.onUpdate?.(existing, object));
            break;
          }
          case 'DELETED': {
            const key = objectKey(object);
            if (this.indexer.deleteKey(key) !== undefined) this.dispatch('onDelete', (handler) => handler.onDelete?.(object));
            break;
          }
          case 'BOOKMARK':
            break;
        }
        if (version) this.lastResourceVersion = version;
      }
    } finally {
      watch.stop();
      this.currentWatch = undefined;
    }
    return count;
  }

  private dispatch(what: string, deliver: (handler: ResourceEventHandler<T>) => void): void {
    for (const listener of [...this.listeners]) this.call(listener, what, () => deliver(listener.handler));
  }

  private call(_listener: Listener<T>, what: string, deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.logger.error('event handler failed', { resource: refString(this.resource), handler: what, error });
    }
  }

  private scheduleResync(): void {
    if (!this.started || this.stopped) return;
    if (this.resyncTimer !== undefined) clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    const periodic = [...this.listeners].filter((listener) => listener.resyncPeriodMs > 0);
    if (periodic.length === 0) return;
    const nextAtMs = Math.min(...periodic.map((listener) => listener.nextResyncAtMs));
    this.resyncTimer = setTimeout(() => this.resync(), Math.max(0, nextAtMs - Date.now()));
  }

  private resync(): void {
    this.resyncTimer = undefined;
    if (this.stopped) return;
    const now = Date.now();
    if (this.synced) {
      const objects = this.indexer.list();
      for (const listener of this.listeners) {
        if (listener.resyncPeriodMs <= 0 || listener.nextResyncAtMs > now) continue;
        listener.nextResyncAtMs = now + listener.resyncPeriodMs;
        for (const object of objects) this.call(listener, 'onUpdate', () => listener.handler.onUpdate?.(object, object));
      }
    } else {
      for (const listener of this.listeners) if (listener.nextResyncAtMs <= now) listener.nextResyncAtMs = now + listener.resyncPeriodMs;
    }
    this.scheduleResync();
  }

  /** Waits `ms`, or less if stop() is called. */
  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(finish, ms);
      function finish(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wakeSleep = finish;
    });
  }
}

/** ±20 %, so informers of many processes do not retry in lockstep. */
function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}
