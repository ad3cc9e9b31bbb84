// The opaque "continue" value of a paginated list. Like upstream it is
// base64url(JSON{v, rv, start}): the revision every page is read at, and the
// next key to read relative to the listed prefix, so a token can only resume
// the list it came from.

import { invalidResourceVersionError } from './errors';

const TOKEN_API_VERSION = 'meta.k8s.io/v1';

export interface ContinuePosition {
  /** The etcd revision the first page was read at. */
  revision: number;
  /** Absolute key to resume reading from (inclusive). */
  startKey: string;
}

export function encodeContinueToken(prefix: string, position: ContinuePosition): string {
  if (!position.startKey.startsWith(prefix) || position.startKey === prefix) {
    throw new RangeError(`continue key ${position.startKey} is not below prefix ${prefix}`);
  }
  const body = { v: TOKEN_API_VERSION, rv: position.revision, start: position.startKey.slice(prefix.length) };
  return Buffer.from(JSON.stringify(body), 'utf8').toString('base64url');
}

/** Throws InvalidResourceVersion for a token that is malformed or points outside prefix. */
export function decodeContinueToken(prefix: string, token: string): ContinuePosition {
  const invalid = (reason: string) => invalidResourceVersionError(prefix, `continue key is not valid: ${reason}`);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw invalid('not base64url');
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid('not JSON');
  }
  if (typeof body !== 'object' || body === null) throw invalid('not a JSON object');
  const { v, rv, start } = body as { v?: unknown; rv?: unknown; start?: unknown };
  if (v !== TOKEN_API_VERSION) throw invalid(`unsupported version ${JSON.stringify(v)}`);
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv <= 0) throw invalid('resource version must be a positive integer');
  if (typeof start !== 'string' || start === '') throw invalid('encoded start key empty');
  // Every segment must be a real name: "", "." or ".." could reach outside the prefix.
  if (start.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) {
    throw invalid(`start key ${JSON.stringify(start)} leaves the prefix`);
  }
  return { revision: rv, startKey: prefix + start };
}
