// What every component sees of the API server: the verbs of the REST API over
// a resource (group, version, plural name), and typed per-resource views
// (`client.pods('default').list()`). GrpcApiClient talks to a real server,
// FakeApiClient keeps objects in memory for unit tests; both extend
// ApiClientBase, which builds the typed views from the generic verbs.
import type {
  Binding,
  ConfigMap,
  ControllerRevision,
  CronJob,
  DaemonSet,
  DeleteOptions,
  Deployment,
  Endpoints,
  Event,
  Eviction,
  FieldSelector,
  HorizontalPodAutoscaler,
  Ingress,
  IngressClass,
  Job,
  KubeList,
  KubeObject,
  Lease,
  Namespace,
  Node,
  PatchType,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
  PodDisruptionBudget,
  ReplicaSet,
  Scale,
  Secret,
  Selector,
  Service,
  ServiceAccount,
  StatefulSet,
  Status,
} from '@kube-lite/api';
import { ApiError } from './errors';
import { RESOURCES } from './resources';

/** A resource as the API serves it: group ("" for core), version and plural name. */
export interface ResourceRef {
  readonly group: string;
  readonly version: string;
  /** Plural name as in URLs: "pods", "deployments". */
  readonly resource: string;
}

/** Per-call settings every verb accepts. */
export interface CallOptions {
  /** Deadline of this call; the client's default when absent. Not applied to watches. */
  timeoutMs?: number;
}

export interface GetOptions extends CallOptions {
  /** "" (latest, the default), "0" (any cached version) or a version the answer must not be older than. */
  resourceVersion?: string;
}

export interface ListOptions extends CallOptions {
  /** Label selector, as a string ("app=web") or a parsed Selector. */
  labelSelector?: string | Selector;
  /** Field selector, as a string ("spec.nodeName=n1") or a parsed FieldSelector. */
  fieldSelector?: string | FieldSelector;
  /** Most items per page; the answer's metadata.continue fetches the next page. */
  limit?: number;
  /** The metadata.continue of the previous page. */
  continue?: string;
  /** As in GetOptions. */
  resourceVersion?: string;
  /** How resourceVersion is read: NotOlderThan or Exact. */
  resourceVersionMatch?: 'NotOlderThan' | 'Exact';
}

export interface WatchOptions {
  labelSelector?: string | Selector;
  fieldSelector?: string | FieldSelector;
  /** Start after this version; "" or "0" starts with an ADDED event per existing object. */
  resourceVersion?: string;
  /** Ask for BOOKMARK events so a restarted watch can resume from a newer version. */
  allowWatchBookmarks?: boolean;
  /** The server ends the stream normally after this many seconds. */
  timeoutSeconds?: number;
}

export interface WriteOptions extends CallOptions {
  /** Validate and admit without persisting. */
  dryRun?: boolean;
  /** Actor name recorded in managedFields. */
  fieldManager?: string;
}

export interface UpdateOptions extends WriteOptions {
  /**
   * Replace a subresource instead of the object: "status" (as updateStatus),
   * or "finalize" (namespaces: only spec.finalizers changes, the one way to
   * remove the "kubernetes" finalizer of a terminating namespace).
   */
  subresource?: 'status' | 'finalize';
}

export interface PatchOptions extends WriteOptions {
  /** Patch a subresource ("status", "scale") instead of the object. */
  subresource?: 'status' | 'scale';
}

export interface DeleteCallOptions extends DeleteOptions, CallOptions {}

/** A change to a watched collection. ERROR events never appear: they end the iteration with an ApiError. */
export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: T;
}

/**
 * A running watch. Iterate it with `for await`; the iteration ends when the
 * server closes the stream (timeout) or stop() is called, and throws an
 * ApiError when the server reports one (410 Expired: list again).
 */
export interface Watch<T> extends AsyncIterable<WatchEvent<T>> {
  /** Ends the stream; a pending iteration finishes without error. Safe to call twice. */
  stop(): void;
}

/** One pod's bind in a bindMany call, with bind's arguments. */
export interface BindItem {
  namespace: string;
  podName: string;
  /** core/v1 Binding; target names the node. */
  binding: Binding;
}

