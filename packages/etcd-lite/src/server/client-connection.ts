// How a client connection reaches the gRPC server. Node's HTTP/2 runs
// entirely in native code on a plain TCP socket, but only on a socket: the
// authority rewriting (authority-rewrite.ts) has to wrap it in a JavaScript
// stream, and then every byte read and written crosses into JavaScript and
// back, which costs a large share of a member's CPU under load. Only
// requests with a scheme in :authority need the wrapper, and a connection's
// first request tells (clients do not change their authority), so each
// connection is looked at until its first header block:
//
// - the client's bytes are held back, and the SETTINGS frame that opens
//   the server's side of HTTP/2 (which Go clients wait for before sending a
//   request) is sent from here: an empty one, leaving every setting at its
//   default until the real server's own SETTINGS follows;
// - PINGs are answered here (an idle client's keepalive must not fail);
// - once the first header block and the client's acknowledgement of that
//   SETTINGS frame are in, the acknowledgement is removed (the real server
//   never sent that SETTINGS, and nghttp2 treats an unexpected
//   acknowledgement as a connection error) and everything held is handed to
//   the server: put back on the socket itself when the authority is
//   well-formed, or through the rewriting wrapper otherwise.

import type * as net from 'node:net';
import type { Duplex } from 'node:stream';
import * as hpack from 'hpack.js';
import { fixAuthority, headersFramePayload, Http2FramingError, RewritingConnection } from './authority-rewrite';

const connectionPreface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const frameHeaderBytes = 9;
const frameTypeHeaders = 0x1;
const frameTypeSettings = 0x4;
const frameTypePing = 0x6;
const frameTypeContinuation = 0x9;
const flagAck = 0x1;
const flagEndHeaders = 0x4;
const pingPayloadBytes = 8;
/** An empty SETTINGS frame: the server connection preface with every setting at its default. */
const emptySettingsFrame = Buffer.from([0, 0, 0, frameTypeSettings, 0, 0, 0, 0, 0]);
/** Bounds what is held back before the hand-over (a first request's headers and a little data). */
const maxHeldBytes = 1024 * 1024;
/** A client that sent its first request but never acknowledges SETTINGS goes through the wrapper after this long. */
const settingsAckWaitMs = 2000;
/** SETTINGS_HEADER_TABLE_SIZE until changed; clients encode their first header block against it. */
const defaultHeaderTableBytes = 4096;

export interface ClientConnectionHandlers {
  /** Receives the connection for the gRPC server: the socket itself, or a rewriting wrapper around it. */
  inject: (connection: Duplex) => void;
  /** A client broke HTTP/2 framing; the connection is closed after this. */
  onError: (error: Error) => void;
}

/** A frame of the held bytes that the server must not see. */
interface HeldRange {
  start: number;
  end: number;
}

/** Looks at a new client connection until it can tell how to hand it to the gRPC server, then does. */
export function acceptClientConnection(socket: net.Socket, handlers: ClientConnectionHandlers): void {
  new ConnectionSniffer(socket, handlers).start();
}

class ConnectionSniffer {
  private held: Buffer = Buffer.alloc(0);
  /** Bytes of `held` already split into frames (the preface counts as one). */
  private parsedBytes = 0;
  private readonly dropped: HeldRange[] = [];
  private settingsAckSeen = false;
  private needsRewrite: boolean | undefined;
  private headerFragments: Buffer[] = [];
  private ackTimer: NodeJS.Timeout | undefined;
  private done = false;
  private readonly received = (chunk: Buffer): void => this.receive(chunk);
  // Destroyed without an error: with this listener gone, an 'error' event would go unhandled.
  private readonly failed = (): void => this.finish(() => this.socket.destroy());
  private readonly closed = (): void => this.finish(() => undefined);

  constructor(
    private readonly socket: net.Socket,
    private readonly handlers: ClientConnectionHandlers,
  ) {}

  start(): void {
    this.socket.setNoDelay(true);
    this.socket.on('data', this.received);
    this.socket.on('error', this.failed);
    this.socket.on('close', this.closed);
    this.socket.write(emptySettingsFrame);
  }

