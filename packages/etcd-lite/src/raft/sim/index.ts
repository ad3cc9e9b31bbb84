export { simulate, DEFAULT_RATES } from './simulate';
export type { EventRates, SimulateOptions, SimulateResult, SimulateStats } from './simulate';
export { SafetyChecker, checkLiveness, entryKey } from './checkers';
export type { AppliedItem, ClusterView, LivenessInput, NodeView, PersistedLog, StateMachineEvent } from './checkers';
