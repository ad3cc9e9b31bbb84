// Wires every stored resource of the scheme to a RegistryStore over etcd with
// its watch cache, strategy, admission, allocation hooks and subresources,
// and describes them for discovery. bootstrap() creates what a cluster starts
// with: the system namespaces and the `kubernetes` Service.

import { allResources, storageKeyPrefix, type Node, type ResourceInfo } from '@kube-lite/api';
import { AdmissionChain, DefaultTolerationSeconds, NamespaceLifecycle, ServiceAccountAdmission, type AdmissionPlugin } from '../admission';
import { MASTERS_GROUP, type UserInfo } from '../auth';
import { DEFAULT_METRIC_RESOLUTION_MS, MetricsSource, metricsResources, registryReader } from '../metrics';
import { StatusError, type ResourceDescription, type ResourceHandler, type ServedResource } from '../server';
import { isStorageError, WatchCache, type EtcdStore, type WatchCacheLogRecord } from '../storage';
import { ClusterIpAllocator, NodePortAllocator } from './allocator/service-ranges';
import { DEFAULT_KUBELET_PROXY_OPTIONS, KubeletProxySubresource, type KubeletProxyOptions, type KubeletSubresource } from './kubelet-proxy';
import type { ApiObject } from './object';
import { ServiceAllocationHooks } from './service-hooks';
import { RegistryStore, type WriteRequest } from './store';
import { strategyFor } from './strategy';
import { BindingSubresource, EvictionSubresource, FinalizeSubresource, ScaleSubresource, StatusSubresource } from './subresources';

export interface RegistryOptions {
  store: EtcdStore;
  /** --service-cluster-ip-range, e.g. `10.96.0.0/12`. */
  serviceClusterIpRange: string;
  /** --service-node-port-range. */
  serviceNodePortRange: { min: number; max: number };
  /** --event-ttl in seconds (default 3600). */
  eventTtlSeconds?: number;
  /** --default-not-ready-toleration-seconds (default 300). */
  defaultNotReadyTolerationSeconds?: number;
  /** --default-unreachable-toleration-seconds (default 300). */
  defaultUnreachableTolerationSeconds?: number;
  /** How pods/log, exec, attach and portforward reach kubelets. */
  kubeletProxy?: Partial<KubeletProxyOptions>;
  /** Watch cache tuning, shared by every resource. */
  watchCache?: { eventBufferSize?: number; bookmarkIntervalMs?: number };
  /** Receives the watch caches' structured records. */
  log?: (record: WatchCacheLogRecord) => void;
  /** Reads the time; tests pass a fixed clock. */
  nowMs?: () => number;
  /** Extra admission plugins, run after the built-in ones. */
  extraAdmission?: readonly AdmissionPlugin[];
  /**
   * Scrape every Ready node's kubelet for metrics.k8s.io at this interval (--metric-resolution).
   * metrics.k8s.io is always served; without this nothing is scraped and it answers no usage.
   */
  metricResolutionMs?: number;
  /** Receives a line per failed kubelet scrape. */
  metricsLog?: (message: string, fields: Record<string, unknown>) => void;
}

export interface BootstrapOptions {
  /** The address the `kubernetes` Service's endpoints point at. */
  advertiseAddress: string;
  /** The port the API server listens on. */
  securePort: number;
  /** The first address of the service range, reserved for the `kubernetes` Service. */
  kubernetesServiceIp: string;
}

/** The namespaces every cluster has. */
export const SYSTEM_NAMESPACES: readonly string[] = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const SYSTEM_USER: UserInfo = { name: 'system:apiserver', uid: '', groups: [MASTERS_GROUP] };

function describe(info: ResourceInfo, version: string): ResourceDescription {
  const description: ResourceDescription = {
    group: info.group,
    version,
    kind: info.kind,
    name: info.resource,
    singularName: info.singular,
    namespaced: info.namespaced,
    verbs: [...info.verbs],
    subresources: info.subresources.map((subresource) => {
      const entry: NonNullable<ResourceDescription['subresources']>[number] = { name: subresource.name, kind: subresource.kind, verbs: [...subresource.verbs] };
      if (subresource.group !== undefined) entry.group = subresource.group;
      if (subresource.version !== undefined) entry.version = subresource.version;
      return entry;
    }),
  };
  if (info.shortNames.length > 0) description.shortNames = [...info.shortNames];
  if (info.categories.length > 0) description.categories = [...info.categories];
  return description;
}

