// Raft messages between members over gRPC (service RaftPeer in
// proto/raftpb.proto). Sending never blocks or throws: each peer has a bounded
// queue drained into one stream, so messages to a peer keep their order and a
// slow or dead peer costs at most its queue. Raft tolerates the resulting
// losses; it only needs to hear about them (onUnreachable, onSnapshotStatus).

import * as grpc from '@grpc/grpc-js';
import type { Message, NodeId } from '../raft/types';
import type { Logger } from '../observability/logger';
import type { Metrics } from '../observability/metrics';
import type { RaftMessageBatch } from './peer-message-codec';
import { messageFromWire } from './raft-storage-codec';
import { PeerSender, PeerUrlError, dialTarget, type PeerSenderSettings } from './transport-peer';
import {
  CLUSTER_ID_METADATA_KEY,
  FROM_METADATA_KEY,
  TO_METADATA_KEY,
  formatId,
  parseIdMetadata,
  raftPeerService,
  type Empty,
  type SnapshotImageSink,
  type SnapshotImages,
  type WireSnapshotChunk,
} from './transport-service';
import { SnapshotImageError } from './snapshot-images';

export { PeerUrlError };

const MiB = 1024 * 1024;

export interface PeerTransportOptions {
  /** This member's id; streams addressed to another id are refused. */
  memberId: NodeId;
  /** Streams from members of another cluster are refused, so two clusters sharing hosts never mix. */
  clusterId: number;
  /** Receives every message addressed to this member, in the order each peer sent them. */
  onMessage: (m: Message) => void;
  /** Told when a message to `peerId` was dropped or its stream failed (feeds the core's MsgUnreachable). */
  onUnreachable: (peerId: NodeId) => void;
  /** Told how a MsgSnap upload ended (feeds the core's MsgSnapStatus). */
  onSnapshotStatus: (peerId: NodeId, failed: boolean) => void;
  /** Reads the image sent with a MsgSnap and takes the one received with it (MsgSnap carries metadata only). */
  snapshotImages: SnapshotImages;
  logger: Logger;
  /** Optional so tests may leave it out; counts failures and bytes per peer. */
  metrics?: Metrics;
  /** Messages waiting per peer before new ones are dropped; etcd's stream buffer holds 4096. */
  maxQueuedMessages?: number;
  /** Bytes of messages written to the stream as one batch (at least one message always goes). */
  maxBatchBytes?: number;
  /** Size of the pieces a snapshot is uploaded in. */
  snapshotChunkBytes?: number;
  /** Largest gRPC message accepted or sent; must exceed the largest single Raft message. */
  maxMessageBytes?: number;
  /** Largest snapshot image accepted from a peer (it goes to disk as it arrives, in bounded pieces). */
  maxSnapshotBytes?: number;
  /** First wait before reconnecting to a peer; doubles per failure up to maxBackoffMs. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

export class PeerTransport {
  private readonly peers = new Map<NodeId, PeerSender>();
  private server: grpc.Server | undefined;
  private readonly settings: PeerSenderSettings;
  private readonly maxSnapshotBytes: number;
  private readonly logger: Logger;
  private stopped = false;

  constructor(private readonly options: PeerTransportOptions) {
    this.logger = options.logger.child({ component: 'transport', localMemberId: formatId(options.memberId) });
    this.maxSnapshotBytes = options.maxSnapshotBytes ?? 2048 * MiB;
    this.settings = {
      memberId: options.memberId,
      clusterId: options.clusterId,
      maxQueuedMessages: options.maxQueuedMessages ?? 4096,
      maxBatchBytes: options.maxBatchBytes ?? MiB,
      snapshotChunkBytes: options.snapshotChunkBytes ?? MiB,
      maxMessageBytes: options.maxMessageBytes ?? 64 * MiB,
      initialBackoffMs: options.initialBackoffMs ?? 100,
      maxBackoffMs: options.maxBackoffMs ?? 2000,
      onUnreachable: options.onUnreachable,
      onSnapshotStatus: options.onSnapshotStatus,
      snapshotImages: options.snapshotImages,
      logger: this.logger,
      metrics: options.metrics,
    };
  }

  /** Starts a connection to member `id` at `urls` (tried in turn). Throws PeerUrlError for a malformed URL. */
  addPeer(id: NodeId, urls: string[]): void {
    if (id === this.options.memberId) return;
    if (this.peers.has(id)) {
      this.updatePeer(id, urls);
      return;
    }
    if (urls.length === 0) throw new PeerUrlError('', `list of member ${formatId(id)} is empty`);
    this.peers.set(id, new PeerSender(id, urls, this.settings));
    this.logger.info('added remote peer', { remotePeerId: formatId(id), urls });
  }

  removePeer(id: NodeId): void {
    const peer = this.peers.get(id);
    if (peer === undefined) return;
    peer.stop();
    this.peers.delete(id);
    this.logger.info('removed remote peer', { remotePeerId: formatId(id) });
  }

