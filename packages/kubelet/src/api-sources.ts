// The kubelet core's sources and sink (sources.ts) over the API server:
// - pods bound to this node from a SharedInformer with fieldSelector
//   spec.nodeName=<node> (a pod deleted from the API leaves the list: its
//   worker terminates it; one with a deletionTimestamp stays until the
//   kubelet finishes the deletion);
// - status writes through the pod's status subresource, retried from a fresh
//   GET when they lose a race with another writer;
// - the end of a graceful deletion: delete with grace 0 and a uid
//   precondition, so a pod recreated under the same name is never touched;
// - Secrets, ConfigMaps, PersistentVolumeClaims and PersistentVolumes by
//   GET, cached for a short while because every pod sync reads them again;
// - all Services from a shared informer, for the service environment
//   variables of containers being started.
import { deepCopy, type ConfigMap, type PersistentVolume, type PersistentVolumeClaim, type Pod, type PodCondition, type PodStatus, type Secret, type Service } from '@kube-lite/api';
import { isConflict, isNotFound, RESOURCES, SharedInformer, silentLogger, type ApiClient, type Logger } from '@kube-lite/client';
import type { ConfigMapSource, PersistentVolumeSource, PodSource, SecretSource, ServiceSource, StatusSink } from './sources';

export interface InformerPodSourceOptions {
  client: ApiClient;
  /** Only pods with spec.nodeName equal to this are cached (the API server's node authorizer insists on it). */
  nodeName: string;
  /** How often every pod is re-delivered to the workers even without a change; 0 (never, the relist covers it) by default. */
  resyncPeriodMs?: number;
  logger?: Logger;
}

/** The pods bound to one node, from a shared informer on pods with a spec.nodeName field selector. */
export class InformerPodSource implements PodSource {
  readonly informer: SharedInformer<Pod>;
  /** Unfrozen copies of the informer's (frozen) pods, by uid, made once per resourceVersion. */
  private readonly copies = new Map<string, { resourceVersion: string; pod: Pod }>();

  constructor(options: InformerPodSourceOptions) {
    this.informer = new SharedInformer<Pod>({
      client: options.client,
      resource: RESOURCES.pods,
      fieldSelector: `spec.nodeName=${options.nodeName}`,
      resyncPeriodMs: options.resyncPeriodMs ?? 0,
      logger: options.logger ?? silentLogger,
    });
  }

  /** Starts listing and watching; pods appear once the first list arrived. */
  run(): void {
    this.informer.run();
  }

  /** Resolves true once the first list is in, false when stopped first. */
  waitForSync(timeoutMs?: number): Promise<boolean> {
    return this.informer.waitForSync(timeoutMs);
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  listPods(): Pod[] {
    const pods: Pod[] = [];
    const seen = new Set<string>();
    for (const cached of this.informer.lister.list()) {
      const uid = cached.metadata?.uid ?? '';
      const resourceVersion = cached.metadata?.resourceVersion ?? '';
      seen.add(uid);
      let copy = this.copies.get(uid);
      // The workers keep and pass these objects around; a copy keeps the informer's frozen cache out of their reach.
      if (copy === undefined || copy.resourceVersion !== resourceVersion) {
        copy = { resourceVersion, pod: deepCopy(cached) };
        this.copies.set(uid, copy);
      }
      pods.push(copy.pod);
    }
    for (const uid of this.copies.keys()) if (!seen.has(uid)) this.copies.delete(uid);
    return pods;
  }

  subscribe(listener: () => void): () => void {
    const registration = this.informer.addEventHandler({ onAdd: () => listener(), onUpdate: () => listener(), onDelete: () => listener() });
    return () => registration.remove();
  }
}

/** A status write kept losing to other writers: the worker retries it on its next sync. */
export class StatusWriteConflictError extends Error {
  constructor(readonly podKey: string, attempts: number, options?: { cause?: unknown }) {
    super(`status of pod ${podKey} not written: ${attempts} attempts in a row conflicted with other writers`, options);
    this.name = 'StatusWriteConflictError';
  }
}

export interface ApiStatusSinkOptions {
  client: ApiClient;
  /** Writes tried per status before giving up until the next sync; 5 by default. */
  maxAttempts?: number;
  logger?: Logger;
}

/** Pod condition types the kubelet computes; others (PodScheduled, DisruptionTarget, readiness gates) belong to other writers. */
const KUBELET_CONDITIONS = new Set(['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready', 'PodScheduled']);

/**
 * The kubelet's status, keeping conditions other writers added since the
 * kubelet last looked (a DisruptionTarget set by the eviction API, say).
 */
export function mergePodStatus(stored: PodStatus | undefined, computed: PodStatus): PodStatus {
  const ours = new Set((computed.conditions ?? []).map((condition) => condition.type));
  const theirs: PodCondition[] = (stored?.conditions ?? []).filter((condition) => !ours.has(condition.type) && !KUBELET_CONDITIONS.has(condition.type));
  if (theirs.length === 0) return computed;
  return { ...computed, conditions: [...(computed.conditions ?? []), ...theirs] };
}

/** Writes pod statuses to the API server and finishes graceful deletions. */
export class ApiStatusSink implements StatusSink {
  private readonly client: ApiClient;
  private readonly maxAttempts: number;
  private readonly logger: Logger;