/** The generic verbs. `namespace` is undefined (or "") for cluster-scoped resources and all-namespace lists. */
export interface ApiVerbs {
  get<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, options?: GetOptions): Promise<T>;
  list<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, options?: ListOptions): Promise<KubeList<T>>;
  watch<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, options?: WatchOptions): Watch<T>;
  create<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options?: WriteOptions): Promise<T>;
  /** Replaces the object named by object.metadata.name; conditional on its metadata.resourceVersion when set. */
  update<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options?: UpdateOptions): Promise<T>;
  /** Replaces only the status of the object named by object.metadata.name. */
  updateStatus<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options?: WriteOptions): Promise<T>;
  /** `patch` is the parsed JSON document (an object for merge/strategic, an operation array for json). */
  patch<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, options?: PatchOptions): Promise<T>;
  /** Answers the object when deletion is deferred (finalizers), otherwise a Success Status. */
  delete(ref: ResourceRef, namespace: string | undefined, name: string, options?: DeleteCallOptions): Promise<KubeObject | Status>;
  /** POST pods/<podName>/binding: binding.target names the node. */
  bind(namespace: string, podName: string, binding: Binding, options?: WriteOptions): Promise<void>;
  /**
   * Several binds in one request. Each succeeds or fails on its own: the answer holds, per item and in order,
   * undefined when it was bound or the ApiError bind would have thrown (409 already assigned, 404, ...). The
   * promise itself rejects only when the whole request failed (unreachable server, bad credentials, timeout).
   */
  bindMany(items: readonly BindItem[], options?: WriteOptions): Promise<(ApiError | undefined)[]>;
  /** POST pods/<podName>/eviction: a 429 ApiError when a disruption budget forbids it. */
  evict(namespace: string, podName: string, eviction?: Eviction, options?: CallOptions): Promise<void>;
  getScale(ref: ResourceRef, namespace: string, name: string, options?: CallOptions): Promise<Scale>;
  updateScale(ref: ResourceRef, namespace: string, name: string, scale: Scale, options?: WriteOptions): Promise<Scale>;
}

/** The verbs bound to one resource and namespace. */
export interface ResourceClient<T extends KubeObject> {
  readonly ref: ResourceRef;
  readonly namespace: string | undefined;
  get(name: string, options?: GetOptions): Promise<T>;
  list(options?: ListOptions): Promise<KubeList<T>>;
  watch(options?: WatchOptions): Watch<T>;
  create(object: T, options?: WriteOptions): Promise<T>;
  update(object: T, options?: UpdateOptions): Promise<T>;
  updateStatus(object: T, options?: WriteOptions): Promise<T>;
  patch(name: string, patchType: PatchType, patch: unknown, options?: PatchOptions): Promise<T>;
  delete(name: string, options?: DeleteCallOptions): Promise<KubeObject | Status>;
}

export interface PodClient extends ResourceClient<Pod> {
  bind(podName: string, nodeName: string, options?: WriteOptions): Promise<void>;
  evict(podName: string, deleteOptions?: DeleteOptions): Promise<void>;
}

export interface ScalableClient<T extends KubeObject> extends ResourceClient<T> {
  getScale(name: string, options?: CallOptions): Promise<Scale>;
  updateScale(name: string, scale: Scale, options?: WriteOptions): Promise<Scale>;
}

