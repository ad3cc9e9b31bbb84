// Pod helpers shared by the workload controllers.
import type { Lister } from '@kube-lite/client';
import { deepCopy, isPodTerminal, labelSelectorAsSelector, newControllerRef, type KubeObject, type LabelSelector, type OwnerReference, type Pod, type PodTemplateSpec } from '@kube-lite/api';

/** Pods that count toward a controller's replicas: not finished and not being deleted (upstream IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && pod.metadata?.deletionTimestamp === undefined;
}

/** The pod a controller creates from its template (upstream GetPodFromTemplate): generateName "<owner>-", the controller reference. */
export function podFromTemplate(template: PodTemplateSpec | undefined, owner: KubeObject, ownerApiVersion: string, ownerKind: string): Pod {
  const metadata = template?.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata?.name ?? ''}-`,
      namespace: owner.metadata?.namespace ?? '',
      ownerReferences: [newControllerRef(owner, ownerApiVersion, ownerKind)],
    },
    spec: deepCopy(template?.spec ?? { containers: [] }),
  };
  const meta = pod.metadata as NonNullable<Pod['metadata']>;
  if (metadata.labels !== undefined) meta.labels = { ...metadata.labels };
  if (metadata.annotations !== undefined) meta.annotations = { ...metadata.annotations };
  if (metadata.finalizers !== undefined) meta.finalizers = [...metadata.finalizers];
  return pod;
}

/** Whether an owner's selector matches the pod's labels; an empty or invalid selector matches nothing (as upstream). */
export function selectorMatchesPod(selector: LabelSelector | undefined, pod: Pod): boolean {
  try {
    const parsed = labelSelectorAsSelector(selector);
    return !parsed.empty() && parsed.matches(pod.metadata?.labels);
  } catch {
    return false;
  }
}

/**
 * The owner a controller reference names, from the owner's cache: same kind,
 * same name, and the same uid (a recreated owner of that name is not it), as
 * upstream's resolveControllerRef.
 */
export function resolveControllerRef<T extends KubeObject>(owners: Lister<T>, namespace: string, ref: OwnerReference | undefined, kind: string): T | undefined {
  if (ref === undefined || ref.kind !== kind) return undefined;
  const owner = owners.get(namespace, ref.name);
  return owner?.metadata?.uid === ref.uid ? owner : undefined;
}
