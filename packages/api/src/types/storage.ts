// storage.k8s.io/v1: StorageClass, the kind a PersistentVolumeClaim names to
// say how its volume is provisioned.
import type { KubeList, ObjectMeta, TypeMeta } from './meta';

export type VolumeBindingMode = 'Immediate' | 'WaitForFirstConsumer';

/** One label requirement of allowedTopologies: the label must have one of the values. */
export interface TopologySelectorLabelRequirement {
  key: string;
  values: string[];
}

export interface TopologySelectorTerm {
  matchLabelExpressions?: TopologySelectorLabelRequirement[];
}

export interface StorageClass extends TypeMeta {
  metadata?: ObjectMeta;
  /** The provisioner that creates volumes of this class, e.g. kube-lite.io/local-path. Immutable. */
  provisioner: string;
  /** Provisioner-specific settings. Immutable. */
  parameters?: Record<string, string>;
  /** What happens to provisioned volumes once their claim is deleted; Delete by default. Immutable. */
  reclaimPolicy?: 'Delete' | 'Retain';
  mountOptions?: string[];
  allowVolumeExpansion?: boolean;
  /** Immediate (bind or provision when the claim is created) by default. Immutable. */
  volumeBindingMode?: VolumeBindingMode;
  allowedTopologies?: TopologySelectorTerm[];
}
export type StorageClassList = KubeList<StorageClass>;
