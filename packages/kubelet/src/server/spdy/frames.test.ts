import zlib from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from './dictionary';
import {
  decodeHeaderBlock,
  encodeFrame,
  encodeHeaderBlock,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  FrameParser,
  SpdyFrameTooLargeError,
  SpdyProtocolError,
  type HeaderList,
  type WireFrame,
} from './frames';
import { HeaderCompressor, HeaderDecompressor } from './header-compression';

function adler32(bytes: Buffer): number {
  let a = 1;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  return ((b << 16) | a) >>> 0;
}

describe('SPDY/3 dictionary', () => {
  it('has the size and ends of the spec text', () => {
    expect(SPDY3_HEADER_DICTIONARY.length).toBe(1423);
    expect(SPDY3_HEADER_DICTIONARY.subarray(0, 11)).toEqual(Buffer.from([0, 0, 0, 7, ...Buffer.from('options')]));
    expect(SPDY3_HEADER_DICTIONARY.subarray(-6).toString()).toBe('enq=0.');
    // The dictionary id every SPDY/3 header stream carries in its zlib header.
    expect(adler32(SPDY3_HEADER_DICTIONARY).toString(16)).toBe('e3c6a7c2');
  });
});

describe('frame encoding', () => {
  const goldens: Array<[string, WireFrame, string]> = [
    ['PING 1', { type: 'ping', id: 1 }, '80030006 00000004 00000001'],
    ['DATA with FIN', { type: 'data', streamId: 3, flags: FLAG_FIN, data: Buffer.from('abc') }, '00000003 01000003 616263'],
    ['empty DATA', { type: 'data', streamId: 0x7fffffff, flags: 0, data: Buffer.alloc(0) }, '7fffffff 00000000'],
    ['RST_STREAM cancel', { type: 'rstStream', streamId: 5, status: 5 }, '80030003 00000008 00000005 00000005'],
    ['WINDOW_UPDATE session', { type: 'windowUpdate', streamId: 0, deltaWindowBytes: 65536 }, '80030009 00000008 00000000 00010000'],
    ['GOAWAY ok', { type: 'goAway', lastGoodStreamId: 7, status: 0 }, '80030007 00000008 00000007 00000000'],
    ['SETTINGS initial window', { type: 'settings', flags: 0, settings: [{ id: 7, flags: 1, value: 131072 }] }, '80030004 0000000c 00000001 01000007 00020000'],
    ['SYN_REPLY raw block', { type: 'synReply', streamId: 1, flags: 0, headerBlock: Buffer.from([0xaa, 0xbb]) }, '80030002 00000006 00000001 aabb'],
    ['SYN_STREAM priority 7 unidirectional', { type: 'synStream', streamId: 1, associatedStreamId: 0, priority: 7, slot: 0, flags: FLAG_UNIDIRECTIONAL, headerBlock: Buffer.alloc(0) }, '80030001 0200000a 00000001 00000000 e000'],
  ];

  it.each(goldens)('%s matches its golden bytes and parses back', (_name, frame, hex) => {
    const bytes = encodeFrame(frame);
    expect(bytes.toString('hex')).toBe(hex.replace(/ /g, ''));
    expect(new FrameParser().push(bytes)).toEqual([frame]);
  });

  it('reassembles frames from any chunking, one byte at a time included', () => {
    const frames: WireFrame[] = goldens.map(([, frame]) => frame);
    const stream = Buffer.concat(frames.map(encodeFrame));
    for (const chunkBytes of [1, 3, 7, stream.length]) {
      const parser = new FrameParser();
      const parsed: WireFrame[] = [];
      for (let offset = 0; offset < stream.length; offset += chunkBytes) parsed.push(...parser.push(stream.subarray(offset, offset + chunkBytes)));
      expect(parsed).toEqual(frames);
      expect(parser.bufferedBytes).toBe(0);
    }
  });

  const malformed: Array<[string, Buffer, new (...args: never[]) => Error]> = [
    ['SPDY/2 control frame', Buffer.from('80020006000000040000000a', 'hex'), SpdyProtocolError],
    ['truncated RST_STREAM', Buffer.from('800300030000000400000001', 'hex'), SpdyProtocolError],
    ['SETTINGS count beyond payload', Buffer.from('80030004000000080000000200000007', 'hex'), SpdyProtocolError],
    ['frame above the limit', Buffer.from('0000000100001000', 'hex'), SpdyFrameTooLargeError],
  ];

  it.each(malformed)('refuses a %s', (_name, bytes, errorClass) => {
    expect(() => new FrameParser(1024).push(bytes)).toThrow(errorClass);
  });

  it('skips unknown control frame types', () => {
    const noop = Buffer.from('8003000500000000', 'hex');
    expect(new FrameParser().push(Buffer.concat([noop, encodeFrame({ type: 'ping', id: 2 })]))).toEqual([{ type: 'ping', id: 2 }]);
  });

  it('refuses stream ids and window deltas outside their ranges', () => {
    expect(() => encodeFrame({ type: 'data', streamId: 0, flags: 0, data: Buffer.alloc(0) })).toThrow(RangeError);
    expect(() => encodeFrame({ type: 'windowUpdate', streamId: 1, deltaWindowBytes: 0 })).toThrow(RangeError);
  });
});

