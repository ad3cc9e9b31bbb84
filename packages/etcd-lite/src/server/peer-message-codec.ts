// The binary form of a MessageBatch (proto/raftpb.proto) on the peer stream,
// straight from and to the Raft core's Message values. Every replicated entry
// crosses this twice per follower, and the generic protobufjs path (plain
// object -> message object with a Long per 64-bit field -> bytes, and back)
// was a large share of a member's CPU under load. The bytes are ordinary
// protobuf: fields at their default value are left out, and the decoder
// accepts any valid encoding (unknown fields skipped), so either side may
// still use the generic path.

import * as protobuf from 'protobufjs';
import type { Entry, Message, MessageType } from '../raft/types';
import { decodeSnapshot, encodeSnapshot, RAFTPB_PROTO_PATH, RaftDecodeError } from './raft-storage-codec';

/** What one write on the Send stream carries. */
export interface RaftMessageBatch {
  messages: Message[];
}

const wireTypeVarint = 0;
const wireTypeFixed64 = 1;
const wireTypeLengthDelimited = 2;
const wireTypeFixed32 = 5;

// Field numbers, as in raftpb.proto.
const batchMessagesField = 1;
const entryField = { type: 1, term: 2, index: 3, data: 4 } as const;
const messageField = {
  type: 1,
  to: 2,
  from: 3,
  term: 4,
  logTerm: 5,
  index: 6,
  entries: 7,
  commit: 8,
  snapshot: 9,
  reject: 10,
  rejectHint: 11,
  context: 12,
} as const;

/** Enum numbers come from the .proto itself, so they cannot drift from what the generic path uses. */
function enumValues(name: string): Record<string, number> {
  return protobuf.loadSync(RAFTPB_PROTO_PATH).lookupEnum(`etcdlite.raftpb.${name}`).values;
}
const messageTypeNumbers = new Map<MessageType, number>(Object.entries(enumValues('MessageType')) as Array<[MessageType, number]>);
const messageTypeNames = new Map<number, MessageType>([...messageTypeNumbers].map(([name, value]) => [value, name]));
const entryConfChangeNumber = enumValues('EntryType')['EntryConfChange']!;

const emptyBytes = new Uint8Array(0);
const twoTo7 = 128;

function varintSize(value: number): number {
  let size = 1;
  while (value >= twoTo7) {
    value = Math.floor(value / twoTo7);
    size++;
  }
  return size;
}

/** A tag (field number and wire type) is a varint too; ours all fit in one byte. */
const tagSize = 1;

function uint64FieldSize(value: number): number {
  return value === 0 ? 0 : tagSize + varintSize(value);
}

function bytesFieldSize(length: number): number {
  return length === 0 ? 0 : tagSize + varintSize(length) + length;
}

function entrySize(entry: Entry): number {
  return (
    (entry.type === 'confChange' ? tagSize + 1 : 0) +
    uint64FieldSize(entry.term) +
    uint64FieldSize(entry.index) +
    bytesFieldSize(entry.data.length)
  );
}

class ByteWriter {
  position = 0;
  constructor(readonly bytes: Buffer) {}

  varint(value: number): void {
    const bytes = this.bytes;
    while (value >= twoTo7) {
      bytes[this.position++] = (value % twoTo7) | 0x80;
      value = Math.floor(value / twoTo7);
    }
    bytes[this.position++] = value;
  }

  tag(field: number, wireType: number): void {
    this.bytes[this.position++] = (field << 3) | wireType;
  }

  uint64Field(field: number, value: number): void {
    if (value === 0) return;
    this.tag(field, wireTypeVarint);
    this.varint(value);
  }

  bytesField(field: number, value: Uint8Array): void {
    if (value.length === 0) return;
    this.tag(field, wireTypeLengthDelimited);
    this.varint(value.length);
    this.bytes.set(value, this.position);
    this.position += value.length;
  }
}

