// Where everything of a local cluster lives: ports, loopback addresses and
// paths, derived from the options alone so that `start-node` and `status`
// (from another shell, from the state file) see the same cluster `up` built.
//
//   etcd-N            127.0.0.1: client 2379 / 12379 / 22379, peer +1, metrics +2
//   kube-apiserver    https://127.0.0.1:6443, gRPC 6444, certs in <data-dir>/pki
//   controller-mgr    /healthz on 127.0.0.1:10252
//   worker-N          node IP 127.0.1.N, kubelet port 10250 + 10(N-1),
//                     pod IPs from 127.N.0.0/16, root dir <data-dir>/nodes/worker-N,
//                     ingress on 127.0.1.N:<ingress-port>
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
  /** Port the ingress controller of every node listens on, at that node's IP. */
  ingressPort: number;
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
  kubeconfig: string;
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
  };
  controllerManager: { address: string; port: number };
  workers: WorkerLayout[];
  files: {
    stateFile: string;
    logDirectory: string;
    tokenFile: string;
    adminKubeconfig: string;
    schedulerKubeconfig: string;
    controllerManagerKubeconfig: string;
    proxyKubeconfig: string;
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
export const LOOPBACK = '127.0.0.1';

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
}

export function planLayout(options: ClusterOptions): ClusterLayout {
  validateOptions(options);
  const dataDir = options.dataDir;
  const authDir = path.join(dataDir, 'auth');
  const certDir = path.join(dataDir, 'pki');
  const etcd = ETCD_CLIENT_PORTS.slice(0, ETCD_MEMBER_COUNT).map((clientPort, i) => ({
    name: `etcd-${i + 1}`,
    clientUrl: `http://${LOOPBACK}:${clientPort}`,
    peerUrl: `http://${LOOPBACK}:${clientPort + 1}`,
    metricsUrl: `http://${LOOPBACK}:${clientPort + 2}`,
    dataDir: path.join(dataDir, `etcd-${i + 1}`),
  }));
  const workers = Array.from({ length: options.workers }, (_, i): WorkerLayout => {
    const index = i + 1;
    const name = `worker-${index}`;
    return {
      name,
      index,
      nodeIp: `127.0.1.${index}`,
      kubeletPort: KUBELET_FIRST_PORT + KUBELET_PORT_STEP * i,
      podIpBlock: `127.${index}.0.0/16`,
      rootDir: path.join(dataDir, 'nodes', name),
      ingressPort: options.ingressPort,
      proxyHealthzPort: PROXY_HEALTHZ_PORT,
      kubeconfig: path.join(authDir, `kubelet-${name}.kubeconfig`),
    };
  });
  return {
    options,
    etcd,
    apiserver: {
      address: LOOPBACK,
      securePort: API_SECURE_PORT,
      grpcPort: API_GRPC_PORT,
      url: `https://${LOOPBACK}:${API_SECURE_PORT}`,
      certDir,
      caFile: path.join(certDir, 'ca.crt'),
    },
    controllerManager: { address: LOOPBACK, port: CONTROLLER_MANAGER_PORT },
    workers,
    files: {
      stateFile: path.join(dataDir, 'state.json'),
      logDirectory: path.join(dataDir, 'logs'),
      tokenFile: path.join(authDir, 'tokens.csv'),
      adminKubeconfig: path.join(dataDir, 'kubeconfig'),
      schedulerKubeconfig: path.join(authDir, 'kube-scheduler.kubeconfig'),
      controllerManagerKubeconfig: path.join(authDir, 'kube-controller-manager.kubeconfig'),
      proxyKubeconfig: path.join(authDir, 'kube-proxy.kubeconfig'),
    },
  };
}
