export { Scheduler, CacheSyncTimeoutError, type SchedulerOptions } from './scheduler';
export { parseFlags, FlagError, type SchedulerFlags } from './flags';
