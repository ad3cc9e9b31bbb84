// Sends a query for a name outside the cluster domain to the upstream
// resolver and returns its raw reply. One short-lived socket per query, so
// replies cannot be confused and no id rewriting is needed; in-flight queries
// are bounded.
import dgram from 'node:dgram';
import net from 'node:net';

export interface ForwarderOptions {
  /** Upstream resolver "ip:port". */
  upstream: string;
  /** 2 s by default. */
  timeoutMs?: number;
  /** Queries forwarded at once; beyond it the server answers SERVFAIL. 256 by default. */
  maxInFlight?: number;
}

/** The upstream did not answer in time, refused the connection, or the forwarder is saturated. */
export class ForwardError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ForwardError';
  }
}

function splitHostPort(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(address);
  if (!match) return { host: address, port: 53 };
  return { host: match[1] ?? address, port: Number(match[2]) };
}

export class DnsForwarder {
  private inFlight = 0;
  private readonly host: string;
  private readonly port: number;
  private readonly timeoutMs: number;
  private readonly maxInFlight: number;

  constructor(options: ForwarderOptions) {
    ({ host: this.host, port: this.port } = splitHostPort(options.upstream));
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxInFlight = options.maxInFlight ?? 256;
  }

  get upstream(): string {
    return `${this.host}:${this.port}`;
  }

  /** The upstream's raw reply to `query` (a whole DNS message). TCP when `overTcp`, as the client asked. */
  async exchange(query: Buffer, overTcp: boolean): Promise<Buffer> {
    if (this.inFlight >= this.maxInFlight) throw new ForwardError(`${this.maxInFlight} queries already in flight to ${this.upstream}`);
    this.inFlight++;
    try {
      return await (overTcp ? this.exchangeTcp(query) : this.exchangeUdp(query));
    } finally {
      this.inFlight--;
    }
  }

  private exchangeUdp(query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket(net.isIPv6(this.host) ? 'udp6' : 'udp4');
      const done = (error: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        socket.close();
        if (error) reject(error);
        else resolve(reply as Buffer);
      };
      const timer = setTimeout(() => done(new ForwardError(`no answer from ${this.upstream} within ${this.timeoutMs} ms`)), this.timeoutMs);
      socket.on('error', (error) => done(new ForwardError(`forwarding to ${this.upstream} failed: ${error.message}`, { cause: error })));
      socket.on('message', (reply, remote) => {
        // Only the upstream's own reply with the query's id counts.
        if (remote.port === this.port && reply.length >= 2 && reply.readUInt16BE(0) === query.readUInt16BE(0)) done(undefined, reply);
      });
      socket.send(query, this.port, this.host);
    });
  }

  private exchangeTcp(query: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: this.host, port: this.port });
      let buffered = Buffer.alloc(0);
      const done = (error: Error | undefined, reply?: Buffer) => {
        clearTimeout(timer);
        socket.destroy();
        if (error) reject(error);
        else resolve(reply as Buffer);
      };
      const timer = setTimeout(() => done(new ForwardError(`no answer from ${this.upstream} within ${this.timeoutMs} ms`)), this.timeoutMs);
      socket.on('error', (error) => done(new ForwardError(`forwarding to ${this.upstream} failed: ${error.message}`, { cause: error })));
      socket.on('connect', () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(query.length);
        socket.write(Buffer.concat([length, query]));
      });
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        if (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) done(undefined, buffered.subarray(2, 2 + buffered.readUInt16BE(0)));
      });
    });
  }
}
