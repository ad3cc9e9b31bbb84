#!/usr/bin/env node
// etcd-lite: parse etcd's flags, start the member and its metrics endpoint,
// run until SIGTERM/SIGINT (or until the member stops on its own), then shut
// down cleanly.

import { ConfigError, HelpRequested, parseEtcdFlags, type EtcdLiteConfig, type LogLevelFlag } from './config';
import { Logger, Metrics, startMetricsServer, type LogLevel, type MetricsServer } from './observability';
import { EtcdServer } from './server/etcd-server';

/** Exit code of a bad flag, as etcd uses for flag errors. */
const EXIT_CONFIG_ERROR = 2;
const EXIT_FAILURE = 1;

function logLevelOf(flag: LogLevelFlag): LogLevel {
  return flag === 'panic' || flag === 'fatal' ? 'error' : flag;
}

function parseFlags(): EtcdLiteConfig {
  try {
    return parseEtcdFlags(process.argv.slice(2));
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(error.text);
      process.exit(0);
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`etcd-lite: ${error.message}\n`);
      process.exit(EXIT_CONFIG_ERROR);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = parseFlags();
  const logger = new Logger({ component: 'etcd-lite', level: logLevelOf(config.logLevel), fields: { member: config.name } });
  for (const warning of config.warnings) logger.warn(warning);
  process.on('unhandledRejection', (reason) => logger.error('unhandled promise rejection', { error: reason }));

  const metrics = new Metrics();
  let server: EtcdServer;
  try {
    server = await EtcdServer.start({ config, logger, metrics });
  } catch (error) {
    logger.error('failed to start', { error });
    process.exit(EXIT_FAILURE);
  }
  let metricsServer: MetricsServer | undefined;
  try {
    if (config.listenMetricsUrls.length > 0) {
      metricsServer = await startMetricsServer(config.listenMetricsUrls, { metrics, hasLeader: () => server.leaderId !== 0, logger });
    }
  } catch (error) {
    logger.error('failed to serve metrics', { error });
    await server.stop().catch(() => undefined);
    process.exit(EXIT_FAILURE);
  }

  let shuttingDown = false;
  const shutdown = async (reason: string, exitCode: number): Promise<void> => {
    if (shuttingDown) return;
    shuttingDown = true;
    logger.info('shutting down', { reason });
    let code = exitCode;
    await metricsServer?.close().catch(() => undefined);
    await server.stop().catch((error: unknown) => {
      logger.error('unclean shutdown', { error });
      code = EXIT_FAILURE;
    });
    process.exit(code);
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => void shutdown(signal, 0));
  server.done.then(
    () => void shutdown('stopped', 0),
    (error: unknown) => void shutdown(error instanceof Error ? error.message : String(error), EXIT_FAILURE),
  );
}

void main();
