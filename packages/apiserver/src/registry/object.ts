// The loose object shape the registry works on. Objects arrive as decoded JSON
// of any served kind; the registry reads and writes a handful of well-known
// fields (metadata, spec, status) and leaves the rest to the kind's own code.

import type { KubeObject, ObjectMeta } from '@kube-lite/api';

/** Any stored Kubernetes object: TypeMeta, ObjectMeta and kind-specific fields. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiObject = KubeObject & { metadata: ObjectMeta; [field: string]: any };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Same JSON, regardless of key order. */
export function jsonEquivalent(left: unknown, right: unknown): boolean {
  if (left === right) return true;
  if (Array.isArray(left)) {
    return Array.isArray(right) && left.length === right.length && left.every((item, index) => jsonEquivalent(item, right[index]));
  }
  if (isRecord(left) && isRecord(right)) {
    const leftKeys = Object.keys(left).filter((key) => left[key] !== undefined);
    const rightKeys = Object.keys(right).filter((key) => right[key] !== undefined);
    return leftKeys.length === rightKeys.length && leftKeys.every((key) => jsonEquivalent(left[key], right[key]));
  }
  return false;
}

/** A mutable deep copy of a (possibly frozen, shared) object. */
export function cloneObject<T>(object: T): T {
  return structuredClone(object);
}
