// kube-controller-manager's command line, with upstream's flag names (and
// defaults) where upstream has the flag.
import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_CONTROLLER_SETTINGS, type ControllerSettings } from '../controller';
import type { LeaderElectionSettings } from '../controller-manager';
import { CONTROLLER_DESCRIPTORS, resolveControllers, UnknownControllerError } from '../registry';

export interface ConnectionFlags {
  /** --kubeconfig: server, CA and credentials. */
  kubeconfig: string | undefined;
  /** --master / --server: the API server's gRPC address (host:port or URL); wins over the kubeconfig's server. */
  master: string | undefined;
  /** --token: bearer token; wins over the kubeconfig's. */
  token: string | undefined;
  /** --ca-file: cluster CA PEM file; wins over the kubeconfig's. */
  caFile: string | undefined;
  /** --apiserver-grpc-port: replaces the port of the server address (the kubeconfig names the HTTPS port). */
  apiserverGrpcPort: number | undefined;
  /** --insecure: plaintext gRPC, development only. */
  insecure: boolean;
}

export interface ControllerManagerFlags {
  connection: ConnectionFlags;
  /** Enabled controller names. */
  controllers: string[];
  /** Workers per controller, from the --concurrent-*-syncs flags. */
  workers: Record<string, number>;
  leaderElection: Omit<LeaderElectionSettings, 'identity'>;
  settings: ControllerSettings;
  /** --port: /healthz and /metrics over HTTP; undefined when 0 (disabled). */
  httpPort: number | undefined;
  bindAddress: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/** A bad flag: the message names it and what is allowed; the binary prints it and exits 2. */
export class FlagError extends Error {
  override readonly name = 'FlagError';
}

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A Go duration ("40s", "1m30s", "500ms") in ms; FlagError naming `flag` when malformed. */
export function parseDurationMs(text: string, flag: string): number {
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * (DURATION_UNITS_MS[match[2] ?? 's'] ?? 1000);
    consumed = pattern.lastIndex;
  }
  if (text === '' || consumed !== text.length) throw new FlagError(`invalid value "${text}" for --${flag}: use a duration such as 40s, 1m30s or 500ms`);
  return total;
}

function parseCount(flag: string, minimum: number): (value: string) => number {
  return (value) => {
    const count = Number(value);
    if (!Number.isInteger(count) || count < minimum) throw new FlagError(`invalid value "${value}" for --${flag}: use an integer >= ${minimum}`);
    return count;
  };
}

function parseBoolean(value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new FlagError(`invalid value "${value}" for --leader-elect: use true or false`);
}

