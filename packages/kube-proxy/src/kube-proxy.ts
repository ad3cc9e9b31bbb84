// The kube-proxy process around the pure core: Service, Endpoints (and, with
// the ingress controller on, Ingress) informers trigger a level-triggered
// sync that rebuilds the forwarding table and hands it to the proxier, the
// DNS server and the ingress controller. Events only schedule a sync; syncs
// never overlap, and a burst of events costs one sync.
import type { Endpoints, Ingress, Service } from '@kube-lite/api';
import { RESOURCES, SharedInformerFactory, silentLogger, type ApiClient, type Logger, type SharedInformer } from '@kube-lite/client';
import { identityServiceAddress, loopbackServiceAddress, type ServiceAddressMapper } from './core/addresses';
import { buildServiceTable, diffTables, type ServiceTable } from './core/service-table';
import { DnsServer } from './dns/dns-server';
import { DnsForwarder } from './dns/forwarder';
import { ClusterDnsZone } from './dns/zone';
import { IngressController } from './ingress/ingress-controller';
import { IptablesProxier, type IptablesRunner } from './iptables/iptables-proxier';
import type { Proxier, ProxyMode } from './proxier/proxier';
import { ObservabilityServer, type HealthReport } from './server/http-server';
import { ProxyMetrics } from './server/metrics';
import { UserspaceProxier, type UserspaceProxierOptions } from './userspace/userspace-proxier';

export interface HostPort {
  host: string;
  port: number;
}

export interface KubeProxyOptions {
  client: ApiClient;
  /** This node's name (--hostname-override): Local traffic policies keep endpoints on it. */
  nodeName: string;
  /** userspace (local process cluster) or iptables (root in its own network namespace). */
  mode: ProxyMode;
  /** Addresses NodePorts listen on under the userspace proxy (the iptables mode matches any local address). */
  nodePortAddresses: readonly string[];
  /** How ClusterIPs are presented to clients (listen address, DNS answers); loopback under userspace, unchanged under iptables. */
  serviceAddress?: ServiceAddressMapper;
  /** Data-path limits and timeouts of the userspace proxy. */
  userspace?: Omit<UserspaceProxierOptions, 'serviceAddress' | 'nodePortAddresses' | 'logger' | 'metrics'>;
  /** Runs iptables commands (tests: a recording fake or a network namespace). */
  iptablesRunner?: IptablesRunner;
  /** The cluster domain DNS serves; cluster.local by default. */
  clusterDomain?: string;
  /** Cluster DNS listen address; no DNS server when absent. */
  dns?: HostPort & { /** Upstream resolver "ip:port" for other names; REFUSED when absent. */ upstream?: string };
  /** Ingress controller listen address; no ingress controller when absent. */
  ingress?: HostPort & { /** Serve only this class (and class-less Ingresses); all when absent. */ ingressClassName?: string };
  /** Where /healthz and /metrics are served (one server per distinct address); none when empty. */
  observabilityAddresses?: readonly HostPort[];
  /** A full resync this often even without events (upstream's --sync-period). 30 s by default. */
  syncPeriodMs?: number;
  /** How long start() waits for the informers' first list. 60 s by default. */
  cacheSyncTimeoutMs?: number;
  logger?: Logger;
  metrics?: ProxyMetrics;
  /** Replaces the proxier chosen by `mode` (tests). */
  proxier?: Proxier;
}

/** The informers did not finish their first list in time. */
export class CacheSyncTimeoutError extends Error {
  constructor(timeoutMs: number) {
    super(`informer caches did not sync within ${timeoutMs} ms`);
    this.name = 'CacheSyncTimeoutError';
  }
}

