// What every pod worker shares: the runtime, the sources, probes, status and
// back-off bookkeeping. Built once by PodWorkers.
import type { Pod } from '@kube-lite/api';
import type { Clock } from '../clock';
import type { ProbeManager } from '../probes/probe-manager';
import type { ContainerRuntime } from '../runtime/runtime';
import type { ConfigMapSource, PersistentVolumeSource, SecretSource, ServiceSource } from '../sources';
import type { ClusterDnsSettings } from './dns';
import type { ServiceAddressMapper } from './service-env';
import type { StatusManager } from '../status/status-manager';
import type { CrashLoopBackOff } from './backoff';
import type { PodStartupTracker } from './startup-latency';

/** One structured log line: an event name plus fields. */
export type KubeletLogger = (event: string, fields: Record<string, unknown>) => void;

/** Something people should see about a pod (`kubectl describe`): upstream's Created, Started, Killing, BackOff, Unhealthy... */
export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** The container the event is about, when it is about one. */
  containerName?: string;
}

/** Receives pod events; the wiring turns them into Event objects. Must not throw or wait. */
export type PodEventRecorder = (pod: Pod, event: PodEvent) => void;

export interface WorkerContext {
  nodeName: string;
  hostIP: string;
  rootDirectory: string;
  runtime: ContainerRuntime;
  clock: Clock;
  probes: ProbeManager;
  status: StatusManager;
  backOff: CrashLoopBackOff;
  /** Stage stamps of starting pods, logged once per pod as PodStartupObserved. */
  startup: PodStartupTracker;
  secrets?: SecretSource;
  configMaps?: ConfigMapSource;
  persistentVolumes?: PersistentVolumeSource;
  services?: ServiceSource;
  /** --cluster-dns / --cluster-domain, for the pods' resolv.conf. */
  clusterDns: ClusterDnsSettings;
  /** Parent of memory-backed emptyDir directories (runtimes exposing host directories); /dev/shm/kube-lite by default. */
  memoryDirectory?: string;
  /** Where containers reach a ClusterIP (service environment variables). */
  serviceAddress: ServiceAddressMapper;
  nodeAllocatable: { cpuMillis: number; memoryBytes: number };
  log: KubeletLogger;
  recordEvent: PodEventRecorder;
  /** Called after a pod's containers stopped and its final status was written. */
  podTerminated: (uid: string) => Promise<void>;
}
