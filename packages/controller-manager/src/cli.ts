#!/usr/bin/env node
// kube-controller-manager: parse flags, connect to the API server, run the
// controllers until SIGTERM (or until the leader lease is lost: exit 1, and
// the supervisor restarts us as a follower).
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { ClientConnectionError, GrpcApiClient, JsonLogger, KubeconfigError } from '@kube-lite/client';
import { ControllerManager } from './controller-manager';
import { clientOptionsFromFlags, FlagError, parseFlags } from './server';

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const logger = new JsonLogger({ level: flags.logLevel, fields: { component: 'kube-controller-manager' } });
  const client = new GrpcApiClient({ ...clientOptionsFromFlags(flags.connection), logger });
  const identity = `${hostname()}_${randomUUID()}`;
  const manager = new ControllerManager({
    client,
    controllers: flags.controllers,
    workers: flags.workers,
    settings: flags.settings,
    leaderElection: { ...flags.leaderElection, identity },
    ...(flags.httpPort === undefined ? {} : { httpPort: flags.httpPort }),
    bindAddress: flags.bindAddress,
    logger,
    onLeadershipLost: () => {
      client.close();
      process.exit(1);
    },
  });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    void manager.stop().finally(() => {
      client.close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  logger.info('starting', { identity, controllers: flags.controllers, leaderElect: flags.leaderElection.enabled, nodeMonitorGracePeriodMs: flags.settings.nodeMonitorGracePeriodMs });
  await manager.start();
}

main().catch((error: unknown) => {
  const userError = error instanceof FlagError || error instanceof KubeconfigError || error instanceof ClientConnectionError;
  process.stderr.write(`kube-controller-manager: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(userError ? 2 : 1);
});
