// A watch served straight from etcd (the watch cache serves the rest): an
// optional initial state as ADDED events, then etcd's events translated into
// Kubernetes watch events, filtered by the predicate.

import { type StoredObject, withResourceVersion } from './codec';
import { expiredError, internalError, StorageError } from './errors';
import { WatchEventQueue } from './event-queue';
import type { EtcdWatchStream, RawWatchEvent } from './etcd-watch-stream';
import { prefixRangeEnd, validateKey } from './keys';
import { parseResourceVersion } from './resource-version';
import type { EtcdStore, WatchOptions } from './store';
import { bookmarkEvent, filterChange, type StorageWatch, type WatchEvent } from './watch-types';

export function startStoreWatch<T extends StoredObject>(store: EtcdStore, key: string, options: WatchOptions<T>): StorageWatch<T> {
  validateKey(key);
  const recursive = key.endsWith('/');
  const fromRevision = parseResourceVersion(key, options.resourceVersion);
  let stream: EtcdWatchStream | undefined;
  const queue = new WatchEventQueue<T>(store.watchQueueCapacityEvents, () => stream?.stop());
  const fail = (error: unknown, reason: string): void => {
    const storageError = error instanceof StorageError ? error : internalError(key, `watch failed: ${String(error)}`, error);
    queue.pushFinal({ type: 'ERROR', object: storageError }, reason);
  };

  const translate = (event: RawWatchEvent): WatchEvent<T> | undefined => {
    const deletedAt = (previous: T): T => withResourceVersion(previous, String(event.revision));
    const previous = event.prevKv ? store.decodeKv<T>(event.prevKv) : undefined;
    if (event.type === 'delete') {
      if (!previous) throw internalError(event.key, `etcd delete event at revision ${event.revision} came without the previous value`);
      return filterChange(options.predicate, undefined, previous, deletedAt);
    }
    const current = store.decodeKv<T>(event.kv);
    if (event.kv.create_revision === event.kv.mod_revision) return filterChange(options.predicate, current, undefined, deletedAt);
    if (!previous) {
      // Without the old value a predicate cannot tell ADDED from MODIFIED.
      if (options.predicate) throw internalError(event.key, `etcd update event at revision ${event.revision} came without the previous value`);
      return { type: 'MODIFIED', object: current };
    }
    return filterChange(options.predicate, current, previous, deletedAt);
  };

  const begin = async (): Promise<void> => {
    let lastRevision = fromRevision;
    if (fromRevision === 0) {
      const snapshot = await store.readSnapshot<T>(key, recursive);
      for (const entry of snapshot.entries) {
        if (options.predicate && !options.predicate(entry.object)) continue;
        if (!queue.push({ type: 'ADDED', object: entry.object })) return;
      }
      lastRevision = snapshot.revision;
    }
    if (queue.endReason !== undefined) return;
    stream = store.openWatchStream(
      { key: Buffer.from(key), rangeEnd: recursive ? prefixRangeEnd(Buffer.from(key)) : undefined, startRevision: lastRevision + 1, prevKv: true },
      {
        onEvents: (events) => {
          try {
            for (const event of events) {
              const translated = translate(event);
              if (translated && !queue.push(translated)) return;
            }
          } catch (error) {
            fail(error, 'undecodable event');
          }
        },
        onProgress: (revision) => {
          if (options.progressNotify) queue.push(bookmarkEvent<T>(revision));
        },
        onCompacted: (compactRevision, neededRevision) => {
          fail(expiredError(key, neededRevision - 1, compactRevision), 'compacted');
        },
        onFailed: (error) => fail(error, 'etcd cancelled the watch'),
      },
    );
  };
  begin().catch((error: unknown) => fail(error, 'initial state unavailable'));
  return queue;
}
