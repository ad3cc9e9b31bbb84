// Encryption at rest (--encryption-provider-config): upstream's
// EncryptionConfiguration read into a storage Transformer.

export {
  EncryptionConfigError,
  loadEncryptionConfig,
  parseEncryptionConfig,
  type EncryptionConfig,
  type EncryptionKey,
  type ProviderConfig,
  type ResourceEncryptionConfig,
} from './config';
export { DecryptionError } from './providers';
export { EncryptionTransformer, ProviderChain, resourceNameMatches, type StoredResourceInfo } from './transformer';
