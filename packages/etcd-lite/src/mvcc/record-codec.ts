// The value stored under a revision in the backend's key bucket: the
// KeyValue as of that revision. A fixed binary layout keeps the MVCC layer
// free of protobuf: version byte, create/mod revision, version, lease
// (signed 64-bit big-endian), key length (u32), key, value.

import type { KeyValue } from '../etcdpb/types';

const formatVersion = 1;
const headerLengthBytes = 1 + 8 * 4 + 4;

const twoTo32 = 2 ** 32;

/**
 * A safe integer as a signed 64-bit big-endian value, in two 32-bit halves:
 * the same bytes as writeBigInt64BE without a BigInt per field (every
 * record written goes through here).
 */
function writeInt64BE(bytes: Buffer, value: number, offset: number): void {
  const high = Math.floor(value / twoTo32);
  bytes.writeInt32BE(high, offset);
  bytes.writeUInt32BE(value - high * twoTo32, offset + 4);
}

export function encodeKeyValue(kv: KeyValue): Buffer {
  // Every byte is written below, so the buffer need not be zeroed first.
  const bytes = Buffer.allocUnsafe(headerLengthBytes + kv.key.length + kv.value.length);
  bytes.writeUInt8(formatVersion, 0);
  writeInt64BE(bytes, kv.create_revision, 1);
  writeInt64BE(bytes, kv.mod_revision, 9);
  writeInt64BE(bytes, kv.version, 17);
  writeInt64BE(bytes, kv.lease, 25);
  bytes.writeUInt32BE(kv.key.length, 33);
  kv.key.copy(bytes, headerLengthBytes);
  kv.value.copy(bytes, headerLengthBytes + kv.key.length);
  return bytes;
}

export function decodeKeyValue(bytes: Buffer): KeyValue {
  if (bytes.length < headerLengthBytes || bytes[0] !== formatVersion) {
    throw new Error('mvcc: malformed key-value record in backend');
  }
  const keyLength = bytes.readUInt32BE(33);
  if (headerLengthBytes + keyLength > bytes.length) throw new Error('mvcc: truncated key-value record in backend');
  return {
    key: Buffer.from(bytes.subarray(headerLengthBytes, headerLengthBytes + keyLength)),
    create_revision: Number(bytes.readBigInt64BE(1)),
    mod_revision: Number(bytes.readBigInt64BE(9)),
    version: Number(bytes.readBigInt64BE(17)),
    value: Buffer.from(bytes.subarray(headerLengthBytes + keyLength)),
    lease: Number(bytes.readBigInt64BE(25)),
  };
}
