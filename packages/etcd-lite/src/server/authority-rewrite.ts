// The client listener's front door. Go gRPC clients that dial a target like
// "passthrough:///http://127.0.0.1:2379" (etcdctl endpoint status does)
// send ":authority: http://127.0.0.1:2379". Go's HTTP/2 server accepts that;
// Node's (nghttp2) resets the stream as malformed, and Node offers no switch
// to relax the check. So client connections go through this layer, which
// forwards every byte to the gRPC server unchanged except request header
// blocks: those are decoded (HPACK), the scheme is stripped from
// :authority, and they are encoded again. Responses pass through untouched.
// A connection whose first request carries a well-formed :authority (every
// client but that one) is passed through byte for byte from then on; most
// never get here at all, see client-connection.ts.

import * as net from 'node:net';
import { Duplex } from 'node:stream';
import * as hpack from 'hpack.js';

const connectionPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const frameHeaderBytes = 9;
const frameTypeHeaders = 0x1;
const frameTypeSettings = 0x4;
const frameTypeContinuation = 0x9;
const flagEndStream = 0x1;
/** On SETTINGS and PING frames. */
const flagAck = 0x1;
const flagEndHeaders = 0x4;
const flagPadded = 0x8;
const flagPriority = 0x20;
/** Every HTTP/2 peer accepts frames this large (SETTINGS_MAX_FRAME_SIZE may only raise it). */
const maxFramePayloadBytes = 16384;
/** SETTINGS_HEADER_TABLE_SIZE until changed; grpc-js servers keep the default, so clients encode against it. */
const defaultHeaderTableBytes = 4096;
/** Largest header block accepted from a client (Node's own default limit is 64 KiB of headers). */
const maxHeaderBlockBytes = 256 * 1024;

/** A client broke HTTP/2 framing; its connection is closed. */
export class Http2FramingError extends Error {
  constructor(reason: string) {
    super(`malformed HTTP/2 from client: ${reason}`);
    this.name = 'Http2FramingError';
  }
}

/** Strips "http://" or "https://" from an :authority value; anything else is returned unchanged. */
export function fixAuthority(value: string): string {
  const match = /^[a-z][a-z0-9+.-]*:\/\/([^/]*)\/?$/i.exec(value);
  return match?.[1] ?? value;
}

/** The header block fragment (padding removed) and priority bytes of a HEADERS frame's payload. */
export function headersFramePayload(flags: number, payload: Buffer): { fragment: Buffer; priority: Buffer | undefined } {
  let start = 0;
  let end = payload.length;
  if (flags & flagPadded) {
    const padding = payload[0] ?? 0;
    start = 1;
    end -= padding;
  }
  let priority: Buffer | undefined;
  if (flags & flagPriority) {
    priority = payload.subarray(start, start + 5);
    start += 5;
  }
  if (end < start) throw new Http2FramingError('HEADERS padding exceeds the frame');
  return { fragment: payload.subarray(start, end), priority };
}

export interface RequestHeaderRewriterOptions {
  /**
   * Drop the first SETTINGS acknowledgement the client sends: it answers a
   * SETTINGS frame client-connection.ts sent before handing the connection
   * over, which the HTTP/2 server behind never sent and would reject.
   */
  dropFirstSettingsAck?: boolean;
}

/**
 * The client-to-server half of one connection: push() takes bytes as they
 * arrive and returns what to forward.
 */
export class RequestHeaderRewriter {
  private buffered: Buffer = Buffer.alloc(0);
  private prefaceSeen = false;
  private readonly decoder = hpack.decompressor.create({ table: { maxSize: 65536 } });
  /** Decided by the first request: forward everything as it is, or rewrite every header block. */
  private mode: 'undecided' | 'passthrough' | 'rewrite' = 'undecided';
  /** The HEADERS frame being continued: its stream, flags and priority bytes, the fragments so far and the frames as received. */
  private open:
    | { streamId: number; flags: number; priority: Buffer | undefined; fragments: Buffer[]; sizeBytes: number; frames: Buffer[] }
    | undefined;