/** The verbs plus typed views. Namespace-less calls of namespaced resources span all namespaces. */
export interface ApiClient extends ApiVerbs {
  resource<T extends KubeObject>(ref: ResourceRef, namespace?: string): ResourceClient<T>;
  pods(namespace?: string): PodClient;
  nodes(): ResourceClient<Node>;
  namespaces(): ResourceClient<Namespace>;
  services(namespace?: string): ResourceClient<Service>;
  endpoints(namespace?: string): ResourceClient<Endpoints>;
  configMaps(namespace?: string): ResourceClient<ConfigMap>;
  secrets(namespace?: string): ResourceClient<Secret>;
  events(namespace?: string): ResourceClient<Event>;
  serviceAccounts(namespace?: string): ResourceClient<ServiceAccount>;
  persistentVolumeClaims(namespace?: string): ResourceClient<PersistentVolumeClaim>;
  persistentVolumes(): ResourceClient<PersistentVolume>;
  deployments(namespace?: string): ScalableClient<Deployment>;
  replicaSets(namespace?: string): ScalableClient<ReplicaSet>;
  statefulSets(namespace?: string): ScalableClient<StatefulSet>;
  daemonSets(namespace?: string): ResourceClient<DaemonSet>;
  controllerRevisions(namespace?: string): ResourceClient<ControllerRevision>;
  jobs(namespace?: string): ResourceClient<Job>;
  cronJobs(namespace?: string): ResourceClient<CronJob>;
  horizontalPodAutoscalers(namespace?: string): ResourceClient<HorizontalPodAutoscaler>;
  ingresses(namespace?: string): ResourceClient<Ingress>;
  ingressClasses(): ResourceClient<IngressClass>;
  leases(namespace?: string): ResourceClient<Lease>;
  podDisruptionBudgets(namespace?: string): ResourceClient<PodDisruptionBudget>;
  /** Releases connections; later calls fail with ClientClosedError. */
  close(): void;
}

