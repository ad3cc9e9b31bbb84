import { createDecipheriv } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CorruptValueError } from '../codec';
import { DecryptionError, EncryptionConfigError, EncryptionTransformer, loadEncryptionConfig, parseEncryptionConfig, resourceNameMatches, type StoredResourceInfo } from './index';

const KEY1 = Buffer.alloc(32, 1).toString('base64');
const KEY2 = Buffer.alloc(32, 2).toString('base64');
const KEY16 = Buffer.alloc(16, 3).toString('base64');

const RESOURCES: StoredResourceInfo[] = [
  { group: '', resource: 'secrets', storagePrefix: '/registry/secrets' },
  { group: '', resource: 'configmaps', storagePrefix: '/registry/configmaps' },
  { group: '', resource: 'services', storagePrefix: '/registry/services/specs' },
  { group: 'apps', resource: 'deployments', storagePrefix: '/registry/deployments' },
];

const SECRET_KEY = '/registry/secrets/default/db';
const PLAINTEXT = Buffer.from('{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}');

/** An EncryptionConfiguration for secrets with the given providers (YAML flow lists). */
function config(providers: string, resources = '[secrets]'): string {
  return ['apiVersion: apiserver.config.k8s.io/v1', 'kind: EncryptionConfiguration', 'resources:', `  - resources: ${resources}`, `    providers: ${providers}`, ''].join('\n');
}

function transformer(providers: string, resources?: string): EncryptionTransformer {
  return new EncryptionTransformer(parseEncryptionConfig(config(providers, resources), 'test.yaml'), RESOURCES);
}

const aescbc = (name: string, secret: string): string => `{aescbc: {keys: [{name: ${name}, secret: "${secret}"}]}}`;
const aesgcm = (name: string, secret: string): string => `{aesgcm: {keys: [{name: ${name}, secret: "${secret}"}]}}`;

