// Reads --encryption-provider-config: upstream's EncryptionConfiguration
// (apiserver.config.k8s.io/v1) in YAML or JSON. Every mistake is an
// EncryptionConfigError naming the file and the field (upstream's field
// paths, `resources[0].providers[1].aescbc.keys[0].secret`); key material
// never appears in a message.

import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

/** The configuration file is unreadable or describes something we cannot do. */
export class EncryptionConfigError extends Error {
  override readonly name = 'EncryptionConfigError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const ENCRYPTION_CONFIG_API_VERSION = 'apiserver.config.k8s.io/v1';
export const ENCRYPTION_CONFIG_KIND = 'EncryptionConfiguration';

/** AES-128, AES-192 and AES-256, as upstream allows for aescbc and aesgcm. */
export const AES_KEY_SIZES_BYTES: readonly number[] = [16, 24, 32];

export interface EncryptionKey {
  /** Written into every value this key encrypts (`k8s:enc:aescbc:v1:<name>:`), so reads find the key again. */
  name: string;
  /** The raw key, decoded from the file's base64. */
  secret: Buffer;
}

export type ProviderConfig =
  | { type: 'aescbc'; keys: EncryptionKey[] }
  | { type: 'aesgcm'; keys: EncryptionKey[] }
  | { type: 'identity' };

export interface ResourceEncryptionConfig {
  /** `secrets`, `configmaps`, `deployments.apps`, `*.apps`, `*.` (the core group) or `*.*`, as given. */
  resources: string[];
  /** In order: the first encrypts new writes, all of them are tried for reads. */
  providers: ProviderConfig[];
}

export interface EncryptionConfig {
  /** Where the configuration came from, for messages. */
  source: string;
  /** In order: the first entry naming a resource decides how it is stored. */
  resources: ResourceEncryptionConfig[];
}

const PROVIDER_TYPES = ['aescbc', 'aesgcm', 'secretbox', 'kms', 'identity'] as const;
const SUPPORTED_PROVIDERS = 'aescbc, aesgcm, identity';
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** A resource name, `name.group`, `*.group`, `*.` or `*.*` (lower case DNS-ish segments). */
const RESOURCE_PATTERN = /^(?:\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.(?:\*|[a-z0-9]([-a-z0-9.]*[a-z0-9])?)?)?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and checks the file given to --encryption-provider-config. */
export function loadEncryptionConfig(file: string): EncryptionConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EncryptionConfigError(`--encryption-provider-config: cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  return parseEncryptionConfig(text, file);
}

/** Checks an EncryptionConfiguration document; `source` names it in messages. */
export function parseEncryptionConfig(text: string, source: string): EncryptionConfig {
  const fail = (field: string, problem: string): never => {
    throw new EncryptionConfigError(`--encryption-provider-config ${source}: ${field === '' ? '' : `${field}: `}${problem}`);
  };
  let document: unknown;
  try {
    // prettyErrors off: a parse error must not quote the file's lines, which hold keys.
    document = parseYaml(text, { prettyErrors: false, uniqueKeys: true });
  } catch (cause) {
    const offset = (cause as { pos?: number[] }).pos?.[0];
    const line = offset === undefined ? undefined : text.slice(0, offset).split('\n').length;
    fail('', `not valid YAML${line === undefined ? '' : ` (line ${line})`}`);
  }
  if (!isRecord(document)) return fail('', `expected an ${ENCRYPTION_CONFIG_KIND} object`);
  if (document.kind !== ENCRYPTION_CONFIG_KIND) fail('kind', `must be ${ENCRYPTION_CONFIG_KIND}, got ${JSON.stringify(document.kind ?? '')}`);
  if (document.apiVersion !== ENCRYPTION_CONFIG_API_VERSION) {
    fail('apiVersion', `must be ${ENCRYPTION_CONFIG_API_VERSION}, got ${JSON.stringify(document.apiVersion ?? '')}`);
  }
  const resources = document.resources;
  if (!Array.isArray(resources) || resources.length === 0) return fail('resources', 'Required value: at least one entry is required');
  const seenResources = new Map<string, string>();
  const entries = resources.map((entry: unknown, resourceIndex): ResourceEncryptionConfig => {
    const entryPath = `resources[${resourceIndex}]`;
    if (!isRecord(entry)) return fail(entryPath, 'must be an object with resources and providers');
    const names = entry.resources;
    if (!Array.isArray(names) || names.length === 0) return fail(`${entryPath}.resources`, 'Required value: at least one resource is required');
    const resourceNames = names.map((name: unknown, nameIndex): string => {
      const namePath = `${entryPath}.resources[${nameIndex}]`;
      if (typeof name !== 'string' || !RESOURCE_PATTERN.test(name)) {
        return fail(namePath, `Invalid value: ${JSON.stringify(name)}: expected a lower-case resource such as "secrets", "deployments.apps", "*.apps", "*." or "*.*"`);
      }
      const earlier = seenResources.get(name);
      if (earlier !== undefined) fail(namePath, `Duplicate value: "${name}" is already listed at ${earlier}`);
      seenResources.set(name, namePath);
      return name;
    });
    const providers = entry.providers;
    if (!Array.isArray(providers) || providers.length === 0) return fail(`${entryPath}.providers`, 'Required value: at least one provider is required');
    return { resources: resourceNames, providers: providers.map((provider: unknown, index) => parseProvider(provider, `${entryPath}.providers[${index}]`, fail)) };
  });
  return { source, resources: entries };
}

function parseProvider(provider: unknown, path: string, fail: (field: string, problem: string) => never): ProviderConfig {
  if (!isRecord(provider)) return fail(path, `must be an object naming one provider (${SUPPORTED_PROVIDERS})`);
  const given = Object.keys(provider);
  const unknown = given.filter((key) => !(PROVIDER_TYPES as readonly string[]).includes(key));
  if (unknown.length > 0) return fail(`${path}.${unknown[0] as string}`, `Unsupported value: unknown provider; supported are ${SUPPORTED_PROVIDERS}`);
  if (given.length !== 1) return fail(path, `Invalid value: exactly one provider must be set, got ${given.length === 0 ? 'none' : given.join(', ')}`);
  const type = given[0] as (typeof PROVIDER_TYPES)[number];
  const body = provider[type];
  switch (type) {
    case 'identity':
      if (body !== null && body !== undefined && !isRecord(body)) fail(`${path}.identity`, 'must be an empty object ({})');
      return { type: 'identity' };
    case 'aescbc':
    case 'aesgcm':
      return { type, keys: parseKeys(body, `${path}.${type}`, fail) };
    case 'secretbox':
    case 'kms':
      return fail(`${path}.${type}`, `Unsupported value: the ${type} provider is not supported by kube-lite; supported are ${SUPPORTED_PROVIDERS}`);
  }
}

function parseKeys(body: unknown, path: string, fail: (field: string, problem: string) => never): EncryptionKey[] {
  if (!isRecord(body)) return fail(path, 'must be an object with keys');
  const keys = body.keys;
  if (!Array.isArray(keys) || keys.length === 0) return fail(`${path}.keys`, 'Required value: at least one key is required');
  const names = new Set<string>();
  return keys.map((key: unknown, index): EncryptionKey => {
    const keyPath = `${path}.keys[${index}]`;
    if (!isRecord(key)) return fail(keyPath, 'must be an object with name and secret');
    const name = key.name;
    if (typeof name !== 'string' || name === '') return fail(`${keyPath}.name`, 'Required value: key name is required');
    // The name ends up between colons in the stored prefix.
    if (name.includes(':')) fail(`${keyPath}.name`, `Invalid value: "${name}": must not contain ':'`);
    if (names.has(name)) fail(`${keyPath}.name`, `Duplicate value: "${name}"`);
    names.add(name);
    const secret = key.secret;
    if (typeof secret !== 'string' || secret === '') return fail(`${keyPath}.secret`, 'Required value: secret is required');
    if (!BASE64.test(secret)) fail(`${keyPath}.secret`, 'Invalid value: "REDACTED": secret is not a valid base64 string');
    const decoded = Buffer.from(secret, 'base64');
    if (!AES_KEY_SIZES_BYTES.includes(decoded.length)) {
      fail(`${keyPath}.secret`, `Invalid value: "REDACTED": secret is not of the expected length, got ${decoded.length}, expected one of [${AES_KEY_SIZES_BYTES.join(' ')}]`);
    }
    return { name, secret: decoded };
  });
}
