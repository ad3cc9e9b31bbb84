// Records core/v1 Events about objects ("Scheduled", "FailedScheduling",
// "SuccessfulCreate"...), as client-go's EventRecorder with its correlator:
//
// - a repeat of the same event (same object, type, reason and message) within
//   the aggregation window patches the existing Event's count and
//   lastTimestamp instead of creating another;
// - each object may burst 25 events, then gets one more per 5 minutes, so a
//   hot loop cannot flood the API server;
// - record() never throws and never waits: events are written in the
//   background from a bounded queue, a few at a time (repeats of one event
//   one after the other, so they aggregate), and failures are logged.
import { formatTime, type Event, type KubeObject, type ObjectReference } from '@kube-lite/api';
import type { ApiClient } from '../api-client';
import { isNotFound } from '../errors';
import { silentLogger, type Logger } from '../logger';

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  client: ApiClient;
  /** source.component and reportingComponent: "kube-scheduler", "kubelet"... */
  component: string;
  /** source.host and reportingInstance: the node or machine name. */
  host?: string;
  /** Repeats closer together than this update one Event; 10 minutes by default. */
  aggregationWindowMs?: number;
  /** Events an object may get in a burst; 25 by default. */
  burst?: number;
  /** After the burst, one more event per this interval per object; 5 minutes by default. */
  refillIntervalMs?: number;
  /** Events waiting to be written; more are dropped (and logged). 1000 by default. */
  maxPending?: number;
  /** Event writes in flight at once; 8 by default. One at a time cannot keep up with a scheduler binding hundreds of pods a second. */
  maxConcurrentWrites?: number;
  /** Distinct events and objects remembered for aggregation and rate limiting; 4096 by default. */
  maxCacheEntries?: number;
  /** Clock for timestamps, aggregation and rate limiting; Date.now by default. */
  nowMs?: () => number;
  logger?: Logger;
}

/** Upstream truncates longer messages; an Event is a hint for people, not a log. */
const MAX_MESSAGE_LENGTH = 1024;

interface Aggregate {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  lastSeenMs: number;
}

interface Bucket {
  tokens: number;
  updatedMs: number;
}

interface PendingEvent {
  involvedObject: ObjectReference;
  type: EventType;
  reason: string;
  message: string;
  atMs: number;
}

/** A Map kept in least-recently-used order with a size cap. */
class LruMap<V> {
  private readonly map = new Map<string, V>();
  constructor(private readonly maxEntries: number) {}

  get(key: string): V | undefined {
    const value = this.map.get(key);
    if (value !== undefined) {
      this.map.delete(key);
      this.map.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next().value as string;
      this.map.delete(oldest);
    }
  }

  delete(key: string): void {
    this.map.delete(key);
  }
}

export class EventRecorder {
  private readonly client: ApiClient;
  private readonly component: string;
  private readonly host: string;
  private readonly aggregationWindowMs: number;
  private readonly burst: number;
  private readonly refillIntervalMs: number;
  private readonly maxPending: number;
  private readonly nowMs: () => number;
  private readonly logger: Logger;
  private readonly aggregates: LruMap<Aggregate>;
  private readonly buckets: LruMap<Bucket>;
  private readonly maxConcurrentWrites: number;
  private readonly pending: PendingEvent[] = [];
  private readonly workers = new Set<Promise<void>>();
  /** The write in flight per aggregation key: a repeat waits for it, so it patches the Event the first one created. */
  private readonly writing = new Map<string, Promise<void>>();
  private nameCounter = 0;
  private closed = false;

  constructor(options: EventRecorderOptions) {
    this.client = options.client;
    this.component = options.component;
    this.host = options.host ?? '';
    this.aggregationWindowMs = options.aggregationWindowMs ?? 10 * 60_000;
    this.burst = options.burst ?? 25;
    this.refillIntervalMs = options.refillIntervalMs ?? 5 * 60_000;
    this.maxPending = options.maxPending ?? 1000;
    this.maxConcurrentWrites = Math.max(1, options.maxConcurrentWrites ?? 8);
    this.nowMs = options.nowMs ?? Date.now;
    this.logger = options.logger ?? silentLogger;
    this.aggregates = new LruMap(options.maxCacheEntries ?? 4096);
    this.buckets = new LruMap(options.maxCacheEntries ?? 4096);
  }

  /** Records an event about `object` (an object with metadata, or an ObjectReference). Never throws. */
  record(object: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    try {
      if (this.closed) return;
      if (type !== 'Normal' && type !== 'Warning') {
        this.logger.warn('dropping event of unsupported type', { type, reason });
        return;
      }
      const involvedObject = referenceOf(object);
      const atMs = this.nowMs();
      if (!this.allow(involvedObject, atMs)) {
        this.logger.debug('event rate limit reached; dropping event', { object: involvedObject.name, reason });
        return;
      }
      if (this.pending.length >= this.maxPending) {
        this.logger.warn('event queue full; dropping event', { object: involvedObject.name, reason });
        return;
      }
      const text = message.length > MAX_MESSAGE_LENGTH ? `${message.slice(0, MAX_MESSAGE_LENGTH - 3)}...` : message;
      this.pending.push({ involvedObject, type, reason, message: text, atMs });
      this.startWorkers();
    } catch (error) {
      this.logger.error('could not record event', { reason, error });
    }
  }

