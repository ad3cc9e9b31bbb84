// Where everything of a local cluster lives: ports, loopback addresses and
// paths, derived from the options alone so that `start-node` and `status`
// (from another shell, from the state file) see the same cluster `up` built.
// With --port-offset P every port below moves up by P; with --subnet S the
// node IPs, pod blocks and service range move as shown, so a second cluster
// (the end-to-end test, say) can run beside one on the defaults.
//
//   etcd-N            127.0.0.1: client 2379 / 12379 / 22379, peer +1, metrics +2
//   kube-apiserver    https://127.0.0.1:6443, gRPC 6444, certs in <data-dir>/pki,
//                     Service ClusterIPs from 10.96.0.0/12 (S=2: 10.112.0.0/12, S=3: 10.128.0.0/12)
//   controller-mgr    /healthz on 127.0.0.1:10252
//   ingress           kube-proxy-ingress on 127.0.0.1:<ingress-port> (its own
//                     process, so it outlives any worker), /healthz 127.0.0.1:10256
//   worker-N          node IP 127.0.S.N, kubelet port 10250 + 10(N-1),
//                     pod IPs from 127.<N>.0.0/16 (S=2: 127.<50+N>, S=3: 127.<144+N>),
//                     root dir <data-dir>/nodes/worker-N,
//                     kube-proxy /healthz :10256, /metrics :10249, DNS :10053 and
//                     an ingress on <node IP>:<ingress-port> too. Launched as root
//                     with the process runtime, the DNS is on <node IP>:53 (not
//                     moved by the offset: a resolv.conf cannot name a port) and
//                     is the nameserver of the node's pods (kubelet --cluster-dns)
//   storage           local-path PersistentVolumes under <data-dir>/local-path (one
//                     directory per claim; every node is this machine), Secrets
//                     encrypted at rest with the key in <data-dir>/auth/encryption-config.yaml
import path from 'node:path';
import { OptionError } from '../errors';

export type RuntimeName = 'process' | 'docker';
export const RUNTIME_NAMES: readonly RuntimeName[] = ['process', 'docker'];

export interface ClusterOptions {
  /** Absolute path of the directory holding all state, logs and credentials. */
  dataDir: string;
  /** Number of worker nodes (each a kubelet and a kube-proxy). */
  workers: number;
  /** How the kubelets run containers: host processes, or Docker containers. */
  runtime: RuntimeName;
  /** Port of the cluster's ingress on 127.0.0.1 (and of every node's own ingress, at its node IP). */
  ingressPort: number;
  /** Added to every port the cluster listens on except the ingress port; 0 by default (state files written before it existed lack it). */
  portOffset?: number;
  /** Chooses the loopback addresses (node IPs 127.0.<subnet>.N, pod blocks, service range); 1 by default. */
  subnet?: number;
  /**
   * Each node's kube-proxy serves the cluster DNS on <node IP>:53, the port a
   * pod's resolv.conf implies, so process-runtime pods (given a resolv.conf of
   * their own by a root kubelet) resolve Service names. Set by `up` when run
   * as root with the process runtime (see wantsPort53ClusterDns); otherwise
   * the DNS is on 10053 + offset. Absent in older state files: false.
   */
  clusterDnsOnPort53?: boolean;
}

export interface EtcdMemberLayout {
  name: string;
  clientUrl: string;
  peerUrl: string;
  /** Serves /health and /metrics. */
  metricsUrl: string;
  dataDir: string;
}

export interface WorkerLayout {
  /** The Node's name, `worker-N`. */
  name: string;
  index: number;
  nodeIp: string;
  kubeletPort: number;
  /** The loopback block pod IPs of this node come from. */
  podIpBlock: string;
  /** The kubelet's --root-dir: runtime state, pod volumes, container logs. */
  rootDir: string;
  ingressPort: number;
  /** kube-proxy's /healthz, upstream's port on the node IP. */
  proxyHealthzPort: number;
  proxyMetricsPort: number;
  /** The cluster DNS this node's kube-proxy serves, on the node IP. */
  dnsPort: number;
  kubeconfig: string;
}

/** The cluster's front door: a kube-proxy of its own on 127.0.0.1 that runs only to serve Ingresses (and Services, like any proxy). */
export interface IngressLayout {
  address: string;
  port: number;
  healthzPort: number;
  metricsPort: number;
}

