// Assembles snapshot, framework, queue and loop from a configuration: the
// one place that knows how the pure parts fit together.
import { defaultConfiguration, type SchedulerConfig } from '../config';
import { Framework, type PodBinder, type Registry, type ServiceLister, type VolumeAccess } from '../framework';
import { inTreeRegistry } from '../plugins';
import { SchedulingQueue, type SchedulingQueueOptions } from '../queue';
import { ClusterSnapshot } from '../snapshot';
import { SchedulerCore, type SchedulerLogger, type SchedulerReporter } from './scheduler';

export interface NewSchedulerCoreOptions {
  /** Defaults to defaultConfiguration(). */
  config?: SchedulerConfig;
  /** Defaults to the in-tree plugins. */
  registry?: Registry;
  binder: PodBinder;
  services?: ServiceLister;
  /** Claims, volumes and classes for VolumeBinding; pods with claims are unschedulable without it. */
  volumes?: VolumeAccess;
  reporter?: SchedulerReporter;
  logger?: SchedulerLogger;
  /** Defaults to Date.now. */
  nowMs?: () => number;
  random?: () => number;
  /** Queue settings beyond the configuration's backoff (flush periods, bounds). */
  queue?: Partial<Omit<SchedulingQueueOptions, 'less' | 'nowMs' | 'eventsByPlugin'>>;
  maxInFlightBinds?: number;
}

export function newSchedulerCore(options: NewSchedulerCoreOptions): { core: SchedulerCore; framework: Framework; snapshot: ClusterSnapshot; queue: SchedulingQueue } {
  const config = options.config ?? defaultConfiguration();
  const snapshot = new ClusterSnapshot();
  const framework = new Framework(config.profile, options.registry ?? inTreeRegistry(), { snapshot, binder: options.binder, services: options.services, volumes: options.volumes });
  const queue = new SchedulingQueue({
    podInitialBackoffMs: config.podInitialBackoffSeconds * 1000,
    podMaxBackoffMs: config.podMaxBackoffSeconds * 1000,
    ...options.queue,
    less: (a, b) => framework.less(a, b),
    nowMs: options.nowMs ?? Date.now,
  });
  const core = new SchedulerCore({
    framework,
    snapshot,
    queue,
    percentageOfNodesToScore: config.percentageOfNodesToScore,
    random: options.random,
    reporter: options.reporter,
    logger: options.logger,
    maxInFlightBinds: options.maxInFlightBinds,
  });
  return { core, framework, snapshot, queue };
}
