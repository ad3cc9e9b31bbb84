#!/usr/bin/env node
// kube-scheduler: parse flags, connect to the API server, schedule until SIGTERM.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { GrpcApiClient, JsonLogger } from '@kube-lite/client';
import { SchedulerConfigError } from './config';
import { addressOf, FlagError, KubeconfigError, parseFlags, readKubeconfig, Scheduler, type KubeconfigConnection } from './server';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const logger = new JsonLogger({ level: flags.logLevel, fields: { component: 'kube-scheduler' } });
  const connection: Partial<KubeconfigConnection> = flags.kubeconfig ? readKubeconfig(flags.kubeconfig) : {};
  const server = flags.master ?? connection.server;
  if (!server) throw new FlagError('no API server: give --kubeconfig or --master');
  if (!flags.insecure && !connection.caPem) throw new FlagError('no cluster CA: give a --kubeconfig with certificate-authority(-data), or --insecure for a plaintext development server');
  const client = new GrpcApiClient({
    address: addressOf(server),
    token: connection.token,
    insecure: flags.insecure,
    tls: flags.insecure ? undefined : { caPem: connection.caPem ?? '', certPem: connection.clientCertificatePem, keyPem: connection.clientKeyPem },
    logger,
  });
  const identity = `${hostname()}_${randomUUID()}`;
  const scheduler = new Scheduler({ client, config: flags.config, identity, logger });
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    void scheduler.stop().finally(() => {
      client.close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  logger.info('starting', { identity, server: addressOf(server), leaderElect: flags.config.leaderElection.leaderElect, profile: flags.config.profile.schedulerName });
  await scheduler.start();
}

main().catch((error: unknown) => {
  const userError = error instanceof FlagError || error instanceof SchedulerConfigError || error instanceof KubeconfigError;
  process.stderr.write(`kube-scheduler: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(userError ? 2 : 1);
});