  constructor(options: ApiStatusSinkOptions) {
    this.client = options.client;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.logger = options.logger ?? silentLogger;
  }

  async writeStatus(pod: Pod, status: PodStatus): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid;
    const pods = this.client.pods(namespace);
    // First try against the version the worker has; a conflict means someone wrote since: read and try again.
    let base: Pod = pod;
    for (let attempt = 1; attempt <= this.maxAttempts; attempt++) {
      try {
        await pods.updateStatus({ ...base, status: mergePodStatus(base.status, status) });
        return;
      } catch (error) {
        // A pod deleted meanwhile has no status to report.
        if (isNotFound(error)) return;
        if (!isConflict(error)) throw error;
      }
      try {
        base = await pods.get(name);
      } catch (error) {
        if (isNotFound(error)) return;
        throw error;
      }
      if (uid !== undefined && base.metadata?.uid !== uid) {
        this.logger.debug('pod was recreated under the same name; dropping the old pod status', { pod: `${namespace}/${name}`, uid });
        return;
      }
    }
    throw new StatusWriteConflictError(`${namespace}/${name}`, this.maxAttempts);
  }

  async podTerminated(pod: Pod): Promise<void> {
    const namespace = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const uid = pod.metadata?.uid;
    try {
      await this.client.pods(namespace).delete(name, { gracePeriodSeconds: 0, ...(uid === undefined ? {} : { preconditions: { uid } }) });
      this.logger.info('pod deleted after its containers stopped', { pod: `${namespace}/${name}`, uid });
    } catch (error) {
      // Gone already, or the name now belongs to a new pod (the uid precondition failed): nothing left to delete.
      if (isNotFound(error) || isConflict(error)) return;
      throw error;
    }
  }
}

export interface ApiObjectSourceOptions {
  client: ApiClient;
  /** How long a fetched object (or its absence) is reused; 10 s by default. */
  ttlMs?: number;
  /** Entries kept at most; the oldest are dropped first. 2000 by default. */
  maxEntries?: number;
  /** Clock for expiry; Date.now by default. */
  nowMs?: () => number;
  logger?: Logger;
}

type CachedObject = ConfigMap | Secret | PersistentVolumeClaim | PersistentVolume;
type CachedResource = 'secrets' | 'configmaps' | 'persistentvolumeclaims' | 'persistentvolumes';

interface CacheEntry {
  value: CachedObject | undefined;
  fetchedAtMs: number;
}

/** Objects fetched by name (all a node identity may do), with a short-lived cache. */
export class ApiObjectSource implements SecretSource, ConfigMapSource, PersistentVolumeSource {
  private readonly client: ApiClient;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly nowMs: () => number;
  private readonly logger: Logger;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<CachedObject | undefined>>();