  private receive(chunk: Buffer): void {
    this.held = this.held.length === 0 ? chunk : Buffer.concat([this.held, chunk]);
    try {
      this.parse();
    } catch (error) {
      this.handlers.onError(error as Error);
      this.failed();
      return;
    }
    if (this.needsRewrite !== undefined && this.settingsAckSeen) {
      this.handOver();
    } else if (this.held.length > maxHeldBytes) {
      // A client that streams this much before its first request: let the wrapper deal with it.
      this.fallBack();
    } else if (this.needsRewrite !== undefined && this.ackTimer === undefined) {
      this.ackTimer = setTimeout(() => this.fallBack(), settingsAckWaitMs);
      this.ackTimer.unref();
    }
  }

  private parse(): void {
    const held = this.held;
    if (this.parsedBytes === 0) {
      if (held.length < connectionPreface.length) return;
      if (!held.subarray(0, connectionPreface.length).equals(connectionPreface)) throw new Http2FramingError('no connection preface');
      this.parsedBytes = connectionPreface.length;
    }
    while (held.length - this.parsedBytes >= frameHeaderBytes) {
      const start = this.parsedBytes;
      const length = held.readUIntBE(start, 3);
      const end = start + frameHeaderBytes + length;
      if (held.length < end) return;
      this.parsedBytes = end;
      const type = held[start + 3]!;
      const flags = held[start + 4]!;
      const payload = held.subarray(start + frameHeaderBytes, end);
      if (type === frameTypeSettings && (flags & flagAck) !== 0 && !this.settingsAckSeen) {
        this.settingsAckSeen = true;
        this.dropped.push({ start, end });
      } else if (type === frameTypePing && (flags & flagAck) === 0 && length === pingPayloadBytes) {
        const answer = Buffer.alloc(frameHeaderBytes + pingPayloadBytes);
        held.copy(answer, 0, start, end);
        answer[4] = flagAck;
        this.socket.write(answer);
        this.dropped.push({ start, end });
      } else if (this.needsRewrite === undefined && (type === frameTypeHeaders || type === frameTypeContinuation)) {
        this.headerFragments.push(type === frameTypeHeaders ? headersFramePayload(flags, payload).fragment : payload);
        if ((flags & flagEndHeaders) !== 0) this.decide();
      }
    }
  }

  /** Decodes the first header block: a scheme in :authority means the connection needs the rewriting wrapper. */
  private decide(): void {
    const decoder = hpack.decompressor.create({ table: { maxSize: 65536 } });
    decoder.updateTableSize(defaultHeaderTableBytes);
    decoder.write(Buffer.concat(this.headerFragments));
    decoder.execute();
    let needsRewrite = false;
    for (let header = decoder.read(); header !== null; header = decoder.read()) {
      if (header.name === ':authority' && fixAuthority(header.value) !== header.value) needsRewrite = true;
    }
    this.headerFragments = [];
    this.needsRewrite = needsRewrite;
  }

  /** The held bytes without the frames the server must not see. */
  private forwardedBytes(): Buffer {
    if (this.dropped.length === 0) return this.held;
    const parts: Buffer[] = [];
    let position = 0;
    for (const range of this.dropped) {
      parts.push(this.held.subarray(position, range.start));
      position = range.end;
    }
    parts.push(this.held.subarray(position));
    return Buffer.concat(parts);
  }

  private handOver(): void {
    const bytes = this.forwardedBytes();
    if (this.needsRewrite === true) {
      this.finish(() => this.handlers.inject(new RewritingConnection(this.socket, this.handlers.onError, { initialBytes: bytes })));
      return;
    }
    this.finish(() => {
      // Node's HTTP/2 reads what is buffered on the socket before its native reads take over.
      this.socket.pause();
      this.socket.unshift(bytes);
      this.handlers.inject(this.socket);
    });
  }

  /** Hands everything to the rewriting wrapper, which drops the acknowledgement should it still come. */
  private fallBack(): void {
    const bytes = this.forwardedBytes();
    const dropFirstSettingsAck = !this.settingsAckSeen;
    this.finish(() => this.handlers.inject(new RewritingConnection(this.socket, this.handlers.onError, { initialBytes: bytes, dropFirstSettingsAck })));
  }

  private finish(then: () => void): void {
    if (this.done) return;
    this.done = true;
    if (this.ackTimer !== undefined) clearTimeout(this.ackTimer);
    this.socket.off('data', this.received);
    this.socket.off('error', this.failed);
    this.socket.off('close', this.closed);
    this.held = Buffer.alloc(0);
    then();
  }
}
