// One UDP port of the userspace proxy. Each client (address:port) gets a
// session: its own socket towards one endpoint, so replies find their way
// back, kept until it has been idle for udpIdleTimeoutMs. Sessions per port
// are bounded; the least recently active one is closed to make room.
import dgram from 'node:dgram';
import { endpointString } from '../core/service-table';
import { ListenError } from '../errors';
import type { ListenerContext, ListenerTarget } from './listener-context';

interface Session {
  upstream: dgram.Socket;
  endpointIp: string;
  endpointPort: number;
  timer: NodeJS.Timeout;
}

export class UdpListener {
  private readonly socket: dgram.Socket;
  /** Map order is recency order: a session is re-inserted when it carries a packet. */
  private readonly sessions = new Map<string, Session>();

  constructor(
    readonly address: string,
    readonly port: number,
    public target: ListenerTarget,
    private readonly context: ListenerContext,
  ) {
    this.socket = dgram.createSocket({ type: 'udp4' });
    this.socket.on('message', (message, remote) => this.onMessage(message, remote));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new ListenError(this.address, this.port, 'UDP', { cause: error }));
      this.socket.once('error', onError);
      this.socket.bind({ address: this.address, port: this.port, exclusive: true }, () => {
        this.socket.off('error', onError);
        resolve();
      });
    });
    this.socket.on('error', (error) => this.context.logger.error('udp listener error', { address: `${this.address}:${this.port}`, err: String(error) }));
  }

  close(): void {
    for (const key of [...this.sessions.keys()]) this.endSession(key);
    try {
      this.socket.close();
    } catch {
      // Already closed (a failed bind): nothing to release.
    }
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  private onMessage(message: Buffer, remote: dgram.RemoteInfo): void {
    const key = `${remote.address}:${remote.port}`;
    let session = this.sessions.get(key);
    if (session && this.context.balancer.endpointCount(this.target.poolKey) > 0 && !this.stillServed(session)) {
      // The endpoint left the pool: new datagrams go to a live one.
      this.endSession(key);
      session = undefined;
    }
    if (!session) {
      session = this.openSession(key, remote);
      if (!session) return;
    } else {
      this.sessions.delete(key);
      this.sessions.set(key, session);
      session.timer.refresh();
    }
    session.upstream.send(message, session.endpointPort, session.endpointIp);
  }

  private stillServed(session: Session): boolean {
    // Ask without disturbing rotation: a session keeps its endpoint while the pool still has it.
    return this.context.balancer.contains(this.target.poolKey, `${session.endpointIp}:${session.endpointPort}`);
  }

  private openSession(key: string, remote: dgram.RemoteInfo): Session | undefined {
    const { context, target } = this;
    const endpoint = context.balancer.next(target.poolKey, remote.address);
    if (!endpoint) {
      context.metrics.rejectedConnectionsTotal.inc({ protocol: 'UDP', reason: 'no_endpoints' });
      return undefined;
    }
    if (this.sessions.size >= context.maxUdpSessionsPerPort) {
      const oldest = this.sessions.keys().next();
      if (!oldest.done) this.endSession(oldest.value);
    }
    const upstream = dgram.createSocket({ type: 'udp4' });
    const session: Session = {
      upstream,
      endpointIp: endpoint.ip,
      endpointPort: endpoint.port,
      timer: setTimeout(() => this.endSession(key), context.udpIdleTimeoutMs),
    };
    session.timer.unref();
    upstream.on('message', (reply, from) => {
      if (from.address !== session.endpointIp || from.port !== session.endpointPort) return;
      session.timer.refresh();
      this.socket.send(reply, remote.port, remote.address);
    });
    upstream.on('error', (error) => {
      context.logger.debug('udp session error', { service: target.serviceKey, endpoint: endpointString(endpoint), err: error.message });
      this.endSession(key);
    });
    this.sessions.set(key, session);
    context.metrics.activeConnections.inc({ protocol: 'UDP' });
    context.metrics.proxiedConnectionsTotal.inc({ protocol: 'UDP', via: target.via });
    return session;
  }

  private endSession(key: string): void {
    const session = this.sessions.get(key);
    if (!session) return;
    this.sessions.delete(key);
    clearTimeout(session.timer);
    session.upstream.close();
    this.context.metrics.activeConnections.dec({ protocol: 'UDP' });
  }
}
