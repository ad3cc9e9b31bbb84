export { defaultConfiguration, mergePluginSet, parseConfigurationText, resolveConfiguration, SchedulerConfigError, validateConfiguration } from './load';
export { defaultPlugins, DEFAULT_POD_INITIAL_BACKOFF_SECONDS, DEFAULT_POD_MAX_BACKOFF_SECONDS } from './defaults';
export {
  CONFIG_API_VERSION,
  CONFIG_KIND,
  DEFAULT_SCHEDULER_NAME,
  EXTENSION_POINTS,
  type ExtensionPoint,
  type KubeSchedulerConfiguration,
  type KubeSchedulerProfile,
  type LeaderElectionConfiguration,
  type PluginConfig,
  type PluginRef,
  type PluginSet,
  type Plugins,
  type ResolvedPlugin,
  type ResolvedProfile,
  type SchedulerConfig,
} from './types';
export { parseDurationMs, tryParseDurationMs } from './duration';
