// The API server's storage over the etcd v3 API, laid out as upstream's
// etcd3 store: one key per object, resourceVersion = the key's mod_revision,
// every write a compare-and-swap transaction, lists read page by page at one
// revision. It speaks only the etcd v3 wire API (through the etcd3 client),
// so it runs on a real etcd and on etcd-lite alike.

import { Etcd3, type IKeyValue, type IRangeRequest, type IRequestOp } from 'etcd3';
import { type Codec, CorruptValueError, identityTransformer, jsonCodec, type StoredObject, type Transformer, withResourceVersion } from './codec';
import { decodeContinueToken, encodeContinueToken } from './continue-token';
import {
  alreadyExistsError,
  conflictError,
  fromEtcdError,
  internalError,
  invalidResourceVersionError,
  notFoundError,
  StorageError,
  tooLargeResourceVersionError,
} from './errors';
import { type EtcdWatchHandlers, type EtcdWatchRequest, EtcdWatchStream } from './etcd-watch-stream';
import { normalizePrefix, prefixRangeEnd, validateKey } from './keys';
import { passThroughFaultHandling, stopChannelCloseCascade } from './fault-policy';
import { LeaseManager } from './lease-manager';
import { parseResourceVersion, revisionNumber } from './resource-version';
import { startStoreWatch } from './store-watch';
import type { Predicate, StorageWatch } from './watch-types';

export interface EtcdStoreOptions {
  /** etcd client URLs (http://host:port); the client balances over them and fails over. */
  endpoints: readonly string[];
  /** Object <-> bytes; JSON when unset. */
  codec?: Codec;
  /** Wraps stored bytes (encryption at rest); identity when unset. */
  transformer?: Transformer;
  /** Deadline of every unary etcd request; past it the call fails with Timeout. */
  requestTimeoutMs?: number;
  /** How long the client waits to connect to an endpoint before trying the next. */
  dialTimeoutMs?: number;
  /** guaranteedUpdate and delete give up with Conflict after this many compare-and-swap attempts. */
  maxUpdateAttempts?: number;
  /** Events a direct etcd watch queues for a slow consumer before it is ended. */
  watchQueueCapacityEvents?: number;
  /** Keys per etcd read when the whole of a prefix is read (initial watch state, watch cache relists). */
  readBatchSize?: number;
  /** First wait before a broken etcd watch stream is reopened; doubles per failure. */
  watchRetryInitialDelayMs?: number;
  /** Longest wait between attempts to reopen a broken etcd watch stream. */
  watchRetryMaxDelayMs?: number;
}

export interface GetOptions {
  /** "" or "0": the latest value; "N": the latest value, which must be at least revision N (else Timeout). */
  resourceVersion?: string;
}

export interface CreateOptions {
  /** The object is deleted by etcd this long after the write (through a lease). */
  ttlSeconds?: number;
}

export interface UpdateOptions {
  /** The resourceVersion the caller read; the write fails with Conflict if the object changed since. Defaults to object.metadata.resourceVersion. */
  expectedResourceVersion?: string;
  /** Replace the object's time to live; without it the existing lease (if any) is kept. */
  ttlSeconds?: number;
}

export interface Preconditions {
  /** The object must still have this uid (it was not deleted and recreated under the same name). */
  uid?: string;
  /** The object must still be at this resourceVersion. */
  resourceVersion?: string;
}

export interface GuaranteedUpdateOptions {
  preconditions?: Preconditions;
  /** Call tryUpdate with undefined when the key is absent (create-on-update) instead of failing with NotFound. */
  ignoreNotFound?: boolean;
  /** Replace the object's time to live; without it the existing lease (if any) is kept. */
  ttlSeconds?: number;
  /**
   * A recent copy of the object with its resourceVersion (the watch cache's),
   * to start from instead of reading etcd first: upstream's
   * cachedExistingObject. It may be stale. The write's compare on the mod
   * revision still decides; until a value read from etcd confirms it, a
   * failed precondition, an error from tryUpdate or an update that changes
   * nothing makes the store read the object and run tryUpdate again.
   */
  suggestion?: StoredObject;
}

