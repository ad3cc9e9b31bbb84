// The patch formats the API server accepts, by Content-Type.
import { PatchError } from '../errors';
import type { FieldSchema } from '../schema/dsl';
import { applyJsonPatch } from './json-patch';
import { applyMergePatch } from './merge-patch';
import { applyStrategicMergePatch } from './strategic';

export { applyJsonPatch, type JsonPatchOperation } from './json-patch';
export { applyMergePatch, createMergePatch } from './merge-patch';
export { applyStrategicMergePatch } from './strategic';

export type PatchType = 'json' | 'merge' | 'strategic';

/** The patch type of a PATCH request's Content-Type, or undefined when unsupported. */
export function patchTypeOf(contentType: string | undefined): PatchType | undefined {
  const mediaType = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  switch (mediaType) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    default:
      return undefined;
  }
}

/** Applies a parsed patch body of the given type; `schema` (the kind's root schema) is used by strategic patches. */
export function applyPatch(type: PatchType, original: unknown, patch: unknown, schema?: FieldSchema): unknown {
  switch (type) {
    case 'json':
      return applyJsonPatch(original, patch);
    case 'merge':
      return applyMergePatch(original, patch);
    case 'strategic':
      return applyStrategicMergePatch(original, patch, schema);
  }
}

export { PatchError };
