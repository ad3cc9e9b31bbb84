// How a pod reaches Service ClusterIPs under the Docker runtime. Upstream, a
// pod's packets leave through its node's network namespace, where
// kube-proxy's rules catch ClusterIP traffic. Here a pod sandbox is a sibling
// container on the cluster's Docker network: its packets never pass through
// the node's container. So the runtime gives each sandbox one route, the
// service range via its node's address on that network; the node's
// kube-proxy serves the ClusterIPs there (deploy/bin/worker.sh makes the
// range local to the worker). Pure: what to run, and checks of the input.
import { RuntimeError } from '../errors';

export interface ServiceRoute {
  /** The Service ClusterIP range, e.g. 10.96.0.0/12 (the API server's --service-cluster-ip-range). */
  cidr: string;
  /** The node's address on the pod network: the next hop for the range. */
  via: string;
}

/** A service route that cannot work: a malformed range or next hop, or no node address to route through. */
export class ServiceRouteError extends RuntimeError {
  constructor(message: string) {
    super(message, 'InvalidServiceRoute');
    this.name = 'ServiceRouteError';
  }
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function isIPv4(text: string): boolean {
  const match = IPV4.exec(text);
  return match !== null && match.slice(1).every((part) => Number(part) <= 255);
}

/** Checks both parts; the range must be a network address with its prefix ("10.96.0.0/12"). */
export function serviceRoute(cidr: string, via: string | undefined): ServiceRoute {
  const [network = '', prefixText = '', ...rest] = cidr.split('/');
  const prefixLength = Number(prefixText);
  if (rest.length > 0 || !isIPv4(network) || !/^\d{1,2}$/.test(prefixText) || prefixLength > 32) {
    throw new ServiceRouteError(`service route: "${cidr}" is not an IPv4 CIDR such as 10.96.0.0/12`);
  }
  const value = network.split('.').reduce((total, part) => total * 256 + Number(part), 0);
  if (value % 2 ** (32 - prefixLength) !== 0) throw new ServiceRouteError(`service route: "${cidr}" has host bits set; use the network address of the range`);
  if (via === undefined || via === '') throw new ServiceRouteError(`service route for ${cidr}: this node has no address on the pod network to route through (the kubelet is not in a container on it)`);
  if (!isIPv4(via)) throw new ServiceRouteError(`service route for ${cidr}: next hop "${via}" is not an IPv4 address`);
  return { cidr, via };
}

/** The command run (as root, with NET_ADMIN) in a new sandbox; `replace` so a second run changes nothing. */
export function serviceRouteCommand(route: ServiceRoute): string[] {
  return ['ip', 'route', 'replace', route.cidr, 'via', route.via];
}
