// ObjectReader over a registry store: reads from its watch cache (what
// resourceVersion=0 reads), so answering `kubectl top` costs etcd nothing.

import { storageKeyPrefix, type KubeObject } from '@kube-lite/api';
import type { RegistryStore } from '../registry/store';
import type { ObjectReader } from './rest';

export function registryReader(store: RegistryStore): ObjectReader {
  return {
    async list(namespace, labelSelector, fieldSelector) {
      const predicate = store.predicateFor(labelSelector, fieldSelector);
      const prefix = storageKeyPrefix(store.info, store.info.namespaced && namespace !== '' ? namespace : undefined);
      const result = await store.cache.list(prefix, predicate === undefined ? { resourceVersion: '0' } : { resourceVersion: '0', predicate });
      return result.items as KubeObject[];
    },
    get: (namespace, name) => store.read(namespace, name, '0') as Promise<KubeObject>,
  };
}
