export { SchedulerCore, BindConflictError, isBindConflict, type SchedulerCoreOptions, type SchedulerCounters, type SchedulerLogger, type SchedulerReporter } from './scheduler';
export { numFeasibleNodesToFind, PodPlacer, SchedulingError, MIN_FEASIBLE_NODES_TO_FIND, type ScheduleResult } from './schedule-pod';
export { newSchedulerCore, type NewSchedulerCoreOptions } from './build';
