// One informer per resource per process, shared by every controller in it, so
// ten controllers watching pods cost one list and one watch stream.
import type {
  ConfigMap,
  DaemonSet,
  Deployment,
  Endpoints,
  Event,
  Job,
  KubeObject,
  Lease,
  Namespace,
  Node,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  Service,
  StatefulSet,
} from '@kube-lite/api';
import type { ApiClient, ResourceRef } from '../api-client';
import { silentLogger, type Logger } from '../logger';
import { RESOURCES, refString } from '../resources';
import { CONTROLLER_UID_INDEX, controllerUidIndexFunc, NODE_NAME_INDEX, nodeNameIndexFunc, type IndexFunc } from './indexer';
import { SharedInformer, type SharedInformerOptions } from './shared-informer';

export interface SharedInformerFactoryOptions {
  /** Resync period of informers (and of handlers that name none); 0 (never) by default. */
  defaultResyncMs?: number;
  /** Restrict every informer to one namespace; all namespaces when absent. */
  namespace?: string;
  logger?: Logger;
  /** Passed to every informer: paging, watch timeout, backoff. */
  informerOptions?: Pick<SharedInformerOptions<KubeObject>, 'listPageSize' | 'watchTimeoutSeconds' | 'initialBackoffMs' | 'maxBackoffMs'>;
}

/** Per-resource choices for forResource. */
export interface InformerRequest<T> {
  /** Extra indexes; merged into the shared informer if it exists already. */
  indexers?: Record<string, IndexFunc<T>>;
  /** Resync period of this informer; the factory default when absent. Ignored if the informer exists already. */
  resyncPeriodMs?: number;
}

export class SharedInformerFactory {
  private readonly informers = new Map<string, SharedInformer<KubeObject>>();
  private readonly logger: Logger;

  constructor(
    private readonly client: ApiClient,
    private readonly options: SharedInformerFactoryOptions = {},
  ) {
    this.logger = options.logger ?? silentLogger;
  }

  /**
   * The shared informer of a resource, created on first request. Every
   * informer indexes by namespace and by controller owner uid; pods also by
   * spec.nodeName.
   */
  forResource<T extends KubeObject>(resource: ResourceRef, request: InformerRequest<T> = {}): SharedInformer<T> {
    const key = refString(resource);
    let informer = this.informers.get(key) as SharedInformer<T> | undefined;
    if (informer === undefined) {
      const indexers: Record<string, IndexFunc<T>> = { [CONTROLLER_UID_INDEX]: controllerUidIndexFunc };
      if (resource.group === '' && resource.resource === 'pods') indexers[NODE_NAME_INDEX] = nodeNameIndexFunc;
      informer = new SharedInformer<T>({
        ...this.options.informerOptions,
        client: this.client,
        resource,
        ...(this.options.namespace === undefined ? {} : { namespace: this.options.namespace }),
        resyncPeriodMs: request.resyncPeriodMs ?? this.options.defaultResyncMs ?? 0,
        indexers,
        logger: this.logger,
      });
      this.informers.set(key, informer as unknown as SharedInformer<KubeObject>);
    }
    if (request.indexers !== undefined) informer.addIndexers(request.indexers);
    return informer;
  }

  pods(): SharedInformer<Pod> {
    return this.forResource(RESOURCES.pods);
  }
  nodes(): SharedInformer<Node> {
    return this.forResource(RESOURCES.nodes);
  }
  namespaces(): SharedInformer<Namespace> {
    return this.forResource(RESOURCES.namespaces);
  }
  services(): SharedInformer<Service> {
    return this.forResource(RESOURCES.services);
  }
  endpoints(): SharedInformer<Endpoints> {
    return this.forResource(RESOURCES.endpoints);
  }
  configMaps(): SharedInformer<ConfigMap> {
    return this.forResource(RESOURCES.configMaps);
  }
  events(): SharedInformer<Event> {
    return this.forResource(RESOURCES.events);
  }
  deployments(): SharedInformer<Deployment> {
    return this.forResource(RESOURCES.deployments);
  }
  replicaSets(): SharedInformer<ReplicaSet> {
    return this.forResource(RESOURCES.replicaSets);
  }
  statefulSets(): SharedInformer<StatefulSet> {
    return this.forResource(RESOURCES.statefulSets);
  }
  daemonSets(): SharedInformer<DaemonSet> {
    return this.forResource(RESOURCES.daemonSets);
  }
  jobs(): SharedInformer<Job> {
    return this.forResource(RESOURCES.jobs);
  }
  leases(): SharedInformer<Lease> {
    return this.forResource(RESOURCES.leases);
  }
  podDisruptionBudgets(): SharedInformer<PodDisruptionBudget> {
    return this.forResource(RESOURCES.podDisruptionBudgets);
  }

  /** Starts every informer requested so far (call again after requesting more). */
  start(): void {
    for (const informer of this.informers.values()) informer.run();
  }

  /** Resolves true when every started informer has synced, false if `timeoutMs` passes first. */
  async waitForCacheSync(timeoutMs?: number): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((informer) => informer.waitForSync(timeoutMs)));
    return results.every(Boolean);
  }

  /** Stops every informer and waits for their loops to exit. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.informers.values()].map((informer) => informer.stop()));
  }
}
