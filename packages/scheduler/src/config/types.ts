// KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1), the subset
// kube-lite reads, with upstream's field names so an upstream file works.

export const CONFIG_API_VERSION = 'kubescheduler.config.k8s.io/v1';
export const CONFIG_KIND = 'KubeSchedulerConfiguration';
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';

export const EXTENSION_POINTS = ['queueSort', 'preFilter', 'filter', 'postFilter', 'preScore', 'score', 'reserve', 'bind'] as const;
export type ExtensionPoint = (typeof EXTENSION_POINTS)[number];

export interface PluginRef {
  name: string;
  /** Score weight; only meaningful under score and multiPoint. 0 or absent means 1. */
  weight?: number;
}

export interface PluginSet {
  /** Plugins added after the defaults (or replacing a default of the same name, in its place). */
  enabled?: PluginRef[];
  /** Defaults to drop; "*" drops them all. */
  disabled?: PluginRef[];
}

export type Plugins = Partial<Record<ExtensionPoint | 'multiPoint', PluginSet>>;

export interface PluginConfig {
  name: string;
  args?: unknown;
}

export interface KubeSchedulerProfile {
  /** Pods whose spec.schedulerName equals this are scheduled by this profile. */
  schedulerName?: string;
  /** Overrides the global percentageOfNodesToScore for this profile. */
  percentageOfNodesToScore?: number;
  plugins?: Plugins;
  pluginConfig?: PluginConfig[];
}

export interface LeaderElectionConfiguration {
  /** Run only while holding the lease, so several replicas can stand by. */
  leaderElect?: boolean;
  /** Go duration strings ("15s"), as upstream. */
  leaseDuration?: string;
  renewDeadline?: string;
  retryPeriod?: string;
  resourceLock?: string;
  resourceName?: string;
  resourceNamespace?: string;
}

export interface KubeSchedulerConfiguration {
  apiVersion?: string;
  kind?: string;
  /** Percent of nodes to filter before settling for the feasible ones found; 0 picks upstream's adaptive value. */
  percentageOfNodesToScore?: number;
  /** Backoff of a pod after its first failed attempt; doubles per attempt. */
  podInitialBackoffSeconds?: number;
  /** The most a pod's backoff grows to. */
  podMaxBackoffSeconds?: number;
  clientConnection?: { kubeconfig?: string; qps?: number; burst?: number; contentType?: string; acceptContentTypes?: string };
  leaderElection?: LeaderElectionConfiguration;
  profiles?: KubeSchedulerProfile[];
  /** Accepted for compatibility and ignored: kube-lite filters and scores on one thread. */
  parallelism?: number;
  enableProfiling?: boolean;
  enableContentionProfiling?: boolean;
  delayCacheUntilActive?: boolean;
  /** Scheduler extenders are not supported; a non-empty list is an error. */
  extenders?: unknown[];
}

/** One enabled plugin at one extension point, after merging with the defaults. */
export interface ResolvedPlugin {
  name: string;
  weight: number;
}

/** A profile after defaulting and merging: what the Framework is built from. */
export interface ResolvedProfile {
  schedulerName: string;
  percentageOfNodesToScore: number | undefined;
  plugins: Record<ExtensionPoint, ResolvedPlugin[]>;
  /** Plugins to add at every extension point they implement (upstream multiPoint). */
  multiPoint: ResolvedPlugin[];
  /** Per extension point, plugin names disabled explicitly ("*" for all); multiPoint does not add them back. */
  disabled: Record<ExtensionPoint, ReadonlySet<string>>;
  pluginConfig: ReadonlyMap<string, unknown>;
}

/** The whole configuration after defaulting and validation. */
export interface SchedulerConfig {
  /** 0 means adaptive (upstream's default). */
  percentageOfNodesToScore: number;
  podInitialBackoffSeconds: number;
  podMaxBackoffSeconds: number;
  kubeconfig: string | undefined;
  leaderElection: Required<LeaderElectionConfiguration>;
  profile: ResolvedProfile;
}
