// The forwarding table: what every proxier (userspace or iptables), the DNS
// server and the ingress controller derive from Services and Endpoints. Pure;
// rebuilt whole on every change (level-triggered, like upstream's
// syncProxyRules), so a stale entry can never outlive its Service.
import type { Endpoints, Protocol, Service } from '@kube-lite/api';

/** A ready backend of one Service port. */
export interface ServiceEndpoint {
  ip: string;
  port: number;
  /** Node the pod runs on, when the Endpoints controller recorded it. */
  nodeName?: string;
  /** The pod's spec.hostname when it set one and its subdomain names this Service (StatefulSet-style DNS). */
  hostname?: string;
}

/** One port of one Service: the unit kube-proxy forwards (upstream's ServicePortName). */
export interface ServicePortEntry {
  /** "ns/name:portName" (portName empty for a single unnamed port), as upstream prints it. */
  key: string;
  namespace: string;
  serviceName: string;
  /** The ServicePort's name; "" when unnamed. */
  portName: string;
  protocol: Protocol;
  /** The ClusterIP, or undefined for headless and ExternalName Services (nothing to proxy). */
  clusterIP: string | undefined;
  port: number;
  /** Set for NodePort and LoadBalancer Services. */
  nodePort: number | undefined;
  /** ClientIP affinity timeout, or undefined without sessionAffinity: ClientIP. */
  affinityTimeoutSeconds: number | undefined;
  /** Ready endpoints for traffic sent to the ClusterIP (internalTrafficPolicy applied), sorted. */
  clusterEndpoints: readonly ServiceEndpoint[];
  /** Ready endpoints for traffic arriving on a NodePort (externalTrafficPolicy applied), sorted. */
  externalEndpoints: readonly ServiceEndpoint[];
}

/** Every proxied Service port by key. */
export type ServiceTable = ReadonlyMap<string, ServicePortEntry>;

/** Upstream's default for sessionAffinityConfig.clientIP.timeoutSeconds (3 hours). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;

export interface BuildTableOptions {
  /** This node's name, for the Local traffic policies; without it Local is treated as Cluster. */
  nodeName?: string;
}

export function servicePortKey(namespace: string, serviceName: string, portName: string): string {
  return `${namespace}/${serviceName}:${portName}`;
}

export function endpointString(endpoint: Pick<ServiceEndpoint, 'ip' | 'port'>): string {
  return `${endpoint.ip}:${endpoint.port}`;
}

function compareEndpoints(a: ServiceEndpoint, b: ServiceEndpoint): number {
  return a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1;
}

/** Ready endpoints of the Service port called `portName` with `protocol`, deduplicated and sorted. */
export function readyEndpoints(endpoints: Endpoints | undefined, portName: string, protocol: Protocol): ServiceEndpoint[] {
  const found = new Map<string, ServiceEndpoint>();
  for (const subset of endpoints?.subsets ?? []) {
    const port = subset.ports?.find((candidate) => (candidate.name ?? '') === portName && (candidate.protocol ?? 'TCP') === protocol);
    if (!port) continue;
    for (const address of subset.addresses ?? []) {
      const endpoint: ServiceEndpoint = { ip: address.ip, port: port.port };
      if (address.nodeName) endpoint.nodeName = address.nodeName;
      if (address.hostname) endpoint.hostname = address.hostname;
      found.set(endpointString(endpoint), endpoint);
    }
  }
  return [...found.values()].sort(compareEndpoints);
}

function objectKey(namespace: string | undefined, name: string | undefined): string {
  return `${namespace ?? 'default'}/${name ?? ''}`;
}

/** Whether a Service gets a virtual IP to proxy (not headless, not ExternalName). */
export function hasClusterIP(service: Service): boolean {
  const clusterIP = service.spec?.clusterIP;
  return service.spec?.type !== 'ExternalName' && clusterIP !== undefined && clusterIP !== '' && clusterIP !== 'None';
}

export function buildServiceTable(services: readonly Service[], endpointsList: readonly Endpoints[], options: BuildTableOptions = {}): ServiceTable {
  const endpointsByKey = new Map<string, Endpoints>();
  for (const endpoints of endpointsList) endpointsByKey.set(objectKey(endpoints.metadata?.namespace, endpoints.metadata?.name), endpoints);
  const table = new Map<string, ServicePortEntry>();
  for (const service of services) {
    if (!hasClusterIP(service)) continue;
    const spec = service.spec ?? {};
    const namespace = service.metadata?.namespace ?? 'default';
    const serviceName = service.metadata?.name ?? '';
    const endpoints = endpointsByKey.get(objectKey(namespace, serviceName));
    const affinityTimeoutSeconds = spec.sessionAffinity === 'ClientIP' ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS) : undefined;
    const hasNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    const onThisNode = (endpoint: ServiceEndpoint) => endpoint.nodeName === options.nodeName;
    for (const servicePort of spec.ports ?? []) {
      const portName = servicePort.name ?? '';
      const protocol = servicePort.protocol ?? 'TCP';
      const ready = readyEndpoints(endpoints, portName, protocol);
      const localOnly = (policy: string | undefined) => policy === 'Local' && options.nodeName !== undefined;
      const key = servicePortKey(namespace, serviceName, portName);
      table.set(key, {
        key,
        namespace,
        serviceName,
        portName,
        protocol,
        clusterIP: spec.clusterIP,
        port: servicePort.port,
        nodePort: hasNodePorts && servicePort.nodePort ? servicePort.nodePort : undefined,
        affinityTimeoutSeconds,
        clusterEndpoints: localOnly(spec.internalTrafficPolicy) ? ready.filter(onThisNode) : ready,
        externalEndpoints: localOnly(spec.externalTrafficPolicy) ? ready.filter(onThisNode) : ready,
      });
    }
  }
  return table;
}

/** What changed between two tables, for logs and for closing what went away. */
export interface TableDiff {
  added: string[];
  removed: string[];
  /** Keys whose endpoints lost members, with the endpoints ("ip:port") that left. */
  removedEndpoints: Map<string, string[]>;
}

export function diffTables(before: ServiceTable, after: ServiceTable): TableDiff {
  const diff: TableDiff = { added: [], removed: [], removedEndpoints: new Map() };
  for (const key of after.keys()) if (!before.has(key)) diff.added.push(key);
  for (const [key, entry] of before) {
    const next = after.get(key);
    if (!next) {
      diff.removed.push(key);
      continue;
    }
    const kept = new Set([...next.clusterEndpoints, ...next.externalEndpoints].map(endpointString));
    const gone = [...new Set([...entry.clusterEndpoints, ...entry.externalEndpoints].map(endpointString))].filter((endpoint) => !kept.has(endpoint));
    if (gone.length > 0) diff.removedEndpoints.set(key, gone);
  }
  return diff;
}
