// Docker's attach/logs/exec streams for containers without a TTY carry
// stdout and stderr in one connection as frames: an 8-byte header (stream
// number, three zero bytes, payload length big-endian) then the payload.
// With a TTY the stream is raw. Pure code: no sockets here.
import { Transform, type TransformCallback } from 'node:stream';

export type FrameStream = 'stdin' | 'stdout' | 'stderr';

const STREAM_NAMES: Record<number, FrameStream> = { 0: 'stdin', 1: 'stdout', 2: 'stderr' };
const HEADER_BYTES = 8;
/** Docker writes frames of at most 32 KiB; far above that the stream is not framed at all. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export class StreamFramingError extends Error {
  constructor(detail: string) {
    super(`malformed Docker stream: ${detail}`);
    this.name = 'StreamFramingError';
  }
}

/** Feeds chunks in, calls onFrame for every complete frame; keeps at most one partial frame. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  constructor(private readonly onFrame: (stream: FrameStream, payload: Buffer) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= HEADER_BYTES) {
      const type = this.pending[0] ?? -1;
      const stream = STREAM_NAMES[type];
      if (stream === undefined) throw new StreamFramingError(`unknown stream number ${type}`);
      const size = this.pending.readUInt32BE(4);
      if (size > MAX_FRAME_BYTES) throw new StreamFramingError(`frame of ${size} bytes`);
      if (this.pending.length < HEADER_BYTES + size) return;
      const payload = this.pending.subarray(HEADER_BYTES, HEADER_BYTES + size);
      this.pending = this.pending.subarray(HEADER_BYTES + size);
      if (size > 0) this.onFrame(stream, payload);
    }
  }

  /** Bytes of an incomplete frame left when the stream ended. */
  get leftoverBytes(): number {
    return this.pending.length;
  }
}

/** Frames in, stdout and stderr payloads out in arrival order (what `kubectl logs` shows). */
export class FrameMerger extends Transform {
  private readonly decoder = new FrameDecoder((stream, payload) => {
    if (stream !== 'stdin') this.push(payload);
  });

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.decoder.push(chunk);
      callback();
    } catch (error) {
      callback(error as Error);
    }
  }
}

/** Passes the first maxBytes bytes and then ends (kubectl logs --limit-bytes). */
export class ByteLimiter extends Transform {
  private left: number;

  constructor(maxBytes: number) {
    super();
    this.left = maxBytes;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.left <= 0) {
      callback();
      return;
    }
    const part = chunk.length > this.left ? chunk.subarray(0, this.left) : chunk;
    this.left -= part.length;
    this.push(part);
    if (this.left <= 0) this.push(null);
    callback();
  }
}

/** One frame as the daemon would send it (tests and fakes). */
export function encodeFrame(stream: FrameStream, payload: Buffer | string): Buffer {
  const body = Buffer.from(payload);
  const header = Buffer.alloc(HEADER_BYTES);
  header[0] = stream === 'stdin' ? 0 : stream === 'stdout' ? 1 : 2;
  header.writeUInt32BE(body.length, 4);
  return Buffer.concat([header, body]);
}
