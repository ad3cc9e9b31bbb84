#!/usr/bin/env node
// kube-scheduler: parse flags, connect to the API server, schedule until SIGTERM.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ClientConnectionError, GrpcApiClient, JsonLogger, KubeconfigError, loadClientConfig } from '@kube-lite/client';
import { SchedulerConfigError } from './config';
import { FlagError, parseFlags, Scheduler } from './server';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const logger = new JsonLogger({ level: flags.logLevel, fields: { component: 'kube-scheduler' } });
  // The scheduler has no --token or --ca-file flags: the kubeconfig carries both.
  const connection = loadClientConfig({ kubeconfig: flags.kubeconfig, master: flags.master, insecure: flags.insecure });
  const client = new GrpcApiClient({ ...connection, logger });
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
  logger.info('starting', { identity, server: connection.address, leaderElect: flags.config.leaderElection.leaderElect, profile: flags.config.profile.schedulerName });
  await scheduler.start();
}

main().catch((error: unknown) => {
  const userError = error instanceof FlagError || error instanceof SchedulerConfigError || error instanceof KubeconfigError || error instanceof ClientConnectionError;
  process.stderr.write(`kube-scheduler: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(userError ? 2 : 1);
});
