// A scripted SPDY/3.1 client for tests: opens streams the way kubectl does,
// records every frame the server sends (header blocks decoded) and answers
// nothing by itself, so a test sees exactly what the server did.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { encodeFrame, FLAG_FIN, FrameParser, type HeaderList, type WireFrame } from './frames';
import { HeaderCompressor, HeaderDecompressor } from './header-compression';

export type ReceivedFrame = WireFrame | { type: 'synReplyHeaders'; streamId: number; flags: number; headers: HeaderList };

export class SpdyTestClient {
  readonly frames: ReceivedFrame[] = [];
  private readonly parser = new FrameParser();
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private nextStreamId = 1;
  private input: Promise<void> = Promise.resolve();
  private output: Promise<void> = Promise.resolve();
  private readonly listeners = new Set<() => void>();

  constructor(private readonly send: (bytes: Buffer) => void) {}

  /** Feeds bytes from the server. */
  receive(bytes: Buffer): void {
    for (const frame of this.parser.push(bytes)) {
      this.input = this.input.then(async () => {
        if (frame.type === 'synReply') this.frames.push({ type: 'synReplyHeaders', streamId: frame.streamId, flags: frame.flags, headers: await this.decompressor.decompress(frame.headerBlock) });
        else this.frames.push(frame);
        for (const listener of [...this.listeners]) listener();
      });
    }
  }

  /** Opens a stream (SYN_STREAM) and returns its id (the next odd one unless given); frames are sent in call order. */
  openStream(headers: HeaderList, flags = 0, streamId = this.nextStreamId): number {
    this.nextStreamId = Math.max(this.nextStreamId, streamId + 2);
    this.queue(async () => encodeFrame({ type: 'synStream', streamId, associatedStreamId: 0, priority: 0, slot: 0, flags, headerBlock: await this.compressor.compress(headers) }));
    return streamId;
  }

  /** Opens kubectl's pair of streams for one local connection: error first, then data. */
  openPortForward(port: number | string, requestId: number): { errorStream: number; dataStream: number } {
    const errorStream = this.openStream([['streamtype', 'error'], ['port', String(port)], ['requestid', String(requestId)]]);
    // kubectl closes its side of the error stream at once: it only reads it.
    this.sendData(errorStream, Buffer.alloc(0), true);
    const dataStream = this.openStream([['streamtype', 'data'], ['port', String(port)], ['requestid', String(requestId)]]);
    return { errorStream, dataStream };
  }

  sendData(streamId: number, data: Buffer, fin = false): void {
    this.queue(async () => encodeFrame({ type: 'data', streamId, flags: fin ? FLAG_FIN : 0, data }));
  }

  sendFrame(frame: WireFrame): void {
    this.queue(async () => encodeFrame(frame));
  }

  /** Everything received on a stream so far. */
  data(streamId: number): Buffer {
    return Buffer.concat(this.frames.flatMap((frame) => (frame.type === 'data' && frame.streamId === streamId ? [frame.data] : [])));
  }

  /** The server finished its side of the stream (DATA with FIN). */
  finished(streamId: number): boolean {
    return this.frames.some((frame) => frame.type === 'data' && frame.streamId === streamId && (frame.flags & FLAG_FIN) !== 0);
  }

  replied(streamId: number): boolean {
    return this.frames.some((frame) => frame.type === 'synReplyHeaders' && frame.streamId === streamId);
  }

  /** Resolves once the condition holds (checked after every frame). */
  waitFor(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const listener = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.listeners.delete(listener);
        resolve();
      };
      const timer = setTimeout(() => {
        this.listeners.delete(listener);
        reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.map((frame) => ({ ...frame, data: 'data' in frame ? frame.data.length : undefined })))}`));
      }, timeoutMs);
      this.listeners.add(listener);
    });
  }

  close(): void {
    this.compressor.close();
    this.decompressor.close();
  }

  private queue(encode: () => Promise<Buffer>): void {
    this.output = this.output.then(async () => this.send(await encode()));
  }
}

/** The client end of a WebSocket tunnel, as kubectl opens it. */
export interface WebSocketTunnel {
  /** The sub-protocol the server chose. */
  protocol: string;
  /** Sends one binary message. */
  send(bytes: Buffer): void;
  onMessage(listener: (bytes: Buffer) => void): void;
  /** Sends a close frame and ends the connection. */
  close(): void;
  socket: net.Socket;
}

/**
 * Opens a WebSocket with a sub-protocol the ws client refuses to send
 * ("SPDY/3.1+portforward.k8s.io" has a "/", which RFC 6455 tokens exclude,
 * yet kubectl sends it): a minimal client framing of binary messages.
 */
export function openWebSocketTunnel(port: number, path: string, protocol: string, host = '127.0.0.1'): Promise<WebSocketTunnel> {
  return new Promise((resolve, reject) => {
    const request = http.request({
      host,
      port,
      path,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), 'sec-websocket-protocol': protocol },
    });
    request.on('response', (response) => reject(new Error(`the server answered ${response.statusCode} instead of switching protocols`)));
    request.on('error', reject);
    request.on('upgrade', (response, socket: net.Socket, head: Buffer) => {
      const listeners: Array<(bytes: Buffer) => void> = [];
      let pending = head;
      let fragments: Buffer[] = [];
      const parse = (): void => {
        for (;;) {
          if (pending.length < 2) return;
          const opcode = pending[0]! & 0x0f;
          const final = (pending[0]! & 0x80) !== 0;
          let length = pending[1]! & 0x7f;
          let offset = 2;
          if (length === 126) {
            if (pending.length < 4) return;
            length = pending.readUInt16BE(2);
            offset = 4;
          } else if (length === 127) {
            if (pending.length < 10) return;
            length = Number(pending.readBigUInt64BE(2));
            offset = 10;
          }
          if (pending.length < offset + length) return;
          const payload = pending.subarray(offset, offset + length);
          pending = pending.subarray(offset + length);
          if (opcode === 0x8) {
            socket.end();
            return;
          }
          if (opcode === 0x2 || opcode === 0x0) {
            fragments.push(payload);
            if (final) {
              const message = Buffer.concat(fragments);
              fragments = [];
              for (const listener of listeners) listener(message);
            }
          }
        }
      };
      socket.on('data', (bytes: Buffer) => {
        pending = Buffer.concat([pending, bytes]);
        parse();
      });
      const frame = (opcode: number, payload: Buffer): Buffer => {
        const mask = randomBytes(4);
        const lengthBytes = payload.length < 126 ? Buffer.from([0x80 | payload.length]) : payload.length < 65536 ? Buffer.from([0x80 | 126, payload.length >> 8, payload.length & 0xff]) : Buffer.concat([Buffer.from([0x80 | 127]), (() => { const size = Buffer.alloc(8); size.writeBigUInt64BE(BigInt(payload.length)); return size; })()]);
        const masked = Buffer.from(payload);
        for (let index = 0; index < masked.length; index++) masked[index]! ^= mask[index % 4]!;
        return Buffer.concat([Buffer.from([0x80 | opcode]), lengthBytes, mask, masked]);
      };
      resolve({
        protocol: String(response.headers['sec-websocket-protocol'] ?? ''),
        send: (bytes) => {
          if (!socket.destroyed) socket.write(frame(0x2, bytes));
        },
        onMessage: (listener) => {
          listeners.push(listener);
          parse();
        },
        close: () => {
          if (!socket.destroyed) socket.end(frame(0x8, Buffer.from([0x03, 0xe8])));
        },
        socket,
      });
    });
    request.end();
  });
}
