// The userspace proxy mode: kube-proxy itself accepts every connection and
// copies bytes to an endpoint. Used by the local process cluster, where pods
// are plain processes on loopback addresses and nothing can be programmed
// into the kernel. For each Service port it opens
//   - a listener on the service address: serviceAddress(ClusterIP):port,
//     127.<b>.<c>.<d> for ClusterIP 10.<b>.<c>.<d> by default (see
//     core/addresses.ts); every node's kube-proxy computes the same address,
//     and as they share one host only one can hold it: the others retry every
//     bindRetryMs and take over when the holder stops (any proxy serves the
//     same table, so it does not matter which one holds it);
//   - for NodePort and LoadBalancer Services, a listener on every
//     nodePortAddresses entry at the nodePort (the node's own IP, 127.0.1.N
//     under the local cluster, so nodes never contend).
import { silentLogger, type Logger } from '@kube-lite/client';
import { loopbackServiceAddress, type ServiceAddressMapper } from '../core/addresses';
import { clusterPoolKey, LoadBalancer, nodePortPoolKey, poolsFromTable } from '../core/load-balancer';
import type { ServiceTable } from '../core/service-table';
import { ListenError } from '../errors';
import type { Proxier } from '../proxier/proxier';
import { ProxyMetrics } from '../server/metrics';
import type { ListenerContext, ListenerTarget } from './listener-context';
import { TcpListener } from './tcp-listener';
import { UdpListener } from './udp-listener';

export interface UserspaceProxierOptions {
  /** Where a ClusterIP is listened on; loopbackServiceAddress by default. Return undefined to skip a Service. */
  serviceAddress?: ServiceAddressMapper;
  /** Addresses NodePorts listen on (this node's IPs). None: NodePorts are not opened. */
  nodePortAddresses?: readonly string[];
  /** TCP connections open at once across all listeners; more are closed on accept. 10000 by default. */
  maxConnections?: number;
  /** Dial timeouts of successive attempts on different endpoints; upstream's userspace proxy used 250, 500, 1000, 2000 ms. */
  dialTimeoutsMs?: readonly number[];
  /** Endpoints tried per connection before giving up. 4 by default. */
  maxDialAttempts?: number;
  /** A UDP session is closed after this long without a datagram either way. 10 s by default. */
  udpIdleTimeoutMs?: number;
  /** UDP client sessions per listening port. 1024 by default. */
  maxUdpSessionsPerPort?: number;
  /** How often an address held by another process (EADDRINUSE) is tried again. 2 s by default. */
  bindRetryMs?: number;
  balancer?: LoadBalancer;
  logger?: Logger;
  metrics?: ProxyMetrics;
}

interface DesiredListener {
  id: string;
  protocol: 'TCP' | 'UDP';
  address: string;
  port: number;
  target: ListenerTarget;
}

type Listener = TcpListener | UdpListener;

export class UserspaceProxier implements Proxier {
  readonly mode = 'userspace' as const;
  private readonly context: ListenerContext;
  private readonly listeners = new Map<string, Listener>();
  /** Listeners wanted but not open (address held elsewhere, or it failed); retried on a timer. */
  private readonly pending = new Map<string, DesiredListener>();
  private readonly serviceAddress: ServiceAddressMapper;
  private readonly logger: Logger;
  private readonly warnedUnsupported = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private syncing: Promise<void> = Promise.resolve();

  constructor(private readonly options: UserspaceProxierOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.serviceAddress = options.serviceAddress ?? loopbackServiceAddress;
    this.context = {
      balancer: options.balancer ?? new LoadBalancer(),
      logger: this.logger,
      metrics: options.metrics ?? new ProxyMetrics(),
      connections: { active: 0 },
      maxConnections: options.maxConnections ?? 10_000,
      dialTimeoutsMs: options.dialTimeoutsMs ?? [250, 500, 1000, 2000],
      maxDialAttempts: options.maxDialAttempts ?? 4,
      udpIdleTimeoutMs: options.udpIdleTimeoutMs ?? 10_000,
      maxUdpSessionsPerPort: options.maxUdpSessionsPerPort ?? 1024,
    };
  }

  get balancer(): LoadBalancer {
    return this.context.balancer;
  }

  /** "TCP/127.96.0.10:80"-style ids of the listeners open now. */
  openListeners(): string[] {
    return [...this.listeners.keys()].sort();
  }

  /** Ids of listeners wanted but not open. */
  pendingListeners(): string[] {
    return [...this.pending.keys()].sort();
  }