export interface DeleteOptions<T> {
  preconditions?: Preconditions;
  /** Runs against the current object before each delete attempt; throwing aborts the delete. */
  validateDeletion?: (current: T) => void | Promise<void>;
}

export type ResourceVersionMatch = 'NotOlderThan' | 'Exact';

export interface ListOptions<T> {
  /** Maximum items to return; 0 or unset for all. */
  limit?: number;
  /** Token from a previous page; the list continues at that page's revision. */
  continue?: string;
  /** "" most recent; "0" any; "N" with resourceVersionMatch (or with limit: Exact, as upstream). */
  resourceVersion?: string;
  resourceVersionMatch?: ResourceVersionMatch;
  /** Only matching objects are returned; limit counts matching objects. */
  predicate?: Predicate<T>;
}

export interface ListResult<T> {
  items: T[];
  /** The revision the list was read at. */
  resourceVersion: string;
  /** Present when more items remain; pass it back as options.continue. */
  continue?: string;
  /** Items left after this page, when known without a predicate. */
  remainingItemCount?: number;
}

export interface WatchOptions<T> {
  /** "" or "0": start with ADDED events for the current state, then changes; "N": every change after revision N. */
  resourceVersion?: string;
  predicate?: Predicate<T>;
  /** Turn etcd's progress notifications into BOOKMARK events. */
  progressNotify?: boolean;
}

/** Counters for /metrics and for tests of the watch cache's fan-out. */
export interface EtcdStoreStats {
  etcdWatchesOpened: number;
  etcdWatchesActive: number;
}

/** One object read from etcd, with what compare-and-swap needs. */
export interface StoredEntry<T> {
  key: string;
  object: T;
  modRevision: number;
}

/** A whole prefix read at one revision. */
export interface Snapshot<T> {
  revision: number;
  entries: StoredEntry<T>[];
}

interface CurrentState<T> {
  /** With its resourceVersion; undefined when the key is absent. */
  object: T | undefined;
  /** The stored bytes; undefined when absent or when the state is the caller's suggestion. */
  value: Buffer | undefined;
  modRevision: number;
  /** Read from etcd by this update (false for the caller's suggestion, which may be stale). */
  confirmed: boolean;
}

const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_UPDATE_ATTEMPTS = 64;
const DEFAULT_WATCH_QUEUE_CAPACITY_EVENTS = 1000;
const DEFAULT_READ_BATCH_SIZE = 1000;
/** Largest page a filtered list grows to while looking for enough matches (upstream's maxLimit). */
const MAX_LIST_PAGE = 10_000;
/** The key upstream's etcd health check reads; it need not exist. */
const HEALTH_KEY = 'health';

export class EtcdStore {
  readonly endpoints: readonly string[];
  private readonly client: Etcd3;
  private readonly codec: Codec;
  private readonly transformer: Transformer;
  private readonly requestTimeoutMs: number;
  private readonly maxUpdateAttempts: number;
  private readonly leases: LeaseManager;
  private readonly watchRetryInitialDelayMs: number | undefined;
  private readonly watchRetryMaxDelayMs: number | undefined;
  private readonly streams = new Set<EtcdWatchStream>();
  private watchesOpened = 0;
  private closed = false;
  /** @internal */
  readonly watchQueueCapacityEvents: number;
  /** @internal */
  readonly readBatchSize: number;