/** Sizes computed once per message: the length prefixes need them before the bytes are written. */
interface SizedMessage {
  message: Message;
  sizeBytes: number;
  typeNumber: number;
  snapshot: Uint8Array | undefined;
}

function sizeMessage(message: Message): SizedMessage {
  const typeNumber = messageTypeNumbers.get(message.type);
  if (typeNumber === undefined) throw new Error(`raftpb: unknown message type ${message.type}`);
  // Only a MsgSnap carries one, and those normally go through SendSnapshot.
  const snapshot = message.snapshot === undefined ? undefined : encodeSnapshot(message.snapshot);
  let sizeBytes =
    uint64FieldSize(typeNumber) +
    uint64FieldSize(message.to) +
    uint64FieldSize(message.from) +
    uint64FieldSize(message.term) +
    uint64FieldSize(message.logTerm) +
    uint64FieldSize(message.index) +
    uint64FieldSize(message.commit) +
    (snapshot === undefined ? 0 : tagSize + varintSize(snapshot.length) + snapshot.length) +
    (message.reject ? tagSize + 1 : 0) +
    uint64FieldSize(message.rejectHint) +
    bytesFieldSize(message.context.length);
  for (const entry of message.entries) {
    const size = entrySize(entry);
    sizeBytes += tagSize + varintSize(size) + size;
  }
  return { message, sizeBytes, typeNumber, snapshot };
}

export function encodeMessageBatch(batch: RaftMessageBatch): Buffer {
  const sized = batch.messages.map(sizeMessage);
  let totalBytes = 0;
  for (const { sizeBytes } of sized) totalBytes += tagSize + varintSize(sizeBytes) + sizeBytes;
  const writer = new ByteWriter(Buffer.allocUnsafe(totalBytes));
  for (const { message, sizeBytes, typeNumber, snapshot } of sized) {
    writer.tag(batchMessagesField, wireTypeLengthDelimited);
    writer.varint(sizeBytes);
    writer.uint64Field(messageField.type, typeNumber);
    writer.uint64Field(messageField.to, message.to);
    writer.uint64Field(messageField.from, message.from);
    writer.uint64Field(messageField.term, message.term);
    writer.uint64Field(messageField.logTerm, message.logTerm);
    writer.uint64Field(messageField.index, message.index);
    for (const entry of message.entries) {
      writer.tag(messageField.entries, wireTypeLengthDelimited);
      writer.varint(entrySize(entry));
      if (entry.type === 'confChange') writer.uint64Field(entryField.type, entryConfChangeNumber);
      writer.uint64Field(entryField.term, entry.term);
      writer.uint64Field(entryField.index, entry.index);
      writer.bytesField(entryField.data, entry.data);
    }
    writer.uint64Field(messageField.commit, message.commit);
    if (snapshot !== undefined) {
      writer.tag(messageField.snapshot, wireTypeLengthDelimited);
      writer.varint(snapshot.length);
      writer.bytes.set(snapshot, writer.position);
      writer.position += snapshot.length;
    }
    if (message.reject) writer.uint64Field(messageField.reject, 1);
    writer.uint64Field(messageField.rejectHint, message.rejectHint);
    writer.bytesField(messageField.context, message.context);
  }
  if (writer.position !== totalBytes) throw new Error(`raftpb: wrote ${writer.position} bytes of ${totalBytes}`);
  return writer.bytes;
}

class ByteReader {
  constructor(
    readonly bytes: Buffer,
    public position: number,
    readonly end: number,
  ) {}

  get done(): boolean {
    return this.position >= this.end;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let count = 0; count < 10; count++) {
      if (this.position >= this.end) throw new RaftDecodeError('MessageBatch (truncated varint)');
      const byte = this.bytes[this.position++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= twoTo7;
    }
    throw new RaftDecodeError('MessageBatch (varint over 10 bytes)');
  }

