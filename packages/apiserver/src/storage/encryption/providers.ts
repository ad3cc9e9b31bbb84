// The providers of upstream's EncryptionConfiguration that we implement, with
// upstream's stored format so etcd data moves between the two:
//   aescbc: `k8s:enc:aescbc:v1:<keyName>:` + IV (16 random bytes) + AES-CBC ciphertext, PKCS#7 padded
//   aesgcm: `k8s:enc:aesgcm:v1:<keyName>:` + nonce (12 random bytes) + AES-GCM ciphertext + tag (16 bytes),
//           with the etcd key as additional authenticated data, so a value copied under another key fails
//   identity: the value as it is, no prefix.
// aescbc authenticates nothing: a tampered value usually fails on its
// padding or its JSON, but not always; aesgcm detects every change. With
// random 96-bit nonces an aesgcm key should be rotated well before 2^32
// writes (upstream's documentation says every 200 000 writes).

import { createCipheriv, createDecipheriv, randomBytes, type CipherGCMTypes } from 'node:crypto';
import { CorruptValueError } from '../codec';
import type { EncryptionKey, ProviderConfig } from './config';

/** Every encrypted value starts with this; identity refuses to read such values as plain text. */
export const ENCRYPTED_PREFIX = Buffer.from('k8s:enc:');

const CBC_IV_BYTES = 16;
const CBC_BLOCK_BYTES = 16;
const GCM_NONCE_BYTES = 12;
const GCM_TAG_BYTES = 16;

/** A stored value that no configured provider can turn back into plain text. */
export class DecryptionError extends CorruptValueError {
  override readonly name = 'DecryptionError';
}

export interface StorageProvider {
  /** What every value this provider writes begins with; empty for identity. */
  readonly prefix: Buffer;
  /** For messages, never with key material: `aescbc key "key1"`. */
  readonly description: string;
  /** The bytes after the prefix. */
  encrypt(plaintext: Buffer, key: string): Buffer;
  /** `ciphertext` is the stored value without the prefix. */
  decrypt(ciphertext: Buffer, key: string): Buffer;
}

function aesBits(secret: Buffer): 128 | 192 | 256 {
  const bits = secret.length * 8;
  if (bits !== 128 && bits !== 192 && bits !== 256) throw new RangeError(`bug: an AES key must be 16, 24 or 32 bytes, got ${secret.length}`);
  return bits;
}

function cbcAlgorithm(secret: Buffer): string {
  return `aes-${aesBits(secret)}-cbc`;
}

function gcmAlgorithm(secret: Buffer): CipherGCMTypes {
  return `aes-${aesBits(secret)}-gcm`;
}

class AesCbcProvider implements StorageProvider {
  readonly prefix: Buffer;
  readonly description: string;
  constructor(private readonly key: EncryptionKey) {
    this.prefix = Buffer.from(`k8s:enc:aescbc:v1:${key.name}:`);
    this.description = `aescbc key "${key.name}"`;
  }

  encrypt(plaintext: Buffer): Buffer {
    const iv = randomBytes(CBC_IV_BYTES);
    const cipher = createCipheriv(cbcAlgorithm(this.key.secret), this.key.secret, iv);
    return Buffer.concat([iv, cipher.update(plaintext), cipher.final()]);
  }

  decrypt(ciphertext: Buffer, key: string): Buffer {
    if (ciphertext.length < CBC_IV_BYTES + CBC_BLOCK_BYTES) throw new DecryptionError(key, `${this.description}: the stored data is shorter than an IV and one block`);
    if ((ciphertext.length - CBC_IV_BYTES) % CBC_BLOCK_BYTES !== 0) throw new DecryptionError(key, `${this.description}: the stored data is not a multiple of the block size`);
    const decipher = createDecipheriv(cbcAlgorithm(this.key.secret), this.key.secret, ciphertext.subarray(0, CBC_IV_BYTES));
    try {
      return Buffer.concat([decipher.update(ciphertext.subarray(CBC_IV_BYTES)), decipher.final()]);
    } catch (cause) {
      throw new DecryptionError(key, `${this.description}: invalid PKCS#7 padding (altered value, or a different secret under this key name)`, { cause });
    }
  }
}

class AesGcmProvider implements StorageProvider {
  readonly prefix: Buffer;
  readonly description: string;
  constructor(private readonly key: EncryptionKey) {
    this.prefix = Buffer.from(`k8s:enc:aesgcm:v1:${key.name}:`);
    this.description = `aesgcm key "${key.name}"`;
  }

  encrypt(plaintext: Buffer, key: string): Buffer {
    const nonce = randomBytes(GCM_NONCE_BYTES);
    const cipher = createCipheriv(gcmAlgorithm(this.key.secret), this.key.secret, nonce, { authTagLength: GCM_TAG_BYTES });
    cipher.setAAD(Buffer.from(key, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]);
  }

  decrypt(ciphertext: Buffer, key: string): Buffer {
    if (ciphertext.length < GCM_NONCE_BYTES + GCM_TAG_BYTES) throw new DecryptionError(key, `${this.description}: the stored data is shorter than a nonce and a tag`);
    const nonce = ciphertext.subarray(0, GCM_NONCE_BYTES);
    const tag = ciphertext.subarray(ciphertext.length - GCM_TAG_BYTES);
    const decipher = createDecipheriv(gcmAlgorithm(this.key.secret), this.key.secret, nonce, { authTagLength: GCM_TAG_BYTES });
    decipher.setAAD(Buffer.from(key, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext.subarray(GCM_NONCE_BYTES, ciphertext.length - GCM_TAG_BYTES)), decipher.final()]);
    } catch (cause) {
      throw new DecryptionError(key, `${this.description}: authentication failed (altered value, a value copied from another key, or a different secret under this key name)`, { cause });
    }
  }
}

class IdentityProvider implements StorageProvider {
  readonly prefix = Buffer.alloc(0);
  readonly description = 'identity';

  encrypt(plaintext: Buffer): Buffer {
    return plaintext;
  }

  decrypt(ciphertext: Buffer, key: string): Buffer {
    if (ciphertext.subarray(0, ENCRYPTED_PREFIX.length).equals(ENCRYPTED_PREFIX)) {
      throw new DecryptionError(key, 'identity cannot read encrypted data');
    }
    return ciphertext;
  }
}

/** One StorageProvider per key (aescbc and aesgcm list several keys; the first key of the first provider writes). */
export function storageProviders(config: ProviderConfig): StorageProvider[] {
  switch (config.type) {
    case 'aescbc':
      return config.keys.map((key) => new AesCbcProvider(key));
    case 'aesgcm':
      return config.keys.map((key) => new AesGcmProvider(key));
    case 'identity':
      return [new IdentityProvider()];
  }
}
