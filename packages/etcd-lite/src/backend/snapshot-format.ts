// The byte format of a backend snapshot, shared by both implementations so a
// snapshot taken on a RocksDB member restores on an in-memory one and back:
//
//   "ELBKSNP1"  then per entry:  u8 bucketLength, bucket (ASCII),
//   u32 keyLength, key, u32 valueLength, value  (big-endian lengths)
//   then the SHA-256 of everything before it.
//
// The checksum lets a member refuse a truncated or corrupted transfer instead
// of loading half a database. The same bytes are produced and read piece by
// piece (SnapshotEncoder, SnapshotDecoder) when an image is streamed to a
// follower, so neither end holds a whole image in memory.

import { createHash, type Hash } from 'node:crypto';
import { checkBucketName, type SnapshotEntry } from './backend';

export type { SnapshotEntry };

const magic = Buffer.from('ELBKSNP1', 'ascii');
const checksumLengthBytes = 32;

export class SnapshotFormatError extends Error {
  constructor(reason: string) {
    super(`invalid backend snapshot: ${reason}`);
    this.name = 'SnapshotFormatError';
  }
}

/** Encodes a snapshot piece by piece: the concatenation of everything returned equals encodeSnapshot(all entries). */
export class SnapshotEncoder {
  private readonly hash: Hash = createHash('sha256');
  private started = false;
  private finished = false;

  /** The bytes of `entries` (preceded by the header on the first call). */
  encode(entries: Iterable<SnapshotEntry>): Buffer {
    if (this.finished) throw new Error('snapshot encoder: encode() after finish()');
    const chunks: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      chunks.push(magic);
    }
    for (const entry of entries) {
      const bucket = Buffer.from(entry.bucket, 'ascii');
      const header = Buffer.alloc(1 + bucket.length + 4);
      header.writeUInt8(bucket.length, 0);
      bucket.copy(header, 1);
      header.writeUInt32BE(entry.key.length, 1 + bucket.length);
      const valueLength = Buffer.alloc(4);
      valueLength.writeUInt32BE(entry.value.length, 0);
      chunks.push(header, entry.key, valueLength, entry.value);
    }
    const bytes = Buffer.concat(chunks);
    this.hash.update(bytes);
    return bytes;
  }

  /** The last bytes: the checksum (and the header, when no entry was encoded). */
  finish(): Buffer {
    const head = this.started ? Buffer.alloc(0) : this.encode([]);
    this.finished = true;
    return Buffer.concat([head, this.hash.digest()]);
  }
}

/**
 * Decodes a snapshot from pieces of any size. The last 32 bytes seen so far
 * may be the checksum, so they are held back until more arrive or end() is
 * called; end() throws unless everything decoded and the checksum matches.
 * Pieces are joined only once they complete an entry, so a large entry
 * arriving in many pieces costs one copy, not one per piece.
 */
export class SnapshotDecoder {
  private readonly hash: Hash = createHash('sha256');
  private pieces: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes pending before decoding is worth another try (the end of the next entry plus a checksum). */
  private wantedBytes = 0;
  private headerSeen = false;
  private consumedBytes = 0;
  private ended = false;

  /** The entries completed by `bytes`, in order. */
  push(bytes: Uint8Array): SnapshotEntry[] {
    if (this.ended) throw new Error('snapshot decoder: push() after end()');
    this.pieces.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.pendingBytes += bytes.length;
    if (this.pendingBytes < this.wantedBytes) return [];
    const pending = this.joinPending();
    const entries: SnapshotEntry[] = [];
    // Only bytes followed by at least a checksum's worth can be entry bytes.
    const usable = pending.length - checksumLengthBytes;
    let offset = 0;
    if (!this.headerSeen) {
      if (usable < magic.length) return entries;
      if (!pending.subarray(0, magic.length).equals(magic)) throw new SnapshotFormatError('missing header');
      this.headerSeen = true;
      offset = magic.length;
    }
    for (;;) {
      const result = readEntry(pending, offset, usable, this.consumedBytes + offset);
      if ('neededBytes' in result) {
        this.wantedBytes = result.neededBytes - offset + checksumLengthBytes;
        break;
      }
      entries.push(result.entry);
      offset = result.end;
    }
    if (offset > 0) {
      this.hash.update(pending.subarray(0, offset));
      this.consumedBytes += offset;
      const rest = pending.subarray(offset);
      this.pieces = rest.length === 0 ? [] : [rest];
      this.pendingBytes = rest.length;
    }
    return entries;
  }