  constructor(options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new RangeError('EtcdStore needs at least one etcd endpoint');
    this.endpoints = [...options.endpoints];
    stopChannelCloseCascade();
    this.client = new Etcd3({
      hosts: [...options.endpoints],
      dialTimeout: options.dialTimeoutMs ?? 5000,
      faultHandling: passThroughFaultHandling(),
    });
    this.codec = options.codec ?? jsonCodec;
    this.transformer = options.transformer ?? identityTransformer;
    this.requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.maxUpdateAttempts = options.maxUpdateAttempts ?? DEFAULT_MAX_UPDATE_ATTEMPTS;
    this.watchQueueCapacityEvents = options.watchQueueCapacityEvents ?? DEFAULT_WATCH_QUEUE_CAPACITY_EVENTS;
    this.readBatchSize = options.readBatchSize ?? DEFAULT_READ_BATCH_SIZE;
    this.leases = new LeaseManager(this.client);
    this.watchRetryInitialDelayMs = options.watchRetryInitialDelayMs;
    this.watchRetryMaxDelayMs = options.watchRetryMaxDelayMs;
  }

  /** Creates the object; AlreadyExists if the key holds a value. Returns it with its resourceVersion. */
  async create<T extends StoredObject>(key: string, object: T, options: CreateOptions = {}): Promise<T> {
    validateKey(key);
    if (object.metadata?.resourceVersion) {
      throw internalError(key, 'resourceVersion should not be set on objects to be created');
    }
    const value = this.encode(key, object);
    return this.call(key, async (deadline) => {
      const lease = options.ttlSeconds === undefined ? undefined : await this.leases.leaseFor(options.ttlSeconds, deadline);
      const response = await this.client.kv.txn(
        {
          compare: [{ key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 }],
          success: [{ request_put: { key: Buffer.from(key), value, lease } }],
          failure: [],
        },
        { deadline },
      );
      if (!response.succeeded) throw alreadyExistsError(key);
      // The object itself, not a decode of the bytes just written: they say the same (JSON data in, JSON data out).
      return withResourceVersion(object, String(revisionNumber(response.header.revision)));
    });
  }

  /** The object at key; NotFound if absent. */
  async get<T extends StoredObject>(key: string, options: GetOptions = {}): Promise<T> {
    validateKey(key);
    const minimumRevision = parseResourceVersion(key, options.resourceVersion);
    const response = await this.call(key, (deadline) => this.client.kv.range({ key: Buffer.from(key) }, { deadline }));
    const revision = revisionNumber(response.header.revision);
    if (minimumRevision > revision) throw tooLargeResourceVersionError(key, minimumRevision, revision);
    const kv = response.kvs[0];
    if (!kv) throw notFoundError(key);
    return this.decodeKv<T>(kv);
  }

