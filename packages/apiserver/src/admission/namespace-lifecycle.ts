// NamespaceLifecycle: nothing is created in a namespace that does not exist or
// is being deleted, and the namespaces the system itself lives in may not be
// deleted. Wording as upstream, since users meet these messages in kubectl.

import { StatusError, forbidden, notFound } from '../server';
import type { AdmissionAttributes, AdmissionPlugin } from './types';

/**
 * Reads a namespace by name; undefined when it does not exist. `live` asks for a read from storage rather
 * than a cache that may not have seen a deletion yet.
 */
export type NamespaceLookup = (name: string, live: boolean) => Promise<{ metadata?: { deletionTimestamp?: string }; status?: { phase?: string } } | undefined>;

/** How long after deleting a namespace its lookups bypass the cache (upstream's forceLiveLookupTTL). */
const FORCE_LIVE_LOOKUP_MS = 30_000;
/** Bounds the remembered deletions. */
const MAX_REMEMBERED_DELETIONS = 10_000;

/** Namespaces upstream refuses to delete. */
export const IMMORTAL_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public'];

export class NamespaceLifecycle implements AdmissionPlugin {
  readonly name = 'NamespaceLifecycle';

  /** Namespaces deleted through this server lately, with when their live lookups stop. */
  private readonly recentlyDeleted = new Map<string, number>();

  constructor(
    private readonly lookup: NamespaceLookup,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async validate(attributes: AdmissionAttributes): Promise<void> {
    if (attributes.resource.group === '' && attributes.resource.resource === 'namespaces') {
      if (attributes.operation === 'DELETE') {
        if (IMMORTAL_NAMESPACES.includes(attributes.name)) throw forbidden(attributes.resource, attributes.name, 'this namespace may not be deleted');
        if (!attributes.dryRun) this.remember(attributes.name);
      }
      return;
    }
    if (attributes.operation !== 'CREATE' || attributes.namespace === '' || attributes.subresource !== '') return;
    const until = this.recentlyDeleted.get(attributes.namespace);
    const live = until !== undefined && until > this.nowMs();
    if (until !== undefined && !live) this.recentlyDeleted.delete(attributes.namespace);
    const namespace = await this.lookup(attributes.namespace, live);
    if (namespace === undefined) throw notFound({ group: '', resource: 'namespaces' }, attributes.namespace);
    if (namespace.metadata?.deletionTimestamp !== undefined || namespace.status?.phase === 'Terminating') {
      const error = forbidden(
        attributes.resource,
        attributes.name,
        `unable to create new content in namespace ${attributes.namespace} because it is being terminated`,
      );
      throw new StatusError(error.code, error.reason, error.message, {
        ...(error.details ?? {}),
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${attributes.namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  private remember(name: string): void {
    if (this.recentlyDeleted.size >= MAX_REMEMBERED_DELETIONS) {
      const oldest = this.recentlyDeleted.keys().next().value;
      if (oldest !== undefined) this.recentlyDeleted.delete(oldest);
    }
    this.recentlyDeleted.delete(name);
    this.recentlyDeleted.set(name, this.nowMs() + FORCE_LIVE_LOOKUP_MS);
  }
}
