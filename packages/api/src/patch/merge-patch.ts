// JSON merge patch (RFC 7386), as `kubectl scale` and `kubectl patch --type merge` send it.
import { deepCopy, isPlainObject } from '../deepcopy';

/** Applies `patch` to `target` and returns the result; neither argument is modified. */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return deepCopy(patch);
  const result: Record<string, unknown> = isPlainObject(target) ? deepCopy(target) : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = applyMergePatch(result[key], value);
  }
  return result;
}

/**
 * The merge patch that turns `original` into `modified` (RFC 7386 section 2
 * in reverse): removed fields become null, arrays are sent whole.
 */
export function createMergePatch(original: unknown, modified: unknown): unknown {
  if (!isPlainObject(original) || !isPlainObject(modified)) return deepCopy(modified);
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(original)) if (!(key in modified) || modified[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(modified)) {
    if (value === undefined) continue;
    const before = original[key];
    if (isPlainObject(before) && isPlainObject(value)) {
      const child = createMergePatch(before, value);
      if (isPlainObject(child) && Object.keys(child).length > 0) patch[key] = child;
    } else if (JSON.stringify(before) !== JSON.stringify(value)) {
      patch[key] = deepCopy(value);
    }
  }
  return patch;
}
