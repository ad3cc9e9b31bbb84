// Adoption and release, as upstream's ControllerRefManager: a controller owns
// the objects whose controller ownerReference names its uid; it adopts
// orphans its selector matches and releases owned objects its selector no
// longer matches. Both are strategic merge patches of ownerReferences (merged
// by uid) carrying the object's uid, so they never touch a recreated object.
import { controllerOf, newControllerRef, type KubeObject, type Selector } from '@kube-lite/api';
import { isNotFound } from '@kube-lite/client';

export interface ClaimOptions {
  /** The controller (a ReplicaSet, a Deployment). */
  owner: KubeObject;
  ownerApiVersion: string;
  ownerKind: string;
  selector: Selector;
  /**
   * Confirms with a fresh read that the owner still exists with the same uid
   * and is not being deleted; throws otherwise. Asked once, before the first
   * adoption, because the cache may be behind.
   */
  canAdopt: () => Promise<void>;
  /** Applies a strategic merge patch to the named object (namespace of the owner). */
  patch: (name: string, patch: unknown) => Promise<unknown>;
}

/** Upstream's wording of a claim that failed part-way; the controller retries the key. */
export class ClaimError extends Error {
  override readonly name = 'ClaimError';
  constructor(
    readonly failures: readonly unknown[],
  ) {
    super(`could not adopt or release ${failures.length} object(s): ${failures.map((failure) => (failure instanceof Error ? failure.message : String(failure))).join('; ')}`, { cause: failures[0] });
  }
}

export function adoptPatch(owner: KubeObject, apiVersion: string, kind: string, objectUid: string): unknown {
  return { metadata: { ownerReferences: [newControllerRef(owner, apiVersion, kind)], uid: objectUid } };
}

export function releasePatch(ownerUid: string, objectUid: string): unknown {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid: objectUid } };
}

/** The objects the owner controls after adopting and releasing; throws ClaimError (after doing what it could) when a patch failed. */
export async function claimObjects<T extends KubeObject>(objects: readonly T[], options: ClaimOptions): Promise<T[]> {
  const { owner, selector } = options;
  const ownerUid = owner.metadata?.uid ?? '';
  const ownerDeleting = owner.metadata?.deletionTimestamp !== undefined;
  const claimed: T[] = [];
  const failures: unknown[] = [];
  let adoptionChecked: Promise<void> | undefined;
  for (const object of objects) {
    const name = object.metadata?.name ?? '';
    const uid = object.metadata?.uid ?? '';
    const matches = selector.matches(object.metadata?.labels);
    const ref = controllerOf(object);
    if (ref !== undefined) {
      if (ref.uid !== ownerUid) continue;
      if (matches || ownerDeleting) {
        claimed.push(object);
        continue;
      }
      try {
        await options.patch(name, releasePatch(ownerUid, uid));
      } catch (error) {
        if (!isNotFound(error)) failures.push(error);
      }
      continue;
    }
    if (ownerDeleting || !matches || object.metadata?.deletionTimestamp !== undefined) continue;
    try {
      adoptionChecked ??= options.canAdopt();
      await adoptionChecked;
      await options.patch(name, adoptPatch(owner, options.ownerApiVersion, options.ownerKind, uid));
      claimed.push(object);
    } catch (error) {
      if (!isNotFound(error)) failures.push(error);
    }
  }
  if (failures.length > 0) throw new ClaimError(failures);
  return claimed;
}

/** Thrown by canAdopt checks: the owner changed or is going away, so nothing may be adopted. */
export class AdoptionRefusedError extends Error {
  override readonly name = 'AdoptionRefusedError';
}

/** A canAdopt check over a fresh read of the owner. */
export function freshOwnerCheck(owner: KubeObject, read: () => Promise<KubeObject>): () => Promise<void> {
  return async () => {
    const fresh = await read();
    const name = `${owner.metadata?.namespace ?? ''}/${owner.metadata?.name ?? ''}`;
    if (fresh.metadata?.uid !== owner.metadata?.uid) throw new AdoptionRefusedError(`original ${owner.kind ?? 'object'} ${name} is gone: got uid ${fresh.metadata?.uid ?? ''}, wanted ${owner.metadata?.uid ?? ''}`);
    if (fresh.metadata?.deletionTimestamp !== undefined) throw new AdoptionRefusedError(`${owner.kind ?? 'object'} ${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`);
  };
}
