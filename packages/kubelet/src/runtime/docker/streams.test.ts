import { Readable } from 'node:stream';
import { ByteLimiter, FrameDecoder, FrameMerger, MAX_FRAME_BYTES, StreamFramingError, encodeFrame } from './streams';

async function collect(stream: Readable): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += (chunk as Buffer).toString();
  return text;
}

describe('FrameDecoder', () => {
  const wire = Buffer.concat([encodeFrame('stdout', 'out 1\n'), encodeFrame('stderr', 'err 1\n'), encodeFrame('stdout', ''), encodeFrame('stdout', 'out 2\n')]);

  test.each([1, 3, 8, 9, 64])('split into %i-byte chunks', (chunkBytes) => {
    const frames: string[] = [];
    const decoder = new FrameDecoder((stream, payload) => frames.push(`${stream}:${payload.toString()}`));
    for (let offset = 0; offset < wire.length; offset += chunkBytes) decoder.push(wire.subarray(offset, offset + chunkBytes));
    expect(frames).toEqual(['stdout:out 1\n', 'stderr:err 1\n', 'stdout:out 2\n']);
    expect(decoder.leftoverBytes).toBe(0);
  });

  const header = (stream: number, size: number): Buffer => {
    const bytes = Buffer.alloc(8);
    bytes[0] = stream;
    bytes.writeUInt32BE(size, 4);
    return bytes;
  };
  test.each([
    { name: 'unknown stream number', bytes: header(7, 1) },
    { name: 'absurd frame size', bytes: header(1, MAX_FRAME_BYTES + 1) },
  ])('rejects a stream with an $name', ({ bytes }) => {
    const decoder = new FrameDecoder(() => undefined);
    expect(() => decoder.push(bytes)).toThrow(StreamFramingError);
  });
});

test('FrameMerger interleaves stdout and stderr in arrival order', async () => {
  const merged = Readable.from([encodeFrame('stdout', 'a\n'), Buffer.concat([encodeFrame('stderr', 'b\n'), encodeFrame('stdout', 'c\n')])]).pipe(new FrameMerger());
  expect(await collect(merged)).toBe('a\nb\nc\n');
});

test.each([
  { limit: 0, expected: '' },
  { limit: 4, expected: 'hell' },
  { limit: 7, expected: 'hello w' },
  { limit: 100, expected: 'hello world' },
])('ByteLimiter($limit)', async ({ limit, expected }) => {
  expect(await collect(Readable.from([Buffer.from('hello'), Buffer.from(' world')]).pipe(new ByteLimiter(limit)))).toBe(expected);
});