  private settingsAckToDrop: boolean;

  /** True once the connection needs no rewriting: push() then returns its input unchanged. */
  get passingThrough(): boolean {
    return this.mode === 'passthrough' && !this.settingsAckToDrop;
  }

  constructor(options: RequestHeaderRewriterOptions = {}) {
    this.decoder.updateTableSize(defaultHeaderTableBytes);
    this.settingsAckToDrop = options.dropFirstSettingsAck === true;
  }

  push(chunk: Buffer): Buffer[] {
    if (this.passingThrough) return [chunk];
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    if (!this.prefaceSeen) {
      if (this.buffered.length < connectionPreface.length) return out;
      if (!this.buffered.subarray(0, connectionPreface.length).equals(connectionPreface)) throw new Http2FramingError('no connection preface');
      out.push(this.buffered.subarray(0, connectionPreface.length));
      this.buffered = this.buffered.subarray(connectionPreface.length);
      this.prefaceSeen = true;
    }
    let offset = 0;
    while (this.buffered.length - offset >= frameHeaderBytes) {
      const length = this.buffered.readUIntBE(offset, 3);
      const end = offset + frameHeaderBytes + length;
      if (this.buffered.length < end) break;
      const type = this.buffered[offset + 3]!;
      if (type === frameTypeHeaders || type === frameTypeContinuation) {
        const flags = this.buffered[offset + 4]!;
        const streamId = this.buffered.readUInt32BE(offset + 5) & 0x7fffffff;
        this.headerFrame(type, flags, streamId, this.buffered.subarray(offset, end), out);
        if (this.passingThrough) {
          out.push(this.buffered.subarray(end));
          this.buffered = Buffer.alloc(0);
          return out;
        }
      } else {
        if (this.open !== undefined) throw new Http2FramingError(`frame type ${type} inside a header block`);
        const isSettingsAck = type === frameTypeSettings && (this.buffered[offset + 4]! & flagAck) !== 0;
        if (isSettingsAck && this.settingsAckToDrop) this.settingsAckToDrop = false;
        else out.push(this.buffered.subarray(offset, end));
      }
      offset = end;
    }
    this.buffered = offset === this.buffered.length ? Buffer.alloc(0) : Buffer.from(this.buffered.subarray(offset));
    return out;
  }

  private headerFrame(type: number, flags: number, streamId: number, frame: Buffer, out: Buffer[]): void {
    const payload = frame.subarray(frameHeaderBytes);
    if (type === frameTypeHeaders) {
      if (this.open !== undefined) throw new Http2FramingError('HEADERS inside a header block');
      const { fragment, priority } = headersFramePayload(flags, payload);
      this.open = { streamId, flags, priority, fragments: [], sizeBytes: 0, frames: [] };
      this.addFragment(fragment, frame);
    } else {
      if (this.open === undefined || this.open.streamId !== streamId) throw new Http2FramingError('CONTINUATION without HEADERS');
      this.addFragment(payload, frame);
    }
    if (flags & flagEndHeaders) this.finishBlock(out);
  }

  private addFragment(fragment: Buffer, frame: Buffer): void {
    const open = this.open!;
    open.fragments.push(fragment);
    open.frames.push(frame);
    open.sizeBytes += fragment.length;
    if (open.sizeBytes > maxHeaderBlockBytes) throw new Http2FramingError(`header block over ${maxHeaderBlockBytes} bytes`);
  }