describe('EncryptionConfiguration parsing', () => {
  test.each([
    ['unknown provider', config('[{rot13: {}}]'), 'resources[0].providers[0].rot13: Unsupported value: unknown provider'],
    ['secretbox is named as unsupported', config('[{secretbox: {keys: [{name: k, secret: x}]}}]'), 'resources[0].providers[0].secretbox: Unsupported value: the secretbox provider is not supported'],
    ['two providers in one entry', config(`[{aescbc: {keys: [{name: k, secret: "${KEY1}"}]}, identity: {}}]`), 'resources[0].providers[0]: Invalid value: exactly one provider must be set'],
    ['wrong key length', config(`[${aescbc('k', Buffer.alloc(20).toString('base64'))}]`), 'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not of the expected length, got 20, expected one of [16 24 32]'],
    ['bad base64', config(`[${aescbc('k', 'not base64!!')}]`), 'resources[0].providers[0].aescbc.keys[0].secret: Invalid value: "REDACTED": secret is not a valid base64 string'],
    ['missing key name', config(`[{aesgcm: {keys: [{secret: "${KEY1}"}]}}]`), 'resources[0].providers[0].aesgcm.keys[0].name: Required value'],
    ['duplicate key names', config(`[{aescbc: {keys: [{name: k, secret: "${KEY1}"}, {name: k, secret: "${KEY2}"}]}}]`), 'resources[0].providers[0].aescbc.keys[1].name: Duplicate value: "k"'],
    ['no providers', config('[]'), 'resources[0].providers: Required value'],
    ['bad resource name', config('[{identity: {}}]', '["Secrets"]'), 'resources[0].resources[0]: Invalid value: "Secrets"'],
    ['wrong kind', config('[{identity: {}}]').replace('kind: EncryptionConfiguration', 'kind: Config'), 'kind: must be EncryptionConfiguration, got "Config"'],
    ['wrong apiVersion', config('[{identity: {}}]').replace('apiserver.config.k8s.io/v1', 'v1'), 'apiVersion: must be apiserver.config.k8s.io/v1'],
    ['not YAML', `resources: [\n  secret: "${KEY1}"`, 'not valid YAML'],
  ])('%s', (_case, text, message) => {
    let error: unknown;
    try {
      parseEncryptionConfig(text, '/etc/kube/enc.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EncryptionConfigError);
    const text_ = (error as Error).message;
    expect(text_).toContain('--encryption-provider-config /etc/kube/enc.yaml: ');
    expect(text_).toContain(message);
    // Key material never reaches a message.
    for (const secret of [KEY1, KEY2, 'not base64!!']) expect(text_).not.toContain(secret);
  });

  test('a missing file names the flag and the path', () => {
    expect(() => loadEncryptionConfig('/nonexistent/enc.yaml')).toThrow('--encryption-provider-config: cannot read /nonexistent/enc.yaml: ENOENT');
  });

  test('a file in upstream format loads with all its keys', () => {
    const directory = mkdtempSync(join(tmpdir(), 'kube-lite-enc-'));
    try {
      const file = join(directory, 'enc.yaml');
      writeFileSync(file, config(`[{aescbc: {keys: [{name: new, secret: "${KEY2}"}, {name: old, secret: "${KEY1}"}]}}, {identity: {}}]`, '[secrets, configmaps]'));
      const loaded = loadEncryptionConfig(file);
      expect(loaded.resources[0]?.resources).toEqual(['secrets', 'configmaps']);
      expect(loaded.resources[0]?.providers.map((provider) => provider.type)).toEqual(['aescbc', 'identity']);
      expect(new EncryptionTransformer(loaded, RESOURCES).describe()).toEqual([
        'configmaps: aescbc key "new" (writes), aescbc key "old", identity',
        'secrets: aescbc key "new" (writes), aescbc key "old", identity',
      ]);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('resource names', () => {
  test.each([
    ['secrets', '', 'secrets', true],
    ['secrets', 'apps', 'secrets', false],
    ['deployments.apps', 'apps', 'deployments', true],
    ['*.apps', 'apps', 'replicasets', true],
    ['*.apps', '', 'pods', false],
    ['*.', '', 'configmaps', true],
    ['*.', 'apps', 'deployments', false],
    ['*.*', 'batch', 'jobs', true],
  ])('%s covers %s/%s: %s', (pattern, group, resource, expected) => {
    expect(resourceNameMatches(pattern, group, resource)).toBe(expected);
  });
});

describe('round trips', () => {
  test.each([
    ['aescbc 32-byte key', aescbc('key1', KEY1), 'k8s:enc:aescbc:v1:key1:'],
    ['aescbc 16-byte key', aescbc('short', KEY16), 'k8s:enc:aescbc:v1:short:'],
    ['aesgcm', aesgcm('g1', KEY1), 'k8s:enc:aesgcm:v1:g1:'],
    ['identity', '{identity: {}}', ''],
  ])('%s', (_case, provider, prefix) => {
    const subject = transformer(`[${provider}]`);
    const stored = Buffer.from(subject.toStorage(PLAINTEXT, SECRET_KEY));
    expect(stored.subarray(0, prefix.length).toString()).toBe(prefix);
    if (prefix !== '') expect(stored.includes(Buffer.from('aHVudGVyMg=='))).toBe(false);
    expect(Buffer.from(subject.fromStorage(stored, SECRET_KEY)).equals(PLAINTEXT)).toBe(true);
    expect(subject.isStale(stored, SECRET_KEY)).toBe(false);
  });

  test('aescbc is upstream format: IV then AES-CBC with PKCS#7 padding', () => {
    const stored = Buffer.from(transformer(`[${aescbc('key1', KEY1)}]`).toStorage(PLAINTEXT, SECRET_KEY));
    const body = stored.subarray('k8s:enc:aescbc:v1:key1:'.length);
    expect((body.length - 16) % 16).toBe(0);
    const decipher = createDecipheriv('aes-256-cbc', Buffer.from(KEY1, 'base64'), body.subarray(0, 16));
    expect(Buffer.concat([decipher.update(body.subarray(16)), decipher.final()]).equals(PLAINTEXT)).toBe(true);
  });

  test('aesgcm is upstream format: nonce, ciphertext, tag, with the etcd key as additional data', () => {
    const stored = Buffer.from(transformer(`[${aesgcm('g1', KEY1)}]`).toStorage(PLAINTEXT, SECRET_KEY));
    const body = stored.subarray('k8s:enc:aesgcm:v1:g1:'.length);
    expect(body.length).toBe(12 + PLAINTEXT.length + 16);
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(KEY1, 'base64'), body.subarray(0, 12));
    decipher.setAAD(Buffer.from(SECRET_KEY));
    decipher.setAuthTag(body.subarray(body.length - 16));
    expect(Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]).equals(PLAINTEXT)).toBe(true);
  });

  test('two writes of the same value differ (random IV)', () => {
    const subject = transformer(`[${aescbc('key1', KEY1)}]`);
    expect(Buffer.from(subject.toStorage(PLAINTEXT, SECRET_KEY)).equals(Buffer.from(subject.toStorage(PLAINTEXT, SECRET_KEY)))).toBe(false);
  });

  test('resources the configuration does not name pass through; services/specs is not taken for another prefix', () => {
    const subject = transformer(`[${aescbc('key1', KEY1)}]`);
    for (const key of ['/registry/configmaps/default/x', '/registry/services/specs/default/x', '/registry/ranges/serviceips']) {
      expect(Buffer.from(subject.toStorage(PLAINTEXT, key)).equals(PLAINTEXT)).toBe(true);
    }
    const everything = transformer(`[${aescbc('key1', KEY1)}]`, '["*.*"]');
    expect(Buffer.from(everything.toStorage(PLAINTEXT, '/registry/services/specs/default/x')).subarray(0, 8).toString()).toBe('k8s:enc:');
    expect(Buffer.from(everything.toStorage(PLAINTEXT, '/registry/ranges/serviceips')).equals(PLAINTEXT)).toBe(true);
  });
});

describe('rotation', () => {
  test('add the new key second, move it first, rewrite: every step reads every value', () => {
    const start = transformer(`[${aescbc('key1', KEY1)}, {identity: {}}]`);
    const plainValue = PLAINTEXT;
    const underKey1 = start.toStorage(PLAINTEXT, SECRET_KEY);
    expect(start.isStale(plainValue, SECRET_KEY)).toBe(true);
    expect(Buffer.from(start.fromStorage(plainValue, SECRET_KEY)).equals(PLAINTEXT)).toBe(true);

    // Step 1: key2 known for reading on every server before anyone writes with it.
    const step1 = transformer(`[{aescbc: {keys: [{name: key1, secret: "${KEY1}"}, {name: key2, secret: "${KEY2}"}]}}, {identity: {}}]`);
    expect(step1.isStale(underKey1, SECRET_KEY)).toBe(false);

    // Step 2: key2 writes; key1 values are stale until rewritten.
    const step2 = transformer(`[{aescbc: {keys: [{name: key2, secret: "${KEY2}"}, {name: key1, secret: "${KEY1}"}]}}, {identity: {}}]`);
    expect(step2.isStale(underKey1, SECRET_KEY)).toBe(true);
    expect(Buffer.from(step2.fromStorage(underKey1, SECRET_KEY)).equals(PLAINTEXT)).toBe(true);
    const underKey2 = step2.toStorage(step2.fromStorage(underKey1, SECRET_KEY), SECRET_KEY);
    expect(Buffer.from(underKey2).subarray(0, 23).toString()).toBe('k8s:enc:aescbc:v1:key2:');
    expect(step2.isStale(underKey2, SECRET_KEY)).toBe(false);

    // Step 3: key1 removed; values rewritten in step 2 still read.
    const step3 = transformer(`[{aescbc: {keys: [{name: key2, secret: "${KEY2}"}]}}]`);
    expect(Buffer.from(step3.fromStorage(underKey2, SECRET_KEY)).equals(PLAINTEXT)).toBe(true);
  });

  test('identity first decrypts old values but writes plain text (turning encryption off)', () => {
    const encrypted = transformer(`[${aescbc('key1', KEY1)}]`).toStorage(PLAINTEXT, SECRET_KEY);
    const off = transformer(`[{identity: {}}, ${aescbc('key1', KEY1)}]`);
    expect(Buffer.from(off.fromStorage(encrypted, SECRET_KEY)).equals(PLAINTEXT)).toBe(true);
    expect(off.isStale(encrypted, SECRET_KEY)).toBe(true);
    expect(Buffer.from(off.toStorage(PLAINTEXT, SECRET_KEY)).equals(PLAINTEXT)).toBe(true);
  });
});

describe('failures', () => {
  const tamper = (value: Uint8Array, index: number, mask = 0x01): Buffer => {
    const copy = Buffer.from(value);
    copy[index] = (copy[index] ?? 0) ^ mask;
    return copy;
  };
  // In CBC, XOR-ing a byte of one ciphertext block XORs the same byte of the
  // next plaintext block. Cancelling the padding byte turns the last
  // plaintext byte into 0, which is never valid PKCS#7 padding; flipping a
  // bit of the last block itself would give valid padding about once in 256.
  const paddingBytes = 16 - (PLAINTEXT.length % 16);

  test.each([
    ['aesgcm: one flipped ciphertext bit', aesgcm('g1', KEY1), (value: Uint8Array) => tamper(value, value.length - 20), 'aesgcm key "g1": authentication failed'],
    ['aesgcm: one flipped tag bit', aesgcm('g1', KEY1), (value: Uint8Array) => tamper(value, value.length - 1), 'aesgcm key "g1": authentication failed'],
    ['aesgcm: truncated', aesgcm('g1', KEY1), (value: Uint8Array) => Buffer.from(value).subarray(0, 30), 'shorter than a nonce and a tag'],
    ['aescbc: padding altered', aescbc('key1', KEY1), (value: Uint8Array) => tamper(value, value.length - 17, paddingBytes), 'aescbc key "key1": invalid PKCS#7 padding'],
    ['aescbc: not whole blocks', aescbc('key1', KEY1), (value: Uint8Array) => Buffer.from(value).subarray(0, value.length - 3), 'not a multiple of the block size'],
  ])('%s is rejected', (_case, provider, change, message) => {
    const subject = transformer(`[${provider}]`);
    const altered = change(subject.toStorage(PLAINTEXT, SECRET_KEY));
    expect(() => subject.fromStorage(altered, SECRET_KEY)).toThrow(message);
    expect(() => subject.fromStorage(altered, SECRET_KEY)).toThrow(DecryptionError);
  });

  test('an aesgcm value moved under another key does not decrypt', () => {
    const subject = transformer(`[${aesgcm('g1', KEY1)}]`);
    const stored = subject.toStorage(PLAINTEXT, SECRET_KEY);
    expect(() => subject.fromStorage(stored, '/registry/secrets/default/other')).toThrow('authentication failed');
  });

  test('a value under a key the configuration no longer has names that key and what is configured', () => {
    const stored = transformer(`[${aescbc('key1', KEY1)}]`).toStorage(PLAINTEXT, SECRET_KEY);
    let error: unknown;
    try {
      transformer(`[${aescbc('key2', KEY2)}, {identity: {}}]`).fromStorage(stored, SECRET_KEY);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CorruptValueError);
    expect((error as Error).message).toBe(
      'value stored at /registry/secrets/default/db cannot be decoded: it is encrypted with aescbc key "key1", which is not in the encryption configuration of this resource (aescbc key "key2", identity)',
    );
    expect((error as Error).message).not.toContain(KEY1);
  });

  test('the same key name with a different secret fails on padding, not silently', () => {
    const stored = transformer(`[${aescbc('key1', KEY1)}]`).toStorage(PLAINTEXT, SECRET_KEY);
    const other = transformer(`[${aescbc('key1', KEY2)}]`);
    // CBC without authentication: a wrong key yields valid padding about once in 256 tries, and then garbage JSON.
    let result: Buffer | undefined;
    try {
      result = Buffer.from(other.fromStorage(stored, SECRET_KEY));
    } catch (error) {
      expect(error).toBeInstanceOf(DecryptionError);
    }
    if (result !== undefined) expect(result.equals(PLAINTEXT)).toBe(false);
  });

  test('plain text without identity configured is an error, and identity never reads ciphertext', () => {
    expect(() => transformer(`[${aescbc('key1', KEY1)}]`).fromStorage(PLAINTEXT, SECRET_KEY)).toThrow('it is not encrypted, and identity is not in the encryption configuration of this resource (aescbc key "key1")');
    const encrypted = transformer(`[${aescbc('key1', KEY1)}]`).toStorage(PLAINTEXT, SECRET_KEY);
    expect(() => transformer('[{identity: {}}]').fromStorage(encrypted, SECRET_KEY)).toThrow('encrypted with aescbc key "key1"');
    expect(() => transformer('[{identity: {}}]', '[configmaps]').fromStorage(encrypted, SECRET_KEY)).toThrow('the encryption configuration does not cover this resource');
  });
});
