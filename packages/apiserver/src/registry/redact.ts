// Secret payloads must not travel back in error messages (or into the logs
// that record 5xx errors). Validation already prints "<secret contents
// redacted>"; the patchers describe the maps they choke on, so a patch error
// about a Secret is scrubbed of every value the patch or the stored Secret holds.

import { isRecord } from './object';

/** Shorter strings are left alone: redacting "a" would mangle every message. */
const MIN_REDACTED_LENGTH = 4;
const REDACTED = '<redacted>';

function collectStrings(value: unknown, into: Set<string>, depth = 0): void {
  if (depth > 64) return;
  if (typeof value === 'string') {
    if (value.length >= MIN_REDACTED_LENGTH) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, into, depth + 1);
  } else if (isRecord(value)) {
    for (const item of Object.values(value)) collectStrings(item, into, depth + 1);
  }
}

/**
 * What a message about a Secret must not show: every string of the request body (a patch is small, and any
 * of its strings may be a value; of a JSON patch, the operations' values), and the data and stringData values of stored objects, with the decoded
 * form of each base64 value.
 */
export function secretValues(requestBody: unknown, ...stored: unknown[]): string[] {
  const values = new Set<string>();
  // A JSON patch: only the operations' values are payload (op and path are not).
  collectStrings(Array.isArray(requestBody) ? requestBody.map((operation) => (isRecord(operation) ? operation.value : undefined)) : requestBody, values);
  for (const object of stored) {
    if (!isRecord(object)) continue;
    collectStrings(object.data, values);
    collectStrings(object.stringData, values);
  }
  for (const value of [...values]) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    if (decoded.length >= MIN_REDACTED_LENGTH && Buffer.from(decoded, 'utf8').toString('base64') === value) values.add(decoded);
  }
  // Longest first, so a value containing another is replaced whole.
  return [...values].sort((left, right) => right.length - left.length);
}

export function redactValues(message: string, values: readonly string[]): string {
  let result = message;
  for (const value of values) result = result.split(value).join(REDACTED);
  return result;
}
