export { Scheduler, CacheSyncTimeoutError, type SchedulerOptions } from './scheduler';
export { parseFlags, FlagError, type SchedulerFlags } from './flags';
export { addressOf, parseKubeconfig, readKubeconfig, KubeconfigError, type KubeconfigConnection } from './kubeconfig';