export interface ClusterLayout {
  options: ClusterOptions;
  etcd: EtcdMemberLayout[];
  apiserver: {
    address: string;
    securePort: number;
    grpcPort: number;
    url: string;
    certDir: string;
    caFile: string;
    /** --service-cluster-ip-range: where Service ClusterIPs come from. */
    serviceClusterIpRange: string;
  };
  controllerManager: {
    address: string;
    port: number;
    /** --local-path-root: where the local-path provisioner creates a directory per claim. */
    localPathRoot: string;
  };
  ingress: IngressLayout;
  workers: WorkerLayout[];
  files: {
    stateFile: string;
    logDirectory: string;
    tokenFile: string;
    adminKubeconfig: string;
    schedulerKubeconfig: string;
    controllerManagerKubeconfig: string;
    proxyKubeconfig: string;
    /** The API server's --encryption-provider-config (an EncryptionConfiguration with the cluster's key). */
    encryptionConfig: string;
  };
}

export const ETCD_MEMBER_COUNT = 3;
/** 127.0.1.N leaves room for 254 nodes; more than this many processes would not fit on one machine anyway. */
export const MAX_WORKERS = 50;
const ETCD_CLIENT_PORTS = [2379, 12379, 22379];
const API_SECURE_PORT = 6443;
const API_GRPC_PORT = 6444;
const CONTROLLER_MANAGER_PORT = 10252;
const KUBELET_FIRST_PORT = 10250;
/** Kubelet ports step by 10 so none lands on 10252 (controller manager) or 10256 (kube-proxy health). */
const KUBELET_PORT_STEP = 10;
const PROXY_HEALTHZ_PORT = 10256;
const PROXY_METRICS_PORT = 10249;
const DNS_PORT = 10053;
/** The port resolvers ask: the only one a pod's /etc/resolv.conf can name. */
const STANDARD_DNS_PORT = 53;
export const LOOPBACK = '127.0.0.1';
/**
 * The second octets of each subnet's pod blocks (worker N of subnet S gets
 * 127.<first + N - 1>.0.0/16). 127.0 holds the node IPs and 127.96-127.143
 * the loopback images of the three service ranges (see loopbackServiceAddress),
 * so subnets 1 and 2 share 127.1-127.95 and subnet 3 starts after the images.
 */
const POD_BLOCK_OCTETS: readonly { first: number; last: number }[] = [
  { first: 1, last: 50 },
  { first: 51, last: 95 },
  { first: 145, last: 194 },
];
/** The highest port the layout assigns without the offset (etcd-3's metrics). */
const HIGHEST_BASE_PORT = 22381;

export function validateOptions(options: ClusterOptions): void {
  if (!Number.isInteger(options.workers) || options.workers < 1 || options.workers > MAX_WORKERS) {
    throw new OptionError(`--workers must be a whole number from 1 to ${MAX_WORKERS}, got ${options.workers}`);
  }
  if (!RUNTIME_NAMES.includes(options.runtime)) {
    throw new OptionError(`--runtime must be one of ${RUNTIME_NAMES.join(', ')}, got "${options.runtime}"`);
  }
  if (!Number.isInteger(options.ingressPort) || options.ingressPort < 1 || options.ingressPort > 65535) {
    throw new OptionError(`--ingress-port must be a port number (1-65535), got ${options.ingressPort}`);
  }
  if (!path.isAbsolute(options.dataDir)) throw new OptionError(`the data dir must be an absolute path, got ${options.dataDir}`);
  const portOffset = options.portOffset ?? 0;
  if (!Number.isInteger(portOffset) || portOffset < 0 || HIGHEST_BASE_PORT + portOffset > 65535) {
    throw new OptionError(`--port-offset must be a whole number from 0 to ${65535 - HIGHEST_BASE_PORT}, got ${portOffset}`);
  }
  const subnet = options.subnet ?? 1;
  const maxSubnet = POD_BLOCK_OCTETS.length;
  if (!Number.isInteger(subnet) || subnet < 1 || subnet > maxSubnet) throw new OptionError(`--subnet must be a whole number from 1 to ${maxSubnet}, got ${subnet}`);
  if (options.workers > maxWorkersOf(subnet)) {
    throw new OptionError(`--subnet ${subnet} leaves room for ${maxWorkersOf(subnet)} workers (pod blocks 127.${podBlockOctet(subnet, 1)}-127.${podBlockOctet(subnet, maxWorkersOf(subnet))}), not ${options.workers}`);
  }
}

/** The Node name of the index-th worker (from 1). */
export function workerNameOf(index: number): string {
  return `worker-${index}`;
}

/** Every worker name the subnet has room for: the nodes `up` and `add-node` may ever start. */
export function possibleWorkerNames(subnet: number): string[] {
  return Array.from({ length: maxWorkersOf(subnet) }, (_, i) => workerNameOf(i + 1));
}

