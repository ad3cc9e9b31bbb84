// One TCP listening socket of the userspace proxy. Each accepted connection
// is paused until an endpoint accepts the dial, so a refused or timed-out dial
// is retried on another endpoint before the client has seen a byte; then both
// directions are piped (backpressure and half-close included).
import net from 'node:net';
import { endpointString } from '../core/service-table';
import { ListenError } from '../errors';
import type { ListenerContext, ListenerTarget } from './listener-context';

export class TcpListener {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    readonly address: string,
    readonly port: number,
    /** Mutable: a sync may point an open listener at a new pool without reopening it. */
    public target: ListenerTarget,
    private readonly context: ListenerContext,
  ) {
    this.server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => this.accept(socket));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new ListenError(this.address, this.port, 'TCP', { cause: error }));
      this.server.once('error', onError);
      this.server.listen({ host: this.address, port: this.port, exclusive: true }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.server.on('error', (error) => this.context.logger.error('tcp listener error', { address: `${this.address}:${this.port}`, err: String(error) }));
  }

  /** Stops accepting; open connections finish on their own unless `destroyOpen`. */
  close(destroyOpen: boolean): void {
    // The callback would wait for open connections; the listening socket itself is released at once.
    this.server.close();
    if (destroyOpen) for (const socket of this.sockets) socket.destroy();
  }

  private accept(client: net.Socket): void {
    const { context } = this;
    if (context.connections.active >= context.maxConnections) {
      context.metrics.rejectedConnectionsTotal.inc({ protocol: 'TCP', reason: 'limit' });
      client.destroy();
      return;
    }
    context.connections.active++;
    context.metrics.activeConnections.inc({ protocol: 'TCP' });
    this.sockets.add(client);
    client.once('close', () => {
      this.sockets.delete(client);
      context.connections.active--;
      context.metrics.activeConnections.dec({ protocol: 'TCP' });
    });
    client.on('error', () => client.destroy());
    this.dial(client, new Set());
  }

  private dial(client: net.Socket, tried: Set<string>): void {
    const { context, target } = this;
    if (client.destroyed) return;
    const endpoint = context.balancer.next(target.poolKey, client.remoteAddress, tried);
    if (!endpoint) {
      context.metrics.rejectedConnectionsTotal.inc({ protocol: 'TCP', reason: tried.size === 0 ? 'no_endpoints' : 'dial_failed' });
      if (tried.size > 0) context.logger.warn('no endpoint accepted the connection', { service: target.serviceKey, tried: [...tried] });
      client.destroy();
      return;
    }
    const id = endpointString(endpoint);
    const timeoutMs = context.dialTimeoutsMs[Math.min(tried.size, context.dialTimeoutsMs.length - 1)] ?? 1000;
    tried.add(id);
    const upstream = net.connect({ host: endpoint.ip, port: endpoint.port, allowHalfOpen: true });
    const timer = setTimeout(() => upstream.destroy(new Error(`dial timeout after ${timeoutMs} ms`)), timeoutMs);
    let connected = false;
    const onDialError = (error: Error) => {
      clearTimeout(timer);
      if (connected) return;
      context.metrics.endpointDialFailuresTotal.inc({ protocol: 'TCP' });
      context.logger.debug('endpoint dial failed', { service: target.serviceKey, endpoint: id, err: error.message });
      // Bounded: every attempt adds to `tried`, and the pool is finite.
      if (tried.size < context.maxDialAttempts) this.dial(client, tried);
      else {
        context.metrics.rejectedConnectionsTotal.inc({ protocol: 'TCP', reason: 'dial_failed' });
        client.destroy();
      }
    };
    upstream.once('error', onDialError);
    upstream.once('connect', () => {
      connected = true;
      clearTimeout(timer);
      upstream.off('error', onDialError);
      upstream.on('error', () => client.destroy());
      client.once('close', () => upstream.destroy());
      upstream.once('close', (hadError) => {
        if (hadError) client.destroy();
      });
      context.metrics.proxiedConnectionsTotal.inc({ protocol: 'TCP', via: target.via });
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    client.once('close', () => {
      if (!connected) upstream.destroy();
    });
  }
}
