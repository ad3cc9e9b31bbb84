// Encryption at rest as a storage Transformer: the etcd key says which
// resource a value belongs to, the configuration says which providers that
// resource uses. Writes use the first provider; reads pick the provider by
// the value's prefix, so values written under an older key stay readable
// while a rotation is under way, and are reported stale so that an update
// rewrites them even when nothing else changed (upstream's semantics).

import type { Transformer } from '../codec';
import type { EncryptionConfig, ResourceEncryptionConfig } from './config';
import { DecryptionError, ENCRYPTED_PREFIX, storageProviders, type StorageProvider } from './providers';

/** What the transformer needs to know about a stored resource to find it from an etcd key. */
export interface StoredResourceInfo {
  /** `` for the core group. */
  group: string;
  /** Plural resource name: `secrets`. */
  resource: string;
  /** Key prefix without namespace or name: `/registry/secrets`. */
  storagePrefix: string;
}

function hasPrefix(data: Uint8Array, prefix: Buffer): boolean {
  if (data.length < prefix.length) return false;
  for (let index = 0; index < prefix.length; index++) if (data[index] !== prefix[index]) return false;
  return true;
}

function asBuffer(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** The providers of one resource, in order: the first writes, the matching one reads. */
export class ProviderChain implements Transformer {
  constructor(private readonly providers: readonly StorageProvider[]) {
    if (providers.length === 0) throw new RangeError('bug: a provider chain needs at least one provider');
  }

  /** `aescbc key "key2" (writes), aescbc key "key1", identity`. */
  describe(): string {
    return this.providers.map((provider, index) => (index === 0 ? `${provider.description} (writes)` : provider.description)).join(', ');
  }

  toStorage(data: Uint8Array, key: string): Uint8Array {
    const writer = this.providers[0] as StorageProvider;
    return Buffer.concat([writer.prefix, writer.encrypt(asBuffer(data), key)]);
  }

  fromStorage(data: Uint8Array, key: string): Uint8Array {
    const index = this.readerIndex(data);
    if (index < 0) {
      const known = this.providers.map((provider) => provider.description).join(', ');
      const what = hasPrefix(data, ENCRYPTED_PREFIX) ? `it is encrypted with ${encryptedWith(data)}, which` : 'it is not encrypted, and identity';
      throw new DecryptionError(key, `${what} is not in the encryption configuration of this resource (${known})`);
    }
    const provider = this.providers[index] as StorageProvider;
    return provider.decrypt(asBuffer(data).subarray(provider.prefix.length), key);
  }

  isStale(data: Uint8Array): boolean {
    return this.readerIndex(data) !== 0;
  }

  /** The provider that reads a value: the first whose prefix it has; identity only takes values without `k8s:enc:`. */
  private readerIndex(data: Uint8Array): number {
    const encrypted = hasPrefix(data, ENCRYPTED_PREFIX);
    return this.providers.findIndex((provider) => (provider.prefix.length === 0 ? !encrypted : hasPrefix(data, provider.prefix)));
  }
}

/** `aescbc key "key2"` from a value's `k8s:enc:aescbc:v1:key2:` prefix, for messages. */
function encryptedWith(data: Uint8Array): string {
  const head = asBuffer(data).subarray(0, 256).toString('latin1');
  const match = /^k8s:enc:([a-z0-9]+):v1:([^:]*):/.exec(head);
  return match === null ? 'an unknown provider' : `${match[1]} key "${match[2]}"`;
}

/** Whether a configuration entry's resource name (`secrets`, `*.apps`, `*.`, `*.*`) covers a resource. */
export function resourceNameMatches(pattern: string, group: string, resource: string): boolean {
  if (pattern === '*.*') return true;
  const dot = pattern.indexOf('.');
  const name = dot < 0 ? pattern : pattern.slice(0, dot);
  const patternGroup = dot < 0 ? '' : pattern.slice(dot + 1);
  if (patternGroup !== group) return false;
  return name === '*' || name === resource;
}

/** Routes every etcd value to its resource's provider chain; values of resources the configuration does not name pass through. */
export class EncryptionTransformer implements Transformer {
  /** Longest storage prefix first, so `/registry/services/specs` is not taken for `/registry/services`. */
  private readonly routes: Array<{ prefix: string; resource: string; chain: ProviderChain | undefined }>;

  constructor(config: EncryptionConfig, resources: readonly StoredResourceInfo[]) {
    const chains = new Map<ResourceEncryptionConfig, ProviderChain>();
    for (const entry of config.resources) chains.set(entry, new ProviderChain(entry.providers.flatMap(storageProviders)));
    this.routes = resources
      .map((info) => {
        const entry = config.resources.find((candidate) => candidate.resources.some((pattern) => resourceNameMatches(pattern, info.group, info.resource)));
        return {
          prefix: info.storagePrefix.endsWith('/') ? info.storagePrefix : `${info.storagePrefix}/`,
          resource: info.group === '' ? info.resource : `${info.resource}.${info.group}`,
          chain: entry === undefined ? undefined : chains.get(entry),
        };
      })
      .sort((left, right) => right.prefix.length - left.prefix.length);
  }

  /** One line per encrypted resource, for the startup log: `secrets: aescbc key "key1" (writes), identity`. */
  describe(): string[] {
    return this.routes
      .filter((route) => route.chain !== undefined)
      .map((route) => `${route.resource}: ${(route.chain as ProviderChain).describe()}`)
      .sort();
  }

  toStorage(data: Uint8Array, key: string): Uint8Array {
    const chain = this.chainFor(key);
    return chain === undefined ? data : chain.toStorage(data, key);
  }

  fromStorage(data: Uint8Array, key: string): Uint8Array {
    const chain = this.chainFor(key);
    if (chain !== undefined) return chain.fromStorage(data, key);
    if (hasPrefix(data, ENCRYPTED_PREFIX)) {
      throw new DecryptionError(key, `it is encrypted with ${encryptedWith(data)}, but the encryption configuration does not cover this resource`);
    }
    return data;
  }

  isStale(data: Uint8Array, key: string): boolean {
    return this.chainFor(key)?.isStale(data) ?? false;
  }

  private chainFor(key: string): ProviderChain | undefined {
    for (const route of this.routes) if (key.startsWith(route.prefix)) return route.chain;
    return undefined;
  }
}