export class Registry {
  /** Stores by `group/resource` (`/pods`, `apps/deployments`). */
  readonly stores = new Map<string, RegistryStore>();
  readonly resources: ServedResource[] = [];
  readonly clusterIps: ClusterIpAllocator;
  readonly nodePorts: NodePortAllocator;
  private readonly caches: WatchCache<ApiObject>[] = [];
  private metricsSource: MetricsSource | undefined;

  private constructor(private readonly options: RegistryOptions) {
    this.clusterIps = new ClusterIpAllocator(options.store, options.serviceClusterIpRange);
    this.nodePorts = new NodePortAllocator(options.store, options.serviceNodePortRange);
  }

  /** Starts a watch cache per stored resource and builds the stores; resolves once all can serve. */
  static async start(options: RegistryOptions): Promise<Registry> {
    const registry = new Registry(options);
    try {
      await registry.build();
    } catch (error) {
      registry.stop();
      throw error;
    }
    return registry;
  }

  private async build(): Promise<void> {
    const options = this.options;
    const stored = allResources().filter((info) => info.storagePrefix !== undefined);
    const caches = await Promise.all(
      stored.map((info) => {
        const cacheOptions: Parameters<typeof WatchCache.start>[0] = { store: options.store, prefix: storageKeyPrefix(info), ...(options.watchCache ?? {}) };
        if (options.log !== undefined) cacheOptions.log = options.log;
        return WatchCache.start<ApiObject>(cacheOptions);
      }),
    );
    this.caches.push(...caches);
    const admission = new AdmissionChain([
      new NamespaceLifecycle((name, live) => this.lookupNamespace(name, live), options.nowMs),
      new DefaultTolerationSeconds({
        notReadyTolerationSeconds: options.defaultNotReadyTolerationSeconds ?? 300,
        unreachableTolerationSeconds: options.defaultUnreachableTolerationSeconds ?? 300,
      }),
      new ServiceAccountAdmission(),
      ...(options.extraAdmission ?? []),
    ]);
    const strategyOptions = { eventTtlSeconds: options.eventTtlSeconds ?? 3600 };
    stored.forEach((info, index) => {
      const storeOptions: ConstructorParameters<typeof RegistryStore>[0] = {
        info,
        store: options.store,
        cache: caches[index] as WatchCache<ApiObject>,
        strategy: strategyFor(info, strategyOptions),
        admission,
      };
      if (options.nowMs !== undefined) storeOptions.nowMs = options.nowMs;
      if (info.group === '' && info.kind === 'Service') storeOptions.hooks = new ServiceAllocationHooks(this.clusterIps, this.nodePorts);
      this.stores.set(`${info.group}/${info.resource}`, new RegistryStore(storeOptions));
    });
    const proxyOptions: KubeletProxyOptions = { ...DEFAULT_KUBELET_PROXY_OPTIONS, ...(options.kubeletProxy ?? {}) };
    for (const info of stored) {
      const store = this.store(info.group, info.resource);
      const subresources: Record<string, ResourceHandler> = {};
      for (const subresource of info.subresources) {
        const handler = this.subresourceHandler(store, subresource.name, proxyOptions);
        if (handler !== undefined) subresources[subresource.name] = handler;
      }
      store.subresources = subresources;
      for (const version of info.versions) this.resources.push({ description: describe(info, version), handler: store });
    }
    this.serveMetrics(proxyOptions);
  }

  /** metrics.k8s.io pods and nodes, from the kubelets' summaries (the computed kinds of the scheme). */
  private serveMetrics(proxyOptions: KubeletProxyOptions): void {
    const nodes = this.store('', 'nodes');
    const kubelet = { scheme: proxyOptions.scheme, defaultPort: proxyOptions.defaultPort, ...(proxyOptions.clientCertificate === undefined ? {} : { clientCertificate: proxyOptions.clientCertificate }) };
    const nodeReader = registryReader(nodes);
    this.metricsSource = new MetricsSource({
      resolutionMs: this.options.metricResolutionMs ?? DEFAULT_METRIC_RESOLUTION_MS,
      kubelet,
      listNodes: () => nodeReader.list('', '', '') as Promise<Node[]>,
      ...(this.options.metricsLog === undefined ? {} : { onError: this.options.metricsLog }),
    });
    if (this.options.metricResolutionMs !== undefined) this.metricsSource.start();
    this.resources.push(...metricsResources(this.metricsSource, { pods: registryReader(this.store('', 'pods')), nodes: nodeReader }, this.options.nowMs));
  }

