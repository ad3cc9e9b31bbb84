// The server side of one SPDY/3.1 connection over any byte transport (a
// WebSocket carrying raw frames, for kubectl's port-forward tunnel). The peer
// opens streams (odd ids); each is a Duplex the caller reads and writes.
//
// Flow control (SPDY/3.1 section 2.6.8): every stream and the connection
// start with a 64 KiB window each way. What we receive is acknowledged with
// WINDOW_UPDATE once the reader took it, so a peer that honours windows can
// never make us buffer more than a window per stream. Peers built on Go's
// spdystream (kubectl, and the upstream kubelet itself) neither send
// WINDOW_UPDATE nor respect ours, so two more bounds hold regardless: the
// transport is paused while any stream's buffer is full or too many parsed
// frames wait, and honouring the peer's windows when sending is an option
// (off for such peers: they would never reopen a closed window).
import { Duplex } from 'node:stream';
import {
  DEFAULT_INITIAL_WINDOW_BYTES,
  encodeFrame,
  FLAG_FIN,
  FLAG_UNIDIRECTIONAL,
  FrameParser,
  GoAwayStatus,
  MAX_WINDOW_BYTES,
  SettingId,
  SpdyFrameTooLargeError,
  SpdyProtocolError,
  StreamStatus,
  type HeaderList,
  type WireFrame,
} from './frames';
import { HeaderCompressor, HeaderDecompressor } from './header-compression';

/** Where the connection's bytes go and come from. */
export interface SpdyTransport {
  /** Sends bytes; done runs once they were handed to the network (or failed). */
  write(bytes: Buffer, done: (error?: Error) => void): void;
  /** Stops delivering received bytes until resume (backpressure). */
  pause(): void;
  resume(): void;
  /** Closes the transport after what was written. */
  close(): void;
}

export interface SpdyConnectionOptions {
  /** Streams the peer may have open at once; SYN_STREAMs beyond are refused (REFUSED_STREAM). */
  maxConcurrentStreams: number;
  /** Our receive window per stream and for the connection, and each stream's read buffer. */
  initialWindowBytes: number;
  /** Wait for the peer's WINDOW_UPDATEs before sending beyond its window. Off for peers that never send them (kubectl). */
  honorPeerWindows: boolean;
  /** Largest DATA frame we send; larger writes are split. */
  maxDataFrameBytes: number;
  /** Largest frame we accept; a larger one ends the connection (GOAWAY PROTOCOL_ERROR). */
  maxFrameBytes: number;
  /** Received bytes parsed but not yet handled above which the transport is paused. */
  maxQueuedInputBytes: number;
}

export const DEFAULT_SPDY_CONNECTION_OPTIONS: SpdyConnectionOptions = {
  maxConcurrentStreams: 1000,
  initialWindowBytes: DEFAULT_INITIAL_WINDOW_BYTES,
  honorPeerWindows: false,
  maxDataFrameBytes: 32 * 1024,
  maxFrameBytes: 1024 * 1024,
  maxQueuedInputBytes: 1024 * 1024,
};

/** The stream was reset (by the peer, or because the connection ended). */
export class SpdyStreamResetError extends Error {
  override readonly name = 'SpdyStreamResetError';
  constructor(readonly streamId: number, readonly status: number, message: string) {
    super(message);
  }
}

/** One stream the peer opened: read what it sends, write what goes back. */
export class SpdyStream extends Duplex {
  /** Flow-control bookkeeping, owned by the connection. */
  sendWindowBytes: number;
  unacknowledgedBytes = 0;
  bufferFull = false;
  remoteFinished = false;
  localFinished = false;
  reset = false;
  replied = false;

