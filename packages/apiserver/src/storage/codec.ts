// How objects become the bytes stored in etcd and back. The codec turns an
// object into bytes; the transformer then wraps those bytes (identity, or
// encryption at rest: ./encryption) and is told the key so a wrapped value
// cannot be replayed under another key.

/** The part of a Kubernetes object the storage layer reads and writes. */
export interface StoredObject {
  metadata?: {
    uid?: string;
    resourceVersion?: string;
  };
}

export interface Codec {
  /** Bytes for etcd; metadata.resourceVersion must already be absent. */
  encode(object: StoredObject): Uint8Array;
  decode(data: Uint8Array, key: string): StoredObject;
}

/**
 * Synchronous on purpose: watch events must be decoded in the order etcd sent
 * them, and a synchronous step keeps that trivially true (key material for
 * encryption is fetched ahead of time, not per value).
 */
export interface Transformer {
  toStorage(data: Uint8Array, key: string): Uint8Array;
  fromStorage(data: Uint8Array, key: string): Uint8Array;
  /**
   * True when a stored value was not written the way toStorage writes now (an
   * older key, or plain text before encryption was turned on): an update then
   * rewrites it even if the object did not change, which is how a key
   * rotation reaches every object. Absent means never stale.
   */
  isStale?(data: Uint8Array, key: string): boolean;
}

/** A value in etcd that cannot be decoded: corrupt, or written by something else. */
export class CorruptValueError extends Error {
  constructor(key: string, reason: string, options?: { cause?: unknown }) {
    super(`value stored at ${key} cannot be decoded: ${reason}`, options);
    this.name = 'CorruptValueError';
  }
}

export const identityTransformer: Transformer = {
  toStorage: (data) => data,
  fromStorage: (data) => data,
};

/** Objects as UTF-8 JSON, the way kubectl shows them. */
export const jsonCodec: Codec = {
  encode(object) {
    return Buffer.from(JSON.stringify(object), 'utf8');
  },
  decode(data, key) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8'));
    } catch (error) {
      throw new CorruptValueError(key, 'not valid JSON', { cause: error });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new CorruptValueError(key, 'not a JSON object');
    }
    return parsed as StoredObject;
  },
};

/**
 * A shallow copy with metadata copied too, so setting or clearing the
 * resourceVersion never touches the caller's object.
 */
export function withResourceVersion<T extends StoredObject>(object: T, resourceVersion: string | undefined): T {
  const metadata = { ...(object.metadata ?? {}) };
  if (resourceVersion === undefined) delete metadata.resourceVersion;
  else metadata.resourceVersion = resourceVersion;
  return { ...object, metadata };
}

/** Freezes an object and everything reachable from it: cached objects are shared between readers. */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
