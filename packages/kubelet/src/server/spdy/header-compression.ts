// SPDY/3 header compression: each direction of a connection is ONE zlib
// stream primed with the SPDY/3 dictionary, and every header block ends with
// a sync flush (00 00 FF FF) so the receiver can decode it without waiting for
// more. A fresh zlib stream per block, or a block without the flush, is what
// makes Go's framer (kubectl) fail with "compressed payload size was
// incorrect".
//
// Node's zlib has no synchronous API that keeps its state between calls, so
// both sides are asynchronous; calls are queued so that blocks go in and out
// strictly in order.
import zlib from 'node:zlib';
import { SPDY3_HEADER_DICTIONARY } from './dictionary';
import { decodeHeaderBlock, encodeHeaderBlock, SpdyProtocolError, type HeaderList } from './frames';

/** Largest uncompressed header block accepted: a peer cannot make us inflate more than this per block. */
export const MAX_HEADER_BLOCK_BYTES = 64 * 1024;

type ZlibStream = zlib.Deflate | zlib.Inflate;

/** Writes one chunk with a sync flush and collects what the stream produced for it. */
function flushThrough(stream: ZlibStream, input: Buffer, limitBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error);
    stream.once('error', onError);
    stream.write(input);
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      stream.off('error', onError);
      const chunks: Buffer[] = [];
      let total = 0;
      for (let chunk = stream.read() as Buffer | null; chunk !== null; chunk = stream.read() as Buffer | null) {
        chunks.push(chunk);
        total += chunk.length;
        if (total > limitBytes) {
          reject(new SpdyProtocolError(`a header block inflates to more than ${limitBytes} bytes`));
          return;
        }
      }
      resolve(Buffer.concat(chunks));
    });
  });
}

class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** Compresses the header blocks one side sends. */
export class HeaderCompressor {
  private readonly deflate = zlib.createDeflate({ dictionary: SPDY3_HEADER_DICTIONARY, level: zlib.constants.Z_DEFAULT_COMPRESSION });
  private readonly queue = new SerialQueue();

  compress(headers: HeaderList): Promise<Buffer> {
    const block = encodeHeaderBlock(headers);
    return this.queue.run(() => flushThrough(this.deflate, block, Number.MAX_SAFE_INTEGER));
  }

  close(): void {
    this.deflate.destroy();
  }
}

/** Decompresses the header blocks the other side sends. */
export class HeaderDecompressor {
  private readonly inflate = zlib.createInflate({ dictionary: SPDY3_HEADER_DICTIONARY });
  private readonly queue = new SerialQueue();
  private failed: Error | undefined;

  constructor(private readonly maxBlockBytes: number = MAX_HEADER_BLOCK_BYTES) {
    // Errors are reported through the pending call; a broken stream fails every later one.
    this.inflate.on('error', (error) => (this.failed ??= error));
  }

  decompress(compressed: Buffer): Promise<HeaderList> {
    return this.queue.run(async () => {
      if (this.failed) throw new SpdyProtocolError(`header decompression failed earlier: ${this.failed.message}`, { cause: this.failed });
      let block: Buffer;
      try {
        block = await flushThrough(this.inflate, compressed, this.maxBlockBytes);
      } catch (error) {
        if (error instanceof SpdyProtocolError) throw error;
        throw new SpdyProtocolError(`a header block cannot be decompressed: ${(error as Error).message}`, { cause: error });
      }
      return decodeHeaderBlock(block);
    });
  }

  close(): void {
    this.inflate.destroy();
  }
}
