// @kube-lite/kubelet: the node agent. The machinery (pod workers, runtimes,
// probes, the kubelet HTTP API) needs no API server; Kubelet (kubelet.ts)
// wires it to one through the sources in api-sources.ts, and cli.ts is the
// `kubelet` binary.

export { systemClock, ManualClock, ManualClockRegressionError, type Clock, type TimerHandle } from './clock';
export { InMemoryObjectSource, InMemoryPodSource, InMemoryServiceSource, RecordingStatusSink, type ConfigMapSource, type PersistentVolumeSource, type PodSource, type SecretSource, type ServiceSource, type StatusSink } from './sources';
export { ContainerConfigError, VolumeSetupError } from './errors';

// Runtimes.
export type {
  ContainerConfig,
  ContainerFilter,
  ContainerRuntime,
  ContainerState,
  ContainerStats,
  ContainerResources,
  ContainerStatus as RuntimeContainerStatus,
  DnsConfig,
  PodHostsConfig,
  SandboxWarning,
  ExecOptions,
  ExecSession,
  LogOptions,
  Mount,
  MountStorage,
  PodSandbox,
  PodSandboxConfig,
  PullPolicy,
  RuntimeEvent,
  SandboxFilter,
  SandboxState,
} from './runtime/runtime';
export * as runtimeLabels from './runtime/labels';
export { AddressExhaustedError, ContainerNotFoundError, ContainerStartError, ContainerStateError, ImageNotKnownError, MountNamespaceError, RuntimeError, SandboxNotFoundError } from './runtime/errors';
export { FakeRuntime, type FakeContainerScript, type FakeExecResult, type FakeRuntimeOptions } from './runtime/fake/fake-runtime';
export { ProcessRuntime, volumeEnvName, type PodIsolation, type ProcessRuntimeOptions } from './runtime/process/process-runtime';
export { choosePodIsolation, unmountAllBelow, type HostFacts, type PodIsolationDecision, type PodMountNamespaceSetting } from './runtime/process/mount-namespace';
export { hostsFileText, resolvConfText, resolverEnvironment } from './runtime/pod-files';
export { AddressBlockError, AddressPool } from './runtime/process/address-pool';
export { builtinImages, defaultExamplesDirectory, normalizeImageName, type ImageDefinition } from './runtime/process/images';
export { DEFAULT_LOG_ROTATION, type LogRotation } from './runtime/process/log-files';
export { RuntimeStateFileError } from './runtime/process/state-file';

// Pods.
export { PodWorkers, type ContainerLookup, type PodWorkersOptions } from './pod-workers/pod-workers';
export type { PodWorkerState } from './pod-workers/pod-worker';
export type { KubeletLogger, PodEvent, PodEventRecorder } from './pod-workers/context';
export { CrashLoopBackOff, DEFAULT_BACKOFF, type BackOffOptions } from './pod-workers/backoff';
export { clusterIPAddress, serviceEnvironment, type ServiceAddressMapper } from './pod-workers/service-env';
export { DEFAULT_CLUSTER_DOMAIN, podDnsConfig, podHostsConfig, type ClusterDnsSettings, type PodDnsOutcome } from './pod-workers/dns';
export { computePodStatus, type PodObservation } from './status/compute-status';

// HTTP API.
export { KubeletServer, type ContainerLocator, type KubeletServerOptions } from './server/server';
export type { Summary } from './server/stats-summary';

// Wired to the API server.
export { ApiObjectSource, ApiStatusSink, InformerPodSource, InformerServiceSource, mergePodStatus, StatusWriteConflictError, type ApiObjectSourceOptions, type ApiStatusSinkOptions, type InformerPodSourceOptions } from './api-sources';
export { describeMachine, Kubelet, KUBELET_VERSION, NODE_LEASE_NAMESPACE, type KubeletOptions, type MachineInfo } from './kubelet';
