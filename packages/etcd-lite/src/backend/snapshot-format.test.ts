import { SnapshotDecoder, SnapshotEncoder, SnapshotFormatError, decodeSnapshot, encodeSnapshot, type SnapshotEntry } from './snapshot-format';

const entries: SnapshotEntry[] = Array.from({ length: 40 }, (_, i) => ({
  bucket: i % 2 === 0 ? 'key' : 'meta',
  key: Buffer.from(`k${i}`),
  value: Buffer.alloc(i * 5, i),
}));
const whole = Buffer.from(encodeSnapshot(entries));

/** Decodes `bytes` pushed in pieces of `pieceBytes`; returns the entries or throws what the decoder threw. */
function decodeInPieces(bytes: Buffer, pieceBytes: number): SnapshotEntry[] {
  const decoder = new SnapshotDecoder();
  const decoded: SnapshotEntry[] = [];
  for (let offset = 0; offset < bytes.length; offset += pieceBytes) decoded.push(...decoder.push(bytes.subarray(offset, offset + pieceBytes)));
  decoder.end();
  return decoded;
}

describe('snapshot format, piece by piece', () => {
  it.each([1, 7, 33, 4096, whole.length])('decodes pieces of %i bytes into the entries encoded', (pieceBytes) => {
    expect(decodeInPieces(whole, pieceBytes)).toEqual(entries);
  });

  it('encodes in pieces to the same bytes as in one go, empty included', () => {
    const encoder = new SnapshotEncoder();
    const pieces = [encoder.encode(entries.slice(0, 3)), encoder.encode([]), encoder.encode(entries.slice(3)), encoder.finish()];
    expect(Buffer.concat(pieces).equals(whole)).toBe(true);
    const empty = new SnapshotEncoder().finish();
    expect(Buffer.from(encodeSnapshot([])).equals(empty)).toBe(true);
    expect(decodeSnapshot(empty)).toEqual([]);
  });

  const damaged: Array<{ title: string; bytes: () => Buffer; reason: RegExp }> = [
    { title: 'a flipped value byte', bytes: () => Buffer.concat([whole.subarray(0, 200), Buffer.from([whole[200]! ^ 1]), whole.subarray(201)]), reason: /checksum mismatch/ },
    { title: 'a truncated end', bytes: () => whole.subarray(0, whole.length - 40), reason: /truncated|checksum/ },
    { title: 'an extra byte', bytes: () => Buffer.concat([whole, Buffer.from([0])]), reason: /bad bucket name|truncated|checksum/ },
    { title: 'a bucket name that is not one', bytes: () => Buffer.concat([whole.subarray(0, 9), Buffer.from('K'), whole.subarray(10)]), reason: /bad bucket name/ },
    { title: 'an absurd key length', bytes: () => Buffer.concat([whole.subarray(0, 12), Buffer.from([0xff, 0xff, 0xff, 0xff]), whole.subarray(16)]), reason: /key of 4294967295 bytes/ },
    { title: 'another header', bytes: () => Buffer.concat([Buffer.from('ELBKSNP9'), whole.subarray(8)]), reason: /missing header/ },
  ];
  it.each(damaged)('refuses $title with a SnapshotFormatError', ({ bytes, reason }) => {
    for (const pieceBytes of [5, 1000]) {
      let thrown: unknown;
      try {
        decodeInPieces(bytes(), pieceBytes);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(SnapshotFormatError);
      expect((thrown as Error).message).toMatch(reason);
    }
  });
});
