// One etcd watch over the raw Watch RPC. The etcd3 client's high-level
// Watcher hides what the storage layer must see: compact_revision (to answer
// Expired) and progress notifications (to advance bookmarks). This keeps one
// gRPC stream per watch, resumes it transparently after a broken connection
// from the revision after the last one it delivered, and reports compaction
// and unrecoverable cancellation as terminal.

import type { Etcd3, IKeyValue, IWatchResponse } from 'etcd3';
import { fromEtcdError, internalError, StorageError } from './errors';
import { revisionNumber } from './resource-version';

type WatchDuplex = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

export interface RawWatchEvent {
  type: 'put' | 'delete';
  key: string;
  kv: IKeyValue;
  /** Set on puts that replaced a value and on deletes, when prevKv was requested and not yet compacted. */
  prevKv: IKeyValue | undefined;
  /** The revision of the write: kv.mod_revision (for a delete, the deletion's revision). */
  revision: number;
}

export interface EtcdWatchHandlers {
  /** Events in revision order; a batch never repeats an event already delivered. */
  onEvents(events: RawWatchEvent[]): void;
  /** etcd guarantees every later event has a revision greater than this one. */
  onProgress(revision: number): void;
  /** Terminal: etcd compacted the revision the watch needed next. */
  onCompacted(compactRevision: number, neededRevision: number): void;
  /** Terminal: etcd cancelled the watch for another reason. */
  onFailed(error: StorageError): void;
  /** The stream broke and will be resumed; informational. */
  onDisconnected?(error: StorageError): void;
}

export interface EtcdWatchRequest {
  /** Watched key, or first key of the range. */
  key: Buffer;
  /** Exclusive end of the watched range; absent to watch key alone. */
  rangeEnd?: Buffer;
  /** First revision to deliver (inclusive). */
  startRevision: number;
  /** Ask etcd for the previous value with each event (needed to report what a delete removed). */
  prevKv: boolean;
}

export interface EtcdWatchStreamOptions {
  /** Used in error messages. */
  endpoints: readonly string[];
  /** First wait before reopening a broken stream; doubles on each failure. */
  initialRetryDelayMs?: number;
  /** Longest wait between attempts to reopen a broken stream. */
  maxRetryDelayMs?: number;
  /** Called once when the watch ends, whether by stop() or a terminal response. */
  onStopped?: () => void;
}

export class EtcdWatchStream {
  private stream: WatchDuplex | undefined;
  private nextRevision: number;
  private stopped = false;
  private retryDelayMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly keyText: string;

  constructor(
    private readonly client: Etcd3,
    private readonly request: EtcdWatchRequest,
    private readonly handlers: EtcdWatchHandlers,
    private readonly options: EtcdWatchStreamOptions,
  ) {
    if (!Number.isSafeInteger(request.startRevision) || request.startRevision < 1) {
      throw new RangeError(`startRevision must be a positive integer, got ${request.startRevision}`);
    }
    this.nextRevision = request.startRevision;
    this.retryDelayMs = options.initialRetryDelayMs ?? 100;
    this.keyText = request.key.toString('utf8');
  }

  /** The revision the stream would resume from: one past the last delivered event or progress mark. */
  get resumeRevision(): number {
    return this.nextRevision;
  }

  start(): void {
    void this.open();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.closeStream();
    this.options.onStopped?.();
  }

  private async open(): Promise<void> {
    if (this.stopped) return;
    let stream: WatchDuplex;
    try {
      stream = await this.client.watchClient.watch();
    } catch (error) {
      this.retry(error);
      return;
    }
    if (this.stopped) {
      stream.cancel();
      return;
    }
    this.stream = stream;
    stream.on('data', (response) => {
      if (this.stream === stream) this.handleResponse(response);
    });
    stream.on('error', (error) => {
      if (this.stream === stream) this.retry(error);
    });
    stream.on('end', () => {
      if (this.stream === stream) this.retry(new Error('etcd closed the watch stream'));
    });
    stream.write({
      create_request: {
        key: this.request.key,
        range_end: this.request.rangeEnd,
        start_revision: this.nextRevision,
        prev_kv: this.request.prevKv,
        progress_notify: true,
      },
    });
  }

  private handleResponse(response: IWatchResponse): void {
    if (this.stopped) return;
    const compactRevision = revisionNumber(response.compact_revision);
    if (compactRevision > 0) {
      this.stop();
      this.handlers.onCompacted(compactRevision, this.nextRevision);
      return;
    }
    if (response.canceled) {
      this.stop();
      this.handlers.onFailed(internalError(this.keyText, `etcd cancelled the watch: ${response.cancel_reason || 'no reason given'}`));
      return;
    }
    if (response.created) {
      // Healthy again: the next failure starts with a short delay.
      this.retryDelayMs = this.options.initialRetryDelayMs ?? 100;
      return;
    }
    if (response.events.length === 0) {
      // A progress notification. The header revision of an event batch is
      // not used: etcd may send it ahead of events still to come.
      const revision = revisionNumber(response.header.revision);
      if (revision >= this.nextRevision) {
        this.nextRevision = revision + 1;
        this.handlers.onProgress(revision);
      }
      return;
    }
    const events: RawWatchEvent[] = [];
    for (const event of response.events) {
      const revision = revisionNumber(event.kv.mod_revision);
      // After a resume etcd starts at nextRevision, so nothing repeats; the
      // check keeps the no-duplicates promise if it ever did.
      if (revision < this.nextRevision) continue;
      events.push({
        type: event.type === 'Delete' ? 'delete' : 'put',
        key: event.kv.key.toString('utf8'),
        kv: event.kv,
        prevKv: event.prev_kv ?? undefined,
        revision,
      });
    }
    const last = events[events.length - 1];
    if (!last) return;
    this.nextRevision = last.revision + 1;
    this.handlers.onEvents(events);
  }

  private retry(cause: unknown): void {
    this.closeStream();
    if (this.stopped) return;
    this.handlers.onDisconnected?.(fromEtcdError(cause, this.keyText, this.options.endpoints));
    const delayMs = this.retryDelayMs;
    this.retryDelayMs = Math.min(this.retryDelayMs * 2, this.options.maxRetryDelayMs ?? 5000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.open();
    }, delayMs);
  }

  private closeStream(): void {
    const stream = this.stream;
    this.stream = undefined;
    if (!stream) return;
    try {
      stream.cancel();
    } catch {
      // Already closed.
    }
  }
}
