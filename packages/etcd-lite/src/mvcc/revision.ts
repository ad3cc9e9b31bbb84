// A store revision: `main` is bumped once per write transaction, `sub` counts
// the changes inside it. In the backend a record is keyed by its revision in
// big-endian bytes, so the key bucket iterates in revision order.

export interface Revision {
  main: number;
  sub: number;
}

export function compareRevisions(a: Revision, b: Revision): number {
  return a.main !== b.main ? a.main - b.main : a.sub - b.sub;
}

const tombstoneMark = 0x74; // 't', as etcd marks deletions in the key bucket
const revisionLengthBytes = 17;

/** main (8 bytes) "_" sub (8 bytes), plus a trailing 't' for a deletion. */
export function revisionToBytes(revision: Revision, tombstone: boolean): Buffer {
  const bytes = Buffer.alloc(revisionLengthBytes + (tombstone ? 1 : 0));
  bytes.writeBigUInt64BE(BigInt(revision.main), 0);
  bytes.writeUInt8(0x5f, 8);
  bytes.writeBigUInt64BE(BigInt(revision.sub), 9);
  if (tombstone) bytes.writeUInt8(tombstoneMark, revisionLengthBytes);
  return bytes;
}

export function bytesToRevision(bytes: Buffer): { revision: Revision; tombstone: boolean } {
  if (bytes.length !== revisionLengthBytes && bytes.length !== revisionLengthBytes + 1) {
    throw new Error(`mvcc: malformed revision key of ${bytes.length} bytes`);
  }
  return {
    revision: { main: Number(bytes.readBigUInt64BE(0)), sub: Number(bytes.readBigUInt64BE(9)) },
    tombstone: bytes.length === revisionLengthBytes + 1 && bytes[revisionLengthBytes] === tombstoneMark,
  };
}