export class KubeProxy {
  readonly metrics: ProxyMetrics;
  readonly proxier: Proxier;
  readonly dns: DnsServer | undefined;
  readonly ingress: IngressController | undefined;
  private readonly logger: Logger;
  private readonly factory: SharedInformerFactory;
  private readonly services: SharedInformer<Service>;
  private readonly endpoints: SharedInformer<Endpoints>;
  private readonly ingresses: SharedInformer<Ingress> | undefined;
  private readonly observability: ObservabilityServer[] = [];
  private readonly serviceAddress: ServiceAddressMapper;
  private table: ServiceTable = new Map();
  private syncScheduled = false;
  private syncing: Promise<void> = Promise.resolve();
  private resyncTimer: NodeJS.Timeout | undefined;
  private lastSyncMs: number | undefined;
  private lastSyncError: string | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly options: KubeProxyOptions) {
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new ProxyMetrics();
    this.serviceAddress = options.serviceAddress ?? (options.mode === 'userspace' ? loopbackServiceAddress : identityServiceAddress);
    this.proxier =
      options.proxier ??
      (options.mode === 'iptables'
        ? new IptablesProxier({ runner: options.iptablesRunner, logger: this.logger })
        : new UserspaceProxier({ ...options.userspace, serviceAddress: this.serviceAddress, nodePortAddresses: options.nodePortAddresses, logger: this.logger, metrics: this.metrics }));
    this.factory = new SharedInformerFactory(options.client, { logger: this.logger });
    this.services = this.factory.services();
    this.endpoints = this.factory.endpoints();
    const schedule = { onAdd: () => this.scheduleSync(), onUpdate: () => this.scheduleSync(), onDelete: () => this.scheduleSync() };
    this.services.addEventHandler(schedule);
    this.endpoints.addEventHandler(schedule);
    if (options.dns) {
      this.dns = new DnsServer({
        host: options.dns.host,
        port: options.dns.port,
        forwarder: options.dns.upstream ? new DnsForwarder({ upstream: options.dns.upstream }) : undefined,
        logger: this.logger,
        metrics: this.metrics,
      });
    }
    if (options.ingress) {
      this.ingresses = this.factory.forResource<Ingress>(RESOURCES.ingresses);
      this.ingresses.addEventHandler(schedule);
      this.ingress = new IngressController({ host: options.ingress.host, port: options.ingress.port, ingressClassName: options.ingress.ingressClassName, logger: this.logger, metrics: this.metrics });
    }
    const seen = new Set<string>();
    for (const address of options.observabilityAddresses ?? []) {
      const key = `${address.host}:${address.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.observability.push(new ObservabilityServer(address.host, address.port, () => this.health(), this.metrics.registry));
    }
  }

  /** The current forwarding table (read-only). */
  get forwardingTable(): ServiceTable {
    return this.table;
  }

  /** Opens the listeners, waits for the informers' first list, then syncs and keeps syncing until stop(). */
  async start(): Promise<void> {
    for (const server of this.observability) await server.start();
    await this.dns?.start();
    await this.ingress?.start();
    this.factory.start();
    const timeoutMs = this.options.cacheSyncTimeoutMs ?? 60_000;
    const synced = await this.factory.waitForCacheSync(timeoutMs);
    if (this.stopped) return;
    if (!synced) throw new CacheSyncTimeoutError(timeoutMs);
    this.started = true;
    await this.sync();
    this.resyncTimer = setInterval(() => this.scheduleSync(), this.options.syncPeriodMs ?? 30_000);
    this.resyncTimer.unref();
    this.logger.info('kube-proxy started', { node: this.options.nodeName, mode: this.proxier.mode, servicePorts: this.table.size });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.syncing.catch(() => undefined);
    await this.factory.shutdown();
    await Promise.all([this.proxier.stop().catch((error: unknown) => this.logger.error('proxier cleanup failed', { err: String(error) })), this.dns?.stop(), this.ingress?.stop(), ...this.observability.map((server) => server.stop())]);
    this.logger.info('kube-proxy stopped', { node: this.options.nodeName });
  }

  /** Rebuilds everything from the listers now (also what events schedule). Resolves when the data path matches. */
  sync(): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncNow());
    return this.syncing;
  }

  health(): HealthReport {
    if (!this.started) return { healthy: false, detail: 'informers not synced yet' };
    if (this.lastSyncError !== undefined) return { healthy: false, detail: `last sync failed: ${this.lastSyncError}` };
    return { healthy: true, detail: `last sync at ${new Date(this.lastSyncMs ?? 0).toISOString()}` };
  }

  private scheduleSync(): void {
    if (!this.started || this.stopped || this.syncScheduled) return;
    this.syncScheduled = true;
    // One sync for a burst of events delivered in the same turn.
    setImmediate(() => {
      this.syncScheduled = false;
      void this.sync();
    });
  }

  private async syncNow(): Promise<void> {
    if (this.stopped) return;
    const startedMs = Date.now();
    const services = this.services.lister.list();
    const endpoints = this.endpoints.lister.list();
    const table = buildServiceTable(services, endpoints, { nodeName: this.options.nodeName });
    const diff = diffTables(this.table, table);
    for (const key of diff.added) {
      const entry = table.get(key);
      this.logger.info('service port added', { service: key, clusterIP: entry?.clusterIP, port: entry?.port, nodePort: entry?.nodePort, protocol: entry?.protocol, endpoints: entry?.clusterEndpoints.length });
    }
    for (const key of diff.removed) this.logger.info('service port removed', { service: key });
    for (const [key, gone] of diff.removedEndpoints) this.logger.info('endpoints removed', { service: key, endpoints: gone });
    this.table = table;
    this.dns?.setZone(new ClusterDnsZone(services, endpoints, { clusterDomain: this.options.clusterDomain ?? 'cluster.local', serviceAddress: this.serviceAddress }));
    this.ingress?.update(this.ingresses?.lister.list() ?? [], services, endpoints);
    try {
      await this.proxier.sync(table);
      this.lastSyncError = undefined;
      this.lastSyncMs = Date.now();
      this.metrics.syncProxyRulesLastTimestampSeconds.set(this.lastSyncMs / 1000);
    } catch (error) {
      // Level-triggered: the next event or resync tries the whole table again.
      this.lastSyncError = error instanceof Error ? error.message : String(error);
      this.logger.error('sync failed', { mode: this.proxier.mode, err: this.lastSyncError });
    }
    this.metrics.servicePorts.set(table.size);
    this.metrics.syncProxyRulesDurationSeconds.observe((Date.now() - startedMs) / 1000);
  }
}
