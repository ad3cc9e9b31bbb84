// Smaller groups: coordination.k8s.io/v1 Lease, policy/v1 Eviction and
// PodDisruptionBudget, rbac.authorization.k8s.io/v1, metrics.k8s.io/v1beta1.
import type { Condition, DeleteOptions, KubeList, LabelSelector, MicroTime, ObjectMeta, Time, TypeMeta } from './meta';
import type { ResourceList } from './core';
import type { IntOrString } from '../intstr';

// ---- coordination.k8s.io/v1 ----

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: MicroTime;
  renewTime?: MicroTime;
  leaseTransitions?: number;
  strategy?: string;
  preferredHolder?: string;
}

export interface Lease extends TypeMeta {
  metadata?: ObjectMeta;
  spec?: LeaseSpec;
}
export type LeaseList = KubeList<Lease>;

// ---- policy/v1 ----

/** The body of POST pods/<name>/eviction. */
export interface Eviction extends TypeMeta {
  metadata?: ObjectMeta;
  deleteOptions?: DeleteOptions;
}

export interface PodDisruptionBudgetSpec {
  minAvailable?: IntOrString;
  selector?: LabelSelector;
  maxUnavailable?: IntOrString;
  unhealthyPodEvictionPolicy?: 'IfHealthyBudget' | 'AlwaysAllow';
}

export interface PodDisruptionBudgetStatus {
  observedGeneration?: number;
  disruptedPods?: Record<string, Time>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions?: Condition[];
}

export interface PodDisruptionBudget extends TypeMeta {
  metadata?: ObjectMeta;
  spec?: PodDisruptionBudgetSpec;
  status?: PodDisruptionBudgetStatus;
}
export type PodDisruptionBudgetList = KubeList<PodDisruptionBudget>;

// ---- rbac.authorization.k8s.io/v1 ----

export interface PolicyRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount' | string;
  apiGroup?: string;
  name: string;
  namespace?: string;
}

export interface RoleRef {
  apiGroup: string;
  kind: 'Role' | 'ClusterRole' | string;
  name: string;
}

export interface Role extends TypeMeta {
  metadata?: ObjectMeta;
  rules?: PolicyRule[];
}
export type RoleList = KubeList<Role>;

export interface ClusterRole extends TypeMeta {
  metadata?: ObjectMeta;
  rules?: PolicyRule[];
  aggregationRule?: { clusterRoleSelectors?: LabelSelector[] };
}
export type ClusterRoleList = KubeList<ClusterRole>;

export interface RoleBinding extends TypeMeta {
  metadata?: ObjectMeta;
  subjects?: Subject[];
  roleRef: RoleRef;
}
export type RoleBindingList = KubeList<RoleBinding>;

export type ClusterRoleBinding = RoleBinding;
export type ClusterRoleBindingList = KubeList<ClusterRoleBinding>;

// ---- metrics.k8s.io/v1beta1 ----

export interface ContainerMetrics {
  name: string;
  usage: ResourceList;
}

export interface PodMetrics extends TypeMeta {
  metadata?: ObjectMeta;
  timestamp: Time;
  window: string;
  containers: ContainerMetrics[];
}
export type PodMetricsList = KubeList<PodMetrics>;

export interface NodeMetrics extends TypeMeta {
  metadata?: ObjectMeta;
  timestamp: Time;
  window: string;
  usage: ResourceList;
}
export type NodeMetricsList = KubeList<NodeMetrics>;
