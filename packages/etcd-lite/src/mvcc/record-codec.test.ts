import type { KeyValue } from '../etcdpb/types';
import { decodeKeyValue, encodeKeyValue } from './record-codec';

function keyValue(fields: Partial<KeyValue>): KeyValue {
  return { key: Buffer.from('k'), value: Buffer.from('v'), create_revision: 1, mod_revision: 1, version: 1, lease: 0, ...fields };
}

describe('record codec', () => {
  it.each([
    { name: 'small numbers', kv: keyValue({}) },
    { name: 'revisions past 2^32', kv: keyValue({ create_revision: 2 ** 32 + 5, mod_revision: 2 ** 40 + 1, version: 2 ** 33 }) },
    { name: 'the largest safe integer', kv: keyValue({ lease: Number.MAX_SAFE_INTEGER }) },
    { name: 'a negative lease', kv: keyValue({ lease: -7 }) },
    { name: 'empty value, binary key', kv: keyValue({ key: Buffer.from([0, 255, 1]), value: Buffer.alloc(0) }) },
  ])('round-trips $name', ({ kv }) => {
    expect(decodeKeyValue(encodeKeyValue(kv))).toEqual(kv);
  });

  it('lays numbers out as signed 64-bit big-endian (the format records on disk already use)', () => {
    const kv = keyValue({ create_revision: 2 ** 40 + 3, mod_revision: 9, version: 2, lease: -2 });
    const bytes = encodeKeyValue(kv);
    const fields = [1, 9, 17, 25].map((offset) => Number(bytes.readBigInt64BE(offset)));
    expect(fields).toEqual([kv.create_revision, kv.mod_revision, kv.version, kv.lease]);
  });
});
