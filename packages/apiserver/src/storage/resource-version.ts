// resourceVersion strings as clients send them: "" (unset), "0" (any), or
// the decimal etcd revision of a write.

import { invalidResourceVersionError } from './errors';

/** Parses a resourceVersion; "" and undefined give 0. */
export function parseResourceVersion(key: string, text: string | undefined): number {
  if (text === undefined || text === '') return 0;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(text)) {
    throw invalidResourceVersionError(key, `invalid resource version "${text}": must be a non-negative integer`);
  }
  const value = Number(text);
  if (!Number.isSafeInteger(value)) {
    throw invalidResourceVersionError(key, `invalid resource version "${text}": too large`);
  }
  return value;
}

/** etcd returns int64 as decimal strings; revisions stay far below 2^53 in practice. */
export function revisionNumber(text: string | number | undefined): number {
  const value = Number(text ?? 0);
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`etcd revision out of range: ${String(text)}`);
  return value;
}
