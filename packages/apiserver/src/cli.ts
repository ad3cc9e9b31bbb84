#!/usr/bin/env node
// kube-apiserver: parse flags, set up TLS and authentication, serve, stop on
// SIGTERM/SIGINT. Resource storage is not wired yet: the server starts with
// no resources (discovery is empty), which is enough for version, health,
// metrics and the kubeconfig.

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
} from './auth';
import { ConfigError, parseArguments, type ApiServerConfig } from './config';
import { ApiServer, Logger, type ServedResource } from './server';

export interface RunningApiServer {
  server: ApiServer;
  port: number;
  stop(): Promise<void>;
}

/** Builds and starts the server from a parsed configuration. */
export async function startApiServer(config: ApiServerConfig, resources: readonly ServedResource[], logger: Logger): Promise<RunningApiServer> {
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
  const server = new ApiServer({
    resources,
    tls: { certificatePem: certificates.serving.certificatePem, privateKeyPem: certificates.serving.privateKeyPem, clientCaPem: certificates.ca.certificatePem },
    authenticator: new UnionAuthenticator([new ClientCertificateAuthenticator(), new TokenAuthenticator(tokens.entries)]),
    authorizer: new FixedPolicyAuthorizer(),
    bindAddress: config.bindAddress,
    advertiseAddress: config.advertiseAddress,
    port: config.securePort,
    logger,
  });
  const port = await server.start();
  if (config.kubeconfigOut !== undefined) {
    const host = config.bindAddress === '0.0.0.0' || config.bindAddress === '::' ? '127.0.0.1' : config.bindAddress;
    const credentials =
      tokens.adminToken !== undefined
        ? { token: tokens.adminToken }
        : (() => {
            // The given token file has no system:masters member: give the admin a client certificate instead.
            const pair = issueCertificate(certificates.ca, { commonName: 'admin', organizations: [MASTERS_GROUP], usage: 'client' });
            return { clientCertificatePem: pair.certificatePem, clientKeyPem: pair.privateKeyPem };
          })();
    writeKubeconfig(config.kubeconfigOut, { server: `https://${host}:${port}`, caPem: certificates.ca.certificatePem, user: 'admin', ...credentials });
    logger.info('wrote admin kubeconfig', { path: config.kubeconfigOut });
  }
  return { server, port, stop: () => server.stop() };
}

export async function main(argv: readonly string[]): Promise<number> {
  let config: ApiServerConfig;
  try {
    const parsed = parseArguments(argv);
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.text);
      return 0;
    }
    config = parsed.config;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`kube-apiserver: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const logger = new Logger({ level: config.verbosity >= 4 ? 'debug' : 'info' });
  const running = await startApiServer(config, [], logger);
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      logger.info('shutting down', { signal });
      resolve();
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  await running.stop();
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`kube-apiserver: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
