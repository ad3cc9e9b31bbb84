// A StatefulSet pod's stable identity, as upstream's stateful_set_utils.go:
// its name "<set>-<ordinal>", its labels, its DNS hostname and subdomain, and
// its PersistentVolumeClaims "<template>-<set>-<ordinal>"; and which owners a
// claim should carry under the set's PVC retention policy. Pure code.
import { deepCopy, isPodReady, type OwnerReference, type PersistentVolumeClaim, type Pod, type PodTemplateSpec, type StatefulSet, type Volume } from '@kube-lite/api';
import { podFromTemplate, selectorMatchesPod } from '../../controller-utils';
import { CONTROLLER_REVISION_HASH_LABEL } from '../../controller-utils/history';

export const STATEFUL_SET_API_VERSION = 'apps/v1';
export const STATEFUL_SET_KIND = 'StatefulSet';
/** Upstream's StatefulSetPodNameLabel: lets a Service select one pod of the set. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Upstream's PodIndexLabel: the pod's ordinal. */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

const ORDINAL_NAME = /^(.*)-([0-9]+)$/;

export function replicasOf(set: StatefulSet): number {
  return set.spec?.replicas ?? 1;
}

/** The first ordinal (spec.ordinals.start, 0 by default). */
export function startOrdinal(set: StatefulSet): number {
  return set.spec?.ordinals?.start ?? 0;
}

export function podName(set: StatefulSet, ordinal: number): string {
  return `${set.metadata?.name ?? ''}-${ordinal}`;
}

/** The set name and ordinal a pod's name encodes; undefined when it encodes none. */
export function parentAndOrdinal(pod: Pod): { parent: string; ordinal: number } | undefined {
  const match = ORDINAL_NAME.exec(pod.metadata?.name ?? '');
  if (match === null) return undefined;
  const ordinal = Number(match[2]);
  return Number.isSafeInteger(ordinal) ? { parent: match[1] ?? '', ordinal } : undefined;
}

/** The pod's ordinal, -1 when its name has none. */
export function ordinalOf(pod: Pod): number {
  return parentAndOrdinal(pod)?.ordinal ?? -1;
}

/** Whether the pod's name makes it a member of the set (only such orphans may be adopted). */
export function isMemberOf(set: StatefulSet, pod: Pod): boolean {
  return parentAndOrdinal(pod)?.parent === set.metadata?.name;
}

export function inOrdinalRange(set: StatefulSet, ordinal: number): boolean {
  return ordinal >= startOrdinal(set) && ordinal < startOrdinal(set) + replicasOf(set);
}

export function podRevision(pod: Pod): string {
  return pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '';
}

export const isTerminating = (pod: Pod): boolean => pod.metadata?.deletionTimestamp !== undefined;
export const isRunningAndReady = (pod: Pod): boolean => pod.status?.phase === 'Running' && isPodReady(pod);
/** Upstream isHealthy: running, ready and not on its way out. */
export const isHealthy = (pod: Pod): boolean => isRunningAndReady(pod) && !isTerminating(pod);

export function claimName(templateName: string, set: StatefulSet, ordinal: number): string {
  return `${templateName}-${set.metadata?.name ?? ''}-${ordinal}`;
}

/** The claims the pod of `ordinal` mounts, from the volumeClaimTemplates: labels of the template plus the set's matchLabels. */
export function claimsFor(set: StatefulSet, ordinal: number): PersistentVolumeClaim[] {
  const matchLabels = set.spec?.selector?.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).map((template) => {
    const metadata = template.metadata ?? {};
    const claim: PersistentVolumeClaim = {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: {
        name: claimName(metadata.name ?? '', set, ordinal),
        namespace: set.metadata?.namespace ?? '',
        labels: { ...(metadata.labels ?? {}), ...matchLabels },
      },
      spec: deepCopy(template.spec ?? {}),
    };
    if (metadata.annotations !== undefined) (claim.metadata as NonNullable<PersistentVolumeClaim['metadata']>).annotations = { ...metadata.annotations };
    return claim;
  });
}

