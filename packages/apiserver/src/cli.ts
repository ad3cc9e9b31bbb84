#!/usr/bin/env node
// kube-apiserver: parse flags, start the composed server (etcd storage,
// registry, HTTPS and gRPC front ends), stop on SIGTERM/SIGINT.

import { ConfigError, parseArguments, type ApiServerConfig } from './config';
import { startKubeApiServer } from './kube-apiserver';
import { Logger, flushLogs } from './server';
import { EncryptionConfigError } from './storage';

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
  let running;
  try {
    running = await startKubeApiServer({ ...config, logger });
  } catch (error) {
    // A bad --encryption-provider-config is a configuration mistake like a bad flag.
    if (error instanceof EncryptionConfigError) {
      flushLogs();
      process.stderr.write(`kube-apiserver: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  logger.info('serving', { url: running.url, grpcPort: running.grpcPort });
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
      // The log lines before the failure come first.
      flushLogs();
      process.stderr.write(`kube-apiserver: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
