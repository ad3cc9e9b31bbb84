// `kubectl port-forward` on the kubelet: the portforward.k8s.io protocol over
// a SPDY/3.1 connection. For every local connection kubectl opens two streams
// with the headers streamtype ("error" or "data"), port and requestid. Once
// both streams of a request exist the kubelet connects to the pod's IP and
// port and copies bytes both ways over the data stream; a failure is written
// as text on the error stream, which kubectl prints. Each side's end (FIN)
// half-closes the other; the error stream is finished last, which is what
// kubectl waits for before it closes the local connection.
import net from 'node:net';
import { StreamStatus } from './spdy/frames';
import type { SpdyStream } from './spdy/connection';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** The WebSocket sub-protocol of kubectl's port-forward tunnel (kubectl >= 1.30): raw SPDY frames in binary messages. */
export const PORT_FORWARD_WEBSOCKET_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;

/** Where a pod's ports are reached, and how the pod is named in error messages. */
export interface PortForwardTarget {
  /** The pod's IP, reachable from the kubelet (loopback address under the process runtime, network IP under Docker). */
  address: string;
  /** The pod as upstream names it in errors: its sandbox id. */
  podDescription: string;
}

export interface PortForwardOptions {
  /** How long the second stream of a request may take to arrive (upstream's stream creation timeout). */
  streamCreationTimeoutMs: number;
  /** How long connecting to the pod's port may take. */
  connectTimeoutMs: number;
  /** Local address connections to pods come from; the system's choice when absent. */
  localAddress?: string;
}

export const DEFAULT_PORT_FORWARD_OPTIONS: PortForwardOptions = { streamCreationTimeoutMs: 30_000, connectTimeoutMs: 10_000 };

interface StreamPair {
  error?: SpdyStream;
  data?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Serves the port-forward streams of one connection until it ends. */
export class PortForwardHandler {
  private readonly pairs = new Map<string, StreamPair>();
  private readonly sockets = new Set<net.Socket>();
  private readonly options: PortForwardOptions;

  constructor(
    private readonly target: PortForwardTarget,
    options: Partial<PortForwardOptions> = {},
  ) {
    this.options = { ...DEFAULT_PORT_FORWARD_OPTIONS, ...options };
  }

  /** Connections to pods still open. */
  get activeConnections(): number {
    return this.sockets.size;
  }

  /** The SpdyConnection's onStream callback. */
  readonly onStream = (stream: SpdyStream): void => {
    // Errors surface through the pair's handling; an unhandled 'error' event must not crash the kubelet.
    stream.on('error', () => undefined);
    void stream.reply().catch(() => undefined);
    const type = stream.header('streamtype');
    const requestId = stream.header('requestid') ?? String(stream.id);
    if (type !== 'error' && type !== 'data') {
      stream.resetStream(StreamStatus.protocolError);
      return;
    }
    let pair = this.pairs.get(requestId);
    if (!pair) {
      pair = { timer: setTimeout(() => this.timeOut(requestId), this.options.streamCreationTimeoutMs) };
      pair.timer.unref?.();
      this.pairs.set(requestId, pair);
    }
    if (pair[type] !== undefined) {
      // A second stream of the same kind for one request: refuse it, keep the first.
      stream.resetStream(StreamStatus.protocolError);
      return;
    }
    pair[type] = stream;
    if (type === 'error') stream.resume(); // kubectl sends nothing on it but its FIN.
    if (pair.error && pair.data) {
      clearTimeout(pair.timer);
      this.pairs.delete(requestId);
      this.forward(pair.error, pair.data);
    }
  };

  /** Ends everything: the connection is gone. */
  close(): void {
    for (const pair of this.pairs.values()) clearTimeout(pair.timer);
    this.pairs.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  private timeOut(requestId: string): void {
    const pair = this.pairs.get(requestId);
    if (!pair) return;
    this.pairs.delete(requestId);
    if (pair.error) {
      pair.error.end(`timed out waiting for the data stream of request ${requestId}`);
    }
    pair.data?.resetStream(StreamStatus.cancel);
  }

  private forward(errorStream: SpdyStream, dataStream: SpdyStream): void {
    const portText = dataStream.header('port') ?? '';
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    const fail = (message: string): void => {
      errorStream.end(message);
      dataStream.end();
    };
    if (!(port >= 1 && port <= 65535)) {
      fail(`invalid port header ${JSON.stringify(portText)}: a port between 1 and 65535 is needed`);
      return;
    }
    const socket = net.connect({ host: this.target.address, port, ...(this.options.localAddress ? { localAddress: this.options.localAddress } : {}) });
    this.sockets.add(socket);
    let connected = false;
    const timer = setTimeout(() => socket.destroy(new Error(`no connection within ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
    socket.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      // pipe() carries the backpressure both ways: a slow pod stops the stream's reads (and so the transport), a slow
      // client holds the socket until the data stream's writes were sent.
      socket.pipe(dataStream);
      dataStream.pipe(socket);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      // Upstream's wording, with the empty uid its CRI-based kubelets print: users and scripts match on it.
      if (!connected) fail(`error forwarding port ${port} to pod ${this.target.podDescription}, uid : failed to connect to ${this.target.address}:${port}: ${error.message}`);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      this.sockets.delete(socket);
      if (!connected) return;
      // The pod side is done: whatever the client still had in flight has nowhere to go.
      if (!dataStream.writableEnded && !dataStream.destroyed) dataStream.end();
      if (!errorStream.writableEnded && !errorStream.destroyed) errorStream.end();
    });
    // The client reset or the connection ended: drop the pod connection too.
    dataStream.on('close', () => {
      if (!dataStream.writableFinished || !dataStream.readableEnded) socket.destroy();
    });
  }
}
