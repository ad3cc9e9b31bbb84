// The garbage collector, as upstream's garbagecollector (simplified to one
// queue of uids over an ownership graph built from informers of every kind we
// serve that may own or be owned):
//
// - background: a dependent none of whose owners exist any more (checked by
//   uid, with a live read when the owner is not in the cache) is deleted;
//   dangling references next to a live owner are removed instead.
// - foreground: an owner being deleted with the foregroundDeletion finalizer
//   has its dependents deleted; once no dependent with blockOwnerDeletion is
//   left, the finalizer is removed and the API server completes the deletion.
// - orphan: an owner being deleted with the orphan finalizer has its
//   reference removed from every dependent, then the finalizer.
import { parseApiVersion, resourceForKind, type KubeObject, type OwnerReference } from '@kube-lite/api';
import { isConflict, isNotFound, RESOURCES, type ResourceRef } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { OwnershipGraph, type GraphNode } from './graph';

export const GARBAGE_COLLECTOR_CONTROLLER_NAME = 'garbagecollector';
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/** The kinds whose ownership the collector follows. */
export const GARBAGE_COLLECTED_RESOURCES: readonly ResourceRef[] = [
  RESOURCES.pods,
  RESOURCES.replicaSets,
  RESOURCES.deployments,
  RESOURCES.statefulSets,
  RESOURCES.daemonSets,
  RESOURCES.controllerRevisions,
  RESOURCES.jobs,
  RESOURCES.cronJobs,
  RESOURCES.services,
  RESOURCES.endpoints,
  RESOURCES.configMaps,
  RESOURCES.secrets,
  RESOURCES.persistentVolumeClaims,
  RESOURCES.serviceAccounts,
  RESOURCES.ingresses,
  RESOURCES.horizontalPodAutoscalers,
  RESOURCES.podDisruptionBudgets,
  RESOURCES.leases,
  RESOURCES.nodes,
];

type OwnerState = 'solid' | 'dangling' | 'waiting';

const hasFinalizer = (object: KubeObject, finalizer: string): boolean => object.metadata?.finalizers?.includes(finalizer) ?? false;
const isDeleting = (object: KubeObject): boolean => object.metadata?.deletionTimestamp !== undefined;

export class GarbageCollector extends QueueController {
  readonly graph = new OwnershipGraph();

  constructor(context: ControllerContext, resources: readonly ResourceRef[] = GARBAGE_COLLECTED_RESOURCES) {
    super(GARBAGE_COLLECTOR_CONTROLLER_NAME, context);
    for (const resource of resources) {
      context.informers.forResource<KubeObject>(resource).addEventHandler({
        onAdd: (object) => this.upsert(resource, object),
        onUpdate: (_old, object) => this.upsert(resource, object),
        onDelete: (object) => this.removed(deletedObject(object)),
      });
    }
  }

  async sync(uid: string): Promise<void> {
    const node = this.graph.get(uid);
    if (node === undefined) return;
    const object = node.object;
    if (isDeleting(object)) {
      if (hasFinalizer(object, ORPHAN_FINALIZER)) await this.orphanDependents(node);
      else if (hasFinalizer(object, FOREGROUND_FINALIZER)) await this.deleteDependentsInForeground(node);
      return;
    }
    await this.attemptToDelete(node);
  }

  /** Deletes `node` if no owner is left; drops dangling references when some owner is. */
  private async attemptToDelete(node: GraphNode): Promise<void> {
    const object = node.object;
    const refs = object.metadata?.ownerReferences ?? [];
    if (refs.length === 0 || isDeleting(object)) return;
    const states = await Promise.all(refs.map(async (ref) => ({ ref, state: await this.ownerState(ref, object.metadata?.namespace) })));
    const solid = states.filter(({ state }) => state === 'solid');
    const dangling = states.filter(({ state }) => state === 'dangling').map(({ ref }) => ref);
    const waiting = states.filter(({ state }) => state === 'waiting').map(({ ref }) => ref);
    const describe = this.describe(node);
    if (solid.length > 0) {
      // A live owner keeps the object; references to dead owners are removed, and owners waiting on us are not blocked.
      const unblock = waiting.filter((ref) => ref.blockOwnerDeletion === true);
      if (dangling.length === 0 && unblock.length === 0) return;
      const ownerReferences: unknown[] = [...dangling.map((ref) => ({ $patch: 'delete', uid: ref.uid })), ...unblock.map((ref) => ({ ...ref, blockOwnerDeletion: false }))];
      await this.patchObject(node, { metadata: { ownerReferences, uid: object.metadata?.uid } }, 'strategic');
      this.logger.info('removed dangling owner references', { controller: this.name, object: describe, dangling: dangling.map((ref) => ref.uid), unblocked: unblock.map((ref) => ref.uid) });
      return;
    }
    // Cascade: an owner waiting for its dependents makes ours wait for theirs too.
    const propagationPolicy = waiting.length > 0 && this.graph.dependentUids(object.metadata?.uid ?? '').length > 0 ? 'Foreground' : 'Background';
    try {
      await this.client.delete(node.resource, object.metadata?.namespace, object.metadata?.name ?? '', { preconditions: { uid: object.metadata?.uid ?? '' }, propagationPolicy });
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return;
      throw error;
    }
    this.logger.info('deleted object whose owners are gone', { controller: this.name, object: describe, owners: refs.map((ref) => `${ref.kind}/${ref.name}`), propagationPolicy });
  }

