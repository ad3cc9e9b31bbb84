// Storage for the API server: objects in etcd under /registry/..., read and
// written through the etcd v3 API, with a watch cache per resource.

export {
  StorageError,
  isStorageError,
  InvalidStorageKeyError,
  type StorageErrorCode,
} from './errors';
export { jsonCodec, identityTransformer, CorruptValueError, type Codec, type Transformer, type StoredObject } from './codec';
export {
  EncryptionConfigError,
  EncryptionTransformer,
  DecryptionError,
  loadEncryptionConfig,
  parseEncryptionConfig,
  type EncryptionConfig,
  type StoredResourceInfo,
} from './encryption';
export { objectKey, resourcePrefix, REGISTRY_PREFIX, type ObjectKeyParts } from './keys';
export {
  EtcdStore,
  type EtcdStoreOptions,
  type EtcdStoreStats,
  type GetOptions,
  type CreateOptions,
  type UpdateOptions,
  type Preconditions,
  type GuaranteedUpdateOptions,
  type DeleteOptions,
  type ListOptions,
  type ListResult,
  type ResourceVersionMatch,
  type WatchOptions,
} from './store';
export {
  WatchCache,
  type WatchCacheOptions,
  type WatchCacheLogRecord,
  type CacheListOptions,
  type CacheWatchOptions,
  type WatchCacheStats,
} from './watch-cache';
export type { StorageWatch, WatchEvent, ObjectEvent, Predicate, BookmarkObject } from './watch-types';
export { EtcdHealthCheck, type HealthCheckResult } from './health';