  private finishBlock(out: Buffer[]): void {
    const open = this.open!;
    this.open = undefined;
    this.decoder.write(Buffer.concat(open.fragments));
    this.decoder.execute();
    const headers: hpack.HpackHeader[] = [];
    let authorityFixed = false;
    for (let header = this.decoder.read(); header !== null; header = this.decoder.read()) {
      if (header.name === ':authority') {
        const fixed = fixAuthority(header.value);
        authorityFixed ||= fixed !== header.value;
        headers.push({ name: header.name, value: fixed });
      } else {
        headers.push(header);
      }
    }
    if (this.mode === 'undecided') this.mode = authorityFixed ? 'rewrite' : 'passthrough';
    if (this.mode === 'passthrough') {
      for (const frame of open.frames) out.push(frame);
      return;
    }
    const block = encodeHeaderBlock(headers);
    const priority = open.priority ?? Buffer.alloc(0);
    const firstRoom = maxFramePayloadBytes - priority.length;
    let offset = 0;
    let first = true;
    do {
      const room = first ? firstRoom : maxFramePayloadBytes;
      const fragment = block.subarray(offset, offset + room);
      offset += fragment.length;
      const last = offset >= block.length;
      const type = first ? frameTypeHeaders : frameTypeContinuation;
      let flags = last ? flagEndHeaders : 0;
      if (first) flags |= (open.flags & flagEndStream) | (open.priority ? flagPriority : 0);
      const payload = first ? Buffer.concat([priority, fragment]) : fragment;
      const header = Buffer.alloc(frameHeaderBytes);
      header.writeUIntBE(payload.length, 0, 3);
      header[3] = type;
      header[4] = flags;
      header.writeUInt32BE(open.streamId, 5);
      out.push(header, payload);
      first = false;
    } while (offset < block.length);
  }
}

/**
 * An HPACK header block that needs no state on either side: every field a
 * literal without indexing (never-indexed ones keep that flag), no Huffman
 * coding. Larger than what clients send, but only loopback carries it.
 */
export function encodeHeaderBlock(headers: readonly hpack.HpackHeader[]): Buffer {
  const parts: Buffer[] = [];
  for (const header of headers) {
    parts.push(Buffer.from([header.neverIndex === true ? 0x10 : 0x00]));
    for (const text of [header.name, header.value]) {
      const bytes = Buffer.from(text, 'latin1');
      parts.push(encodePrefixedInteger(bytes.length, 7, 0x00), bytes);
    }
  }
  return Buffer.concat(parts);
}

/** RFC 7541 section 5.1: an integer in an N-bit prefix, continued in 7-bit groups. */
function encodePrefixedInteger(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const prefixMax = (1 << prefixBits) - 1;
  if (value < prefixMax) return Buffer.from([firstByteFlags | value]);
  const bytes = [firstByteFlags | prefixMax];
  let rest = value - prefixMax;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

/**
 * A client connection as the gRPC server sees it: what the client sends,
 * header blocks rewritten, on the readable side; what the server writes
 * goes straight to the socket. Handed to the gRPC server with a connection
 * injector, so no second socket is involved.
 */
export class RewritingConnection extends Duplex {
  private readonly rewriter: RequestHeaderRewriter;

  /**
   * `initialBytes` were read from the socket before (from the connection's
   * start); they go through the rewriter ahead of what the socket reads next.
   */
  constructor(
    private readonly socket: net.Socket,
    onError: (error: Error) => void,
    options: RequestHeaderRewriterOptions & { initialBytes?: Buffer } = {},
  ) {
    super();
    this.rewriter = new RequestHeaderRewriter(options);
    socket.setNoDelay(true);
    const received = (chunk: Buffer): void => {
      let out: Buffer[];
      try {
        out = this.rewriter.push(chunk);
      } catch (error) {
        onError(error as Error);
        this.destroy(error as Error);
        return;
      }
      let more = true;
      for (const buffer of out) more = this.push(buffer);
      if (!more) socket.pause();
    };
    if (options.initialBytes !== undefined && options.initialBytes.length > 0) received(options.initialBytes);
    socket.on('data', received);
    socket.on('end', () => this.push(null));
    socket.on('error', (error) => this.destroy(error));
    socket.on('close', () => this.destroy());
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, callback: (error?: Error | null) => void): void {
    this.socket.cork();
    for (let index = 0; index < chunks.length - 1; index++) this.socket.write(chunks[index]!.chunk);
    this.socket.write(chunks[chunks.length - 1]!.chunk, callback);
    this.socket.uncork();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }
}
