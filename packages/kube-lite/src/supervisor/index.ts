// The process supervisor: spawn, readiness, state file, stop. Nothing in here
// knows about Kubernetes.
export { lastLogLines } from './log-tail';
export { identify, isAlive, readStartTicks, signalGroup, type ProcessIdentity } from './process-identity';
export { probe, type ProbeResult } from './readiness';
export { StateStore, type SupervisorState } from './state-file';
export { Supervisor, sleep, stopProcessGroup, type AbortCheck, type StopOutcome, type SupervisorOptions } from './supervisor';
export type { ComponentRecord, ComponentSpec, DesiredState, ReadinessCheck } from './types';
