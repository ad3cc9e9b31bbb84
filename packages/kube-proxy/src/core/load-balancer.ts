// Endpoint selection per pool (one pool per Service port and traffic kind):
// round robin, with ClientIP session affinity when the Service asks for it.
// Pure: time comes from an injected clock, so tables test affinity expiry.
// A pool update takes effect at once: a removed endpoint is never chosen
// again and its affinity entries are dropped (connections already open are
// the caller's, and may finish).
import { endpointString, type ServiceEndpoint, type ServiceTable } from './service-table';

export interface PoolSpec {
  key: string;
  endpoints: readonly ServiceEndpoint[];
  /** ClientIP affinity timeout; undefined for no affinity. */
  affinityTimeoutSeconds?: number;
}

export interface LoadBalancerOptions {
  nowMs?: () => number;
  /** Affinity entries kept per pool; the least recently used goes first. 10000 by default. */
  maxAffinityEntriesPerPool?: number;
}

interface AffinityEntry {
  endpoint: string;
  lastUsedMs: number;
}

interface Pool {
  endpoints: readonly ServiceEndpoint[];
  byString: Map<string, ServiceEndpoint>;
  nextIndex: number;
  affinityTimeoutMs: number | undefined;
  /** Insertion order is recency order (an entry is re-inserted on use), so the first is the least recent. */
  affinity: Map<string, AffinityEntry>;
}

function sameEndpoints(a: readonly ServiceEndpoint[], b: readonly ServiceEndpoint[]): boolean {
  return a.length === b.length && a.every((endpoint, index) => endpointString(endpoint) === endpointString(b[index] ?? { ip: '', port: 0 }));
}

export class LoadBalancer {
  private readonly pools = new Map<string, Pool>();
  private readonly nowMs: () => number;
  private readonly maxAffinityEntries: number;

  constructor(options: LoadBalancerOptions = {}) {
    this.nowMs = options.nowMs ?? Date.now;
    this.maxAffinityEntries = options.maxAffinityEntriesPerPool ?? 10_000;
  }

  /** Replaces the set of pools. Unchanged pools keep their round-robin position and affinity. */
  update(specs: Iterable<PoolSpec>): void {
    const seen = new Set<string>();
    for (const spec of specs) {
      seen.add(spec.key);
      const affinityTimeoutMs = spec.affinityTimeoutSeconds === undefined ? undefined : spec.affinityTimeoutSeconds * 1000;
      const pool = this.pools.get(spec.key);
      if (pool && sameEndpoints(pool.endpoints, spec.endpoints)) {
        if (pool.affinityTimeoutMs !== affinityTimeoutMs) {
          pool.affinityTimeoutMs = affinityTimeoutMs;
          if (affinityTimeoutMs === undefined) pool.affinity.clear();
        }
        continue;
      }
      const byString = new Map(spec.endpoints.map((endpoint) => [endpointString(endpoint), endpoint] as const));
      const affinity = new Map<string, AffinityEntry>();
      if (pool && affinityTimeoutMs !== undefined) {
        for (const [client, entry] of pool.affinity) if (byString.has(entry.endpoint)) affinity.set(client, entry);
      }
      this.pools.set(spec.key, {
        endpoints: spec.endpoints,
        byString,
        // Upstream resets the rotation when the set changes; the position would point elsewhere anyway.
        nextIndex: 0,
        affinityTimeoutMs,
        affinity,
      });
    }
    for (const key of [...this.pools.keys()]) if (!seen.has(key)) this.pools.delete(key);
  }

  /** Whether the pool still holds the endpoint ("ip:port"); does not move the rotation. */
  contains(key: string, endpoint: string): boolean {
    return this.pools.get(key)?.byString.has(endpoint) ?? false;
  }

  endpointCount(key: string): number {
    return this.pools.get(key)?.endpoints.length ?? 0;
  }

  /**
   * The endpoint for a new connection or request, or undefined when the pool
   * has none left outside `exclude` ("ip:port" strings already tried and failed).
   */
  next(key: string, clientIP?: string, exclude?: ReadonlySet<string>): ServiceEndpoint | undefined {
    const pool = this.pools.get(key);
    if (!pool || pool.endpoints.length === 0) return undefined;
    const now = this.nowMs();
    const useAffinity = pool.affinityTimeoutMs !== undefined && clientIP !== undefined && clientIP !== '';
    if (useAffinity) {
      const entry = pool.affinity.get(clientIP);
      if (entry) {
        pool.affinity.delete(clientIP);
        const endpoint = pool.byString.get(entry.endpoint);
        const fresh = now - entry.lastUsedMs <= (pool.affinityTimeoutMs ?? 0);
        if (endpoint && fresh && !exclude?.has(entry.endpoint)) {
          entry.lastUsedMs = now;
          pool.affinity.set(clientIP, entry);
          return endpoint;
        }
      }
    }
    for (let step = 0; step < pool.endpoints.length; step++) {
      const index = pool.nextIndex % pool.endpoints.length;
      pool.nextIndex = index + 1;
      const endpoint = pool.endpoints[index];
      if (!endpoint) continue;
      const id = endpointString(endpoint);
      if (exclude?.has(id)) continue;
      if (useAffinity) {
        pool.affinity.set(clientIP, { endpoint: id, lastUsedMs: now });
        if (pool.affinity.size > this.maxAffinityEntries) {
          const oldest = pool.affinity.keys().next();
          if (!oldest.done) pool.affinity.delete(oldest.value);
        }
      }
      return endpoint;
    }
    return undefined;
  }
}

/** Pool key of traffic to a Service port's ClusterIP. */
export function clusterPoolKey(serviceKey: string): string {
  return serviceKey;
}

/** Pool key of traffic arriving on a Service port's NodePort (its endpoints may differ under externalTrafficPolicy: Local). */
export function nodePortPoolKey(serviceKey: string): string {
  return `${serviceKey}@nodeport`;
}

/** The pools a table asks for: one per Service port, and one more per NodePort. */
export function poolsFromTable(table: ServiceTable): PoolSpec[] {
  const pools: PoolSpec[] = [];
  for (const entry of table.values()) {
    pools.push({ key: clusterPoolKey(entry.key), endpoints: entry.clusterEndpoints, affinityTimeoutSeconds: entry.affinityTimeoutSeconds });
    if (entry.nodePort !== undefined) pools.push({ key: nodePortPoolKey(entry.key), endpoints: entry.externalEndpoints, affinityTimeoutSeconds: entry.affinityTimeoutSeconds });
  }
  return pools;
}