describe('header blocks', () => {
  const blocks: Array<[string, HeaderList]> = [
    ['empty', []],
    ['port-forward data stream', [['streamtype', 'data'], ['port', '80'], ['requestid', '0']]],
    ['several values', [['accept', 'a\0b'], ['x', '']]],
  ];

  it.each(blocks)('%s round-trips uncompressed', (_name, headers) => {
    expect(decodeHeaderBlock(encodeHeaderBlock(headers))).toEqual(headers);
  });

  it('has the golden uncompressed layout', () => {
    expect(encodeHeaderBlock([['port', '80']]).toString('hex')).toBe('00000001' + '00000004' + Buffer.from('port').toString('hex') + '00000002' + Buffer.from('80').toString('hex'));
  });

  const broken: Array<[string, Buffer]> = [
    ['count without entries', Buffer.from('00000001', 'hex')],
    ['name longer than the block', Buffer.from('0000000100000009616263', 'hex')],
    ['trailing bytes', Buffer.concat([encodeHeaderBlock([]), Buffer.from([0])])],
    ['duplicate name', Buffer.concat([Buffer.from('00000002', 'hex'), encodeHeaderBlock([['a', '1']]).subarray(4), encodeHeaderBlock([['a', '2']]).subarray(4)])],
  ];

  it.each(broken)('refuses a block with %s', (_name, block) => {
    expect(() => decodeHeaderBlock(block)).toThrow(SpdyProtocolError);
  });

  it('refuses upper-case names when encoding', () => {
    expect(() => encodeHeaderBlock([['Port', '80']])).toThrow(RangeError);
  });
});

describe('header compression', () => {
  it('keeps one zlib stream per direction, each block ending with a sync flush', async () => {
    const compressor = new HeaderCompressor();
    const decompressor = new HeaderDecompressor();
    try {
      const first = await compressor.compress(blocks()[0]!);
      const second = await compressor.compress(blocks()[1]!);
      // zlib header with FDICT and the dictionary's adler32 comes once, on the first block only.
      expect(first[0]).toBe(0x78);
      expect(first[1]! & 0x20).toBe(0x20);
      expect(first.readUInt32BE(2).toString(16)).toBe('e3c6a7c2');
      expect(second[0]).not.toBe(0x78);
      for (const block of [first, second]) expect(block.subarray(-4).toString('hex')).toBe('0000ffff');
      // The second block is shorter: it refers back to the first (shared context).
      expect(second.length).toBeLessThan(first.length);
      expect(await decompressor.decompress(first)).toEqual(blocks()[0]);
      expect(await decompressor.decompress(second)).toEqual(blocks()[1]);
    } finally {
      compressor.close();
      decompressor.close();
    }
  });

  it('reads blocks another zlib wrote against the same dictionary', async () => {
    const decompressor = new HeaderDecompressor();
    try {
      const plain = encodeHeaderBlock([['streamtype', 'error'], ['port', '8080'], ['requestid', '3']]);
      const compressed = zlib.deflateSync(plain, { dictionary: SPDY3_HEADER_DICTIONARY, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      expect(await decompressor.decompress(compressed)).toEqual([['streamtype', 'error'], ['port', '8080'], ['requestid', '3']]);
    } finally {
      decompressor.close();
    }
  });

  it('refuses a block compressed without the dictionary, and every block after it', async () => {
    const decompressor = new HeaderDecompressor();
    try {
      const foreign = zlib.deflateSync(encodeHeaderBlock([]), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      await expect(decompressor.decompress(Buffer.from('00ff00ff', 'hex'))).rejects.toThrow(SpdyProtocolError);
      await expect(decompressor.decompress(foreign)).rejects.toThrow(SpdyProtocolError);
    } finally {
      decompressor.close();
    }
  });

  it('refuses a block that inflates beyond the limit', async () => {
    const compressor = new HeaderCompressor();
    const decompressor = new HeaderDecompressor(1024);
    try {
      const block = await compressor.compress([['big', 'x'.repeat(4096)]]);
      await expect(decompressor.decompress(block)).rejects.toThrow(/more than 1024 bytes/);
    } finally {
      compressor.close();
      decompressor.close();
    }
  });
});

function blocks(): HeaderList[] {
  return [
    [['streamtype', 'error'], ['port', '80'], ['requestid', '0']],
    [['streamtype', 'data'], ['port', '80'], ['requestid', '0']],
  ];
}
