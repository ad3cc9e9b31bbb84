// kube-apiserver composed: etcd storage, the registry of every resource with
// its watch caches, admission and allocators, and the HTTPS front end with
// TLS, token and certificate authentication and the fixed authorization
// policy, plus the gRPC front end for the components on its own port, serving
// the same registry with the same authentication and authorization.
// startKubeApiServer is what the CLI, the launcher, tests and the benchmark call.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allResources } from '@kube-lite/api';
import {
  ClientCertificateAuthenticator,
  FixedPolicyAuthorizer,
  MASTERS_GROUP,
  TokenAuthenticator,
  UnionAuthenticator,
  CertificateError,
  ensureAdminTokenFile,
  ensureCertificates,
  ensureKubeletClientCertificate,
  issueCertificate,
  loadTokenFile,
  writeKubeconfig,
  type ClusterCertificates,
} from './auth';
import type { ApiServerConfig } from './config';
import { DEFAULT_GRPC_PORT, startGrpcFrontEnd, type RunningGrpcFrontEnd } from './grpc';
import { Registry, type KubeletProxyOptions } from './registry';
import { ApiServer, Logger, type HealthCheck } from './server';
import { EncryptionTransformer, EtcdHealthCheck, EtcdStore, loadEncryptionConfig } from './storage';

export interface KubeApiServerConfig extends ApiServerConfig {
  /** How pods/log, exec, attach and portforward reach kubelets (https on 10250 unless the Node says otherwise). */
  kubeletProxy?: Partial<KubeletProxyOptions>;
  /** Structured log output; a default Logger at the config's verbosity when unset. */
  logger?: Logger;
  /**
   * Awaited once HTTPS listens and before the bootstrap (system namespaces,
   * the kubernetes Service) runs, so /readyz still says not ready; lets a
   * caller learn the port early or observe that window.
   */
  onListening?: (port: number) => void | Promise<void>;
}

/** The /readyz check that passes once the bootstrap objects exist (upstream's post-start hook of the same name). */
export const BOOTSTRAP_READY_CHECK = 'poststarthook/bootstrap-controller';

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
  const transformer = encryptionTransformer(config, logger);
  const store = new EtcdStore({ endpoints: config.etcdServers, ...(transformer !== undefined ? { transformer } : {}) });
  let registry: Registry | undefined;
  let grpcFrontEnd: RunningGrpcFrontEnd | undefined;
  let server: ApiServer | undefined;
  try {
    await store.checkHealth(10_000);
    const certificates = ensureCertificates({
      certDir: config.certDir,
      subjectAltNames: [config.advertiseAddress, config.serviceClusterIpRange.firstIp],
    });
    const kubeletClientCertificate = loadKubeletClientCertificate(config, certificates);
    registry = await Registry.start({
      store,
      serviceClusterIpRange: config.serviceClusterIpRange.cidr,
      serviceNodePortRange: config.serviceNodePortRange,
      eventTtlSeconds: config.eventTtlSeconds ?? 3600,
      defaultNotReadyTolerationSeconds: config.defaultNotReadyTolerationSeconds ?? 300,
      defaultUnreachableTolerationSeconds: config.defaultUnreachableTolerationSeconds ?? 300,
      kubeletProxy: { clientCertificate: kubeletClientCertificate, ...(config.kubeletProxy ?? {}) },
      log: (record) => logger.warn('watch cache', { ...record }),
      metricResolutionMs: (config.metricResolutionSeconds ?? 15) * 1000,
      metricsLog: (message, fields) => logger.warn(message, fields),
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
    // Clients that trust /readyz expect the default namespace and the kubernetes Service to exist.
    let bootstrapped = false;
    const bootstrapReady: HealthCheck = {
      name: BOOTSTRAP_READY_CHECK,
      check: async () => {
        if (!bootstrapped) throw new Error('the system namespaces and the kubernetes Service are not created yet');
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
      readyChecks: [bootstrapReady],
      ...(config.minRequestTimeoutSeconds !== undefined ? { minRequestTimeoutSeconds: config.minRequestTimeoutSeconds } : {}),
    });
    const port = await server.start();
    await config.onListening?.(port);
    await registry.bootstrap({ advertiseAddress: config.advertiseAddress, securePort: port, kubernetesServiceIp: config.serviceClusterIpRange.firstIp });
    bootstrapped = true;
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

/** The --encryption-provider-config transformer (EncryptionConfigError for a bad file); undefined when not configured. */
function encryptionTransformer(config: KubeApiServerConfig, logger: Logger): EncryptionTransformer | undefined {
  if (config.encryptionProviderConfig === undefined) return undefined;
  const stored = allResources().flatMap((info) => (info.storagePrefix === undefined ? [] : [{ group: info.group, resource: info.resource, storagePrefix: info.storagePrefix }]));
  const transformer = new EncryptionTransformer(loadEncryptionConfig(config.encryptionProviderConfig), stored);
  // Provider types and key names only: key material never reaches a log.
  logger.info('encryption at rest', { config: config.encryptionProviderConfig, resources: transformer.describe() });
  return transformer;
}

/** --kubelet-client-certificate/--kubelet-client-key when given, else the one issued from the cluster CA into --cert-dir. */
function loadKubeletClientCertificate(config: KubeApiServerConfig, certificates: ClusterCertificates): { certificatePem: string; privateKeyPem: string } {
  if (config.kubeletClientCertificate === undefined || config.kubeletClientKey === undefined) {
    const issued = ensureKubeletClientCertificate(config.certDir, certificates.ca);
    return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem };
  }
  try {
    return { certificatePem: readFileSync(config.kubeletClientCertificate, 'utf8'), privateKeyPem: readFileSync(config.kubeletClientKey, 'utf8') };
  } catch (cause) {
    throw new CertificateError(`--kubelet-client-certificate/--kubelet-client-key: cannot read ${config.kubeletClientCertificate} or ${config.kubeletClientKey}: ${(cause as Error).message}`, { cause });
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
