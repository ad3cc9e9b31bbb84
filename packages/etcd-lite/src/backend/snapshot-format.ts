// The byte format of a backend snapshot, shared by both implementations so a
// snapshot taken on a RocksDB member restores on an in-memory one and back:
//
//   "ELBKSNP1"  then per entry:  u8 bucketLength, bucket (ASCII),
//   u32 keyLength, key, u32 valueLength, value  (big-endian lengths)
//   then the SHA-256 of everything before it.
//
// The checksum lets a member refuse a truncated or corrupted transfer instead
// of loading half a database.

import { createHash } from 'node:crypto';
import { checkBucketName } from './backend';

const magic = Buffer.from('ELBKSNP1', 'ascii');
const checksumLengthBytes = 32;

export interface SnapshotEntry {
  bucket: string;
  key: Buffer;
  value: Buffer;
}

export class SnapshotFormatError extends Error {
  constructor(reason: string) {
    super(`invalid backend snapshot: ${reason}`);
    this.name = 'SnapshotFormatError';
  }
}

export function encodeSnapshot(entries: Iterable<SnapshotEntry>): Uint8Array {
  const chunks: Buffer[] = [magic];
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
  const body = Buffer.concat(chunks);
  const checksum = createHash('sha256').update(body).digest();
  return Buffer.concat([body, checksum]);
}

export function decodeSnapshot(snapshot: Uint8Array): SnapshotEntry[] {
  const data = Buffer.from(snapshot.buffer, snapshot.byteOffset, snapshot.byteLength);
  if (data.length < magic.length + checksumLengthBytes || !data.subarray(0, magic.length).equals(magic)) {
    throw new SnapshotFormatError('missing header');
  }
  const bodyEnd = data.length - checksumLengthBytes;
  const expected = createHash('sha256').update(data.subarray(0, bodyEnd)).digest();
  if (!expected.equals(data.subarray(bodyEnd))) throw new SnapshotFormatError('checksum mismatch');
  const entries: SnapshotEntry[] = [];
  let offset = magic.length;
  const need = (length: number): void => {
    if (offset + length > bodyEnd) throw new SnapshotFormatError(`truncated entry at byte ${offset}`);
  };
  while (offset < bodyEnd) {
    need(1);
    const bucketLength = data.readUInt8(offset);
    offset += 1;
    need(bucketLength + 4);
    const bucket = data.toString('ascii', offset, offset + bucketLength);
    checkBucketName(bucket);
    offset += bucketLength;
    const keyLength = data.readUInt32BE(offset);
    offset += 4;
    need(keyLength + 4);
    const key = Buffer.from(data.subarray(offset, offset + keyLength));
    offset += keyLength;
    const valueLength = data.readUInt32BE(offset);
    offset += 4;
    need(valueLength);
    const value = Buffer.from(data.subarray(offset, offset + valueLength));
    offset += valueLength;
    entries.push({ bucket, key, value });
  }
  return entries;
}