  /** The bytes of a length-delimited field, as a view (no copy), as protobufjs decodes them. */
  lengthDelimited(): Buffer {
    const length = this.varint();
    const start = this.position;
    if (start + length > this.end) throw new RaftDecodeError('MessageBatch (truncated field)');
    this.position = start + length;
    return this.bytes.subarray(start, start + length);
  }

  /** A reader over the next length-delimited field (an embedded message); this one moves past it. */
  embedded(): ByteReader {
    const length = this.varint();
    const start = this.position;
    if (start + length > this.end) throw new RaftDecodeError('MessageBatch (truncated message)');
    this.position = start + length;
    return new ByteReader(this.bytes, start, start + length);
  }

  skip(wireType: number): void {
    switch (wireType) {
      case wireTypeVarint:
        this.varint();
        return;
      case wireTypeFixed64:
        this.position += 8;
        break;
      case wireTypeLengthDelimited:
        this.lengthDelimited();
        return;
      case wireTypeFixed32:
        this.position += 4;
        break;
      default:
        throw new RaftDecodeError(`MessageBatch (wire type ${wireType})`);
    }
    if (this.position > this.end) throw new RaftDecodeError('MessageBatch (truncated field)');
  }
}

function decodeEntry(reader: ByteReader): Entry {
  const entry: Entry = { term: 0, index: 0, type: 'normal', data: emptyBytes };
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === entryField.type && wireType === wireTypeVarint) entry.type = reader.varint() === entryConfChangeNumber ? 'confChange' : 'normal';
    else if (field === entryField.term && wireType === wireTypeVarint) entry.term = reader.varint();
    else if (field === entryField.index && wireType === wireTypeVarint) entry.index = reader.varint();
    else if (field === entryField.data && wireType === wireTypeLengthDelimited) entry.data = reader.lengthDelimited();
    else reader.skip(wireType);
  }
  return entry;
}

function decodeMessage(reader: ByteReader): Message {
  const message: Message = {
    type: 'MsgHup',
    to: 0,
    from: 0,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    reject: false,
    rejectHint: 0,
    context: emptyBytes,
  };
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (wireType === wireTypeVarint) {
      const value = reader.varint();
      switch (field) {
        case messageField.type: {
          const name = messageTypeNames.get(value);
          if (name === undefined) throw new RaftDecodeError(`MessageBatch (message type ${value})`);
          message.type = name;
          break;
        }
        case messageField.to:
          message.to = value;
          break;
        case messageField.from:
          message.from = value;
          break;
        case messageField.term:
          message.term = value;
          break;
        case messageField.logTerm:
          message.logTerm = value;
          break;
        case messageField.index:
          message.index = value;
          break;
        case messageField.commit:
          message.commit = value;
          break;
        case messageField.reject:
          message.reject = value !== 0;
          break;
        case messageField.rejectHint:
          message.rejectHint = value;
          break;
        default:
          // An unknown varint field: already read.
          break;
      }
    } else if (wireType === wireTypeLengthDelimited && field === messageField.entries) {
      message.entries.push(decodeEntry(reader.embedded()));
    } else if (wireType === wireTypeLengthDelimited && field === messageField.snapshot) {
      message.snapshot = decodeSnapshot(reader.lengthDelimited());
    } else if (wireType === wireTypeLengthDelimited && field === messageField.context) {
      message.context = reader.lengthDelimited();
    } else {
      reader.skip(wireType);
    }
  }
  return message;
}

export function decodeMessageBatch(bytes: Buffer): RaftMessageBatch {
  const reader = new ByteReader(bytes, 0, bytes.length);
  const messages: Message[] = [];
  while (!reader.done) {
    const tag = reader.varint();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    if (field === batchMessagesField && wireType === wireTypeLengthDelimited) {
      messages.push(decodeMessage(reader.embedded()));
    } else {
      reader.skip(wireType);
    }
  }
  return { messages };
}
