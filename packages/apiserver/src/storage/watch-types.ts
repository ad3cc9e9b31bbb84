// What a storage watch hands its consumer: the Kubernetes watch event
// vocabulary, consumed as an async iterable that ends when the watch does.

import type { StoredObject } from './codec';
import type { StorageError } from './errors';

/** Decides whether an object belongs to a watch or list (label and field selectors end up here). */
export type Predicate<T> = (object: T) => boolean;

/** A BOOKMARK carries only the revision the watch has reached, in the object's metadata. */
export interface BookmarkObject {
  metadata: { resourceVersion: string };
}

/** A change to an object as a watcher sees it. */
export interface ObjectEvent<T extends StoredObject> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: T;
}

export type WatchEvent<T extends StoredObject> =
  | ObjectEvent<T>
  | { type: 'BOOKMARK'; object: BookmarkObject }
  /** The last event of a watch that failed: Expired (410) means relist, anything else means rewatch. */
  | { type: 'ERROR'; object: StorageError };

export interface StorageWatch<T extends StoredObject> extends AsyncIterable<WatchEvent<T>> {
  /** Ends the watch; iteration finishes at its next step and etcd resources are released. */
  stop(): void;
  /** Why the watch ended on its own ('stopped' after stop()), undefined while it runs. */
  readonly endReason: string | undefined;
}

export function bookmarkEvent<T extends StoredObject>(revision: number): WatchEvent<T> {
  return { type: 'BOOKMARK', object: { metadata: { resourceVersion: String(revision) } } };
}

/**
 * Chooses the event a watcher with a predicate sees for a change, as upstream
 * does: an object that starts matching is ADDED, one that stops matching is
 * DELETED (carrying its previous state), otherwise MODIFIED or nothing.
 */
export function filterChange<T extends StoredObject>(
  predicate: Predicate<T> | undefined,
  current: T | undefined,
  previous: T | undefined,
  deletedWithRevision: (previous: T) => T,
): ObjectEvent<T> | undefined {
  const matches = (object: T | undefined): boolean => object !== undefined && (predicate === undefined || predicate(object));
  if (current === undefined) {
    return previous !== undefined && matches(previous) ? { type: 'DELETED', object: deletedWithRevision(previous) } : undefined;
  }
  if (previous === undefined) return matches(current) ? { type: 'ADDED', object: current } : undefined;
  const currentMatches = matches(current);
  const previousMatches = matches(previous);
  if (currentMatches && previousMatches) return { type: 'MODIFIED', object: current };
  if (currentMatches) return { type: 'ADDED', object: current };
  if (previousMatches) return { type: 'DELETED', object: deletedWithRevision(previous) };
  return undefined;
}