  constructor(
    readonly id: number,
    readonly headers: HeaderList,
    /** The peer will send nothing (FIN on SYN_STREAM). */
    remoteFinished: boolean,
    /** We may send nothing (UNIDIRECTIONAL). */
    readonly unidirectional: boolean,
    private readonly connection: SpdyConnection,
    sendWindowBytes: number,
    highWaterMarkBytes: number,
  ) {
    super({ readableHighWaterMark: highWaterMarkBytes, writableHighWaterMark: 16 * 1024, allowHalfOpen: true });
    this.sendWindowBytes = sendWindowBytes;
    if (remoteFinished) {
      this.remoteFinished = true;
      this.push(null);
    }
    if (unidirectional) this.localFinished = true;
  }

  /** The first value of a request header. */
  header(name: string): string | undefined {
    const entry = this.headers.find(([candidate]) => candidate === name);
    return entry?.[1].split('\0')[0];
  }

  /** Accepts the stream (SYN_REPLY), as the peer waits for before it counts the stream open. */
  reply(headers: HeaderList = []): Promise<void> {
    return this.connection.reply(this, headers);
  }

  /** Abandons the stream (RST_STREAM) and destroys it locally. */
  resetStream(status: number = StreamStatus.cancel): void {
    this.connection.resetStream(this, status);
  }

  override _read(): void {
    this.connection.streamRead(this);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.connection.sendData(this, chunk, false).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.connection.sendData(this, Buffer.alloc(0), true).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.connection.streamDestroyed(this);
    callback(error);
  }
}

interface WindowWaiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

export class SpdyConnection {
  private readonly options: SpdyConnectionOptions;
  private readonly parser: FrameParser;
  private readonly compressor = new HeaderCompressor();
  private readonly decompressor = new HeaderDecompressor();
  private readonly streams = new Map<number, SpdyStream>();
  private lastPeerStreamId = 0;
  private peerInitialWindowBytes = DEFAULT_INITIAL_WINDOW_BYTES;
  private sessionSendWindowBytes = DEFAULT_INITIAL_WINDOW_BYTES;
  private sessionUnacknowledgedBytes = 0;
  private readonly windowWaiters = new Set<WindowWaiter>();
  private input: Promise<void> = Promise.resolve();
  private output: Promise<void> = Promise.resolve();
  private queuedInputBytes = 0;
  private transportPaused = false;
  private goingAway = false;
  private closed = false;

