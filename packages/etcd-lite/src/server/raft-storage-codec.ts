// Conversion between the Raft core's plain values (raft/types.ts) and the
// etcdlite.raftpb protobuf messages (proto/raftpb.proto), both as binary (the
// write-ahead log and snapshot files) and as the plain objects @grpc/proto-loader
// hands the transport.

import * as path from 'path';
import * as protobuf from 'protobufjs';
import type {
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  Snapshot,
  SnapshotMetadata,
} from '../raft/types';

/** proto/ sits at the repository root, the same depth above src/server and dist/server. */
export const RAFTPB_PROTO_PATH = path.resolve(__dirname, '../../../../proto/raftpb.proto');

/** Where the write-ahead log starts and ends; see LogBounds in raftpb.proto. */
export interface LogBounds {
  dummyIndex: number;
  dummyTerm: number;
  lastIndex: number;
}

// Plain-object shapes of the protobuf messages, as protobufjs' toObject and
// proto-loader (longs: Number, enums: String, defaults: true) produce them.
export interface WireEntry {
  term: number;
  index: number;
  type: 'EntryNormal' | 'EntryConfChange';
  data: Uint8Array;
}
export interface WireConfState {
  voters: number[];
  learners: number[];
}
export interface WireSnapshotMetadata {
  confState?: WireConfState | null;
  index: number;
  term: number;
}
export interface WireSnapshot {
  data: Uint8Array;
  metadata?: WireSnapshotMetadata | null;
}
export interface WireMessage {
  type: MessageType;
  to: number;
  from: number;
  term: number;
  logTerm: number;
  index: number;
  entries: WireEntry[];
  commit: number;
  snapshot?: WireSnapshot | null;
  reject: boolean;
  rejectHint: number;
  context: Uint8Array;
}

/** The bytes on disk or on the wire do not decode as what they should be. */
export class RaftDecodeError extends Error {
  constructor(what: string, options?: { cause?: unknown }) {
    super(`cannot decode ${what}`, options);
    this.name = 'RaftDecodeError';
  }
}

let loadedRoot: protobuf.Root | undefined;
function root(): protobuf.Root {
  loadedRoot ??= protobuf.loadSync(RAFTPB_PROTO_PATH);
  return loadedRoot;
}
const typesByName = new Map<string, protobuf.Type>();
/** Looked up once per name: a lookup walks the namespace, and every entry and message is encoded. */
function type(name: string): protobuf.Type {
  let found = typesByName.get(name);
  if (found === undefined) {
    found = root().lookupType(`etcdlite.raftpb.${name}`);
    typesByName.set(name, found);
  }
  return found;
}

const TO_OBJECT_OPTIONS: protobuf.IConversionOptions = { longs: Number, enums: String, defaults: true, arrays: true };

function encode(typeName: string, value: object): Uint8Array {
  const t = type(typeName);
  return t.encode(t.fromObject(value)).finish();
}

function decode<T>(typeName: string, bytes: Uint8Array): T {
  const t = type(typeName);
  try {
    return t.toObject(t.decode(bytes), TO_OBJECT_OPTIONS) as T;
  } catch (error) {
    throw new RaftDecodeError(typeName, { cause: error });
  }
}

const ENTRY_TYPE_TO_WIRE: Record<EntryType, WireEntry['type']> = {
  normal: 'EntryNormal',
  confChange: 'EntryConfChange',
};

export function entryToWire(entry: Entry): WireEntry {
  return { term: entry.term, index: entry.index, type: ENTRY_TYPE_TO_WIRE[entry.type], data: entry.data };
}

export function entryFromWire(wire: WireEntry): Entry {
  return {
    term: wire.term,
    index: wire.index,
    type: wire.type === 'EntryConfChange' ? 'confChange' : 'normal',
    data: toUint8Array(wire.data),
  };
}

export function confStateFromWire(wire: WireConfState | null | undefined): ConfState {
  return { voters: [...(wire?.voters ?? [])], learners: [...(wire?.learners ?? [])] };
}

export function snapshotMetadataToWire(metadata: SnapshotMetadata): WireSnapshotMetadata {
  return { confState: metadata.confState, index: metadata.index, term: metadata.term };
}

export function snapshotMetadataFromWire(wire: WireSnapshotMetadata | null | undefined): SnapshotMetadata {
  return { index: wire?.index ?? 0, term: wire?.term ?? 0, confState: confStateFromWire(wire?.confState) };
}

export function snapshotToWire(snapshot: Snapshot): WireSnapshot {
  return { data: snapshot.data, metadata: snapshotMetadataToWire(snapshot.metadata) };
}

export function snapshotFromWire(wire: WireSnapshot): Snapshot {
  return { data: toUint8Array(wire.data), metadata: snapshotMetadataFromWire(wire.metadata) };
}

export function messageToWire(m: Message): WireMessage {
  return {
    type: m.type,
    to: m.to,
    from: m.from,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(entryToWire),
    commit: m.commit,
    snapshot: m.snapshot === undefined ? null : snapshotToWire(m.snapshot),
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: m.context,
  };
}

export function messageFromWire(wire: WireMessage): Message {
  const m: Message = {
    type: wire.type,
    to: wire.to,
    from: wire.from,
    term: wire.term,
    logTerm: wire.logTerm,
    index: wire.index,
    entries: (wire.entries ?? []).map(entryFromWire),
    commit: wire.commit,
    reject: wire.reject,
    rejectHint: wire.rejectHint,
    context: toUint8Array(wire.context),
  };
  if (wire.snapshot) m.snapshot = snapshotFromWire(wire.snapshot);
  return m;
}

export function encodeEntry(entry: Entry): Uint8Array {
  return encode('Entry', entryToWire(entry));
}
export function decodeEntry(bytes: Uint8Array): Entry {
  return entryFromWire(decode<WireEntry>('Entry', bytes));
}

export function encodeHardState(hardState: HardState): Uint8Array {
  return encode('HardState', hardState);
}
export function decodeHardState(bytes: Uint8Array): HardState {
  const wire = decode<HardState>('HardState', bytes);
  return { term: wire.term, vote: wire.vote, commit: wire.commit };
}

export function encodeSnapshotMetadata(metadata: SnapshotMetadata): Uint8Array {
  return encode('SnapshotMetadata', snapshotMetadataToWire(metadata));
}
export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  return snapshotMetadataFromWire(decode<WireSnapshotMetadata>('SnapshotMetadata', bytes));
}

export function encodeSnapshot(snapshot: Snapshot): Uint8Array {
  return encode('Snapshot', snapshotToWire(snapshot));
}
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  return snapshotFromWire(decode<WireSnapshot>('Snapshot', bytes));
}

export function encodeLogBounds(bounds: LogBounds): Uint8Array {
  return encode('LogBounds', bounds);
}
export function decodeLogBounds(bytes: Uint8Array): LogBounds {
  const wire = decode<LogBounds>('LogBounds', bytes);
  return { dummyIndex: wire.dummyIndex, dummyTerm: wire.dummyTerm, lastIndex: wire.lastIndex };
}

/** Buffers decode as Buffer (a Uint8Array subclass); absent bytes fields as undefined. */
function toUint8Array(bytes: Uint8Array | null | undefined): Uint8Array {
  return bytes ?? new Uint8Array(0);
}