  /** Whether an owner exists (solid), exists but waits for its dependents (waiting), or is gone (dangling). */
  private async ownerState(ref: OwnerReference, namespace: string | undefined): Promise<OwnerState> {
    const cached = this.graph.get(ref.uid);
    if (cached !== undefined) return this.stateOf(cached.object);
    // Not in the cache: gone, or the cache is behind, or a kind we do not watch. Only the server can tell.
    const { group } = parseApiVersion(ref.apiVersion);
    const info = resourceForKind(group, ref.kind);
    if (info === undefined) {
      this.logger.warn('owner reference names a kind the server does not serve; keeping the dependent', { controller: this.name, owner: `${ref.apiVersion}/${ref.kind}/${ref.name}` });
      return 'solid';
    }
    const resource: ResourceRef = { group: info.group, version: info.versions[0] ?? 'v1', resource: info.resource };
    try {
      const owner = await this.client.get(resource, info.namespaced ? namespace : undefined, ref.name);
      return owner.metadata?.uid === ref.uid ? this.stateOf(owner) : 'dangling';
    } catch (error) {
      if (isNotFound(error)) return 'dangling';
      throw error;
    }
  }

  private stateOf(owner: KubeObject): OwnerState {
    return isDeleting(owner) && hasFinalizer(owner, FOREGROUND_FINALIZER) ? 'waiting' : 'solid';
  }

  private async deleteDependentsInForeground(owner: GraphNode): Promise<void> {
    const uid = owner.object.metadata?.uid ?? '';
    const blocking = this.graph.dependents(uid).filter((dependent) => dependent.object.metadata?.ownerReferences?.some((ref) => ref.uid === uid && ref.blockOwnerDeletion === true));
    if (blocking.length === 0) {
      await this.removeFinalizer(owner, FOREGROUND_FINALIZER);
      this.logger.info('dependents gone; foreground deletion can complete', { controller: this.name, object: this.describe(owner) });
      return;
    }
    for (const dependent of blocking) await this.attemptToDelete(dependent);
  }

  private async orphanDependents(owner: GraphNode): Promise<void> {
    const uid = owner.object.metadata?.uid ?? '';
    const dependents = this.graph.dependents(uid);
    for (const dependent of dependents) {
      await this.patchObject(dependent, { metadata: { ownerReferences: [{ $patch: 'delete', uid }], uid: dependent.object.metadata?.uid } }, 'strategic');
    }
    await this.removeFinalizer(owner, ORPHAN_FINALIZER);
    this.logger.info('orphaned dependents', { controller: this.name, object: this.describe(owner), dependents: dependents.length });
  }

  private async removeFinalizer(node: GraphNode, finalizer: string): Promise<void> {
    const meta = node.object.metadata ?? {};
    const finalizers = (meta.finalizers ?? []).filter((name) => name !== finalizer);
    // Conditional on the version we read: finalizers added meanwhile must not be lost.
    await this.patchObject(node, { metadata: { finalizers: finalizers.length > 0 ? finalizers : null, resourceVersion: meta.resourceVersion } }, 'merge');
  }

  private async patchObject(node: GraphNode, patch: unknown, type: 'merge' | 'strategic'): Promise<void> {
    const meta = node.object.metadata ?? {};
    try {
      await this.client.patch(node.resource, meta.namespace, meta.name ?? '', type, patch);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  private describe(node: GraphNode): string {
    const meta = node.object.metadata ?? {};
    return `${node.resource.resource}/${meta.namespace ? `${meta.namespace}/` : ''}${meta.name ?? ''}`;
  }

  // ---- graph maintenance ----

  private upsert(resource: ResourceRef, object: KubeObject): void {
    const uid = object.metadata?.uid;
    if (!uid) return;
    const droppedOwners = this.graph.upsert(resource, object);
    // An owner whose dependent let go may be waiting for exactly that.
    for (const owner of droppedOwners) this.enqueueIfWaiting(owner);
    if ((object.metadata?.ownerReferences ?? []).length > 0 || hasFinalizer(object, ORPHAN_FINALIZER) || hasFinalizer(object, FOREGROUND_FINALIZER)) this.queue.add(uid);
  }

  private removed(object: KubeObject): void {
    const uid = object.metadata?.uid;
    if (!uid) return;
    const node = this.graph.remove(uid);
    // Its dependents may be orphans now; its owners may be waiting for it.
    for (const dependent of this.graph.dependentUids(uid)) this.queue.add(dependent);
    for (const ref of (node?.object ?? object).metadata?.ownerReferences ?? []) this.enqueueIfWaiting(ref.uid);
  }

  private enqueueIfWaiting(ownerUid: string): void {
    const owner = this.graph.get(ownerUid);
    if (owner !== undefined && isDeleting(owner.object)) this.queue.add(ownerUid);
  }
}
