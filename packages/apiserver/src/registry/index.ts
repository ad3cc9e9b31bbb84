// The registry: every served resource's REST logic over etcd (generic store,
// per-kind strategies, subresources, Service IP and port allocation).

export { ClusterIpAllocator, NodePortAllocator } from './allocator/service-ranges';
export { RangeAllocator, RangeFullError, RangeMismatchError, type RangeAllocatorOptions } from './allocator/range-allocator';
export type { LifecycleHooks, WriteEffects } from './hooks';
export { DEFAULT_KUBELET_PROXY_OPTIONS, KubeletProxySubresource, type KubeletProxyOptions, type KubeletSubresource } from './kubelet-proxy';
export type { ApiObject } from './object';
export { Registry, SYSTEM_NAMESPACES, type BootstrapOptions, type RegistryOptions } from './registry';
export { RegistryStore, finalizersForPolicy, writeRequestOf, type DeleteRequest, type RegistryStoreOptions, type WriteRequest } from './store';
export { DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS, strategyFor, type KindStrategy, type StrategyOptions } from './strategy';