  sync(table: ServiceTable): Promise<void> {
    // Serialized: two syncs must not open the same listener twice.
    this.syncing = this.syncing.then(() => this.syncNow(table));
    return this.syncing;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.syncing;
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    for (const listener of this.listeners.values()) this.closeListener(listener, true);
    this.listeners.clear();
    this.pending.clear();
  }

  private desired(table: ServiceTable): Map<string, DesiredListener> {
    const desired = new Map<string, DesiredListener>();
    const add = (protocol: string, address: string, port: number, target: ListenerTarget) => {
      if (protocol !== 'TCP' && protocol !== 'UDP') {
        if (!this.warnedUnsupported.has(target.serviceKey)) this.logger.warn('protocol not supported by the userspace proxy', { service: target.serviceKey, protocol });
        this.warnedUnsupported.add(target.serviceKey);
        return;
      }
      const id = `${protocol}/${address}:${port}`;
      if (!desired.has(id)) desired.set(id, { id, protocol, address, port, target });
    };
    for (const entry of table.values()) {
      const address = entry.clusterIP === undefined ? undefined : this.serviceAddress(entry.clusterIP);
      if (address !== undefined) add(entry.protocol, address, entry.port, { poolKey: clusterPoolKey(entry.key), serviceKey: entry.key, via: 'cluster' });
      if (entry.nodePort !== undefined) {
        for (const nodeAddress of this.options.nodePortAddresses ?? []) {
          add(entry.protocol, nodeAddress, entry.nodePort, { poolKey: nodePortPoolKey(entry.key), serviceKey: entry.key, via: 'nodeport' });
        }
      }
    }
    return desired;
  }

  private async syncNow(table: ServiceTable): Promise<void> {
    if (this.stopped) return;
    this.context.balancer.update(poolsFromTable(table));
    const desired = this.desired(table);
    for (const [id, listener] of this.listeners) {
      const want = desired.get(id);
      if (want) listener.target = want.target;
      else {
        // Connections already open may finish; new ones are no longer accepted.
        this.closeListener(listener, false);
        this.listeners.delete(id);
        this.logger.info('closed service listener', { listener: id });
      }
    }
    for (const id of [...this.pending.keys()]) if (!desired.has(id)) this.pending.delete(id);
    const toOpen = [...desired.values()].filter((want) => !this.listeners.has(want.id));
    await Promise.all(toOpen.map((want) => this.open(want, true)));
    this.scheduleRetry();
  }

  private async open(want: DesiredListener, firstTry: boolean): Promise<void> {
    const listener = want.protocol === 'TCP' ? new TcpListener(want.address, want.port, want.target, this.context) : new UdpListener(want.address, want.port, want.target, this.context);
    try {
      await listener.start();
    } catch (error) {
      const inUse = error instanceof ListenError && (error.cause as { code?: unknown } | undefined)?.code === 'EADDRINUSE';
      if (firstTry || !this.pending.has(want.id)) {
        if (inUse) this.logger.info('service address held by another proxy, standing by', { listener: want.id, service: want.target.serviceKey });
        else this.logger.error('cannot open service listener', { listener: want.id, service: want.target.serviceKey, err: error instanceof Error ? error.message : String(error) });
      }
      if (listener instanceof UdpListener) listener.close();
      this.pending.set(want.id, want);
      return;
    }
    if (this.stopped) {
      this.closeListener(listener, true);
      return;
    }
    this.pending.delete(want.id);
    this.listeners.set(want.id, listener);
    this.logger.info('opened service listener', { listener: want.id, service: want.target.serviceKey, via: want.target.via, takeover: !firstTry });
  }

  private scheduleRetry(): void {
    if (this.pending.size > 0 && !this.retryTimer && !this.stopped) {
      this.retryTimer = setInterval(() => {
        this.syncing = this.syncing.then(async () => {
          const wanted = [...this.pending.values()].filter((want) => !this.listeners.has(want.id));
          await Promise.all(wanted.map((want) => this.open(want, false)));
          if (this.pending.size === 0 && this.retryTimer) {
            clearInterval(this.retryTimer);
            this.retryTimer = undefined;
          }
        });
      }, this.options.bindRetryMs ?? 2000);
      this.retryTimer.unref();
    }
  }

  private closeListener(listener: Listener, destroyOpen: boolean): void {
    if (listener instanceof TcpListener) listener.close(destroyOpen);
    else listener.close();
  }
}