export function parseFlags(argv: readonly string[]): ControllerManagerFlags {
  const program = new Command('kube-controller-manager')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined })
    .option('--kubeconfig <file>', 'kubeconfig with the API server location and credentials')
    .option('--master <address>', "the API server's gRPC address (host:port or URL); overrides the kubeconfig")
    .option('--server <address>', 'alias of --master')
    .option('--token <token>', 'bearer token for the API server; overrides the kubeconfig')
    .option('--ca-file <file>', 'PEM file of the cluster CA; overrides the kubeconfig')
    .option('--apiserver-grpc-port <port>', 'gRPC port of the API server, replacing the port of the kubeconfig or --master address', parseCount('apiserver-grpc-port', 1))
    .option('--insecure', 'plaintext gRPC to the API server (development only)', false)
    .option('--controllers <list>', `controllers to run: "*" for all, "name" to enable, "-name" to disable (known: ${CONTROLLER_DESCRIPTORS.map((d) => d.name).join(', ')})`, '*')
    .option('--leader-elect [bool]', 'run controllers only while holding the leader lease', parseBoolean, true)
    .option('--leader-elect-lease-duration <duration>', 'how long non-leaders wait before taking over', '15s')
    .option('--leader-elect-renew-deadline <duration>', 'how long the leader tries to renew before giving up', '10s')
    .option('--leader-elect-retry-period <duration>', 'interval between acquire or renew attempts', '2s')
    .option('--leader-elect-resource-namespace <namespace>', 'namespace of the leader Lease', 'kube-system')
    .option('--leader-elect-resource-name <name>', 'name of the leader Lease', 'kube-controller-manager')
    .option('--node-monitor-grace-period <duration>', 'how long a node may go without renewing its Lease before it is marked Ready=Unknown', '40s')
    .option('--node-monitor-period <duration>', 'how often node health is checked', '5s')
    .option('--horizontal-pod-autoscaler-sync-period <duration>', 'how often every HorizontalPodAutoscaler is reconciled', '15s')
    .option('--horizontal-pod-autoscaler-tolerance <fraction>', 'usage ratios within this fraction of 1 do not change the replica count', parseTolerance, 0.1)
    .option('--horizontal-pod-autoscaler-downscale-stabilization <duration>', 'scale down only to the highest recommendation of this window', '5m0s')
    .option('--horizontal-pod-autoscaler-cpu-initialization-period <duration>', 'after a pod starts, CPU samples count only when taken a window after readiness', '5m0s')
    .option('--horizontal-pod-autoscaler-initial-readiness-delay <duration>', 'unready pods never ready within this long of their start are left out of CPU figures', '30s')
    .option('--local-path-root <dir>', 'absolute directory on each node under which the local-path provisioner creates volumes', DEFAULT_CONTROLLER_SETTINGS.localPathRoot)
    .option('--port <port>', 'HTTP port of /healthz and /metrics (0 disables)', parseCount('port', 0), 10252)
    .option('--bind-address <address>', 'address of the HTTP server', '0.0.0.0')
    .addOption(new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error']).default('info'));
  for (const descriptor of CONTROLLER_DESCRIPTORS) {
    if (descriptor.concurrencyFlag === undefined) continue;
    program.option(`--${descriptor.concurrencyFlag} <count>`, `workers of the ${descriptor.name} controller`, parseCount(descriptor.concurrencyFlag, 1), descriptor.defaultWorkers);
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof FlagError) throw error;
    if (error instanceof CommanderError) throw new FlagError(error.message.replace(/^error: /, ''), { cause: error });
    throw error;
  }
  const options = program.opts<Record<string, unknown>>();
  let controllers: string[];
  try {
    controllers = resolveControllers(String(options['controllers']).split(','));
  } catch (error) {
    if (error instanceof UnknownControllerError) throw new FlagError(error.message, { cause: error });
    throw error;
  }
  const workers: Record<string, number> = {};
  for (const descriptor of CONTROLLER_DESCRIPTORS) {
    if (descriptor.concurrencyFlag === undefined) continue;
    workers[descriptor.name] = options[camel(descriptor.concurrencyFlag)] as number;
  }
  const duration = (flag: string): number => parseDurationMs(String(options[camel(flag)]), flag);
  const port = options['port'] as number;
  return {
    connection: {
      kubeconfig: options['kubeconfig'] as string | undefined,
      master: (options['master'] ?? options['server']) as string | undefined,
      token: options['token'] as string | undefined,
      caFile: options['caFile'] as string | undefined,
      apiserverGrpcPort: options['apiserverGrpcPort'] as number | undefined,
      insecure: options['insecure'] === true,
    },
    controllers,
    workers,
    leaderElection: {
      enabled: options['leaderElect'] === true,
      namespace: String(options['leaderElectResourceNamespace']),
      name: String(options['leaderElectResourceName']),
      leaseDurationMs: duration('leader-elect-lease-duration'),
      renewDeadlineMs: duration('leader-elect-renew-deadline'),
      retryPeriodMs: duration('leader-elect-retry-period'),
    },
    settings: { ...horizontalPodAutoscalerSettings(duration, options), nodeMonitorGracePeriodMs: duration('node-monitor-grace-period'), nodeMonitorPeriodMs: duration('node-monitor-period'), localPathRoot: localPathRoot(String(options['localPathRoot'])) },
    httpPort: port === 0 ? undefined : port,
    bindAddress: String(options['bindAddress']),
    logLevel: options['logLevel'] as ControllerManagerFlags['logLevel'],
  };
}

/** --local-path-root names a directory on every node, so it must not depend on where the manager runs. */
function localPathRoot(value: string): string {
  if (!value.startsWith('/')) throw new FlagError(`invalid value "${value}" for --local-path-root: use an absolute path such as /var/lib/kube-lite/local-path`);
  return value;
}

function parseTolerance(value: string): number {
  const tolerance = Number(value);
  if (value.trim() === '' || !Number.isFinite(tolerance) || tolerance < 0) throw new FlagError(`invalid value "${value}" for --horizontal-pod-autoscaler-tolerance: use a fraction such as 0.1`);
  return tolerance;
}

/** The --horizontal-pod-autoscaler-* flags. */
function horizontalPodAutoscalerSettings(duration: (flag: string) => number, options: Record<string, unknown>): Partial<ControllerSettings> {
  return {
    horizontalPodAutoscalerSyncPeriodMs: duration('horizontal-pod-autoscaler-sync-period'),
    horizontalPodAutoscalerTolerance: options['horizontalPodAutoscalerTolerance'] as number,
    horizontalPodAutoscalerDownscaleStabilizationMs: duration('horizontal-pod-autoscaler-downscale-stabilization'),
    horizontalPodAutoscalerCpuInitializationPeriodMs: duration('horizontal-pod-autoscaler-cpu-initialization-period'),
    horizontalPodAutoscalerInitialReadinessDelayMs: duration('horizontal-pod-autoscaler-initial-readiness-delay'),
  };
}

function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
}