  private subresourceHandler(store: RegistryStore, name: string, proxyOptions: KubeletProxyOptions): ResourceHandler | undefined {
    switch (name) {
      case 'status':
        return new StatusSubresource(store);
      case 'scale':
        return new ScaleSubresource(store);
      case 'binding':
        return new BindingSubresource(store);
      case 'eviction':
        return new EvictionSubresource(store, this.stores.get('policy/poddisruptionbudgets'));
      case 'finalize':
        return new FinalizeSubresource(store);
      case 'log':
      case 'exec':
      case 'attach':
      case 'portforward':
        return new KubeletProxySubresource(name as KubeletSubresource, store, this.store('', 'nodes'), proxyOptions);
      default:
        return undefined;
    }
  }

  /** The store of a resource; throws for resources that are not stored (a bug in the caller). */
  store(group: string, resource: string): RegistryStore {
    const store = this.stores.get(`${group}/${resource}`);
    if (store === undefined) throw new Error(`no registry store for ${resource}.${group}`);
    return store;
  }

  private async lookupNamespace(name: string, live: boolean): Promise<ApiObject | undefined> {
    const namespaces = this.store('', 'namespaces');
    const key = namespaces.keyFor('', name);
    if (!live) {
      try {
        return await namespaces.cache.get(key, { resourceVersion: '0' });
      } catch (error) {
        if (!isStorageError(error, 'NotFound')) throw error;
      }
    }
    // The cache may lag a namespace created a moment ago: ask etcd before saying it does not exist.
    try {
      return await namespaces.store.get<ApiObject>(key);
    } catch (error) {
      if (isStorageError(error, 'NotFound')) return undefined;
      throw error;
    }
  }

  /** Creates the system namespaces and the `kubernetes` Service with its Endpoints when missing. */
  async bootstrap(options: BootstrapOptions): Promise<void> {
    const request = (namespace: string, version = 'v1'): WriteRequest => ({
      namespace,
      name: '',
      version,
      user: SYSTEM_USER,
      dryRun: false,
      fieldManager: 'kube-apiserver',
      fieldValidation: 'Ignore',
      addWarning: () => undefined,
    });
    const createIfMissing = async (store: RegistryStore, namespace: string, object: ApiObject): Promise<void> => {
      // Look first: on a restart over existing data, creating again would
      // run admission (the kubernetes Service would try to allocate its
      // already-allocated cluster IP) before the AlreadyExists check.
      try {
        await store.read(namespace, object.metadata?.name ?? '');
        return;
      } catch (error) {
        if (!(error instanceof StatusError && error.reason === 'NotFound')) throw error;
      }
      try {
        await store.createObject(request(namespace), object, { manager: 'kube-apiserver', operation: 'Update' });
      } catch (error) {
        if (!(error instanceof StatusError && error.reason === 'AlreadyExists')) throw error;
      }
    };
    for (const name of SYSTEM_NAMESPACES) {
      await createIfMissing(this.store('', 'namespaces'), '', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    }
    const labels = { component: 'apiserver', provider: 'kubernetes' };
    await createIfMissing(this.store('', 'services'), 'default', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kubernetes', labels },
      spec: { type: 'ClusterIP', clusterIP: options.kubernetesServiceIp, ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: options.securePort }] },
    });
    await createIfMissing(this.store('', 'endpoints'), 'default', {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'kubernetes', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
      subsets: [{ addresses: [{ ip: options.advertiseAddress }], ports: [{ name: 'https', port: options.securePort, protocol: 'TCP' }] }],
    });
  }

  /** Stops every watch cache (and so every client watch). */
  stop(): void {
    void this.metricsSource?.stop();
    for (const cache of this.caches) cache.stop();
  }
}
