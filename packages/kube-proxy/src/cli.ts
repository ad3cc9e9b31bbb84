#!/usr/bin/env node
// kube-proxy: parse flags, connect to the API server, proxy until SIGTERM.
import { ClientConnectionError, GrpcApiClient, JsonLogger, KubeconfigError, loadClientConfig } from '@kube-lite/client';
import { FlagError, parseFlags } from './config/flags';
import { identityServiceAddress, loopbackServiceAddress } from './core/addresses';
import { ListenError } from './errors';
import { KubeProxy, type HostPort } from './kube-proxy';
import { ProxyMetrics } from './server/metrics';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const logger = new JsonLogger({ level: flags.logLevel, fields: { component: 'kube-proxy', node: flags.nodeName } });
  const connection = loadClientConfig({ kubeconfig: flags.kubeconfig, master: flags.master, token: flags.token, caFile: flags.caFile, insecure: flags.insecure });
  const client = new GrpcApiClient({ ...connection, logger });
  const observabilityAddresses = [flags.healthz, flags.metrics].filter((address): address is HostPort => address !== undefined);
  const proxy = new KubeProxy({
    client,
    nodeName: flags.nodeName,
    mode: flags.mode,
    nodePortAddresses: flags.nodePortAddresses,
    serviceAddress: flags.serviceAddressMapping === 'loopback' ? loopbackServiceAddress : identityServiceAddress,
    userspace: { udpIdleTimeoutMs: flags.udpIdleTimeoutMs, maxConnections: flags.maxConnections },
    clusterDomain: flags.clusterDomain,
    dns: flags.dns ? { ...flags.dns, upstream: flags.dnsUpstream } : undefined,
    ingress: flags.ingress ? { ...flags.ingress, ingressClassName: flags.ingressClass } : undefined,
    observabilityAddresses,
    syncPeriodMs: flags.syncPeriodMs,
    logger,
    metrics: new ProxyMetrics({ collectDefaultMetrics: true }),
  });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    void proxy.stop().finally(() => {
      client.close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  logger.info('starting', {
    server: connection.address,
    mode: flags.mode,
    nodePortAddresses: flags.nodePortAddresses,
    serviceAddress: flags.serviceAddressMapping,
    dns: flags.dns ? `${flags.dns.host}:${flags.dns.port}` : null,
    ingress: flags.ingress ? `${flags.ingress.host}:${flags.ingress.port}` : null,
  });
  await proxy.start();
}

main().catch((error: unknown) => {
  const userError = error instanceof FlagError || error instanceof KubeconfigError || error instanceof ClientConnectionError || error instanceof ListenError;
  process.stderr.write(`kube-proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(userError ? 2 : 1);
});
