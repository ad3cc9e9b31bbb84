// Upstream defaulting for every served kind: applyDefaults returns a defaulted
// deep copy; the per-kind functions mutate what they are given.
import { deepCopy } from '../deepcopy';
import type { KubeObject } from '../types/meta';
import { defaultPod } from './pod';
import { defaultCronJob, defaultDaemonSet, defaultDeployment, defaultJob, defaultReplicaSet, defaultStatefulSet } from './workloads';
import {
  defaultEndpoints,
  defaultHorizontalPodAutoscaler,
  defaultNamespace,
  defaultNode,
  defaultPersistentVolume,
  defaultPersistentVolumeClaim,
  defaultRoleBinding,
  defaultSecret,
  defaultService,
} from './others';
import { defaultStorageClass } from './storage';

export { addDefaultTolerations, defaultImagePullPolicy, defaultPod, defaultPodSpec, imageTag, NOT_READY_TAINT_KEY, UNREACHABLE_TAINT_KEY } from './pod';
export * from './workloads';
export * from './others';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const DEFAULTERS: Record<string, (object: any) => void> = {
  Pod: defaultPod,
  Service: defaultService,
  Endpoints: defaultEndpoints,
  Node: defaultNode,
  Namespace: defaultNamespace,
  Secret: defaultSecret,
  PersistentVolumeClaim: defaultPersistentVolumeClaim,
  PersistentVolume: defaultPersistentVolume,
  Deployment: defaultDeployment,
  ReplicaSet: defaultReplicaSet,
  StatefulSet: defaultStatefulSet,
  DaemonSet: defaultDaemonSet,
  Job: defaultJob,
  CronJob: defaultCronJob,
  HorizontalPodAutoscaler: defaultHorizontalPodAutoscaler,
  RoleBinding: defaultRoleBinding,
  ClusterRoleBinding: defaultRoleBinding,
  StorageClass: defaultStorageClass,
};

/** A deep copy of `object` with upstream's defaults for its kind applied; unknown kinds are copied unchanged. */
export function applyDefaults<T extends KubeObject>(object: T): T {
  const copy = deepCopy(object);
  const defaulter = object.kind ? DEFAULTERS[object.kind] : undefined;
  if (defaulter) defaulter(copy);
  return copy;
}