  /** Checks that the bytes pushed form exactly one whole, intact snapshot. */
  end(): void {
    this.ended = true;
    const pending = this.joinPending();
    if (!this.headerSeen) throw new SnapshotFormatError('missing header');
    if (pending.length !== checksumLengthBytes) throw new SnapshotFormatError(`truncated entry at byte ${this.consumedBytes}`);
    if (!this.hash.digest().equals(pending)) throw new SnapshotFormatError('checksum mismatch');
  }

  private joinPending(): Buffer {
    if (this.pieces.length > 1) this.pieces = [Buffer.concat(this.pieces)];
    return this.pieces[0] ?? Buffer.alloc(0);
  }
}

/** Bounds what a damaged length field can make a decoder wait for (values are limited far below this). */
const maxEntryBytes = 1024 * 1024 * 1024;

/**
 * The entry starting at `offset` if it ends at or before `limit`, else how
 * far the data must reach (as far as the lengths read so far tell).
 */
function readEntry(
  data: Buffer,
  offset: number,
  limit: number,
  streamOffset: number,
): { entry: SnapshotEntry; end: number } | { neededBytes: number } {
  let position = offset;
  if (position + 1 > limit) return { neededBytes: position + 1 };
  const bucketLength = data.readUInt8(position);
  position += 1;
  if (position + bucketLength + 4 > limit) return { neededBytes: position + bucketLength + 4 };
  const bucket = data.toString('ascii', position, position + bucketLength);
  try {
    checkBucketName(bucket);
  } catch {
    throw new SnapshotFormatError(`bad bucket name at byte ${streamOffset}`);
  }
  position += bucketLength;
  const keyLength = data.readUInt32BE(position);
  position += 4;
  if (keyLength > maxEntryBytes) throw new SnapshotFormatError(`key of ${keyLength} bytes at byte ${streamOffset}`);
  if (position + keyLength + 4 > limit) return { neededBytes: position + keyLength + 4 };
  const keyStart = position;
  position += keyLength;
  const valueLength = data.readUInt32BE(position);
  position += 4;
  if (valueLength > maxEntryBytes) throw new SnapshotFormatError(`value of ${valueLength} bytes at byte ${streamOffset}`);
  if (position + valueLength > limit) return { neededBytes: position + valueLength };
  const key = Buffer.from(data.subarray(keyStart, keyStart + keyLength));
  const value = Buffer.from(data.subarray(position, position + valueLength));
  return { entry: { bucket, key, value }, end: position + valueLength };
}

export function encodeSnapshot(entries: Iterable<SnapshotEntry>): Uint8Array {
  const encoder = new SnapshotEncoder();
  return Buffer.concat([encoder.encode(entries), encoder.finish()]);
}

export function decodeSnapshot(snapshot: Uint8Array): SnapshotEntry[] {
  const data = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  // Whole in hand: check the checksum before trusting any length field in it.
  if (data.length < magic.length + checksumLengthBytes || !data.subarray(0, magic.length).equals(magic)) {
    throw new SnapshotFormatError('missing header');
  }
  const bodyEnd = data.length - checksumLengthBytes;
  if (!createHash('sha256').update(data.subarray(0, bodyEnd)).digest().equals(data.subarray(bodyEnd))) {
    throw new SnapshotFormatError('checksum mismatch');
  }
  const decoder = new SnapshotDecoder();
  const entries = decoder.push(snapshot);
  decoder.end();
  return entries;
}
