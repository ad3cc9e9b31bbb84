// The sending half of the transport for one remote member: a bounded queue
// drained into one long-lived gRPC stream (so messages keep their order), a
// reconnect loop with backoff, and snapshot uploads in chunks.

import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId } from '../raft/types';
import type { RaftMessageBatch } from './peer-message-codec';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import { messageToWire } from './raft-storage-codec';
import {
  CLUSTER_ID_METADATA_KEY,
  FROM_METADATA_KEY,
  TO_METADATA_KEY,
  formatId,
  raftPeerService,
  type SnapshotImages,
  type SnapshotImageStream,
  type WireSnapshotChunk,
} from './transport-service';

export interface PeerSenderSettings {
  memberId: NodeId;
  clusterId: number;
  maxQueuedMessages: number;
  maxBatchBytes: number;
  snapshotChunkBytes: number;
  maxMessageBytes: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  onUnreachable: (peerId: NodeId) => void;
  onSnapshotStatus: (peerId: NodeId, failed: boolean) => void;
  snapshotImages: SnapshotImages;
  logger: Logger;
  metrics: Metrics | undefined;
}

/** A peer URL cannot be dialed (bad syntax or scheme). */
export class PeerUrlError extends Error {
  constructor(url: string, reason: string) {
    super(`peer URL ${JSON.stringify(url)} ${reason}`);
    this.name = 'PeerUrlError';
  }
}