/** Implements the typed views over the abstract verbs; GrpcApiClient and FakeApiClient extend it. */
export abstract class ApiClientBase implements ApiClient {
  abstract get<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, options?: GetOptions): Promise<T>;
  abstract list<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, options?: ListOptions): Promise<KubeList<T>>;
  abstract watch<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, options?: WatchOptions): Watch<T>;
  abstract create<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options?: WriteOptions): Promise<T>;
  abstract update<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options?: UpdateOptions): Promise<T>;
  abstract updateStatus<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options?: WriteOptions): Promise<T>;
  abstract patch<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, options?: PatchOptions): Promise<T>;
  abstract delete(ref: ResourceRef, namespace: string | undefined, name: string, options?: DeleteCallOptions): Promise<KubeObject | Status>;
  abstract bind(namespace: string, podName: string, binding: Binding, options?: WriteOptions): Promise<void>;
  abstract evict(namespace: string, podName: string, eviction?: Eviction, options?: CallOptions): Promise<void>;
  abstract getScale(ref: ResourceRef, namespace: string, name: string, options?: CallOptions): Promise<Scale>;
  abstract updateScale(ref: ResourceRef, namespace: string, name: string, scale: Scale, options?: WriteOptions): Promise<Scale>;
  abstract close(): void;

  /** One bind per item, all at once; clients with a batch call (GrpcApiClient) override it. */
  async bindMany(items: readonly BindItem[], options?: WriteOptions): Promise<(ApiError | undefined)[]> {
    return Promise.all(
      items.map((item) =>
        this.bind(item.namespace, item.podName, item.binding, options).then(
          () => undefined,
          (error: unknown) => (error instanceof ApiError ? error : new ApiError(500, 'InternalError', error instanceof Error ? error.message : String(error), undefined, { cause: error })),
        ),
      ),
    );
  }

  resource<T extends KubeObject>(ref: ResourceRef, namespace?: string): ResourceClient<T> {
    return {
      ref,
      namespace,
      get: (name, options) => this.get<T>(ref, namespace, name, options),
      list: (options) => this.list<T>(ref, namespace, options),
      watch: (options) => this.watch<T>(ref, namespace, options),
      create: (object, options) => this.create<T>(ref, namespace, object, options),
      update: (object, options) => this.update<T>(ref, namespace, object, options),
      updateStatus: (object, options) => this.updateStatus<T>(ref, namespace, object, options),
      patch: (name, patchType, patch, options) => this.patch<T>(ref, namespace, name, patchType, patch, options),
      delete: (name, options) => this.delete(ref, namespace, name, options),
    };
  }

  private scalable<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined): ScalableClient<T> {
    return {
      ...this.resource<T>(ref, namespace),
      getScale: (name, options) => this.getScale(ref, namespace ?? '', name, options),
      updateScale: (name, scale, options) => this.updateScale(ref, namespace ?? '', name, scale, options),
    };
  }

  pods(namespace?: string): PodClient {
    return {
      ...this.resource<Pod>(RESOURCES.pods, namespace),
      bind: (podName, nodeName, options) =>
        this.bind(namespace ?? '', podName, { apiVersion: 'v1', kind: 'Binding', metadata: { name: podName, namespace: namespace ?? '' }, target: { apiVersion: 'v1', kind: 'Node', name: nodeName } }, options),
      evict: (podName, deleteOptions) => {
        const eviction: Eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: podName, namespace: namespace ?? '' } };
        if (deleteOptions !== undefined) eviction.deleteOptions = deleteOptions;
        return this.evict(namespace ?? '', podName, eviction);
      },
    };
  }
  nodes(): ResourceClient<Node> {
    return this.resource(RESOURCES.nodes);
  }
  namespaces(): ResourceClient<Namespace> {
    return this.resource(RESOURCES.namespaces);
  }
  services(namespace?: string): ResourceClient<Service> {
    return this.resource(RESOURCES.services, namespace);
  }
  endpoints(namespace?: string): ResourceClient<Endpoints> {
    return this.resource(RESOURCES.endpoints, namespace);
  }
  configMaps(namespace?: string): ResourceClient<ConfigMap> {
    return this.resource(RESOURCES.configMaps, namespace);
  }
  secrets(namespace?: string): ResourceClient<Secret> {
    return this.resource(RESOURCES.secrets, namespace);
  }
  events(namespace?: string): ResourceClient<Event> {
    return this.resource(RESOURCES.events, namespace);
  }
  serviceAccounts(namespace?: string): ResourceClient<ServiceAccount> {
    return this.resource(RESOURCES.serviceAccounts, namespace);
  }
  persistentVolumeClaims(namespace?: string): ResourceClient<PersistentVolumeClaim> {
    return this.resource(RESOURCES.persistentVolumeClaims, namespace);
  }
  persistentVolumes(): ResourceClient<PersistentVolume> {
    return this.resource(RESOURCES.persistentVolumes);
  }
  deployments(namespace?: string): ScalableClient<Deployment> {
    return this.scalable(RESOURCES.deployments, namespace);
  }
  replicaSets(namespace?: string): ScalableClient<ReplicaSet> {
    return this.scalable(RESOURCES.replicaSets, namespace);
  }
  statefulSets(namespace?: string): ScalableClient<StatefulSet> {
    return this.scalable(RESOURCES.statefulSets, namespace);
  }
  daemonSets(namespace?: string): ResourceClient<DaemonSet> {
    return this.resource(RESOURCES.daemonSets, namespace);
  }
  controllerRevisions(namespace?: string): ResourceClient<ControllerRevision> {
    return this.resource(RESOURCES.controllerRevisions, namespace);
  }
  jobs(namespace?: string): ResourceClient<Job> {
    return this.resource(RESOURCES.jobs, namespace);
  }
  cronJobs(namespace?: string): ResourceClient<CronJob> {
    return this.resource(RESOURCES.cronJobs, namespace);
  }
  horizontalPodAutoscalers(namespace?: string): ResourceClient<HorizontalPodAutoscaler> {
    return this.resource(RESOURCES.horizontalPodAutoscalers, namespace);
  }
  ingresses(namespace?: string): ResourceClient<Ingress> {
    return this.resource(RESOURCES.ingresses, namespace);
  }
  ingressClasses(): ResourceClient<IngressClass> {
    return this.resource(RESOURCES.ingressClasses);
  }
  leases(namespace?: string): ResourceClient<Lease> {
    return this.resource(RESOURCES.leases, namespace);
  }
  podDisruptionBudgets(namespace?: string): ResourceClient<PodDisruptionBudget> {
    return this.resource(RESOURCES.podDisruptionBudgets, namespace);
  }
}

/** A selector option as the string the wire carries. */
export function selectorString(selector: string | Selector | FieldSelector | undefined): string {
  return selector === undefined ? '' : typeof selector === 'string' ? selector : selector.toString();
}
