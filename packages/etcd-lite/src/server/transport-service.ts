// The RaftPeer gRPC service definition, loaded from proto/raftpb.proto, with
// the metadata keys both ends agree on.

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { decodeMessageBatch, encodeMessageBatch, type RaftMessageBatch } from './peer-message-codec';
import type { Message } from '../raft/types';
import { RAFTPB_PROTO_PATH, type WireMessage } from './raft-storage-codec';

/** Hex cluster id of the sender; a receiver in another cluster refuses the call. */
export const CLUSTER_ID_METADATA_KEY = 'etcdlite-cluster-id';
/** Hex member id of the sender. */
export const FROM_METADATA_KEY = 'etcdlite-from';
/** Hex member id the sender believes it is talking to. */
export const TO_METADATA_KEY = 'etcdlite-to';

export interface WireSnapshotChunk {
  message?: WireMessage | null;
  totalSizeBytes: number;
  data: Uint8Array;
}

export type Empty = Record<string, never>;

/** The bytes of the image a MsgSnap stands for, read piece by piece from a point pinned when it was opened. */
export interface SnapshotImageStream {
  /** The next piece (of any size), or undefined once the image is complete. */
  next(): Promise<Uint8Array | undefined>;
  /** Releases what the stream pinned; required when abandoning it early, harmless twice. */
  close(): Promise<void>;
}

/** Where the image of a MsgSnap from a peer goes while it arrives. */
export interface SnapshotImageSink {
  /** Takes the next piece; the transport waits for it before reading more from the peer. */
  write(bytes: Uint8Array): Promise<void>;
  /** The image is complete: check it and keep it for the snapshot's install; throws when it is unusable. */
  finish(): Promise<void>;
  /** The upload failed: throw away what arrived. */
  abort(): Promise<void>;
}

/** How the transport gets and delivers the state machine images that travel with MsgSnap. */
export interface SnapshotImages {
  /** The image to send with MsgSnap `m` (whose snapshot carries metadata only), pinned at this call. */
  read(m: Message): SnapshotImageStream;
  /** Starts receiving the image of MsgSnap `m` from a peer. */
  receive(m: Message): SnapshotImageSink;
}

export interface RaftPeerService {
  definition: grpc.ServiceDefinition;
  send: grpc.MethodDefinition<RaftMessageBatch, Empty>;
  sendSnapshot: grpc.MethodDefinition<WireSnapshotChunk, Empty>;
}

let loaded: RaftPeerService | undefined;

export function raftPeerService(): RaftPeerService {
  if (loaded) return loaded;
  const packageDefinition = protoLoader.loadSync(RAFTPB_PROTO_PATH, {
    keepCase: false,
    longs: Number,
    enums: String,
    defaults: true,
    arrays: true,
  });
  const generated = packageDefinition['etcdlite.raftpb.RaftPeer'] as grpc.ServiceDefinition;
  // Send carries every replicated entry: its batches go through the dedicated codec.
  const send: grpc.MethodDefinition<RaftMessageBatch, Empty> = {
    ...(generated['Send'] as grpc.MethodDefinition<RaftMessageBatch, Empty>),
    requestSerialize: encodeMessageBatch,
    requestDeserialize: decodeMessageBatch,
  };
  const definition: grpc.ServiceDefinition = { ...generated, Send: send };
  loaded = {
    definition,
    send,
    sendSnapshot: definition['SendSnapshot'] as grpc.MethodDefinition<WireSnapshotChunk, Empty>,
  };
  return loaded;
}

const formattedIds = new Map<number, string>();
/** Hex, as etcd prints member ids; memoized because metrics label every peer message with it. */
export function formatId(id: number): string {
  let text = formattedIds.get(id);
  if (text === undefined) {
    text = id.toString(16);
    // Bounded: ids come from peers, and a cache must not grow without limit.
    if (formattedIds.size < 1024) formattedIds.set(id, text);
  }
  return text;
}

/** Parses a hex id from metadata; NaN when absent or malformed. */
export function parseIdMetadata(metadata: grpc.Metadata, key: string): number {
  const value = metadata.get(key)[0];
  if (typeof value !== 'string' || !/^[0-9a-f]{1,14}$/.test(value)) return NaN;
  return parseInt(value, 16);
}
