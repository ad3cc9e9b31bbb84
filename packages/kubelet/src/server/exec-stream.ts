// The streaming protocol of `kubectl exec/attach` over WebSocket
// (v5.channel.k8s.io and its predecessors): every binary message starts with
// a channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error/status, 4 terminal
// resize; in v5 a message [255, n] from the client closes channel n (stdin).
// The base64 variants carry the channel as an ASCII digit and base64 data.
import type { WebSocket } from 'ws';
import type { ExecSession } from '../runtime/runtime';

export const STDIN_CHANNEL = 0;
export const STDOUT_CHANNEL = 1;
export const STDERR_CHANNEL = 2;
export const ERROR_CHANNEL = 3;
export const RESIZE_CHANNEL = 4;
export const CLOSE_CHANNEL = 255;

/** Sub-protocols in order of preference. */
export const STREAM_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io', 'base64.channel.k8s.io', 'channel.k8s.io'];

/** The protocol to speak, from those the client offered; undefined when none is known. */
export function selectStreamProtocol(offered: Set<string>): string | undefined {
  return STREAM_PROTOCOLS.find((protocol) => offered.has(protocol));
}

export interface StreamOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/** The metav1.Status v4+ clients expect on the error channel once the command ended. */
export function exitStatus(exitCode: number, command: string[]): Record<string, unknown> {
  if (exitCode === 0) return { metadata: {}, status: 'Success' };
  return {
    metadata: {},
    status: 'Failure',
    message: `command terminated with non-zero exit code: error executing command [${command.join(' ')}], exit code ${exitCode}`,
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: String(exitCode) }] },
  };
}

export class ChannelConnection {
  private readonly base64: boolean;
  private readonly jsonStatus: boolean;
  readonly closeSignals: boolean;

  constructor(
    private readonly socket: WebSocket,
    protocol: string,
  ) {
    this.base64 = protocol.includes('base64');
    this.jsonStatus = protocol.startsWith('v4') || protocol.startsWith('v5');
    this.closeSignals = protocol.startsWith('v5');
  }

  send(channel: number, data: Buffer | string): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.base64) this.socket.send(`${String.fromCharCode(48 + channel)}${bytes.toString('base64')}`);
    else this.socket.send(Buffer.concat([Buffer.from([channel]), bytes]), { binary: true });
  }

  /** Decodes a client message into channel and payload. */
  decode(message: Buffer | string): { channel: number; data: Buffer } | undefined {
    if (this.base64) {
      const text = message.toString();
      if (text.length === 0) return undefined;
      return { channel: text.charCodeAt(0) - 48, data: Buffer.from(text.slice(1), 'base64') };
    }
    const bytes = Buffer.isBuffer(message) ? message : Buffer.from(message);
    if (bytes.length === 0) return undefined;
    return { channel: bytes[0] ?? 0, data: bytes.subarray(1) };
  }

  /** Reports how the command ended, on the error channel. */
  sendExit(exitCode: number, command: string[]): void {
    if (this.jsonStatus) this.send(ERROR_CHANNEL, JSON.stringify(exitStatus(exitCode, command)));
    else if (exitCode !== 0) this.send(ERROR_CHANNEL, `command terminated with non-zero exit code: ${exitCode}`);
  }

  /** Reports a failure to run at all (unknown container, not running ...). */
  sendError(message: string): void {
    if (this.jsonStatus) this.send(ERROR_CHANNEL, JSON.stringify({ metadata: {}, status: 'Failure', message, reason: 'InternalError' }));
    else this.send(ERROR_CHANNEL, message);
  }
}

/** Bounds on what a client may send before its exec session exists (kubectl sends stdin as soon as the socket opens). */
export const MAX_EARLY_MESSAGES = 1024;
export const MAX_EARLY_BYTES = 4 * 1024 * 1024;

/**
 * Holds a socket's messages from the moment it is open until the exec
 * session exists: starting a process (a Docker exec is two daemon round
 * trips) takes longer than a fast client waits before sending stdin. A client
 * that sends more than the bounds allow is cut off (1009, message too big).
 */
export class EarlyMessages {
  private readonly messages: Buffer[] = [];
  private bytes = 0;
  private closed = false;
  private readonly onMessage = (message: Buffer): void => {
    const bytes = Buffer.isBuffer(message) ? message : Buffer.from(message as unknown as string);
    this.bytes += bytes.length;
    if (this.messages.length >= MAX_EARLY_MESSAGES || this.bytes > MAX_EARLY_BYTES) {
      this.socket.close(1009, 'too much input before the command started');
      return;
    }
    this.messages.push(bytes);
  };
  private readonly onClose = (): void => {
    this.closed = true;
  };

  constructor(private readonly socket: WebSocket) {
    socket.on('message', this.onMessage);
    socket.on('close', this.onClose);
  }

  /** Stops holding and hands over what arrived, and whether the client already went away. */
  release(): { messages: Buffer[]; closed: boolean } {
    this.socket.off('message', this.onMessage);
    this.socket.off('close', this.onClose);
    return { messages: this.messages.splice(0), closed: this.closed };
  }
}

/**
 * Wires an exec session to a WebSocket until the command ended; then closes
 * the socket normally. Messages the client sent before (early) are replayed
 * first, in order.
 */
export function bridgeExecSession(socket: WebSocket, connection: ChannelConnection, session: ExecSession, options: StreamOptions, command: string[], early?: EarlyMessages): Promise<void> {
  const held = early?.release() ?? { messages: [], closed: false };
  // Tells the client the streams are ready: an empty frame on the lowest channel it reads.
  connection.send(options.stdout ? STDOUT_CHANNEL : options.stderr ? STDERR_CHANNEL : ERROR_CHANNEL, Buffer.alloc(0));
  const handle = (message: Buffer): void => {
    const decoded = connection.decode(message);
    if (!decoded) return;
    if (decoded.channel === STDIN_CHANNEL) session.stdin?.write(decoded.data);
    else if (decoded.channel === RESIZE_CHANNEL) {
      try {
        const size = JSON.parse(decoded.data.toString()) as { Width?: number; Height?: number };
        if (size.Width && size.Height) session.resize(size.Width, size.Height);
      } catch {
        // A malformed resize is ignored, as upstream does.
      }
    } else if (decoded.channel === CLOSE_CHANNEL && connection.closeSignals && decoded.data[0] === STDIN_CHANNEL) session.stdin?.end();
  };
  // Listening before replaying: nothing can arrive in between (one synchronous run), so the order holds.
  socket.on('message', handle);
  for (const message of held.messages) handle(message);
  socket.on('close', () => session.kill());
  if (held.closed || socket.readyState === socket.CLOSED || socket.readyState === socket.CLOSING) session.kill();
  const pipe = (stream: NodeJS.ReadableStream, channel: number, wanted: boolean): Promise<void> =>
    new Promise((resolve) => {
      stream.on('data', (chunk: Buffer) => {
        if (wanted) connection.send(channel, chunk);
      });
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
  const outputs = Promise.all([pipe(session.stdout, STDOUT_CHANNEL, options.stdout), pipe(session.stderr, STDERR_CHANNEL, options.stderr)]);
  return session.exited.then(async ({ exitCode }) => {
    await outputs;
    connection.sendExit(exitCode, command);
    socket.close(1000);
  });
}
