// The pod informer handlers of a controller that owns pods through a
// controller reference and a selector (ReplicaSet, DaemonSet), as upstream's
// addPod/updatePod/deletePod: a pod event wakes the owner it names, or, for an
// orphan, every owner whose selector matches it (one of them may adopt it),
// and tells the owner's expectations what the informer has now seen.
import { controllerOf, isPodReady, jsonEqual, type KubeObject, type OwnerReference, type Pod } from '@kube-lite/api';
import { objectKey, type ResourceEventHandler } from '@kube-lite/client';
import { deletedObject } from '../controller';
import type { ControllerExpectations } from './expectations';

export interface PodOwner<Owner extends KubeObject> {
  /** The owner a pod's controller reference names, when it is of this controller's kind and cached. */
  resolve(namespace: string, ref: OwnerReference | undefined): Owner | undefined;
  /** Owners whose selector matches an orphan pod. */
  matching(pod: Pod): Owner[];
  /** Creations awaited per owner key. */
  creations: ControllerExpectations;
  /** Deletions awaited per owner key (may be the same object as creations). */
  deletions: ControllerExpectations;
  minReadySeconds(owner: Owner): number;
  enqueue(owner: Owner): void;
  enqueueAfter(owner: Owner, delayMs: number): void;
}

export function ownedPodEventHandler<Owner extends KubeObject>(owner: PodOwner<Owner>): ResourceEventHandler<Pod> {
  const podDeleted = (pod: Pod): void => {
    const found = owner.resolve(pod.metadata?.namespace ?? '', controllerOf(pod));
    if (found === undefined) return;
    owner.deletions.deletionObserved(objectKey(found), objectKey(pod));
    owner.enqueue(found);
  };

  const podAdded = (pod: Pod): void => {
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Seen for the first time already being deleted (a restart): not a creation.
      podDeleted(pod);
      return;
    }
    const ref = controllerOf(pod);
    if (ref !== undefined) {
      const found = owner.resolve(pod.metadata?.namespace ?? '', ref);
      if (found === undefined) return;
      owner.creations.creationObserved(objectKey(found));
      owner.enqueue(found);
      return;
    }
    for (const candidate of owner.matching(pod)) owner.enqueue(candidate);
  };

  const podUpdated = (old: Pod, pod: Pod): void => {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const labelsChanged = !jsonEqual(old.metadata?.labels ?? {}, pod.metadata?.labels ?? {});
    if (pod.metadata?.deletionTimestamp !== undefined) {
      // Graceful deletion: the pod no longer counts, so a replacement may start now.
      podDeleted(pod);
      if (labelsChanged) podDeleted(old);
      return;
    }
    const namespace = pod.metadata?.namespace ?? '';
    const ref = controllerOf(pod);
    const oldRef = controllerOf(old);
    const refChanged = !jsonEqual(ref ?? null, oldRef ?? null);
    if (refChanged) {
      const previous = owner.resolve(namespace, oldRef);
      if (previous !== undefined) owner.enqueue(previous);
    }
    if (ref !== undefined) {
      const found = owner.resolve(namespace, ref);
      if (found === undefined) return;
      owner.enqueue(found);
      // Available comes minReadySeconds after ready, an event nobody sends: look again then.
      const minReadySeconds = owner.minReadySeconds(found);
      if (!isPodReady(old) && isPodReady(pod) && minReadySeconds > 0) owner.enqueueAfter(found, minReadySeconds * 1000 + 1000);
      return;
    }
    if (labelsChanged || refChanged) for (const candidate of owner.matching(pod)) owner.enqueue(candidate);
  };

  return { onAdd: podAdded, onUpdate: podUpdated, onDelete: (object) => podDeleted(deletedObject(object)) };
}