  updatePeer(id: NodeId, urls: string[]): void {
    const peer = this.peers.get(id);
    if (peer === undefined) {
      this.addPeer(id, urls);
      return;
    }
    peer.updateUrls(urls);
    this.logger.info('updated remote peer', { remotePeerId: formatId(id), urls });
  }

  hasPeer(id: NodeId): boolean {
    return this.peers.has(id);
  }

  /** Queues each message for its peer; never blocks, never throws. */
  send(messages: Message[]): void {
    for (const m of messages) {
      if (this.stopped) return;
      const peer = this.peers.get(m.to);
      if (peer === undefined) {
        this.options.metrics?.peerSentFailuresTotal.inc({ To: formatId(m.to) });
        this.logger.debug('dropped message to unknown peer', { type: m.type, remotePeerId: formatId(m.to) });
        continue;
      }
      if (m.type === 'MsgSnap') peer.sendSnapshot(m);
      else peer.enqueue(m);
    }
  }

  /** Registers the RaftPeer service on a server the caller owns (and starts and stops). */
  register(server: grpc.Server): void {
    const service = raftPeerService();
    server.addService(service.definition, {
      Send: (call: grpc.ServerReadableStream<RaftMessageBatch, Empty>, callback: grpc.sendUnaryData<Empty>) =>
        this.handleSend(call, callback),
      SendSnapshot: (call: grpc.ServerReadableStream<WireSnapshotChunk, Empty>, callback: grpc.sendUnaryData<Empty>) =>
        this.handleSendSnapshot(call, callback),
    });
  }