  constructor(options: ApiObjectSourceOptions) {
    this.client = options.client;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.maxEntries = options.maxEntries ?? 2000;
    this.nowMs = options.nowMs ?? Date.now;
    this.logger = options.logger ?? silentLogger;
  }

  async getSecret(namespace: string, name: string): Promise<Secret | undefined> {
    return (await this.lookup('secrets', namespace, name)) as Secret | undefined;
  }

  async getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined> {
    return (await this.lookup('configmaps', namespace, name)) as ConfigMap | undefined;
  }

  async getPersistentVolumeClaim(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined> {
    return (await this.lookup('persistentvolumeclaims', namespace, name)) as PersistentVolumeClaim | undefined;
  }

  async getPersistentVolume(name: string): Promise<PersistentVolume | undefined> {
    return (await this.lookup('persistentvolumes', '', name)) as PersistentVolume | undefined;
  }

  private lookup(resource: CachedResource, namespace: string, name: string): Promise<CachedObject | undefined> {
    const key = `${resource}/${namespace}/${name}`;
    const cached = this.cache.get(key);
    if (cached !== undefined && this.nowMs() - cached.fetchedAtMs < this.ttlMs) return Promise.resolve(cached.value);
    let pending = this.inFlight.get(key);
    if (pending === undefined) {
      pending = this.fetch(resource, namespace, name, key, cached).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private get(resource: CachedResource, namespace: string, name: string): Promise<CachedObject> {
    switch (resource) {
      case 'secrets':
        return this.client.secrets(namespace).get(name);
      case 'configmaps':
        return this.client.configMaps(namespace).get(name);
      case 'persistentvolumeclaims':
        return this.client.persistentVolumeClaims(namespace).get(name);
      case 'persistentvolumes':
        return this.client.persistentVolumes().get(name);
    }
  }

  private async fetch(resource: CachedResource, namespace: string, name: string, key: string, stale: CacheEntry | undefined): Promise<CachedObject | undefined> {
    let value: CachedObject | undefined;
    try {
      value = await this.get(resource, namespace, name);
    } catch (error) {
      if (!isNotFound(error)) {
        // An unreachable API server should not stop pods that ran with this object a moment ago.
        if (stale !== undefined) {
          this.logger.warn('using a cached copy; the API server did not answer', { object: key, error });
          return stale.value;
        }
        throw error;
      }
      value = undefined;
    }
    this.cache.delete(key);
    this.cache.set(key, { value, fetchedAtMs: this.nowMs() });
    while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
    return value;
  }
}

export interface InformerServiceSourceOptions {
  client: ApiClient;
  /** How long a container start waits for the first list of Services before starting without their variables; 10 s by default. */
  syncTimeoutMs?: number;
  logger?: Logger;
}

/** Every Service, from a shared informer (the node authorizer lets a kubelet list and watch them). */
export class InformerServiceSource implements ServiceSource {
  readonly informer: SharedInformer<Service>;
  private readonly syncTimeoutMs: number;
  private readonly logger: Logger;
  private warnedUnsynced = false;

  constructor(options: InformerServiceSourceOptions) {
    this.informer = new SharedInformer<Service>({ client: options.client, resource: RESOURCES.services, resyncPeriodMs: 0, logger: options.logger ?? silentLogger });
    this.syncTimeoutMs = options.syncTimeoutMs ?? 10_000;
    this.logger = options.logger ?? silentLogger;
  }

  run(): void {
    this.informer.run();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }

  /** The cached Services, once the first list is in; an empty list (and one warning) when it does not come in time. */
  async listServices(): Promise<readonly Service[]> {
    if (!this.informer.hasSynced() && !(await this.informer.waitForSync(this.syncTimeoutMs))) {
      if (!this.warnedUnsynced) this.logger.warn('services not listed yet; starting containers without service environment variables', { waitedMs: this.syncTimeoutMs });
      this.warnedUnsynced = true;
      return [];
    }
    return this.informer.lister.list();
  }
}
