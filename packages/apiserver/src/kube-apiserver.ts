// kube-apiserver composed: etcd storage, the registry of every resource with
// its watch caches, admission and allocators, and the HTTPS front end with
// TLS, token and certificate authentication and the fixed authorization
// policy, plus the gRPC front end for the components on its own port, serving
// the same registry with the same authentication and authorization.
// startKubeApiServer is what the CLI, the launcher, tests and the benchmark call.

import { join } from 'node:path';
import {
  ClientCertificateAuthenticator,
  FixedPolicyAuthorizer,
  MASTERS_GROUP,
  TokenAuthenticator,
  UnionAuthenticator,
  ensureAdminTokenFile,
  ensureCertificates,
  issueCertificate,
  loadTokenFile,
  writeKubeconfig,
  type ClusterCertificates,
} from './auth';
import type { ApiServerConfig } from './config';
import { DEFAULT_GRPC_PORT, startGrpcFrontEnd, type RunningGrpcFrontEnd } from './grpc';
import { Registry, type KubeletProxyOptions } from './registry';
import { ApiServer, Logger, type HealthCheck } from './server';
import { EtcdHealthCheck, EtcdStore } from './storage';

export interface KubeApiServerConfig extends ApiServerConfig {
  /** How pods/log, exec, attach and portforward reach kubelets (https on 10250 unless the Node says otherwise). */
  kubeletProxy?: Partial<KubeletProxyOptions>;
  /** Structured log output; a default Logger at the config's verbosity when unset. */
  logger?: Logger;
}

export interface RunningKubeApiServer {
  /** `https://host:port`. */
  url: string;
  port: number;
  /** Port of the gRPC front end (same bind address and TLS certificates as HTTPS). */
  grpcPort: number;
  /** PEM of the cluster CA (for clients' kubeconfigs). */
  caPem: string;
  certificates: ClusterCertificates;
  /** A token with system:masters rights, when the token file has one. */
  adminToken: string | undefined;
  server: ApiServer;
  registry: Registry;
  store: EtcdStore;
  /** Stops serving, ends every watch and closes the etcd connection. */
  stop(): Promise<void>;
}

/** Starts the API server on the configured etcd; resolves once it serves (system namespaces created). */
export async function startKubeApiServer(config: KubeApiServerConfig): Promise<RunningKubeApiServer> {
  if (config.etcdServers.length === 0) throw new Error('--etcd-servers: at least one etcd URL is required');
  const logger = config.logger ?? new Logger({ level: config.verbosity >= 4 ? 'debug' : 'info' });
  const store = new EtcdStore({ endpoints: config.etcdServers });
  let registry: Registry | undefined;
  let grpcFrontEnd: RunningGrpcFrontEnd | undefined;
  let server: ApiServer | undefined;
  try {
    await store.checkHealth(10_000);
    registry = await Registry.start({
      store,
      serviceClusterIpRange: config.serviceClusterIpRange.cidr,
      serviceNodePortRange: config.serviceNodePortRange,
      eventTtlSeconds: config.eventTtlSeconds ?? 3600,
      defaultNotReadyTolerationSeconds: config.defaultNotReadyTolerationSeconds ?? 300,
      defaultUnreachableTolerationSeconds: config.defaultUnreachableTolerationSeconds ?? 300,
      ...(config.kubeletProxy !== undefined ? { kubeletProxy: config.kubeletProxy } : {}),
      log: (record) => logger.warn('watch cache', { ...record }),
    });
    const certificates = ensureCertificates({
      certDir: config.certDir,
      subjectAltNames: [config.advertiseAddress, config.serviceClusterIpRange.firstIp],
    });
    const tokens =
      config.tokenAuthFile !== undefined
        ? (() => {
            const entries = loadTokenFile(config.tokenAuthFile);
            return { entries, adminToken: entries.find((entry) => entry.user.groups.includes(MASTERS_GROUP))?.token };
          })()
        : ensureAdminTokenFile(join(config.certDir, 'admin-token.csv'));
    const etcdCheck = new EtcdHealthCheck(store);
    const etcdHealth: HealthCheck = {
      name: 'etcd',
      check: async () => {
        const result = await etcdCheck.check();
        if (!result.healthy) throw new Error(result.message);
      },
    };
    const authenticator = new UnionAuthenticator([new ClientCertificateAuthenticator(), new TokenAuthenticator(tokens.entries)]);
    const authorizer = new FixedPolicyAuthorizer({ podNodeName: async (namespace, name) => nodeOfPod(registry as Registry, namespace, name) });
    const tls = { certificatePem: certificates.serving.certificatePem, privateKeyPem: certificates.serving.privateKeyPem, clientCaPem: certificates.ca.certificatePem };
    server = new ApiServer({
      resources: registry.resources,
      tls,
      authenticator,
      authorizer,
      bindAddress: config.bindAddress,
      port: config.securePort,
      logger,
      healthChecks: [etcdHealth],
      ...(config.minRequestTimeoutSeconds !== undefined ? { minRequestTimeoutSeconds: config.minRequestTimeoutSeconds } : {}),
    });
    const port = await server.start();
    await registry.bootstrap({ advertiseAddress: config.advertiseAddress, securePort: port, kubernetesServiceIp: config.serviceClusterIpRange.firstIp });
    grpcFrontEnd = await startGrpcFrontEnd({
      handlers: registry.resources,
      authenticator,
      authorizer,
      tls,
      bindAddress: config.bindAddress,
      port: config.grpcPort ?? (config.securePort === 0 ? 0 : DEFAULT_GRPC_PORT),
      logger,
      metrics: server.metrics,
      ...(config.minRequestTimeoutSeconds !== undefined ? { minRequestTimeoutSeconds: config.minRequestTimeoutSeconds } : {}),
    });
    const grpcServing = grpcFrontEnd;
    const host = config.bindAddress === '0.0.0.0' || config.bindAddress === '::' ? '127.0.0.1' : config.bindAddress;
    const url = `https://${host}:${port}`;
    if (config.kubeconfigOut !== undefined) {
      const credentials =
        tokens.adminToken !== undefined
          ? { token: tokens.adminToken }
          : (() => {
              // The token file has no system:masters member: the admin gets a client certificate instead.
              const pair = issueCertificate(certificates.ca, { commonName: 'admin', organizations: [MASTERS_GROUP], usage: 'client' });
              return { clientCertificatePem: pair.certificatePem, clientKeyPem: pair.privateKeyPem };
            })();
      writeKubeconfig(config.kubeconfigOut, { server: url, caPem: certificates.ca.certificatePem, user: 'admin', ...credentials });
      logger.info('wrote admin kubeconfig', { path: config.kubeconfigOut });
    }
    const running = registry;
    const https = server;
    return {
      url,
      port,
      grpcPort: grpcServing.port,
      caPem: certificates.ca.certificatePem,
      certificates,
      adminToken: tokens.adminToken,
      server: https,
      registry: running,
      store,
      async stop() {
        await Promise.all([grpcServing.stop(500), https.stop(500)]);
        running.stop();
        store.close();
      },
    };
  } catch (error) {
    await grpcFrontEnd?.stop(0);
    await server?.stop(0);
    registry?.stop();
    store.close();
    throw error;
  }
}

/** The node a pod is bound to, for the node authorizer (kubelets may read only their own pods' secrets). */
async function nodeOfPod(registry: Registry, namespace: string, name: string): Promise<string | undefined> {
  try {
    const pod = await registry.store('', 'pods').read(namespace, name, '0');
    return pod.spec?.nodeName || undefined;
  } catch {
    return undefined;
  }
}
