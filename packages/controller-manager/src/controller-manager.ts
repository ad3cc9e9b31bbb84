// kube-controller-manager as a component: runs the selected controllers over
// shared informers, only while holding the kube-system/kube-controller-manager
// Lease when leader election is on, and serves /healthz and /metrics.
import { EventRecorder, LeaderElector, SharedInformerFactory, silentLogger, type ApiClient, type Logger } from '@kube-lite/client';
import { DEFAULT_CONTROLLER_SETTINGS, type Controller, type ControllerSettings } from './controller';
import { ControllerMetrics } from './metrics';
import { descriptorOf } from './registry';
import { serveHttp, type HttpEndpoints } from './server/http';

/** Upstream's event source names, as `kubectl describe` shows them. */
const EVENT_COMPONENTS: Record<string, string> = {
  deployment: 'deployment-controller',
  replicaset: 'replicaset-controller',
  endpoint: 'endpoint-controller',
  garbagecollector: 'garbage-collector-controller',
  namespace: 'namespace-controller',
  nodelifecycle: 'node-controller',
};

export interface LeaderElectionSettings {
  /** Run controllers only while holding the Lease (--leader-elect). */
  enabled: boolean;
  /** Lease namespace (--leader-elect-resource-namespace), kube-system by default. */
  namespace: string;
  /** Lease name (--leader-elect-resource-name), kube-controller-manager by default. */
  name: string;
  /** Unique per process: hostname plus a random suffix. */
  identity: string;
  /** --leader-elect-lease-duration. */
  leaseDurationMs: number;
  /** --leader-elect-renew-deadline. */
  renewDeadlineMs: number;
  /** --leader-elect-retry-period. */
  retryPeriodMs: number;
}

export interface ControllerManagerOptions {
  client: ApiClient;
  /** Names of the controllers to run (see resolveControllers). */
  controllers: readonly string[];
  /** Workers per controller name; the registry's defaults for the others. */
  workers?: Readonly<Record<string, number>>;
  /** Node monitor periods; upstream defaults for what is absent. */
  settings?: Partial<ControllerSettings>;
  /** Absent or disabled: controllers start at once. */
  leaderElection?: LeaderElectionSettings;
  /** Port of /healthz and /metrics (0: any free port); no HTTP server when absent. */
  httpPort?: number;
  /** Address the HTTP server binds; 0.0.0.0 by default. */
  bindAddress?: string;
  /** How long to wait for the informers' first lists before starting workers anyway (logged); 60 s by default. */
  cacheSyncTimeoutMs?: number;
  /** Called when leadership held so far is lost; the binary exits then, as upstream does. */
  onLeadershipLost?: () => void;
  logger?: Logger;
  /** Clock of the controllers; Date.now by default. */
  nowMs?: () => number;
  /** Whether prom-client's process metrics are collected; true by default. */
  defaultMetrics?: boolean;
}

export class ControllerManager {
  readonly metrics: ControllerMetrics;
  private readonly logger: Logger;
  private readonly settings: ControllerSettings;
  private http: HttpEndpoints | undefined;
  private elector: LeaderElector | undefined;
  private informers: SharedInformerFactory | undefined;
  private readonly recorders: EventRecorder[] = [];
  private running: { controller: Controller; done: Promise<void> }[] = [];
  private stopping = false;

  constructor(private readonly options: ControllerManagerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.settings = { ...DEFAULT_CONTROLLER_SETTINGS, ...options.settings };
    this.metrics = new ControllerMetrics({ defaultMetrics: options.defaultMetrics ?? true });
  }

  /** The bound HTTP port, once started with one. */
  get httpPort(): number | undefined {
    return this.http?.port;
  }

  /** The controllers currently running (empty while not leading). */
  get controllers(): readonly Controller[] {
    return this.running.map((entry) => entry.controller);
  }

