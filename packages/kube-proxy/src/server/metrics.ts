// The Prometheus metrics kube-proxy exposes. Sync metrics carry upstream's
// kubeproxy_* names; the userspace data path, DNS and ingress ones are ours.
// Each ProxyMetrics owns its registry, so several proxies can share a test
// process.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface ProxyMetricsOptions {
  /** Also export process_* and nodejs_* metrics; off by default (the binary turns it on). */
  collectDefaultMetrics?: boolean;
}

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly syncProxyRulesDurationSeconds: Histogram;
  readonly syncProxyRulesLastTimestampSeconds: Gauge;
  /** Service ports in the forwarding table. */
  readonly servicePorts: Gauge;
  /** Connections (TCP) and sessions (UDP) accepted by the userspace proxy; label via = cluster | nodeport. */
  readonly proxiedConnectionsTotal: Counter<'protocol' | 'via'>;
  readonly activeConnections: Gauge<'protocol'>;
  /** Connections refused before reaching an endpoint; reason = no_endpoints | limit | dial_failed. */
  readonly rejectedConnectionsTotal: Counter<'protocol' | 'reason'>;
  /** Dials to an endpoint that failed and were retried on another. */
  readonly endpointDialFailuresTotal: Counter<'protocol'>;
  readonly dnsRequestsTotal: Counter<'protocol' | 'rcode'>;
  readonly ingressRequestsTotal: Counter<'status'>;
  readonly ingressRequestDurationSeconds: Histogram;
  readonly ingressUpstreamRetriesTotal: Counter;

  constructor(options: ProxyMetricsOptions = {}) {
    const registers = [this.registry];
    if (options.collectDefaultMetrics) collectDefaultMetrics({ register: this.registry });
    this.syncProxyRulesDurationSeconds = new Histogram({
      name: 'kubeproxy_sync_proxy_rules_duration_seconds',
      help: 'SyncProxyRules latency in seconds',
      buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048],
      registers,
    });
    this.syncProxyRulesLastTimestampSeconds = new Gauge({ name: 'kubeproxy_sync_proxy_rules_last_timestamp_seconds', help: 'The last time proxy rules were successfully synced', registers });
    this.servicePorts = new Gauge({ name: 'kubeproxy_service_ports', help: 'Service ports in the forwarding table', registers });
    this.proxiedConnectionsTotal = new Counter({ name: 'kubeproxy_userspace_connections_total', help: 'Connections (TCP) and sessions (UDP) forwarded by the userspace proxy', labelNames: ['protocol', 'via'], registers });
    this.activeConnections = new Gauge({ name: 'kubeproxy_userspace_active_connections', help: 'Open forwarded connections (TCP) and sessions (UDP)', labelNames: ['protocol'], registers });
    this.rejectedConnectionsTotal = new Counter({ name: 'kubeproxy_userspace_rejected_connections_total', help: 'Connections closed before reaching an endpoint, by reason', labelNames: ['protocol', 'reason'], registers });
    this.endpointDialFailuresTotal = new Counter({ name: 'kubeproxy_userspace_endpoint_dial_failures_total', help: 'Dials to an endpoint that failed (retried on another endpoint when one is left)', labelNames: ['protocol'], registers });
    this.dnsRequestsTotal = new Counter({ name: 'kubeproxy_dns_requests_total', help: 'DNS queries answered, by transport and response code', labelNames: ['protocol', 'rcode'], registers });
    this.ingressRequestsTotal = new Counter({ name: 'kubeproxy_ingress_requests_total', help: 'HTTP requests served by the ingress controller, by status code', labelNames: ['status'], registers });
    this.ingressRequestDurationSeconds = new Histogram({
      name: 'kubeproxy_ingress_request_duration_seconds',
      help: 'Time from request to response headers through the ingress controller',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.ingressUpstreamRetriesTotal = new Counter({ name: 'kubeproxy_ingress_upstream_retries_total', help: 'Requests retried on another endpoint after a connection failure', registers });
  }
}
