// @kube-lite/kube-lite: the launcher as a library (what the CLI and the
// end-to-end tests use). The process supervisor is exported for other tools
// that run components as processes.
export { LocalCluster, type ClusterRecord, type ClusterStatus, type ComponentStatus, type LocalClusterOptions } from './cluster/local-cluster';
export { planLayout, type ClusterLayout, type ClusterOptions, type RuntimeName, type WorkerLayout } from './cluster/layout';
export { clusterComponents, resolveArguments, type BinaryName, type ComponentDefinition, type FlagArgument } from './components';
export { runUp, type UpOptions } from './commands/up';
export { formatStatus } from './commands/status';
export * from './errors';
export { StateStore, Supervisor, stopProcessGroup, type ComponentRecord, type ComponentSpec, type ReadinessCheck, type SupervisorOptions } from './supervisor';