  /** Serves HTTP, then campaigns for the lease (or starts the controllers at once). Resolves once started, not when stopped. */
  async start(): Promise<void> {
    if (this.options.httpPort !== undefined) {
      this.http = await serveHttp(this.metrics.registry, this.options.bindAddress ?? '0.0.0.0', this.options.httpPort, () => !this.stopping);
      this.logger.info('serving healthz and metrics', { port: this.http.port });
    }
    const election = this.options.leaderElection;
    if (election === undefined || !election.enabled) {
      this.metrics.leader.set({ name: 'kube-controller-manager' }, 1);
      await this.startControllers();
      return;
    }
    this.elector = new LeaderElector({
      client: this.options.client,
      lockNamespace: election.namespace,
      lockName: election.name,
      identity: election.identity,
      leaseDurationMs: election.leaseDurationMs,
      renewDeadlineMs: election.renewDeadlineMs,
      retryPeriodMs: election.retryPeriodMs,
      logger: this.logger,
      onStartedLeading: async () => {
        this.metrics.leader.set({ name: election.name }, 1);
        await this.startControllers();
      },
      onStoppedLeading: () => {
        this.metrics.leader.set({ name: election.name }, 0);
        if (this.stopping) return;
        this.logger.error('leader lease lost; stopping controllers', { identity: election.identity });
        void this.stopControllers().finally(() => this.options.onLeadershipLost?.());
      },
      onNewLeader: (identity) => this.logger.info('new leader observed', { leader: identity }),
    });
    void this.elector.run();
  }

  /** Stops controllers and informers, releases the lease, closes HTTP. */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    await this.stopControllers();
    await this.elector?.stop();
    await this.http?.close();
    this.logger.info('controller manager stopped');
  }

  private async startControllers(): Promise<void> {
    if (this.stopping || this.running.length > 0) return;
    const nowMs = this.options.nowMs ?? Date.now;
    const informers = new SharedInformerFactory(this.options.client, { logger: this.logger });
    this.informers = informers;
    const created: { controller: Controller; workers: number }[] = [];
    for (const name of this.options.controllers) {
      const descriptor = descriptorOf(name);
      const recorder = new EventRecorder({ client: this.options.client, component: EVENT_COMPONENTS[name] ?? `${name}-controller`, logger: this.logger, nowMs });
      this.recorders.push(recorder);
      const logger = childLogger(this.logger, { controller: name });
      const controller = descriptor.create({ client: this.options.client, informers, recorder, logger, nowMs, settings: this.settings, metrics: this.metrics });
      created.push({ controller, workers: this.options.workers?.[name] ?? descriptor.defaultWorkers });
      this.metrics.addQueueDepth(name, () => controller.queueLength());
    }
    informers.start();
    const timeoutMs = this.options.cacheSyncTimeoutMs ?? 60_000;
    if (!(await informers.waitForCacheSync(timeoutMs))) this.logger.warn('informer caches not synced in time; starting controllers anyway', { timeoutMs });
    if (this.stopping) return;
    for (const { controller, workers } of created) {
      const done = controller.run(workers).catch((error: unknown) => this.logger.error('controller stopped with an error', { controller: controller.name, error }));
      this.running.push({ controller, done });
      this.logger.info('started controller', { controller: controller.name, workers });
    }
  }

  private async stopControllers(): Promise<void> {
    const running = this.running;
    this.running = [];
    await Promise.all(running.map(({ controller }) => controller.shutdown()));
    await Promise.all(running.map(({ done }) => done));
    await this.informers?.shutdown();
    this.informers = undefined;
    await Promise.all(this.recorders.splice(0).map((recorder) => recorder.close()));
  }
}

/** A logger adding fields to every line (JsonLogger has child(); others get a wrapper). */
function childLogger(logger: Logger, fields: Record<string, unknown>): Logger {
  const withChild = logger as Logger & { child?: (fields: Record<string, unknown>) => Logger };
  if (typeof withChild.child === 'function') return withChild.child(fields);
  return {
    debug: (msg, more) => logger.debug(msg, { ...fields, ...more }),
    info: (msg, more) => logger.info(msg, { ...fields, ...more }),
    warn: (msg, more) => logger.warn(msg, { ...fields, ...more }),
    error: (msg, more) => logger.error(msg, { ...fields, ...more }),
  };
}
