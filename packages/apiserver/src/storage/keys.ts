// Where objects live in etcd, exactly as upstream lays them out:
// /registry/<resource>/<namespace>/<name>, or /registry/<resource>/<name> for
// cluster-scoped resources.

import { InvalidStorageKeyError } from './errors';

export const REGISTRY_PREFIX = '/registry';

export interface ObjectKeyParts {
  /** Plural lowercase resource name with its group prefix when upstream uses one (e.g. "pods", "deployments"). */
  resource: string;
  /** Absent for cluster-scoped resources. */
  namespace?: string;
  name: string;
}

export function objectKey(parts: ObjectKeyParts): string {
  for (const [field, value] of [['resource', parts.resource], ['namespace', parts.namespace], ['name', parts.name]] as const) {
    if (value === undefined && field === 'namespace') continue;
    checkSegment(field, value ?? '');
  }
  const namespace = parts.namespace === undefined ? '' : `/${parts.namespace}`;
  return `${REGISTRY_PREFIX}/${parts.resource}${namespace}/${parts.name}`;
}

/** The prefix holding every object of a resource, or of one namespace of it; always ends in "/". */
export function resourcePrefix(resource: string, namespace?: string): string {
  checkSegment('resource', resource);
  if (namespace === undefined) return `${REGISTRY_PREFIX}/${resource}/`;
  checkSegment('namespace', namespace);
  return `${REGISTRY_PREFIX}/${resource}/${namespace}/`;
}

/** Rejects keys that could escape their prefix or collide ("..", "//", no leading "/"). */
export function validateKey(key: string): void {
  if (!key.startsWith('/')) throw new InvalidStorageKeyError(key, 'must start with "/"');
  const segments = key.split('/').slice(1);
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '' && !last) throw new InvalidStorageKeyError(key, 'empty path segment');
    if (segment === '.' || segment === '..') throw new InvalidStorageKeyError(key, `"${segment}" path segment`);
  });
}

/** A prefix for range reads: the key itself with a trailing "/" added when missing. */
export function normalizePrefix(prefix: string): string {
  validateKey(prefix);
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** The smallest key greater than every key starting with prefix (etcd's range_end for a prefix). */
export function prefixRangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let index = end.length - 1; index >= 0; index--) {
    if ((end[index] ?? 0) < 0xff) {
      end[index] = (end[index] ?? 0) + 1;
      return end.subarray(0, index + 1);
    }
  }
  // Only 0xff bytes: every key from prefix to the end of the keyspace.
  return Buffer.from([0]);
}

function checkSegment(field: string, value: string): void {
  if (value === '' || value === '.' || value === '..' || value.includes('/')) {
    throw new InvalidStorageKeyError(value, `${field} must be a non-empty path segment without "/"`);
  }
}
