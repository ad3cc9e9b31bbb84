// JSON bytes of a watch event's object, encoded once for every watcher. The
// watch cache hands all watchers of an event the same deep-frozen object, so
// the bytes cannot go stale; as upstream's cachingObject does, the encoding
// lives exactly as long as the object (the cache's event window).
import { encodeJson } from '@kube-lite/client';

const encodings = new WeakMap<object, Buffer>();

/**
 * encodeJson(value), remembered per object when the object is frozen (shared
 * and immutable). Objects built for one watcher (a version conversion, a
 * Table, a Status) are not frozen and are encoded each time.
 */
export function encodeSharedJson(value: unknown): Buffer {
  if (typeof value !== 'object' || value === null || !Object.isFrozen(value)) return encodeJson(value);
  let bytes = encodings.get(value);
  if (bytes === undefined) {
    bytes = encodeJson(value);
    encodings.set(value, bytes);
  }
  return bytes;
}
