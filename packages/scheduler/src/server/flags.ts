// kube-scheduler's command line, with upstream's flag names where upstream
// has the flag. Values from flags win over the --config file.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { parseConfigurationText, resolveConfiguration, type SchedulerConfig } from '../config';

export interface SchedulerFlags {
  config: SchedulerConfig;
  /** Path of the kubeconfig (flag, else clientConnection.kubeconfig). */
  kubeconfig: string | undefined;
  /** API server address overriding the kubeconfig's server. */
  master: string | undefined;
  /** Plaintext gRPC, for local development and tests only. */
  insecure: boolean;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** A bad flag or config file: the message names it; the binary prints it and exits 2. */
export class FlagError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlagError';
  }
}

function parseBoolean(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new FlagError(`invalid value "${value}" for --leader-elect: use true or false`);
}

export function parseFlags(argv: readonly string[], readFile: (path: string) => string = (path) => readFileSync(path, 'utf8')): SchedulerFlags {
  const program = new Command('kube-scheduler')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .option('--config <file>', 'path to a KubeSchedulerConfiguration file (YAML or JSON)')
    .option('--kubeconfig <file>', 'path to a kubeconfig with the API server location and credentials')
    .option('--master <address>', 'the API server address (host:port or URL); overrides the kubeconfig')
    .option('--server <address>', 'alias of --master')
    .option('--leader-elect [bool]', 'run only while holding the kube-system/kube-scheduler lease (default true)', parseBoolean)
    .option('--insecure', 'plaintext connection to the API server (development only)', false)
    .option('--log-level <level>', 'debug, info, warn or error', 'info');
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof FlagError) throw error;
    if (error instanceof CommanderError) throw new FlagError(error.message.replace(/^error: /, ''), { cause: error });
    throw error;
  }
  const options = program.opts<{ config?: string; kubeconfig?: string; master?: string; server?: string; leaderElect?: boolean; insecure: boolean; logLevel: string }>();
  let config: SchedulerConfig;
  if (options.config !== undefined) {
    let text: string;
    try {
      text = readFile(options.config);
    } catch (error) {
      throw new FlagError(`--config: cannot read ${options.config}`, { cause: error });
    }
    config = resolveConfiguration(parseConfigurationText(text, options.config));
  } else {
    config = resolveConfiguration({});
  }
  if (options.leaderElect !== undefined) config.leaderElection.leaderElect = options.leaderElect;
  if (!['debug', 'info', 'warn', 'error'].includes(options.logLevel)) throw new FlagError(`invalid value "${options.logLevel}" for --log-level: use debug, info, warn or error`);
  return {
    config,
    kubeconfig: options.kubeconfig ?? config.kubeconfig,
    master: options.master ?? options.server,
    insecure: options.insecure,
    logLevel: options.logLevel as SchedulerFlags['logLevel'],
  };
}