/** The pod's volumes: one per claim template pointing at its claim, then the template's other volumes (upstream updateStorage). */
function volumesFor(set: StatefulSet, ordinal: number, templateVolumes: readonly Volume[]): Volume[] {
  const claimVolumes = (set.spec?.volumeClaimTemplates ?? []).map((template): Volume => {
    const name = template.metadata?.name ?? '';
    return { name, persistentVolumeClaim: { claimName: claimName(name, set, ordinal) } };
  });
  const claimed = new Set(claimVolumes.map((volume) => volume.name));
  return [...claimVolumes, ...templateVolumes.filter((volume) => !claimed.has(volume.name))];
}

/** The pod of `ordinal` made from `template` (a revision's), labelled with that revision's name. */
export function newStatefulSetPod(set: StatefulSet, template: PodTemplateSpec | undefined, ordinal: number, revisionName: string): Pod {
  const pod = podFromTemplate(template, set, STATEFUL_SET_API_VERSION, STATEFUL_SET_KIND);
  const metadata = pod.metadata as NonNullable<Pod['metadata']>;
  const spec = pod.spec as NonNullable<Pod['spec']>;
  delete metadata.generateName;
  metadata.name = podName(set, ordinal);
  metadata.labels = { ...(metadata.labels ?? {}), [POD_NAME_LABEL]: metadata.name, [POD_INDEX_LABEL]: String(ordinal), [CONTROLLER_REVISION_HASH_LABEL]: revisionName };
  spec.hostname = metadata.name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const volumes = volumesFor(set, ordinal, spec.volumes ?? []);
  if (volumes.length > 0) spec.volumes = volumes;
  return pod;
}

/** Whether the pod carries its identity labels (upstream identityMatches). */
export function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const parsed = parentAndOrdinal(pod);
  if (parsed === undefined || parsed.parent !== set.metadata?.name || pod.metadata?.namespace !== set.metadata?.namespace) return false;
  const labels = pod.metadata?.labels ?? {};
  return labels[POD_NAME_LABEL] === pod.metadata?.name && labels[POD_INDEX_LABEL] === String(parsed.ordinal);
}

/** The labels that restore the pod's identity. */
export function identityLabels(pod: Pod): Record<string, string> {
  return { [POD_NAME_LABEL]: pod.metadata?.name ?? '', [POD_INDEX_LABEL]: String(ordinalOf(pod)) };
}

/** Whether the set's selector matches the pod's labels; an empty or invalid selector matches nothing. */
export function selectorMatches(set: StatefulSet, pod: Pod): boolean {
  return selectorMatchesPod(set.spec?.selector, pod);
}

function ownerRef(owner: { metadata?: { name?: string; uid?: string } }, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '' };
}

/**
 * The ownerReferences a claim of `pod` should carry under the set's
 * persistentVolumeClaimRetentionPolicy (upstream
 * updateClaimOwnerRefForSetAndPod): the set owns it when whenDeleted is
 * Delete (so deleting the set deletes it), the pod owns it when whenScaled is
 * Delete and the pod's ordinal is beyond the replicas (so deleting the pod
 * deletes it). Undefined when the claim's references are already right.
 * References to earlier pods of the same name are dropped too.
 */
export function retentionOwnerReferences(claim: PersistentVolumeClaim, set: StatefulSet, pod: Pod): OwnerReference[] | undefined {
  const policy = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  const scaledDown = !inOrdinalRange(set, ordinalOf(pod));
  const wantSet = policy.whenDeleted === 'Delete' && !(scaledDown && policy.whenScaled === 'Delete');
  const wantPod = policy.whenScaled === 'Delete' && scaledDown;
  const current = claim.metadata?.ownerReferences ?? [];
  const setUid = set.metadata?.uid ?? '';
  const podUid = pod.metadata?.uid ?? '';
  const isSetRef = (ref: OwnerReference): boolean => ref.uid === setUid;
  const isPodRef = (ref: OwnerReference): boolean => ref.kind === 'Pod' && ref.name === pod.metadata?.name;
  const next = current.filter((ref) => !isSetRef(ref) && !isPodRef(ref));
  const existingSetRef = current.find(isSetRef);
  const existingPodRef = current.find((ref) => isPodRef(ref) && ref.uid === podUid);
  if (wantSet) next.push(existingSetRef ?? ownerRef(set, STATEFUL_SET_API_VERSION, STATEFUL_SET_KIND));
  if (wantPod && podUid !== '') next.push(existingPodRef ?? ownerRef(pod, 'v1', 'Pod'));
  const same = next.length === current.length && next.every((ref) => current.some((existing) => existing.uid === ref.uid));
  return same ? undefined : next;
}