/** host:port gRPC target and credentials for an http:// or https:// peer URL. */
export function dialTarget(url: string): { target: string; credentials: grpc.ChannelCredentials } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new PeerUrlError(url, 'is not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new PeerUrlError(url, 'must use http:// or https://');
  }
  // Checked on the text: URL drops a port equal to the scheme's default (":80").
  if (!/^[a-z]+:\/\/[^/?#]*:\d+(?:[/?#]|$)/i.test(url)) throw new PeerUrlError(url, 'must name a port');
  const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
  return {
    target: `${parsed.hostname}:${port}`,
    credentials: parsed.protocol === 'https:' ? grpc.credentials.createSsl() : grpc.credentials.createInsecure(),
  };
}

/** Approximate wire size of a message, for batching and byte counters. */
function messageSizeBytes(m: Message): number {
  let size = 64 + m.context.length;
  for (const entry of m.entries) size += 24 + entry.data.length;
  return size;
}

export class PeerSender {
  private urls: string[];
  private urlIndex = 0;
  private client: grpc.Client | undefined;
  /** Queue as an array with a moving head, compacted lazily: O(1) push and shift. */
  private queue: Message[] = [];
  private queueHead = 0;
  private call: grpc.ClientWritableStream<RaftMessageBatch> | undefined;
  private connected = false;
  private waitingForDrain = false;
  private pumpScheduled = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private snapshotCall: grpc.ClientWritableStream<WireSnapshotChunk> | undefined;
  private stopped = false;
  private readonly logger: Logger;

  constructor(
    readonly peerId: NodeId,
    urls: string[],
    private readonly settings: PeerSenderSettings,
  ) {
    urls.forEach(dialTarget);
    this.urls = [...urls];
    this.backoffMs = settings.initialBackoffMs;
    this.logger = settings.logger.child({ remotePeerId: formatId(peerId) });
    this.openStream();
  }

  get queuedMessages(): number {
    return this.queue.length - this.queueHead;
  }

  /**
   * Queues `m`; when the queue is full, drops it and reports the peer
   * unreachable. Never blocks. A proposal forwarded while the last attempt
   * to reach the peer failed is dropped too; see dropQueuedProposals().
   */
  enqueue(m: Message): void {
    if (this.stopped) return;
    if (m.type === 'MsgProp' && this.call === undefined) {
      this.recordFailure();
      this.logger.debug('dropped proposal to unreachable peer', {});
      return;
    }
    if (this.queuedMessages >= this.settings.maxQueuedMessages) {
      this.recordFailure();
      this.logger.debug('dropped message to peer: queue full', { type: m.type, maxQueuedMessages: this.settings.maxQueuedMessages });
      this.settings.onUnreachable(this.peerId);
      return;
    }
    this.queue.push(m);
    // Everything queued in the same turn (a Ready's messages to this peer) goes out as one batch.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      queueMicrotask(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  /** Replaces the peer's URLs and reconnects to the first of them. */
  updateUrls(urls: string[]): void {
    urls.forEach(dialTarget);
    this.urls = [...urls];
    this.urlIndex = 0;
    this.closeConnection();
    this.retryNow();
  }

  stop(): void {
    this.stopped = true;
    this.closeConnection();
    this.queue = [];
    this.queueHead = 0;
  }

  /**
   * Uploads a MsgSnap on its own call: the metadata in the first chunk, then
   * the image SnapshotImages reads for it, in chunks, as fast as the peer
   * takes them (one piece in memory at a time). The outcome goes to
   * onSnapshotStatus. One upload per peer at a time: the leader retries
   * after a failure report.
   */
  sendSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    if (this.stopped) return;
    if (snapshot === undefined) throw new Error(`bug: MsgSnap to ${formatId(this.peerId)} carries no snapshot`);
    const index = snapshot.metadata.index;
    if (this.snapshotCall !== undefined) {
      this.logger.warn('dropped snapshot to peer: another one is still being sent', { index });
      this.settings.onSnapshotStatus(this.peerId, true);
      return;
    }
    let image: SnapshotImageStream;
    try {
      image = this.settings.snapshotImages.read(m);
    } catch (error) {
      this.logger.warn('failed to open the snapshot image', { index, error });
      this.settings.onSnapshotStatus(this.peerId, true);
      return;
    }
    const service = raftPeerService();
    const started = Date.now();
    const progress = { sentBytes: 0 };
    let settle = (): void => undefined;
    const settled = new Promise<void>((resolve) => (settle = resolve));
    const call = this.ensureClient().makeClientStreamRequest(
      service.sendSnapshot.path,
      service.sendSnapshot.requestSerialize,
      service.sendSnapshot.responseDeserialize,
      this.callMetadata(),
      (error) => {
        settle();
        void image.close().catch(() => undefined);
        if (this.snapshotCall === call) this.snapshotCall = undefined;
        if (this.stopped) return;
        if (error) {
          this.recordFailure();
          this.logger.warn('failed to send snapshot to peer', { index, error: error.details || error.message });
          this.settings.onUnreachable(this.peerId);
          this.settings.onSnapshotStatus(this.peerId, true);
        } else {
          this.settings.metrics?.peerSentBytesTotal.inc({ To: formatId(this.peerId) }, progress.sentBytes);
          this.logger.info('sent snapshot to peer', { index, sizeBytes: progress.sentBytes, tookMs: Date.now() - started });
          this.settings.onSnapshotStatus(this.peerId, false);
        }
      },
    );
    this.snapshotCall = call;
    // The size is not known before the image is read; 0 says so.
    const header = messageToWire({ ...m, snapshot: { metadata: snapshot.metadata, data: new Uint8Array(0) } });
    const upload = async (): Promise<void> => {
      const chunkBytes = this.settings.snapshotChunkBytes;
      let first = true;
      while (this.snapshotCall === call) {
        const piece = await image.next();
        if (this.snapshotCall !== call) return;
        if (piece === undefined) {
          call.end();
          return;
        }
        for (let offset = 0; offset < piece.length && this.snapshotCall === call; offset += chunkBytes) {
          const data = piece.subarray(offset, offset + chunkBytes);
          const chunk: WireSnapshotChunk = first ? { message: header, totalSizeBytes: 0, data } : { totalSizeBytes: 0, data };
          first = false;
          progress.sentBytes += data.length;
          if (!call.write(chunk)) await Promise.race([new Promise((resolve) => call.once('drain', resolve)), settled]);
        }
      }
    };
    upload().catch((error: unknown) => {
      // Reading the image failed (the backend was closed or swapped): the call's callback reports the failure.
      this.logger.warn('failed to read the snapshot image', { index, error });
      call.cancel();
    });
  }

  private recordFailure(): void {
    this.settings.metrics?.peerSentFailuresTotal.inc({ To: formatId(this.peerId) });
  }

  private callMetadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    metadata.set(CLUSTER_ID_METADATA_KEY, formatId(this.settings.clusterId));
    metadata.set(FROM_METADATA_KEY, formatId(this.settings.memberId));
    metadata.set(TO_METADATA_KEY, formatId(this.peerId));
    return metadata;
  }

  private ensureClient(): grpc.Client {
    if (this.client === undefined) {
      const url = this.urls[this.urlIndex % this.urls.length];
      if (url === undefined) throw new Error(`bug: peer ${formatId(this.peerId)} has no URLs`);
      const { target, credentials } = dialTarget(url);
      this.client = new grpc.Client(target, credentials, {
        // gRPC's own reconnect backoff grows to minutes by default; a member
        // that comes back must be reachable again within our retry window.
        'grpc.initial_reconnect_backoff_ms': this.settings.initialBackoffMs,
        'grpc.max_reconnect_backoff_ms': this.settings.maxBackoffMs,
        'grpc.min_reconnect_backoff_ms': this.settings.initialBackoffMs,
        'grpc.max_send_message_length': this.settings.maxMessageBytes,
        'grpc.max_receive_message_length': this.settings.maxMessageBytes,
        // Detects a peer whose host died without closing the connection.
        'grpc.keepalive_time_ms': 10_000,
        'grpc.keepalive_timeout_ms': 5_000,
      });
    }
    return this.client;
  }

  private openStream(): void {
    if (this.stopped || this.call !== undefined) return;
    const service = raftPeerService();
    const url = this.urls[this.urlIndex % this.urls.length];
    const call = this.ensureClient().makeClientStreamRequest(
      service.send.path,
      service.send.requestSerialize,
      service.send.responseDeserialize,
      this.callMetadata(),
      (error) => this.onStreamEnded(call, error ?? undefined),
    );
    this.call = call;
    // The receiver sends headers as soon as it accepts the stream: only then
    // do we start draining the queue, so nothing is written into a stream
    // that will be refused.
    call.on('metadata', () => {
      if (this.call !== call) return;
      this.connected = true;
      this.backoffMs = this.settings.initialBackoffMs;
      this.logger.info('peer stream established', { url });
      this.pump();
    });
  }

  private onStreamEnded(call: grpc.ClientWritableStream<RaftMessageBatch>, error: grpc.ServiceError | undefined): void {
    if (this.call !== call) return;
    const wasConnected = this.connected;
    this.call = undefined;
    this.connected = false;
    this.waitingForDrain = false;
    if (this.stopped) return;
    this.recordFailure();
    this.dropQueuedProposals();
    const reason = error ? error.details || error.message : 'stream closed by peer';
    if (error?.code === grpc.status.FAILED_PRECONDITION) {
      this.logger.error('peer refused our messages', { reason });
    } else if (wasConnected) {
      this.logger.warn('lost peer stream', { reason });
    } else {
      this.logger.debug('cannot reach peer', { reason, retryInMs: this.backoffMs });
    }
    this.settings.onUnreachable(this.peerId);
    // Try the member's next URL on the next attempt.
    if (this.urls.length > 1) {
      this.urlIndex = (this.urlIndex + 1) % this.urls.length;
      this.closeClient();
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.openStream();
    }, this.backoffMs);
    this.retryTimer.unref();
    this.backoffMs = Math.min(this.backoffMs * 2, this.settings.maxBackoffMs);
  }

  private retryNow(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.openStream();
  }

  private pump(): void {
    const call = this.call;
    if (!this.connected || call === undefined || this.waitingForDrain) return;
    while (this.queuedMessages > 0) {
      const batch: Message[] = [];
      let batchBytes = 0;
      while (this.queuedMessages > 0) {
        const next = this.queue[this.queueHead]!;
        const sizeBytes = messageSizeBytes(next);
        if (batch.length > 0 && batchBytes + sizeBytes > this.settings.maxBatchBytes) break;
        batch.push(next);
        batchBytes += sizeBytes;
        this.queueHead++;
      }
      this.compactQueue();
      this.settings.metrics?.peerSentBytesTotal.inc({ To: formatId(this.peerId) }, batchBytes);
      if (!call.write({ messages: batch })) {
        this.waitingForDrain = true;
        call.once('drain', () => {
          this.waitingForDrain = false;
          if (this.call === call) this.pump();
        });
        return;
      }
    }
  }

  /**
   * Forwarded proposals do not wait for a peer that cannot be reached, as
   * in etcd's transport: the member that proposed answers its client with a
   * timeout, and Raft never retries a proposal. Kept, one could reach the
   * peer seconds later (when it restarts) and be committed after its client
   * was told it failed. Every other message is harmless when late (Raft
   * ignores stale terms and indexes) and useful to a peer that comes back.
   */
  private dropQueuedProposals(): void {
    const kept: Message[] = [];
    for (let position = this.queueHead; position < this.queue.length; position++) {
      const queued = this.queue[position]!;
      if (queued.type === 'MsgProp') this.recordFailure();
      else kept.push(queued);
    }
    this.queue = kept;
    this.queueHead = 0;
  }

  private compactQueue(): void {
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private closeConnection(): void {
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const call = this.call;
    this.call = undefined;
    this.connected = false;
    this.waitingForDrain = false;
    call?.cancel();
    this.snapshotCall?.cancel();
    this.closeClient();
  }

  private closeClient(): void {
    this.client?.close();
    this.client = undefined;
  }
}
