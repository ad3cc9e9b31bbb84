// What every listener of one userspace proxier shares: the balancer, the
// global connection bound, limits, logging and metrics.
import type { Logger } from '@kube-lite/client';
import type { LoadBalancer } from '../core/load-balancer';
import type { ProxyMetrics } from '../server/metrics';

/** Which pool a listener draws endpoints from. */
export interface ListenerTarget {
  poolKey: string;
  /** "ns/name:port", for logs. */
  serviceKey: string;
  /** Metric label: traffic to the service address, or to a NodePort. */
  via: 'cluster' | 'nodeport';
}

export interface ListenerContext {
  balancer: LoadBalancer;
  logger: Logger;
  metrics: ProxyMetrics;
  /** Shared counter so the bound holds across every listener. */
  connections: { active: number };
  maxConnections: number;
  /** Dial timeout of the 1st, 2nd, ... attempt (the last repeats). */
  dialTimeoutsMs: readonly number[];
  maxDialAttempts: number;
  udpIdleTimeoutMs: number;
  maxUdpSessionsPerPort: number;
}