  constructor(
    private readonly transport: SpdyTransport,
    /** Called for every stream the peer opens; the callee must reply() or reset it. */
    private readonly onStream: (stream: SpdyStream) => void,
    options: Partial<SpdyConnectionOptions> = {},
    /** Called once when the connection ended, with the protocol error that ended it if any. */
    private readonly onClose: (error?: Error) => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_SPDY_CONNECTION_OPTIONS, ...options };
    this.parser = new FrameParser(this.options.maxFrameBytes);
  }

  /** Streams currently open. */
  get openStreams(): number {
    return this.streams.size;
  }

  /** Feeds bytes received from the transport. */
  receive(bytes: Buffer): void {
    if (this.closed) return;
    let frames: WireFrame[];
    try {
      frames = this.parser.push(bytes);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    for (const frame of frames) {
      const size = frame.type === 'data' ? frame.data.length : 0;
      this.queuedInputBytes += size;
      // Header blocks decode asynchronously: frames are handled strictly one after another.
      this.input = this.input.then(async () => {
        this.queuedInputBytes -= size;
        if (this.closed) return;
        try {
          await this.handle(frame);
        } catch (error) {
          this.fail(error as Error);
        }
        this.updateInputFlow();
      });
    }
    this.updateInputFlow();
  }

  /** The transport went away: every stream ends. */
  transportClosed(): void {
    this.shutDown(undefined);
  }

  /** Ends the connection: GOAWAY, then the transport closes once written. */
  close(): void {
    if (this.closed) return;
    void this.enqueue(async () => encodeFrame({ type: 'goAway', lastGoodStreamId: this.lastPeerStreamId, status: GoAwayStatus.ok })).finally(() => this.transport.close());
    this.shutDown(undefined);
  }

  reply(stream: SpdyStream, headers: HeaderList): Promise<void> {
    if (stream.replied) return Promise.resolve();
    stream.replied = true;
    return this.enqueue(async () => encodeFrame({ type: 'synReply', streamId: stream.id, flags: 0, headerBlock: await this.compressor.compress(headers) }));
  }

  resetStream(stream: SpdyStream, status: number): void {
    if (!stream.reset && !(stream.localFinished && stream.remoteFinished) && !this.closed) {
      stream.reset = true;
      void this.enqueue(async () => encodeFrame({ type: 'rstStream', streamId: stream.id, status })).catch(() => undefined);
    }
    stream.reset = true;
    stream.destroy();
  }

  /** Sends data (split into frames, within the peer's windows when honoured); fin ends our side. */
  async sendData(stream: SpdyStream, data: Buffer, fin: boolean): Promise<void> {
    if (stream.reset || this.closed) throw new SpdyStreamResetError(stream.id, StreamStatus.cancel, `stream ${stream.id} was reset`);
    if (stream.unidirectional) throw new SpdyProtocolError(`stream ${stream.id} is unidirectional: nothing may be sent on it`);
    let offset = 0;
    const writes: Promise<void>[] = [];
    do {
      let allowed = Math.min(data.length - offset, this.options.maxDataFrameBytes);
      if (this.options.honorPeerWindows && allowed > 0) {
        await this.waitForWindow(stream);
        allowed = Math.min(allowed, stream.sendWindowBytes, this.sessionSendWindowBytes);
      }
      const chunk = data.subarray(offset, offset + allowed);
      offset += allowed;
      stream.sendWindowBytes -= chunk.length;
      this.sessionSendWindowBytes -= chunk.length;
      const last = offset >= data.length;
      if (last && fin) stream.localFinished = true;
      writes.push(this.enqueue(async () => encodeFrame({ type: 'data', streamId: stream.id, flags: last && fin ? FLAG_FIN : 0, data: chunk })));
    } while (offset < data.length);
    await Promise.all(writes);
    this.forgetIfFinished(stream);
  }

  /** The reader wants more: what it took is acknowledged, and a full buffer no longer holds the transport. */
  streamRead(stream: SpdyStream): void {
    if (!stream.bufferFull) return;
    stream.bufferFull = false;
    this.acknowledge(stream, 0);
    this.updateInputFlow();
  }

  streamDestroyed(stream: SpdyStream): void {
    if (this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
    if (!stream.reset && !(stream.localFinished && stream.remoteFinished) && !this.closed) {
      // Destroyed before both sides finished (an error, or the caller gave up): tell the peer.
      stream.reset = true;
      void this.enqueue(async () => encodeFrame({ type: 'rstStream', streamId: stream.id, status: StreamStatus.cancel })).catch(() => undefined);
    }
    if (stream.bufferFull) {
      stream.bufferFull = false;
      this.updateInputFlow();
    }
  }

  private async handle(frame: WireFrame): Promise<void> {
    switch (frame.type) {
      case 'synStream':
        return this.handleSynStream(frame);
      case 'data':
        return this.handleData(frame);
      case 'rstStream': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return;
        stream.reset = true;
        this.streams.delete(stream.id);
        stream.destroy(new SpdyStreamResetError(stream.id, frame.status, `the peer reset stream ${stream.id} (status ${frame.status})`));
        return;
      }
      case 'settings':
        for (const setting of frame.settings) {
          if (setting.id !== SettingId.initialWindowSize) continue;
          // A new initial window shifts every open stream's window by the difference.
          const delta = setting.value - this.peerInitialWindowBytes;
          this.peerInitialWindowBytes = setting.value;
          for (const stream of this.streams.values()) stream.sendWindowBytes += delta;
          this.wakeWindowWaiters();
        }
        return;
      case 'ping':
        // Peer pings have odd ids (it is the client); ours would be even and we send none.
        if (frame.id % 2 === 1) await this.enqueue(async () => encodeFrame(frame));
        return;
      case 'goAway':
        this.goingAway = true;
        return;
      case 'headers': {
        // Decompressed even when unused: the zlib context must see every block.
        await this.decompressor.decompress(frame.headerBlock);
        const stream = this.streams.get(frame.streamId);
        if (stream && (frame.flags & FLAG_FIN) !== 0) this.remoteFinish(stream);
        return;
      }
      case 'windowUpdate':
        if (frame.streamId === 0) this.sessionSendWindowBytes = Math.min(MAX_WINDOW_BYTES, this.sessionSendWindowBytes + frame.deltaWindowBytes);
        else {
          const stream = this.streams.get(frame.streamId);
          if (stream) stream.sendWindowBytes = Math.min(MAX_WINDOW_BYTES, stream.sendWindowBytes + frame.deltaWindowBytes);
        }
        this.wakeWindowWaiters();
        return;
      case 'synReply':
        // We open no streams, so nothing can be replied to; keep the zlib context in step anyway.
        await this.decompressor.decompress(frame.headerBlock);
        return;
    }
  }

  private async handleSynStream(frame: Extract<WireFrame, { type: 'synStream' }>): Promise<void> {
    const headers = await this.decompressor.decompress(frame.headerBlock);
    const refuse = (status: number): Promise<void> => this.enqueue(async () => encodeFrame({ type: 'rstStream', streamId: frame.streamId, status }));
    if (frame.streamId % 2 === 0 || frame.streamId <= this.lastPeerStreamId) return refuse(StreamStatus.protocolError);
    this.lastPeerStreamId = frame.streamId;
    if (this.goingAway) return refuse(StreamStatus.refusedStream);
    if (this.streams.size >= this.options.maxConcurrentStreams) return refuse(StreamStatus.refusedStream);
    const stream = new SpdyStream(
      frame.streamId,
      headers,
      (frame.flags & FLAG_FIN) !== 0,
      (frame.flags & FLAG_UNIDIRECTIONAL) !== 0,
      this,
      this.peerInitialWindowBytes,
      this.options.initialWindowBytes,
    );
    this.streams.set(stream.id, stream);
    this.onStream(stream);
  }

  private handleData(frame: Extract<WireFrame, { type: 'data' }>): void {
    const stream = this.streams.get(frame.streamId);
    if (!stream) {
      // Data for a stream we finished or never had: tell the peer, as the spec asks (not for our own resets).
      void this.enqueue(async () => encodeFrame({ type: 'rstStream', streamId: frame.streamId, status: StreamStatus.invalidStream })).catch(() => undefined);
      return;
    }
    if (stream.remoteFinished) {
      this.resetStream(stream, StreamStatus.streamAlreadyClosed);
      return;
    }
    if (frame.data.length > 0) {
      const accepted = stream.push(frame.data);
      if (accepted) this.acknowledge(stream, frame.data.length);
      else {
        stream.unacknowledgedBytes += frame.data.length;
        this.sessionUnacknowledgedBytes += frame.data.length;
        stream.bufferFull = true;
      }
    }
    if ((frame.flags & FLAG_FIN) !== 0) this.remoteFinish(stream);
  }

  private remoteFinish(stream: SpdyStream): void {
    if (stream.remoteFinished) return;
    stream.remoteFinished = true;
    stream.push(null);
    this.forgetIfFinished(stream);
  }

  private forgetIfFinished(stream: SpdyStream): void {
    if (stream.localFinished && stream.remoteFinished && this.streams.get(stream.id) === stream) this.streams.delete(stream.id);
  }

  /** Counts bytes the reader took; sends WINDOW_UPDATEs once half a window is owed. */
  private acknowledge(stream: SpdyStream, newBytes: number): void {
    stream.unacknowledgedBytes += newBytes;
    this.sessionUnacknowledgedBytes += newBytes;
    const threshold = this.options.initialWindowBytes / 2;
    const updates: WireFrame[] = [];
    if (stream.unacknowledgedBytes >= threshold && !stream.remoteFinished) {
      updates.push({ type: 'windowUpdate', streamId: stream.id, deltaWindowBytes: stream.unacknowledgedBytes });
      stream.unacknowledgedBytes = 0;
    }
    if (this.sessionUnacknowledgedBytes >= threshold) {
      updates.push({ type: 'windowUpdate', streamId: 0, deltaWindowBytes: this.sessionUnacknowledgedBytes });
      this.sessionUnacknowledgedBytes = 0;
    }
    for (const update of updates) void this.enqueue(async () => encodeFrame(update)).catch(() => undefined);
  }

  private waitForWindow(stream: SpdyStream): Promise<void> {
    if (stream.sendWindowBytes > 0 && this.sessionSendWindowBytes > 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: WindowWaiter = {
        resolve: () => {
          if (stream.reset || this.closed) return waiter.reject(new SpdyStreamResetError(stream.id, StreamStatus.cancel, `stream ${stream.id} ended while waiting for the peer's window`));
          if (stream.sendWindowBytes <= 0 || this.sessionSendWindowBytes <= 0) return;
          this.windowWaiters.delete(waiter);
          resolve();
        },
        reject: (error) => {
          this.windowWaiters.delete(waiter);
          reject(error);
        },
      };
      this.windowWaiters.add(waiter);
    });
  }

  private wakeWindowWaiters(): void {
    for (const waiter of [...this.windowWaiters]) waiter.resolve();
  }

  /** Pauses the transport while a stream buffer is full or parsed input piles up; resumes when neither holds. */
  private updateInputFlow(): void {
    if (this.closed) return;
    const full = [...this.streams.values()].some((stream) => stream.bufferFull) || this.queuedInputBytes > this.options.maxQueuedInputBytes;
    if (full && !this.transportPaused) {
      this.transportPaused = true;
      this.transport.pause();
    } else if (!full && this.transportPaused) {
      this.transportPaused = false;
      this.transport.resume();
    }
  }

  /** Queues a frame: encoding (compression) and writing keep the order of the calls. Resolves once written. */
  private enqueue(encode: () => Promise<Buffer>): Promise<void> {
    let written: Promise<void> = Promise.resolve();
    // The next frame is encoded once this one was handed to the transport, not once it was sent.
    const handedOver = this.output.then(encode).then((bytes) => {
      written = new Promise<void>((resolve, reject) => this.transport.write(bytes, (error) => (error ? reject(error) : resolve())));
    });
    this.output = handedOver.catch(() => undefined);
    return handedOver.then(() => written);
  }

  private fail(error: Error): void {
    if (this.closed) return;
    const status = error instanceof SpdyProtocolError || error instanceof SpdyFrameTooLargeError ? GoAwayStatus.protocolError : GoAwayStatus.internalError;
    void this.enqueue(async () => encodeFrame({ type: 'goAway', lastGoodStreamId: this.lastPeerStreamId, status })).finally(() => this.transport.close());
    this.shutDown(error);
  }

  private shutDown(error: Error | undefined): void {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of [...this.windowWaiters]) waiter.reject(new SpdyStreamResetError(0, StreamStatus.cancel, 'the connection ended'));
    for (const stream of [...this.streams.values()]) {
      stream.reset = true;
      stream.destroy(new SpdyStreamResetError(stream.id, StreamStatus.cancel, 'the connection ended'));
    }
    this.streams.clear();
    // Let queued frames (GOAWAY) finish compressing before the zlib streams go.
    void this.output.finally(() => {
      this.compressor.close();
      this.decompressor.close();
    });
    this.onClose(error);
  }
}
