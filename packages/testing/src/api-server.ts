// The real kube-apiserver composition, in the test's process, for the
// integration tests of the components that talk to it (controllers, kubelet).
// It is loaded from the apiserver package's sources at run time, so it works
// under jest only: those packages must not depend on the API server (they
// reach it over the wire), and it has no public entry.
import path from 'node:path';

export interface InProcessApiServer {
  /** HTTPS (kubectl's) port. */
  port: number;
  grpcPort: number;
  caPem: string;
  /** The token the server generated for system:masters, when no token file was given. */
  adminToken: string | undefined;
  stop(): Promise<void>;
}

export interface InProcessApiServerOptions {
  etcdServers: string[];
  /** Holds the server's pki/ (and whatever the test writes). */
  directory: string;
  /** Static tokens (upstream's --token-auth-file CSV); without one the server makes an admin token. */
  tokenAuthFile?: string;
  /** Where to write an admin kubeconfig. */
  kubeconfigOut?: string;
}

interface ApiServerModules {
  startKubeApiServer(config: Record<string, unknown>): Promise<InProcessApiServer>;
  parsePortRange(text: string): unknown;
  parseServiceIpRange(cidr: string): unknown;
  Logger: new (options: { level: string; write: (line: string) => void }) => unknown;
}

function loadApiServer(): ApiServerModules {
  // packages/testing/src (or dist) -> packages/apiserver/src
  const source = path.resolve(__dirname, '..', '..', 'apiserver', 'src');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const load = (file: string): Record<string, unknown> => require(path.join(source, file)) as Record<string, unknown>;
  return { ...load('kube-apiserver'), ...load('config'), ...load('server') } as unknown as ApiServerModules;
}

/** Starts the API server on 127.0.0.1 (free HTTPS and gRPC ports), its own log silenced but for errors. */
export async function startInProcessApiServer(options: InProcessApiServerOptions): Promise<InProcessApiServer> {
  const { startKubeApiServer, parsePortRange, parseServiceIpRange, Logger } = loadApiServer();
  return startKubeApiServer({
    etcdServers: options.etcdServers,
    securePort: 0,
    grpcPort: 0,
    bindAddress: '127.0.0.1',
    advertiseAddress: '127.0.0.1',
    serviceClusterIpRange: parseServiceIpRange('10.96.0.0/16'),
    serviceNodePortRange: parsePortRange('30000-32767'),
    certDir: path.join(options.directory, 'pki'),
    ...(options.tokenAuthFile === undefined ? {} : { tokenAuthFile: options.tokenAuthFile }),
    ...(options.kubeconfigOut === undefined ? {} : { kubeconfigOut: options.kubeconfigOut }),
    verbosity: 2,
    logger: new Logger({ level: 'error', write: () => undefined }),
  });
}