  /**
   * Serves peer traffic on `url` (http://host:port; port 0 picks a free one)
   * with a server this transport owns. May be called once per listen URL.
   * Resolves to the bound port.
   */
  async listen(url: string): Promise<number> {
    const { target } = dialTarget(url);
    if (new URL(url).protocol !== 'http:') throw new PeerUrlError(url, 'must use http:// (TLS between peers is not supported yet)');
    if (this.server === undefined) {
      this.server = new grpc.Server({
        'grpc.max_receive_message_length': this.settings.maxMessageBytes,
        'grpc.max_send_message_length': this.settings.maxMessageBytes,
        // Our clients ping every 10 s to detect dead hosts; allow it.
        'grpc.keepalive_permit_without_calls': 1,
      });
      this.register(this.server);
    }
    const server = this.server;
    const port = await new Promise<number>((resolve, reject) => {
      server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
        error ? reject(error) : resolve(boundPort),
      );
    });
    this.logger.info('serving peer traffic', { url, port });
    return port;
  }

  /** Closes every peer connection and the server this transport owns. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const peer of this.peers.values()) peer.stop();
    this.peers.clear();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      await new Promise<void>((resolve) => {
        // In-flight streams are long-lived by design, so waiting for them would never end.
        server.forceShutdown();
        resolve();
      });
    }
  }

  /** Why a call from this peer is refused, or undefined when it may proceed. */
  private refusal(metadata: grpc.Metadata): Partial<grpc.StatusObject> | undefined {
    const remoteClusterId = parseIdMetadata(metadata, CLUSTER_ID_METADATA_KEY);
    const from = parseIdMetadata(metadata, FROM_METADATA_KEY);
    const to = parseIdMetadata(metadata, TO_METADATA_KEY);
    if (Number.isNaN(remoteClusterId) || Number.isNaN(from) || Number.isNaN(to)) {
      this.logger.warn('refused peer stream without cluster and member ids');
      return { code: grpc.status.INVALID_ARGUMENT, details: 'missing etcdlite-cluster-id / etcdlite-from / etcdlite-to metadata' };
    }
    if (remoteClusterId !== this.options.clusterId) {
      const localClusterId = formatId(this.options.clusterId);
      this.logger.error('refused peer stream: cluster ID mismatch', {
        remotePeerId: formatId(from),
        remoteClusterId: formatId(remoteClusterId),
        localClusterId,
      });
      return {
        code: grpc.status.FAILED_PRECONDITION,
        details: `cluster ID mismatch: member ${formatId(this.options.memberId)} belongs to cluster ${localClusterId}, sender ${formatId(from)} to cluster ${formatId(remoteClusterId)}`,
      };
    }
    if (to !== this.options.memberId) {
      this.logger.error('refused peer stream: addressed to another member', { remotePeerId: formatId(from), to: formatId(to) });
      return {
        code: grpc.status.FAILED_PRECONDITION,
        details: `member ID mismatch: this is member ${formatId(this.options.memberId)}, not ${formatId(to)}`,
      };
    }
    return undefined;
  }

  private handleSend(call: grpc.ServerReadableStream<RaftMessageBatch, Empty>, callback: grpc.sendUnaryData<Empty>): void {
    const refusal = this.refusal(call.metadata);
    if (refusal !== undefined) {
      callback(refusal);
      return;
    }
    const from = parseIdMetadata(call.metadata, FROM_METADATA_KEY);
    // Early headers tell the sender the stream was accepted; see PeerSender.openStream.
    call.sendMetadata(new grpc.Metadata());
    call.on('data', (batch: RaftMessageBatch) => {
      for (const message of batch.messages) this.deliver(message, from);
    });
    call.on('end', () => callback(null, {}));
    call.on('error', (error: Error) => this.logger.debug('peer stream ended', { remotePeerId: formatId(from), error }));
  }

  /**
   * Receives a MsgSnap: metadata in the first chunk, then the image, handed
   * to SnapshotImages piece by piece (the stream is paused while a piece is
   * written, so memory stays bounded). The message reaches the core only
   * once its image is complete and kept, and the response tells the sender.
   */
  private handleSendSnapshot(
    call: grpc.ServerReadableStream<WireSnapshotChunk, Empty>,
    callback: grpc.sendUnaryData<Empty>,
  ): void {
    const refusal = this.refusal(call.metadata);
    if (refusal !== undefined) {
      callback(refusal);
      return;
    }
    const from = parseIdMetadata(call.metadata, FROM_METADATA_KEY);
    let header: Message | undefined;
    let sink: SnapshotImageSink | undefined;
    let receivedBytes = 0;
    let finished = false;
    // Pieces are written one after the other; a failure ends the chain's work, not the chain.
    let writing: Promise<void> = Promise.resolve();
    const abandon = (): void => {
      const abandoned = sink;
      sink = undefined;
      if (abandoned !== undefined) {
        writing = writing
          .then(() => abandoned.abort())
          .catch((error: unknown) => this.logger.warn('failed to discard a partial snapshot image', { remotePeerId: formatId(from), error }));
      }
    };
    const fail = (code: grpc.status, details: string): void => {
      if (finished) return;
      finished = true;
      this.logger.warn('refused snapshot from peer', { remotePeerId: formatId(from), reason: details });
      callback({ code, details });
      abandon();
    };
    const failWith = (error: unknown): void =>
      fail(
        error instanceof SnapshotImageError ? grpc.status.INVALID_ARGUMENT : grpc.status.INTERNAL,
        `snapshot image not kept: ${error instanceof Error ? error.message : String(error)}`,
      );
    call.on('data', (chunk: WireSnapshotChunk) => {
      if (finished) return;
      if (header === undefined) {
        if (!chunk.message?.snapshot) return fail(grpc.status.INVALID_ARGUMENT, 'first snapshot chunk carries no MsgSnap');
        if (chunk.totalSizeBytes > this.maxSnapshotBytes) {
          return fail(grpc.status.RESOURCE_EXHAUSTED, `snapshot of ${chunk.totalSizeBytes} bytes exceeds ${this.maxSnapshotBytes}`);
        }
        header = messageFromWire(chunk.message);
        try {
          sink = this.options.snapshotImages.receive(header);
        } catch (error) {
          return failWith(error);
        }
      }
      receivedBytes += chunk.data.length;
      if (receivedBytes > this.maxSnapshotBytes) {
        return fail(grpc.status.RESOURCE_EXHAUSTED, `snapshot exceeds ${this.maxSnapshotBytes} bytes`);
      }
      const target = sink;
      if (target === undefined) return;
      const data = chunk.data;
      call.pause();
      writing = writing
        .then(() => (finished ? undefined : target.write(data)))
        .then(() => {
          if (!finished) call.resume();
        }, failWith);
    });
    call.on('end', () => {
      if (finished) return;
      const message = header;
      const target = sink;
      if (message === undefined || target === undefined) return fail(grpc.status.INVALID_ARGUMENT, 'snapshot upload ended before its first chunk');
      writing = writing
        .then(async () => {
          if (finished) return;
          await target.finish();
          if (finished) return;
          finished = true;
          this.logger.info('received snapshot from peer', {
            remotePeerId: formatId(from),
            index: message.snapshot?.metadata.index,
            sizeBytes: receivedBytes,
          });
          this.deliver(message, from);
          callback(null, {});
        })
        .catch(failWith);
    });
    call.on('error', (error: Error) => {
      this.logger.debug('snapshot upload ended', { remotePeerId: formatId(from), error });
      if (finished) return;
      finished = true;
      abandon();
    });
  }

  private deliver(m: Message, streamFrom: NodeId): void {
    if (m.to !== this.options.memberId || m.from !== streamFrom) {
      this.logger.warn('dropped misaddressed peer message', { type: m.type, from: formatId(m.from), to: formatId(m.to) });
      return;
    }
    this.options.metrics?.peerReceivedBytesTotal.inc(
      { From: formatId(streamFrom) },
      64 + m.context.length + m.entries.reduce((sum, e) => sum + 24 + e.data.length, 0),
    );
    try {
      this.options.onMessage(m);
    } catch (error) {
      // A throwing handler is a bug in the server loop; keep the stream (and the other messages) alive.
      this.logger.error('message handler threw', { type: m.type, error });
    }
  }
}
