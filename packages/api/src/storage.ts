// The vocabulary the volume binder (kube-controller-manager), the scheduler's
// VolumeBinding plugin and the kubelet share about claims, volumes and
// storage classes: upstream's annotation names and the few rules all of them
// must read the same way.
import { nodeSelectorTermsMatch } from './node-selector';
import type { Node, PersistentVolume, PersistentVolumeClaim } from './types/core';
import type { StorageClass, VolumeBindingMode } from './types/storage';
import { parseTime } from './time';

/** "true" on the StorageClass that claims without storageClassName get. */
export const IS_DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** The pre-GA spelling of IS_DEFAULT_CLASS_ANNOTATION, still honoured upstream. */
export const BETA_IS_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
/** The pre-GA way to name a claim's class; wins over spec.storageClassName, as upstream. */
export const BETA_STORAGE_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
/** Set on a WaitForFirstConsumer claim by the scheduler: the node its first pod was placed on. */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
/** "yes" on a claim once the binder has finished binding it. */
export const BIND_COMPLETED_ANNOTATION = 'pv.kubernetes.io/bind-completed';
/** "yes" on a claim or volume whose binding the binder made (rather than the user). */
export const BOUND_BY_CONTROLLER_ANNOTATION = 'pv.kubernetes.io/bound-by-controller';
/** On a provisioned volume: the provisioner that created it (and will delete it). */
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
/** On a claim waiting for provisioning: the provisioner expected to act on it. */
export const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
/** The provisioner built into kube-controller-manager: a directory on one node. */
export const LOCAL_PATH_PROVISIONER = 'kube-lite.io/local-path';
/** The provisioner name of classes whose volumes are only ever created by hand. */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';
/** The node label a local volume's node affinity names. */
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** Whether a class carries the default-class annotation (either spelling). */
export function isDefaultStorageClass(storageClass: StorageClass): boolean {
  const annotations = storageClass.metadata?.annotations ?? {};
  return annotations[IS_DEFAULT_CLASS_ANNOTATION] === 'true' || annotations[BETA_IS_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/**
 * The class new claims without one get: the default-annotated class, the
 * newest when several are (upstream's choice since 1.26), ties by name.
 */
export function pickDefaultStorageClass(classes: readonly StorageClass[]): StorageClass | undefined {
  let best: StorageClass | undefined;
  let bestMs = -Infinity;
  for (const candidate of classes) {
    if (!isDefaultStorageClass(candidate)) continue;
    const createdMs = parseTime(candidate.metadata?.creationTimestamp) ?? 0;
    const name = candidate.metadata?.name ?? '';
    if (best === undefined || createdMs > bestMs || (createdMs === bestMs && name < (best.metadata?.name ?? ''))) {
      best = candidate;
      bestMs = createdMs;
    }
  }
  return best;
}

/** The class a claim asks for; "" means "no class" (only class-less volumes fit). */
export function claimStorageClassName(claim: PersistentVolumeClaim): string {
  return claim.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? claim.spec?.storageClassName ?? '';
}

/** Whether the claim names no class at all (neither field nor annotation), so the default class applies. */
export function claimHasNoStorageClass(claim: PersistentVolumeClaim): boolean {
  return claim.spec?.storageClassName === undefined && claim.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] === undefined;
}

/** The class of a volume; "" for class-less volumes. */
export function volumeStorageClassName(volume: PersistentVolume): string {
  return volume.metadata?.annotations?.[BETA_STORAGE_CLASS_ANNOTATION] ?? volume.spec?.storageClassName ?? '';
}

/** Immediate unless the class says otherwise (and for class-less claims). */
export function volumeBindingModeOf(storageClass: StorageClass | undefined): VolumeBindingMode {
  return storageClass?.volumeBindingMode ?? 'Immediate';
}

/** Whether the claim is bound as far as a consumer can tell: it names a volume and the binder has finished. */
export function isClaimBound(claim: PersistentVolumeClaim): boolean {
  return (claim.spec?.volumeName ?? '') !== '' && claim.status?.phase === 'Bound';
}

/**
 * Whether a volume may be used on the node: true without node affinity;
 * otherwise one of its required terms (ORed) must match every one of its
 * requirements (ANDed) against the node's labels, or metadata.name for
 * matchFields. An empty term matches nothing, as upstream.
 */
export function volumeNodeAffinityAllows(volume: PersistentVolume, node: Node): boolean {
  const terms = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  return terms === undefined || nodeSelectorTermsMatch(terms, node);
}
