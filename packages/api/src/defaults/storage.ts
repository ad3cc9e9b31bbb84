// Defaults for storage.k8s.io/v1 StorageClass (upstream SetDefaults_StorageClass).
import type { StorageClass } from '../types/storage';

export function defaultStorageClass(storageClass: StorageClass): void {
  storageClass.reclaimPolicy ??= 'Delete';
  storageClass.volumeBindingMode ??= 'Immediate';
}