/** How many workers the subnet's pod blocks leave room for (the most `up --workers` and `add-node` can reach). */
export function maxWorkersOf(subnet: number): number {
  const octets = POD_BLOCK_OCTETS[subnet - 1];
  return octets === undefined ? 0 : Math.min(MAX_WORKERS, octets.last - octets.first + 1);
}

function podBlockOctet(subnet: number, workerIndex: number): number {
  const octets = POD_BLOCK_OCTETS[subnet - 1];
  if (octets === undefined) throw new Error(`bug: subnet ${subnet} was not validated`);
  return octets.first + workerIndex - 1;
}

/** Each subnet gets its own /12 of Service ClusterIPs, whose loopback images (127.96-127.143) stay clear of every pod block. */
function serviceClusterIpRange(subnet: number): string {
  return `10.${96 + 16 * (subnet - 1)}.0.0/12`;
}

/**
 * Whether `up` puts the cluster DNS on port 53: only a root kubelet can give
 * process-runtime pods a resolv.conf of their own (a mount namespace each),
 * and only root can listen on port 53. Docker-runtime pods have their own
 * network and resolver; the node IP is not theirs to ask.
 */
export function wantsPort53ClusterDns(runtime: RuntimeName, platform: NodeJS.Platform, uid: number | undefined): boolean {
  return runtime === 'process' && platform === 'linux' && uid === 0;
}

export function planLayout(options: ClusterOptions): ClusterLayout {
  validateOptions(options);
  const dataDir = options.dataDir;
  const offset = options.portOffset ?? 0;
  const subnet = options.subnet ?? 1;
  const authDir = path.join(dataDir, 'auth');
  const certDir = path.join(dataDir, 'pki');
  const etcd = ETCD_CLIENT_PORTS.slice(0, ETCD_MEMBER_COUNT).map((basePort, i) => ({
    name: `etcd-${i + 1}`,
    clientUrl: `http://${LOOPBACK}:${basePort + offset}`,
    peerUrl: `http://${LOOPBACK}:${basePort + offset + 1}`,
    metricsUrl: `http://${LOOPBACK}:${basePort + offset + 2}`,
    dataDir: path.join(dataDir, `etcd-${i + 1}`),
  }));
  const workers = Array.from({ length: options.workers }, (_, i): WorkerLayout => {
    const index = i + 1;
    const name = workerNameOf(index);
    return {
      name,
      index,
      nodeIp: `127.0.${subnet}.${index}`,
      kubeletPort: KUBELET_FIRST_PORT + KUBELET_PORT_STEP * i + offset,
      podIpBlock: `127.${podBlockOctet(subnet, index)}.0.0/16`,
      rootDir: path.join(dataDir, 'nodes', name),
      ingressPort: options.ingressPort,
      proxyHealthzPort: PROXY_HEALTHZ_PORT + offset,
      proxyMetricsPort: PROXY_METRICS_PORT + offset,
      dnsPort: options.clusterDnsOnPort53 === true ? STANDARD_DNS_PORT : DNS_PORT + offset,
      kubeconfig: path.join(authDir, `kubelet-${name}.kubeconfig`),
    };
  });
  return {
    options,
    etcd,
    apiserver: {
      address: LOOPBACK,
      securePort: API_SECURE_PORT + offset,
      grpcPort: API_GRPC_PORT + offset,
      url: `https://${LOOPBACK}:${API_SECURE_PORT + offset}`,
      certDir,
      caFile: path.join(certDir, 'ca.crt'),
      serviceClusterIpRange: serviceClusterIpRange(subnet),
    },
    controllerManager: { address: LOOPBACK, port: CONTROLLER_MANAGER_PORT + offset, localPathRoot: path.join(dataDir, 'local-path') },
    ingress: { address: LOOPBACK, port: options.ingressPort, healthzPort: PROXY_HEALTHZ_PORT + offset, metricsPort: PROXY_METRICS_PORT + offset },
    workers,
    files: {
      stateFile: path.join(dataDir, 'state.json'),
      logDirectory: path.join(dataDir, 'logs'),
      tokenFile: path.join(authDir, 'tokens.csv'),
      adminKubeconfig: path.join(dataDir, 'kubeconfig'),
      schedulerKubeconfig: path.join(authDir, 'kube-scheduler.kubeconfig'),
      controllerManagerKubeconfig: path.join(authDir, 'kube-controller-manager.kubeconfig'),
      proxyKubeconfig: path.join(authDir, 'kube-proxy.kubeconfig'),
      encryptionConfig: path.join(authDir, 'encryption-config.yaml'),
    },
  };
}
