// The built-in local-path provisioner (after rancher's local-path-provisioner):
// a claim of a kube-lite.io/local-path class gets a PersistentVolume that is a
// directory on the node the scheduler chose for its first pod. The volume
// only describes the directory; the kubelet of that node creates it on first
// mount (upstream `local` volume semantics) and, under the Docker runtime,
// backs it with a named Docker volume derived from the volume name.
import { posix } from 'node:path';
import {
  BOUND_BY_CONTROLLER_ANNOTATION,
  HOSTNAME_LABEL,
  IS_DEFAULT_CLASS_ANNOTATION,
  LOCAL_PATH_PROVISIONER,
  PROVISIONED_BY_ANNOTATION,
  claimStorageClassName,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
} from '@kube-lite/api';
import { claimRequest } from './matching';

/** Name of the StorageClass the binder creates at start when absent. */
export const LOCAL_PATH_CLASS_NAME = 'local-path';

/**
 * The class the binder creates when none named local-path exists: the
 * default class unless the cluster already has one, WaitForFirstConsumer
 * because a directory lives on one node, Delete as rancher's manifest.
 */
export function localPathStorageClass(makeDefault: boolean): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS_NAME, ...(makeDefault ? { annotations: { [IS_DEFAULT_CLASS_ANNOTATION]: 'true' } } : {}) },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** `pvc-<claim uid>`, upstream's name for a dynamically provisioned volume. */
export function provisionedVolumeName(claim: PersistentVolumeClaim): string {
  return `pvc-${claim.metadata?.uid ?? ''}`;
}

/** `<root>/pvc-<uid>_<namespace>_<claim>`: rancher's layout, unique per claim and readable by an operator. */
export function localPathFor(root: string, claim: PersistentVolumeClaim): string {
  return posix.join(root, `${provisionedVolumeName(claim)}_${claim.metadata?.namespace ?? ''}_${claim.metadata?.name ?? ''}`);
}

/** Why the local-path provisioner cannot serve the claim, or undefined. */
export function localPathUnsupported(claim: PersistentVolumeClaim): string | undefined {
  if ((claim.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') return `${LOCAL_PATH_PROVISIONER} provides only volumeMode Filesystem`;
  return undefined;
}

/**
 * The volume for a claim on `node`: capacity as requested (a directory has no
 * quota), pinned to the node by its hostname label, promised to the claim
 * through claimRef so no other claim takes it.
 */
export function provisionedVolume(claim: PersistentVolumeClaim, storageClass: StorageClass, node: Node, root: string): PersistentVolume {
  const hostname = node.metadata?.labels?.[HOSTNAME_LABEL] ?? node.metadata?.name ?? '';
  const volume: PersistentVolume = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: provisionedVolumeName(claim),
      annotations: { [PROVISIONED_BY_ANNOTATION]: LOCAL_PATH_PROVISIONER, [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' },
    },
    spec: {
      capacity: { storage: claimRequest(claim) },
      accessModes: [...(claim.spec?.accessModes ?? [])],
      persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
      storageClassName: claimStorageClassName(claim),
      volumeMode: 'Filesystem',
      local: { path: localPathFor(root, claim) },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostname] }] }] } },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata?.namespace ?? '',
        name: claim.metadata?.name ?? '',
        uid: claim.metadata?.uid ?? '',
        resourceVersion: claim.metadata?.resourceVersion ?? '',
      },
    },
  };
  if (storageClass.mountOptions !== undefined && volume.spec) volume.spec.mountOptions = [...storageClass.mountOptions];
  return volume;
}
