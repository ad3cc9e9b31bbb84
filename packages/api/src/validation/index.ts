// Validation entry points: validateObject for create, validateObjectUpdate
// for update, both dispatching on kind. Objects are expected defaulted.
import type { KubeObject } from '../types/meta';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta';
import { nameIsDNSSubdomain } from './names';
import { validatePod, validatePodUpdate } from './pod';
import {
  validateConfigMap,
  validateConfigMapUpdate,
  validateEndpoints,
  validateEvent,
  validateHorizontalPodAutoscaler,
  validateIngress,
  validateIngressClass,
  validateLease,
  validateNamespace,
  validateNode,
  validatePersistentVolume,
  validatePersistentVolumeClaim,
  validatePodDisruptionBudget,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
  validateSecret,
  validateSecretUpdate,
  validateService,
  validateServiceAccount,
  validateServiceUpdate,
} from './others';
import { validateStorageClass, validateStorageClassUpdate } from './storage';
import {
  validateCronJob,
  validateCronJobUpdate,
  validateDaemonSet,
  validateDaemonSetUpdate,
  validateDeployment,
  validateDeploymentUpdate,
  validateJob,
  validateJobUpdate,
  validateReplicaSet,
  validateReplicaSetUpdate,
  validateStatefulSet,
  validateStatefulSetUpdate,
  type CronJobValidationOptions,
} from './workloads';
import type { FieldError } from './field';

export * from './field';
export * from './names';
export { validateAnnotations, validateLabels, validateObjectMeta, validateObjectMetaUpdate, TOTAL_ANNOTATION_SIZE_LIMIT_BYTES } from './meta';
export { validatePod, validatePodSpec, validatePodTemplateSpec, validatePodUpdate, validateResourceRequirements, validateTolerations } from './pod';
export * from './workloads';
export * from './others';
export * from './storage';

export type ValidationOptions = CronJobValidationOptions;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Validator = (object: any, options: ValidationOptions) => FieldError[];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type UpdateValidator = (next: any, previous: any, options: ValidationOptions) => FieldError[];

const CREATE: Record<string, Validator> = {
  Pod: validatePod,
  Service: validateService,
  Endpoints: validateEndpoints,
  Node: validateNode,
  Namespace: validateNamespace,
  ConfigMap: validateConfigMap,
  Secret: validateSecret,
  Event: validateEvent,
  ServiceAccount: validateServiceAccount,
  PersistentVolumeClaim: validatePersistentVolumeClaim,
  PersistentVolume: validatePersistentVolume,
  Deployment: validateDeployment,
  ReplicaSet: validateReplicaSet,
  StatefulSet: validateStatefulSet,
  DaemonSet: validateDaemonSet,
  Job: validateJob,
  CronJob: validateCronJob,
  HorizontalPodAutoscaler: validateHorizontalPodAutoscaler,
  Ingress: validateIngress,
  IngressClass: validateIngressClass,
  Lease: validateLease,
  PodDisruptionBudget: validatePodDisruptionBudget,
  Role: (o) => validateRole(o, true),
  ClusterRole: (o) => validateRole(o, false),
  RoleBinding: (o) => validateRoleBinding(o, false),
  ClusterRoleBinding: (o) => validateRoleBinding(o, true),
  StorageClass: validateStorageClass,
};

const UPDATE: Record<string, UpdateValidator> = {
  Pod: validatePodUpdate,
  Service: validateServiceUpdate,
  ConfigMap: validateConfigMapUpdate,
  Secret: validateSecretUpdate,
  Deployment: validateDeploymentUpdate,
  ReplicaSet: validateReplicaSetUpdate,
  StatefulSet: validateStatefulSetUpdate,
  DaemonSet: validateDaemonSetUpdate,
  Job: validateJobUpdate,
  CronJob: validateCronJobUpdate,
  RoleBinding: (n, p) => validateRoleBindingUpdate(n, p, false),
  ClusterRoleBinding: (n, p) => validateRoleBindingUpdate(n, p, true),
  StorageClass: validateStorageClassUpdate,
};

/**
 * Validates a new object of any served kind; [] when valid. Kinds without
 * specific rules get ObjectMeta checks as namespaced DNS-subdomain names.
 */
export function validateObject(object: KubeObject, options: ValidationOptions = {}): FieldError[] {
  const validator = object.kind ? CREATE[object.kind] : undefined;
  return validator ? validator(object, options) : validateObjectMeta(object.metadata, true, nameIsDNSSubdomain);
}

/** Validates an update: the new object's own rules plus what may not change. */
export function validateObjectUpdate(next: KubeObject, previous: KubeObject, options: ValidationOptions = {}): FieldError[] {
  const kind = next.kind;
  const updater = kind ? UPDATE[kind] : undefined;
  if (updater) return updater(next, previous, options);
  return [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateObject(next, options)];
}
