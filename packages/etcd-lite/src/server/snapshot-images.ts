// The backend images that travel with MsgSnap.
//
// A member's own snapshots are metadata only (index, term, conf state): its
// backend is the state, durable at least up to that index before the log
// behind it is dropped (see RaftNode.maybeSnapshot). Only a follower that
// needs a snapshot gets the state itself: the leader reads its backend at
// one pinned point (consistent index C, at or after the snapshot's index I,
// since the backend was durable at I before the snapshot was recorded) and
// streams it; the follower builds it beside its live backend and, once the
// core accepts the snapshot, swaps it in. The follower then replays entries
// after I, skipping those up to C by the consistent index, exactly as after
// a restart. etcd does the same with its bolt database.

import {
  SnapshotDecoder,
  SnapshotEncoder,
  type Backend,
  type BackendReplacement,
  type SnapshotEntry,
} from '../backend';
import { consistentIndexOfEntry } from '../mvcc';
import type { Logger } from '../observability';
import type { Message, SnapshotMetadata } from '../raft';
import type { SnapshotImageSink, SnapshotImageStream, SnapshotImages } from './transport-service';

/** An image from a peer cannot be used: damaged, or older than the snapshot it came with. */
export class SnapshotImageError extends Error {
  constructor(index: number, reason: string, options?: { cause?: unknown }) {
    super(`snapshot image for index ${index} ${reason}`, options);
    this.name = 'SnapshotImageError';
  }
}

/** The core accepted a snapshot whose image never arrived (a bug: the transport delivers MsgSnap only after its image). */
export class MissingSnapshotImageError extends Error {
  constructor(metadata: SnapshotMetadata) {
    super(`no received image for the snapshot at index ${metadata.index}, term ${metadata.term}`);
    this.name = 'MissingSnapshotImageError';
  }
}

export interface BackendSnapshotImagesOptions {
  backend: Backend;
  logger: Logger;
  /** Bytes of keys and values read from the backend per piece sent; defaults to 1 MiB. */
  readPieceBytes?: number;
  /** Bytes of keys and values written to a replacement per batch while receiving; defaults to 4 MiB. */
  writeBatchBytes?: number;
  /** Finished images kept waiting for the core to accept their snapshot; older ones are discarded. Defaults to 2. */
  maxWaitingImages?: number;
}

interface ReceivedImage {
  metadata: SnapshotMetadata;
  replacement: BackendReplacement;
}

const MiB = 1024 * 1024;

function imageKey(metadata: SnapshotMetadata): string {
  return `${metadata.term}/${metadata.index}`;
}

export class BackendSnapshotImages implements SnapshotImages {
  private readonly waiting = new Map<string, ReceivedImage>();
  private readonly readPieceBytes: number;
  private readonly writeBatchBytes: number;
  private readonly maxWaitingImages: number;
  private closed = false;

  constructor(private readonly options: BackendSnapshotImagesOptions) {
    this.readPieceBytes = options.readPieceBytes ?? MiB;
    this.writeBatchBytes = options.writeBatchBytes ?? 4 * MiB;
    this.maxWaitingImages = options.maxWaitingImages ?? 2;
  }

  read(_m: Message): SnapshotImageStream {
    const reader = this.options.backend.openImage();
    const encoder = new SnapshotEncoder();
    let finished = false;
    return {
      next: async () => {
        if (finished) return undefined;
        const entries = await reader.next(this.readPieceBytes);
        if (entries.length > 0) return encoder.encode(entries);
        finished = true;
        await reader.close();
        return encoder.finish();
      },
      close: () => reader.close(),
    };
  }

  receive(m: Message): SnapshotImageSink {
    const metadata = m.snapshot?.metadata;
    if (metadata === undefined) throw new Error(`bug: MsgSnap from ${m.from} carries no snapshot metadata`);
    const decoder = new SnapshotDecoder();
    let replacement: Promise<BackendReplacement> | undefined;
    let batch: SnapshotEntry[] = [];
    let batchBytes = 0;
    let consistentIndex: number | undefined;
    const ensureReplacement = (): Promise<BackendReplacement> => (replacement ??= this.options.backend.beginReplacement());
    const writeBatch = async (): Promise<void> => {
      const entries = batch;
      batch = [];
      batchBytes = 0;
      await (await ensureReplacement()).write(entries);
    };
    const decode = (run: () => SnapshotEntry[] | void): SnapshotEntry[] => {
      try {
        return run() ?? [];
      } catch (error) {
        throw new SnapshotImageError(metadata.index, 'is damaged', { cause: error });
      }
    };
    return {
      write: async (bytes) => {
        for (const entry of decode(() => decoder.push(bytes))) {
          consistentIndex = consistentIndexOfEntry(entry.bucket, entry.key, entry.value) ?? consistentIndex;
          batch.push(entry);
          batchBytes += entry.key.length + entry.value.length;
        }
        if (batchBytes >= this.writeBatchBytes) await writeBatch();
      },
      finish: async () => {
        decode(() => decoder.end());
        if (consistentIndex === undefined || consistentIndex < metadata.index) {
          throw new SnapshotImageError(metadata.index, `reaches only index ${consistentIndex ?? 'none'}`);
        }
        await writeBatch();
        const finished = await ensureReplacement();
        await finished.finish();
        await this.keep({ metadata, replacement: finished });
        this.options.logger.info('received snapshot image', { index: metadata.index, term: metadata.term, consistentIndex });
      },
      abort: async () => {
        batch = [];
        if (replacement !== undefined) await (await replacement).discard();
      },
    };
  }

  /** The image received for the snapshot `metadata`, no longer kept here; images for older snapshots are discarded. */
  async take(metadata: SnapshotMetadata): Promise<BackendReplacement | undefined> {
    const image = this.waiting.get(imageKey(metadata));
    this.waiting.delete(imageKey(metadata));
    for (const [key, other] of [...this.waiting]) {
      if (other.metadata.index > metadata.index) continue;
      this.waiting.delete(key);
      await other.replacement.discard();
    }
    return image?.replacement;
  }

  /** Discards every image still waiting. */
  async close(): Promise<void> {
    this.closed = true;
    const images = [...this.waiting.values()];
    this.waiting.clear();
    for (const image of images) await image.replacement.discard().catch(() => undefined);
  }

  private async keep(image: ReceivedImage): Promise<void> {
    if (this.closed) {
      await image.replacement.discard();
      return;
    }
    const key = imageKey(image.metadata);
    const previous = this.waiting.get(key);
    this.waiting.set(key, image);
    if (previous !== undefined) await previous.replacement.discard();
    while (this.waiting.size > this.maxWaitingImages) {
      const oldest = [...this.waiting].reduce((a, b) => (a[1].metadata.index <= b[1].metadata.index ? a : b));
      this.waiting.delete(oldest[0]);
      await oldest[1].replacement.discard();
    }
  }
}