  /** Resolves when every event recorded so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.workers.size > 0) await Promise.all([...this.workers]);
  }

  /** Stops recording, after writing what is pending. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  /** Token bucket per object and source, as upstream's spam filter. */
  private allow(reference: ObjectReference, atMs: number): boolean {
    const key = [this.component, this.host, reference.kind, reference.namespace, reference.name, reference.uid, reference.apiVersion].join('\u0000');
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updatedMs: atMs };
    bucket.tokens = Math.min(this.burst, bucket.tokens + (atMs - bucket.updatedMs) / this.refillIntervalMs);
    bucket.updatedMs = atMs;
    const allowed = bucket.tokens >= 1;
    if (allowed) bucket.tokens -= 1;
    this.buckets.set(key, bucket);
    return allowed;
  }

  private startWorkers(): void {
    while (this.workers.size < Math.min(this.maxConcurrentWrites, this.pending.length)) {
      const worker: Promise<void> = this.work().finally(() => {
        this.workers.delete(worker);
        // An event recorded while this worker was finishing found it still counted: pick it up.
        this.startWorkers();
      });
      this.workers.add(worker);
    }
  }

  private async work(): Promise<void> {
    for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
      const pending = next;
      const { involvedObject, type, reason, message } = pending;
      const key = [this.component, this.host, involvedObject.kind, involvedObject.namespace, involvedObject.name, involvedObject.uid, involvedObject.apiVersion, type, reason, message].join('\u0000');
      const before = this.writing.get(key);
      const written = (async () => {
        await before;
        try {
          await this.write(key, pending);
        } catch (error) {
          this.logger.warn('could not write event', { object: involvedObject.name, reason, error });
        }
      })();
      this.writing.set(key, written);
      await written;
      if (this.writing.get(key) === written) this.writing.delete(key);
    }
  }

  private async write(key: string, pending: PendingEvent): Promise<void> {
    const { message, atMs } = pending;
    const timestamp = formatTime(atMs);
    const previous = this.aggregates.get(key);
    if (previous !== undefined && atMs - previous.lastSeenMs <= this.aggregationWindowMs) {
      const count = previous.count + 1;
      try {
        await this.client.events(previous.namespace).patch(previous.name, 'strategic', { count, lastTimestamp: timestamp, message });
        this.aggregates.set(key, { ...previous, count, lastSeenMs: atMs });
        return;
      } catch (error) {
        // Someone deleted the Event (or it expired): start a new one, keeping the count.
        if (!isNotFound(error)) throw error;
        await this.create(key, pending, count, previous.firstTimestamp, timestamp);
        return;
      }
    }
    await this.create(key, pending, 1, timestamp, timestamp);
  }

  private async create(key: string, pending: PendingEvent, count: number, firstTimestamp: string, lastTimestamp: string): Promise<void> {
    const { involvedObject, type, reason, message, atMs } = pending;
    // Cluster-scoped objects (nodes) get their events in "default", as upstream.
    const namespace = involvedObject.namespace || 'default';
    this.nameCounter = (this.nameCounter + 1) % 1_000_000;
    // Upstream names events <object>.<unix nanoseconds in hex>; the counter keeps same-millisecond events apart.
    const name = `${involvedObject.name ?? 'unknown'}.${(BigInt(atMs) * 1_000_000n + BigInt(this.nameCounter)).toString(16)}`;
    const event: Event = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace },
      involvedObject,
      reason,
      message,
      source: this.host === '' ? { component: this.component } : { component: this.component, host: this.host },
      firstTimestamp,
      lastTimestamp,
      count,
      type,
      eventTime: null,
      reportingComponent: this.component,
      reportingInstance: this.host,
    };
    const created = await this.client.events(namespace).create(event);
    this.aggregates.set(key, { name: created.metadata?.name ?? name, namespace, count, firstTimestamp, lastSeenMs: atMs });
  }
}

function isReference(object: KubeObject | ObjectReference): object is ObjectReference {
  return !('metadata' in object) && ('name' in object || 'uid' in object);
}

/** The involvedObject of an event about `object`. */
export function referenceOf(object: KubeObject | ObjectReference): ObjectReference {
  if (isReference(object)) return { ...object };
  const meta = (object as KubeObject).metadata ?? {};
  const reference: ObjectReference = {};
  if (object.kind) reference.kind = object.kind;
  if (meta.namespace) reference.namespace = meta.namespace;
  if (meta.name) reference.name = meta.name;
  if (meta.uid) reference.uid = meta.uid;
  if (object.apiVersion) reference.apiVersion = object.apiVersion;
  if (meta.resourceVersion) reference.resourceVersion = meta.resourceVersion;
  return reference;
}
