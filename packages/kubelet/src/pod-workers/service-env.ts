// Service discovery through the environment, as upstream's kubelet does it:
// every container learns the Services of its namespace that exist when it
// starts (unless the pod sets enableServiceLinks: false), and always the
// `kubernetes` Service of the default namespace, as
//
//   <NAME>_SERVICE_HOST=<address>          <NAME>_SERVICE_PORT=<first port>
//   <NAME>_SERVICE_PORT_<PORT NAME>=<port> (named ports)
//   <NAME>_PORT=tcp://<address>:<first port>            (docker links)
//   <NAME>_PORT_<port>_<PROTO>=tcp://<address>:<port>, ..._PROTO, ..._PORT, ..._ADDR
//
// where NAME is the Service name upper-cased with '-' as '_'. The address is
// what the runtime's containers can reach: the ClusterIP itself under Docker,
// its loopback image (10.96.a.b -> 127.96.a.b) under the process runtime,
// where kube-proxy serves it (see loopbackServiceAddress in @kube-lite/api).
import type { Service } from '@kube-lite/api';

/** The Service of the default namespace every pod learns about, whatever enableServiceLinks says. */
const MASTER_SERVICE = { namespace: 'default', name: 'kubernetes' };

/** How a container reaches a ClusterIP; undefined to leave the Service out. */
export type ServiceAddressMapper = (clusterIP: string) => string | undefined;

export const clusterIPAddress: ServiceAddressMapper = (clusterIP) => clusterIP;

export interface ServiceEnvOptions {
  /** The pod's namespace. */
  namespace: string;
  /** spec.enableServiceLinks; true when absent, as upstream defaults it. */
  enableServiceLinks: boolean;
  /** Where the container reaches a ClusterIP. */
  serviceAddress: ServiceAddressMapper;
}

function envName(serviceOrPortName: string): string {
  return serviceOrPortName.toUpperCase().replace(/-/g, '_');
}

/** Headless ("None") and not yet allocated ("") ClusterIPs give no variables. */
function hasClusterIP(service: Service): boolean {
  const clusterIP = service.spec?.clusterIP ?? '';
  return clusterIP !== '' && clusterIP !== 'None';
}

/** The Services whose variables a pod of `namespace` gets, by name (a namespace's own `kubernetes` Service wins over the master one). */
export function servicesForPod(services: readonly Service[], options: Pick<ServiceEnvOptions, 'namespace' | 'enableServiceLinks'>): Service[] {
  const byName = new Map<string, Service>();
  for (const service of services) {
    if (!hasClusterIP(service) || service.spec?.type === 'ExternalName') continue;
    const name = service.metadata?.name ?? '';
    const namespace = service.metadata?.namespace ?? 'default';
    const isMaster = namespace === MASTER_SERVICE.namespace && name === MASTER_SERVICE.name;
    const isLocal = namespace === options.namespace && options.enableServiceLinks;
    if (isLocal) byName.set(name, service);
    else if (isMaster && !byName.has(name)) byName.set(name, service);
  }
  return [...byName.values()].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** The variables of one Service, in upstream's order. */
export function serviceVariables(service: Service, serviceAddress: ServiceAddressMapper): [string, string][] {
  const ports = service.spec?.ports ?? [];
  const address = serviceAddress(service.spec?.clusterIP ?? '');
  const firstPort = ports[0];
  if (address === undefined || firstPort === undefined) return [];
  const prefix = envName(service.metadata?.name ?? '');
  const variables: [string, string][] = [
    [`${prefix}_SERVICE_HOST`, address],
    [`${prefix}_SERVICE_PORT`, String(firstPort.port)],
  ];
  for (const port of ports) if (port.name) variables.push([`${prefix}_SERVICE_PORT_${envName(port.name)}`, String(port.port)]);
  ports.forEach((port, index) => {
    const protocol = (port.protocol ?? 'TCP').toLowerCase();
    const url = `${protocol}://${address}:${port.port}`;
    // Docker's links name the first port once more without its number.
    if (index === 0) variables.push([`${prefix}_PORT`, url]);
    const portPrefix = `${prefix}_PORT_${port.port}_${protocol.toUpperCase()}`;
    variables.push([portPrefix, url], [`${portPrefix}_PROTO`, protocol], [`${portPrefix}_PORT`, String(port.port)], [`${portPrefix}_ADDR`, address]);
  });
  return variables;
}

/** Every service variable a container of the pod gets, before its own env (which wins). */
export function serviceEnvironment(services: readonly Service[], options: ServiceEnvOptions): Map<string, string> {
  const variables = new Map<string, string>();
  for (const service of servicesForPod(services, options)) for (const [name, value] of serviceVariables(service, options.serviceAddress)) variables.set(name, value);
  return variables;
}
