// The namespace controller: empties a namespace being deleted, then lets the
// API server finish the deletion.
//
// Contract with the API server (packages/apiserver/src/registry): a new
// namespace gets spec.finalizers ["kubernetes"]; DELETE sets
// metadata.deletionTimestamp and status.phase Terminating and keeps the
// object while spec.finalizers is non-empty; spec.finalizers changes only
// through PUT namespaces/<name>/finalize, after which a namespace with no
// finalizers left is deleted. This controller deletes every namespaced object
// in the namespace (every served kind with list and delete), waits until
// none is left, and then removes "kubernetes" through the finalize call.
import { allResources, deepCopy, type KubeObject, type Namespace } from '@kube-lite/api';
import { isNotFound, type ApiClient, type Lister, type ResourceRef } from '@kube-lite/client';
import { QueueController, type ControllerContext } from '../../controller';

export const NAMESPACE_CONTROLLER_NAME = 'namespace';
export const KUBERNETES_FINALIZER = 'kubernetes';
/** How soon a namespace with content still terminating is looked at again. */
export const CONTENT_REMAINING_RETRY_MS = 2_000;

/** Removes spec.finalizers entries through namespaces/<name>/finalize; answers the namespace as stored. */
export type NamespaceFinalizer = (namespace: Namespace) => Promise<Namespace>;

/** The finalize call over an ApiClient: PUT namespaces/<name>/finalize, where only spec.finalizers is taken. */
export function clientNamespaceFinalizer(client: ApiClient): NamespaceFinalizer {
  return (namespace) => client.namespaces().update(namespace, { subresource: 'finalize' });
}

/** The namespaced kinds a namespace is emptied of. */
export function namespacedResources(): ResourceRef[] {
  return allResources()
    .filter((info) => info.namespaced && info.storagePrefix !== undefined && info.verbs.includes('list') && info.verbs.includes('delete'))
    .map((info) => ({ group: info.group, version: info.versions[0] ?? 'v1', resource: info.resource }));
}

export class NamespaceController extends QueueController {
  private readonly namespaces: Lister<Namespace>;
  private readonly finalize: NamespaceFinalizer;
  private readonly resources: ResourceRef[];

  constructor(context: ControllerContext, options: { finalize?: NamespaceFinalizer; resources?: ResourceRef[] } = {}) {
    super(NAMESPACE_CONTROLLER_NAME, context);
    this.finalize = options.finalize ?? clientNamespaceFinalizer(context.client);
    this.resources = options.resources ?? namespacedResources();
    const informer = context.informers.namespaces();
    this.namespaces = informer.lister;
    informer.addEventHandler({
      onAdd: (namespace) => this.enqueueIfTerminating(namespace),
      onUpdate: (_old, namespace) => this.enqueueIfTerminating(namespace),
    });
  }

  async sync(key: string): Promise<void> {
    const cached = this.namespaces.get(undefined, key);
    if (cached === undefined || cached.metadata?.deletionTimestamp === undefined) return;
    if (!(cached.spec?.finalizers ?? []).includes(KUBERNETES_FINALIZER)) return;
    const remaining = await this.deleteContent(key);
    if (remaining > 0) {
      this.logger.info('namespace content still terminating', { controller: this.name, namespace: key, remaining });
      this.queue.addAfter(key, CONTENT_REMAINING_RETRY_MS);
      return;
    }
    const namespace = deepCopy(cached);
    (namespace.spec ??= {}).finalizers = (namespace.spec.finalizers ?? []).filter((finalizer) => finalizer !== KUBERNETES_FINALIZER);
    try {
      await this.finalize(namespace);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    this.logger.info('namespace emptied and finalized', { controller: this.name, namespace: key });
  }

  /** Deletes what is left in the namespace; answers how many objects still exist (those whose deletion is deferred). */
  private async deleteContent(namespace: string): Promise<number> {
    let remaining = 0;
    for (const resource of this.resources) {
      const list = await this.client.list<KubeObject>(resource, namespace);
      for (const item of list.items) {
        if (item.metadata?.deletionTimestamp !== undefined) {
          remaining += 1;
          continue;
        }
        try {
          const answer = await this.client.delete(resource, namespace, item.metadata?.name ?? '', { preconditions: { uid: item.metadata?.uid ?? '' }, propagationPolicy: 'Background' });
          // A deferred deletion (finalizers, graceful pod termination) answers the object marked with a deletionTimestamp.
          if (answer.kind !== 'Status' && (answer as KubeObject).metadata?.deletionTimestamp !== undefined) remaining += 1;
        } catch (error) {
          if (!isNotFound(error)) throw error;
        }
      }
    }
    return remaining;
  }

  private enqueueIfTerminating(namespace: Namespace): void {
    if (namespace.metadata?.deletionTimestamp !== undefined) this.enqueue(namespace);
  }
}
