// The garbage collector's view of ownership: every watched object by uid,
// and for every owner uid the uids of its dependents. Fed by informer events;
// owners may be absent (deleted, or of a kind not watched), which is what the
// collector looks for.
import type { KubeObject } from '@kube-lite/api';
import type { ResourceRef } from '@kube-lite/client';

export interface GraphNode {
  resource: ResourceRef;
  object: KubeObject;
}

export class OwnershipGraph {
  private readonly nodes = new Map<string, GraphNode>();
  private readonly dependentsByOwner = new Map<string, Set<string>>();

  get size(): number {
    return this.nodes.size;
  }

  get(uid: string): GraphNode | undefined {
    return this.nodes.get(uid);
  }

  /** Adds or replaces an object; answers the uids of owners it no longer names. */
  upsert(resource: ResourceRef, object: KubeObject): string[] {
    const uid = object.metadata?.uid ?? '';
    const previous = this.nodes.get(uid);
    const before = new Set((previous?.object.metadata?.ownerReferences ?? []).map((ref) => ref.uid));
    const after = new Set((object.metadata?.ownerReferences ?? []).map((ref) => ref.uid));
    for (const owner of before) if (!after.has(owner)) this.unlink(owner, uid);
    for (const owner of after) this.link(owner, uid);
    this.nodes.set(uid, { resource, object });
    return [...before].filter((owner) => !after.has(owner));
  }

  /** Removes an object; answers it as it was, if present. */
  remove(uid: string): GraphNode | undefined {
    const node = this.nodes.get(uid);
    if (node === undefined) return undefined;
    for (const ref of node.object.metadata?.ownerReferences ?? []) this.unlink(ref.uid, uid);
    this.nodes.delete(uid);
    return node;
  }

  /** The watched objects naming `ownerUid` in their ownerReferences. */
  dependents(ownerUid: string): GraphNode[] {
    return [...(this.dependentsByOwner.get(ownerUid) ?? [])].map((uid) => this.nodes.get(uid)).filter((node): node is GraphNode => node !== undefined);
  }

  dependentUids(ownerUid: string): string[] {
    return [...(this.dependentsByOwner.get(ownerUid) ?? [])];
  }

  private link(owner: string, dependent: string): void {
    let set = this.dependentsByOwner.get(owner);
    if (set === undefined) {
      set = new Set();
      this.dependentsByOwner.set(owner, set);
    }
    set.add(dependent);
  }

  private unlink(owner: string, dependent: string): void {
    const set = this.dependentsByOwner.get(owner);
    set?.delete(dependent);
    if (set !== undefined && set.size === 0) this.dependentsByOwner.delete(owner);
  }
}