  /** Replaces the object if it is still at the expected resourceVersion; Conflict otherwise, NotFound if gone. */
  async update<T extends StoredObject>(key: string, object: T, options: UpdateOptions = {}): Promise<T> {
    validateKey(key);
    const expectedText = options.expectedResourceVersion ?? object.metadata?.resourceVersion;
    const expected = parseResourceVersion(key, expectedText);
    if (expected === 0) throw invalidResourceVersionError(key, 'update needs the resourceVersion of the object it replaces');
    const value = this.encode(key, object);
    const response = await this.call(key, async (deadline) =>
      this.client.kv.txn(
        {
          compare: [{ key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: expected }],
          success: [await this.putOperation(key, value, true, options.ttlSeconds, deadline)],
          failure: [{ request_range: { key: Buffer.from(key) } }],
        },
        { deadline },
      ),
    );
    if (!response.succeeded) {
      const current = response.responses[0]?.response_range?.kvs[0];
      if (!current) throw notFoundError(key);
      throw conflictError(key, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return withResourceVersion(object, String(revisionNumber(response.header.revision)));
  }

  /**
   * Reads the object, lets tryUpdate derive the next version and writes it
   * with compare-and-swap, starting again from the fresh value when another
   * writer got there first (upstream's GuaranteedUpdate). tryUpdate must not
   * mutate its argument (it may be a shared, frozen cached object); it
   * returns the next version, null to leave the object as it is, or throws to
   * abort. A result identical to the stored bytes is not written. The
   * returned object shares structure with what tryUpdate returned.
   *
   * With options.suggestion the first attempt skips the read; a conflict
   * then costs one round trip, since the failed transaction returns the
   * current value.
   */
  async guaranteedUpdate<T extends StoredObject>(
    key: string,
    tryUpdate: (current: T | undefined) => T | null | Promise<T | null>,
    options: GuaranteedUpdateOptions = {},
  ): Promise<T> {
    validateKey(key);
    let state = this.suggestedState<T>(options) ?? (await this.readState<T>(key));
    for (let attempt = 1; ; attempt++) {
      if (!state.object && !options.ignoreNotFound) throw notFoundError(key);
      let next: T | null;
      try {
        if (state.object) checkPreconditions(key, options.preconditions, state.object);
        next = await tryUpdate(state.object);
      } catch (error) {
        // A stale suggestion may fail where the current object would not: judge by the current object.
        if (state.confirmed) throw error;
        state = await this.readState<T>(key);
        continue;
      }
      const stale = state.value !== undefined && (this.transformer.isStale?.(state.value, key) ?? false);
      if (next === null) {
        if (!state.confirmed) {
          state = await this.readState<T>(key);
          continue;
        }
        if (!state.object) throw notFoundError(key);
        // Unchanged, but written with an older key (or before encryption): rewrite it as it is.
        if (!stale) return state.object;
        next = state.object;
      }
      const plaintext = this.codec.encode(withResourceVersion(next, undefined));
      // Compared before the transformer: encryption with a fresh IV never yields the same bytes twice.
      if (state.object && !stale && options.ttlSeconds === undefined && Buffer.from(plaintext).equals(this.plaintextOf(key, state))) {
        if (state.confirmed) return state.object;
        // Nothing to write against the suggestion; only the current value can say the update is a no-op.
        state = await this.readState<T>(key);
        continue;
      }
      const value = this.wrap(key, plaintext);
      const exists = state.object !== undefined;
      const expectedRevision = state.modRevision;
      const response = await this.call(key, async (deadline) =>
        this.client.kv.txn(
          {
            compare: [
              exists
                ? { key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: expectedRevision }
                : { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: 0 },
            ],
            success: [await this.putOperation(key, value, exists, options.ttlSeconds, deadline)],
            failure: [{ request_range: { key: Buffer.from(key) } }],
          },
          { deadline },
        ),
      );
      if (response.succeeded) return withResourceVersion(next, String(revisionNumber(response.header.revision)));
      if (attempt >= this.maxUpdateAttempts) {
        throw conflictError(key, `gave up after ${attempt} attempts: the object kept changing underneath the update`);
      }
      state = this.stateFromKv<T>(key, response.responses[0]?.response_range?.kvs[0]);
    }
  }

  /** Deletes the object if the preconditions hold (retrying if it changes meanwhile); returns its last state. */
  async delete<T extends StoredObject>(key: string, options: DeleteOptions<T> = {}): Promise<T> {
    validateKey(key);
    let state = await this.readState<T>(key);
    for (let attempt = 1; ; attempt++) {
      const current = state.object;
      if (!current) throw notFoundError(key);
      checkPreconditions(key, options.preconditions, current);
      await options.validateDeletion?.(current);
      const expectedRevision = state.modRevision;
      const response = await this.call(key, (deadline) =>
        this.client.kv.txn(
          {
            compare: [{ key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: expectedRevision }],
            success: [{ request_delete_range: { key: Buffer.from(key) } }],
            failure: [{ request_range: { key: Buffer.from(key) } }],
          },
          { deadline },
        ),
      );
      if (response.succeeded) return current;
      if (attempt >= this.maxUpdateAttempts) {
        throw conflictError(key, `gave up deleting after ${attempt} attempts: the object kept changing`);
      }
      state = this.stateFromKv<T>(key, response.responses[0]?.response_range?.kvs[0]);
    }
  }

  /**
   * Objects under prefix, in key order. With limit, pages are read at one
   * revision and continue tokens resume at it; a predicate filters in the
   * server, reading further (growing) pages until limit matches are found.
   */
  async list<T extends StoredObject>(prefix: string, options: ListOptions<T> = {}): Promise<ListResult<T>> {
    const keyPrefix = normalizePrefix(prefix);
    const rangeEnd = prefixRangeEnd(Buffer.from(keyPrefix));
    const limit = options.limit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
    const paging = limit > 0;
    const requested = parseResourceVersion(keyPrefix, options.resourceVersion);
    const match = options.resourceVersionMatch;
    let startKey = keyPrefix;
    let readRevision = 0;
    let minimumRevision = 0;
    const fromContinue = options.continue !== undefined && options.continue !== '';
    if (options.continue) {
      if (options.resourceVersion) throw invalidResourceVersionError(keyPrefix, 'specifying resource version is not allowed when using continue');
      if (match) throw invalidResourceVersionError(keyPrefix, 'resourceVersionMatch is forbidden when continue is provided');
      const position = decodeContinueToken(keyPrefix, options.continue);
      startKey = position.startKey;
      readRevision = position.revision;
    } else if (match === undefined) {
      // Upstream: a paginated list at N is exact, an unpaginated one "not older than".
      if (requested > 0 && paging) readRevision = requested;
      else minimumRevision = requested;
    } else if (match === 'NotOlderThan') {
      if (!options.resourceVersion) throw invalidResourceVersionError(keyPrefix, 'resourceVersionMatch is forbidden unless resourceVersion is provided');
      minimumRevision = requested;
    } else if (match === 'Exact') {
      if (requested === 0) throw invalidResourceVersionError(keyPrefix, 'resourceVersionMatch "Exact" is forbidden for resourceVersion "0"');
      readRevision = requested;
    } else {
      throw invalidResourceVersionError(keyPrefix, `unsupported resourceVersionMatch "${String(match)}": allowed are NotOlderThan, Exact`);
    }

    const items: T[] = [];
    let pageLimit = paging ? limit : 0;
    let lastKey: string | undefined;
    let hasMore = false;
    let reads = 0;
    let lastCount = 0;
    for (;;) {
      reads++;
      const request: IRangeRequest = { key: Buffer.from(startKey), range_end: rangeEnd, limit: pageLimit, revision: readRevision };
      const response = await this.call(
        keyPrefix,
        (deadline) => this.client.kv.range(request, { deadline }),
        readRevision,
        fromContinue ? 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.' : undefined,
      );
      hasMore = response.more;
      lastCount = revisionNumber(response.count);
      for (const kv of response.kvs) {
        if (paging && items.length >= limit) {
          hasMore = true;
          break;
        }
        lastKey = kv.key.toString('utf8');
        const object = this.decodeKv<T>(kv);
        if (!options.predicate || options.predicate(object)) items.push(object);
      }
      if (readRevision === 0) readRevision = revisionNumber(response.header.revision);
      if (!hasMore || !paging || items.length >= limit) break;
      if (response.kvs.length === 0) throw internalError(keyPrefix, 'etcd reported more keys but returned none');
      pageLimit = Math.min(pageLimit * 2, MAX_LIST_PAGE);
      startKey = `${lastKey ?? keyPrefix}\u0000`;
    }
    if (minimumRevision > readRevision) throw tooLargeResourceVersionError(keyPrefix, minimumRevision, readRevision);
    const result: ListResult<T> = { items, resourceVersion: String(readRevision) };
    if (hasMore && lastKey !== undefined) {
      result.continue = encodeContinueToken(keyPrefix, { revision: readRevision, startKey: `${lastKey}\u0000` });
      // Without a predicate one read served the page, and its count covers the rest of the range.
      if (!options.predicate && reads === 1) {
        const remaining = lastCount - items.length;
        if (remaining > 0) result.remainingItemCount = remaining;
      }
    }
    return result;
  }

  /** Number of keys under prefix at the latest revision. */
  async count(prefix: string): Promise<number> {
    const keyPrefix = normalizePrefix(prefix);
    const response = await this.call(keyPrefix, (deadline) =>
      this.client.kv.range({ key: Buffer.from(keyPrefix), range_end: prefixRangeEnd(Buffer.from(keyPrefix)), count_only: true }, { deadline }),
    );
    return revisionNumber(response.count);
  }

  /**
   * Watches one key, or every key under a prefix when key ends with "/".
   * Arguments are checked before returning (InvalidResourceVersion is
   * thrown); failures after that arrive as a final ERROR event.
   */
  watch<T extends StoredObject>(key: string, options: WatchOptions<T> = {}): StorageWatch<T> {
    return startStoreWatch<T>(this, key, options);
  }

  /** The latest revision of the whole etcd keyspace (a linearizable read). */
  async currentRevision(): Promise<number> {
    const response = await this.call(HEALTH_KEY, (deadline) => this.client.kv.range({ key: Buffer.from(HEALTH_KEY), count_only: true }, { deadline }));
    return revisionNumber(response.header.revision);
  }

  /** Resolves when etcd answers a read within timeoutMs; throws Unavailable or Timeout otherwise. */
  async checkHealth(timeoutMs = this.requestTimeoutMs): Promise<void> {
    await this.call(HEALTH_KEY, (deadline) => this.client.kv.range({ key: Buffer.from(HEALTH_KEY), count_only: true }, { deadline }), 0, undefined, timeoutMs);
  }

  stats(): EtcdStoreStats {
    return { etcdWatchesOpened: this.watchesOpened, etcdWatchesActive: this.streams.size };
  }

  /** Ends every watch and closes the etcd connection. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const stream of [...this.streams]) stream.stop();
    this.client.close();
  }

  /** @internal Reads every object under prefix (or the one key) at one revision, in batches. */
  async readSnapshot<T extends StoredObject>(key: string, recursive: boolean): Promise<Snapshot<T>> {
    const end = recursive ? prefixRangeEnd(Buffer.from(key)) : undefined;
    let revision = 0;
    let start = key;
    const entries: StoredEntry<T>[] = [];
    for (;;) {
      const request: IRangeRequest = { key: Buffer.from(start), range_end: end, limit: recursive ? this.readBatchSize : 0, revision };
      const response = await this.call(key, (deadline) => this.client.kv.range(request, { deadline }), revision);
      if (revision === 0) revision = revisionNumber(response.header.revision);
      for (const kv of response.kvs) {
        entries.push({ key: kv.key.toString('utf8'), object: this.decodeKv<T>(kv), modRevision: revisionNumber(kv.mod_revision) });
      }
      const last = response.kvs[response.kvs.length - 1];
      if (!response.more || !last) return { revision, entries };
      start = `${last.key.toString('utf8')}\u0000`;
    }
  }

  /** @internal Opens a raw etcd watch; counted in stats(). */
  openWatchStream(request: EtcdWatchRequest, handlers: EtcdWatchHandlers): EtcdWatchStream {
    if (this.closed) throw internalError(request.key.toString('utf8'), 'the store is closed');
    const stream: EtcdWatchStream = new EtcdWatchStream(this.client, request, handlers, {
      endpoints: this.endpoints,
      initialRetryDelayMs: this.watchRetryInitialDelayMs,
      maxRetryDelayMs: this.watchRetryMaxDelayMs,
      onStopped: () => this.streams.delete(stream),
    });
    this.streams.add(stream);
    this.watchesOpened++;
    stream.start();
    return stream;
  }

  /** @internal Decodes a stored value, setting resourceVersion from its mod_revision. */
  decodeKv<T extends StoredObject>(kv: IKeyValue, resourceVersion?: number): T {
    const key = kv.key.toString('utf8');
    return this.decodeValue<T>(key, kv.value, resourceVersion ?? revisionNumber(kv.mod_revision));
  }

  private decodeValue<T extends StoredObject>(key: string, value: Uint8Array, revision: number): T {
    try {
      const object = this.codec.decode(this.transformer.fromStorage(value, key), key);
      return withResourceVersion(object, String(revision)) as T;
    } catch (error) {
      if (error instanceof CorruptValueError) throw internalError(key, error.message, error);
      throw error;
    }
  }

  private encode(key: string, object: StoredObject): Buffer {
    return this.wrap(key, this.codec.encode(withResourceVersion(object, undefined)));
  }

  private wrap(key: string, plaintext: Uint8Array): Buffer {
    const bytes = this.transformer.toStorage(plaintext, key);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The codec bytes of a state's object: its stored value unwrapped, or a suggestion encoded (empty when absent). */
  private plaintextOf(key: string, state: CurrentState<StoredObject>): Buffer {
    const bytes =
      state.value !== undefined
        ? this.transformer.fromStorage(state.value, key)
        : state.object !== undefined
          ? this.codec.encode(withResourceVersion(state.object, undefined))
          : new Uint8Array(0);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** The first state of a guaranteedUpdate from the caller's suggestion; undefined when there is none. */
  private suggestedState<T extends StoredObject>(options: GuaranteedUpdateOptions): CurrentState<T> | undefined {
    const suggestion = options.suggestion;
    if (suggestion === undefined) return undefined;
    const modRevision = Number(suggestion.metadata?.resourceVersion ?? '');
    // Unusable (no resourceVersion), or older than the version the caller already requires.
    if (!Number.isSafeInteger(modRevision) || modRevision <= 0) return undefined;
    const required = Number(options.preconditions?.resourceVersion ?? '');
    if (Number.isSafeInteger(required) && required > modRevision) return undefined;
    return { object: suggestion as T, value: undefined, modRevision, confirmed: false };
  }

  private async putOperation(key: string, value: Buffer, exists: boolean, ttlSeconds: number | undefined, deadline: number): Promise<IRequestOp> {
    if (ttlSeconds !== undefined) {
      return { request_put: { key: Buffer.from(key), value, lease: await this.leases.leaseFor(ttlSeconds, deadline) } };
    }
    // Keep the key's lease (its TTL) across updates; a new key gets none.
    return { request_put: { key: Buffer.from(key), value, ignore_lease: exists } };
  }

  private async readState<T extends StoredObject>(key: string): Promise<CurrentState<T>> {
    const response = await this.call(key, (deadline) => this.client.kv.range({ key: Buffer.from(key) }, { deadline }));
    return this.stateFromKv<T>(key, response.kvs[0]);
  }

  private stateFromKv<T extends StoredObject>(key: string, kv: IKeyValue | undefined): CurrentState<T> {
    if (!kv) return { object: undefined, value: undefined, modRevision: 0, confirmed: true };
    const modRevision = revisionNumber(kv.mod_revision);
    return { object: this.decodeValue<T>(key, kv.value, modRevision), value: kv.value, modRevision, confirmed: true };
  }

  /** Runs one etcd call with a deadline, turning client errors into StorageErrors. */
  private async call<R>(
    key: string,
    operation: (deadlineMs: number) => Promise<R>,
    requestedRevision?: number,
    expiredMessage?: string,
    timeoutMs = this.requestTimeoutMs,
  ): Promise<R> {
    try {
      return await operation(Date.now() + timeoutMs);
    } catch (error) {
      const storageError = fromEtcdError(error, key, this.endpoints, requestedRevision);
      if (expiredMessage && storageError.code === 'Expired') {
        throw new StorageError('Expired', expiredMessage, { key, cause: error, requestedResourceVersion: requestedRevision });
      }
      throw storageError;
    }
  }
}

function checkPreconditions(key: string, preconditions: Preconditions | undefined, current: StoredObject): void {
  if (!preconditions) return;
  const metadata = current.metadata ?? {};
  if (preconditions.uid !== undefined && preconditions.uid !== metadata.uid) {
    throw conflictError(key, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${metadata.uid ?? ''}`);
  }
  if (preconditions.resourceVersion !== undefined && preconditions.resourceVersion !== metadata.resourceVersion) {
    throw conflictError(
      key,
      `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${metadata.resourceVersion ?? ''}`,
    );
  }
}
