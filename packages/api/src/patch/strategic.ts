// Strategic merge patch, as kubectl sends it for apply, set image, rollout
// restart, cordon, label and annotate. Like a JSON merge patch, except that
// lists the schema marks as "merge" are merged element by element on their
// merge key (containers by name, ports by containerPort, ...), and the patch
// may carry directives:
//   $patch: replace | delete | merge      on a map or a list element
//   $retainKeys: [fields]                 drop the other fields of the original map
//   $setElementOrder/<list>: [...]        order of the merged list
//   $deleteFromPrimitiveList/<list>: [...] values to drop from a scalar list
// A null value deletes a field; lists that are not "merge" are replaced.
import { PatchError } from '../errors';
import { deepCopy, isPlainObject, jsonEqual } from '../deepcopy';
import { childSchema, type FieldSchema, type ListSchema } from '../schema/dsl';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ELEMENT_ORDER = '$setElementOrder/';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList/';

/** Marks a map that a `$patch: delete` removed. */
const DELETED: unique symbol = Symbol('deleted');
type Merged = unknown | typeof DELETED;

/** Bounds recursion on hostile input. */
const MAX_DEPTH = 100;

function fail(message: string): never {
  throw new PatchError(message, 'strategic');
}

function goMap(value: unknown): string {
  return `map[${Object.entries(isPlainObject(value) ? value : {})
    .map(([k, v]) => `${k}:${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(' ')}]`;
}

/**
 * Applies a strategic merge patch to `original` using `schema` (the kind's
 * root schema from schemaFor) for merge keys; returns a new object. Without a
 * schema every list is replaced, as for a JSON merge patch.
 */
export function applyStrategicMergePatch(original: unknown, patch: unknown, schema: FieldSchema | undefined): unknown {
  if (!isPlainObject(patch)) fail('strategic merge patch must be a JSON object');
  const result = mergeMap(isPlainObject(original) ? deepCopy(original) : {}, patch, schema, 0);
  return result === DELETED ? {} : result;
}

function mergeMap(original: Record<string, unknown>, patch: Record<string, unknown>, schema: FieldSchema | undefined, depth: number): Merged {
  if (depth > MAX_DEPTH) fail('patch is nested too deeply');
  const directive = patch[DIRECTIVE];
  if (directive !== undefined) {
    if (directive === 'delete') return DELETED;
    if (directive === 'replace') {
      const { [DIRECTIVE]: _ignored, ...rest } = patch;
      return mergeMap({}, rest, schema, depth + 1);
    }
    if (directive !== 'merge') fail(`unknown patch type: ${String(directive)} in map: ${goMap(patch)}`);
  }

  const retainKeys = patch[RETAIN_KEYS];
  if (retainKeys !== undefined) {
    if (!Array.isArray(retainKeys) || !retainKeys.every((key) => typeof key === 'string')) {
      fail(`invalid type for $retainKeys directive: ${JSON.stringify(retainKeys)}`);
    }
    for (const key of Object.keys(original)) if (!retainKeys.includes(key)) delete original[key];
  }

  // Lists with an order directive are merged and ordered first, then skipped below.
  const ordered = new Set<string>();
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ELEMENT_ORDER)) continue;
    const field = key.slice(SET_ELEMENT_ORDER.length);
    if (!Array.isArray(order)) fail(`invalid type for ${key}: expected a list`);
    ordered.add(field);
    const fieldSchema = listSchemaOf(childSchema(schema, field));
    const before = original[field];
    const patchList = patch[field];
    let merged: unknown[];
    if (patchList === undefined) {
      if (!Array.isArray(before)) continue;
      merged = before;
    } else if (patchList === null) {
      delete original[field];
      continue;
    } else {
      if (!Array.isArray(patchList)) fail(`invalid type for ${field}: expected a list`);
      merged = mergeList(Array.isArray(before) ? before : [], patchList, fieldSchema, depth + 1);
    }
    original[field] = orderList(merged, order, Array.isArray(before) ? before : [], fieldSchema?.mergeKey);
  }

  for (const [key, value] of Object.entries(patch)) {
    if (!key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
    if (!Array.isArray(value)) fail(`invalid type for ${key}: expected a list`);
    const current = original[field];
    if (Array.isArray(current)) original[field] = current.filter((item) => !value.some((drop) => jsonEqual(drop, item)));
  }

  for (const [key, value] of Object.entries(patch)) {
    if (key === DIRECTIVE || key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) continue;
    if (ordered.has(key)) continue;
    if (value === null) {
      delete original[key];
      continue;
    }
    const merged = mergeValue(original[key], value, childSchema(schema, key), depth + 1);
    if (merged === DELETED) delete original[key];
    else original[key] = merged;
  }
  return original;
}

function listSchemaOf(schema: FieldSchema | undefined): ListSchema | undefined {
  return schema?.type === 'list' ? schema : undefined;
}

function mergeValue(original: unknown, patch: unknown, schema: FieldSchema | undefined, depth: number): Merged {
  if (isPlainObject(patch)) {
    return mergeMap(isPlainObject(original) ? original : {}, patch, schema, depth);
  }
  if (Array.isArray(patch)) {
    const list = listSchemaOf(schema);
    if (list?.strategy === 'merge') return mergeList(Array.isArray(original) ? original : [], patch, list, depth);
    return cleanList(patch, list, depth);
  }
  return patch;
}

/** A replaced list: taken as given, minus directives and nulls inside its maps. */
function cleanList(patch: unknown[], schema: ListSchema | undefined, depth: number): unknown[] {
  const out: unknown[] = [];
  for (const item of patch) {
    if (isPlainObject(item)) {
      if (item[DIRECTIVE] !== undefined && Object.keys(item).length === 1) continue;
      const merged = mergeMap({}, item, schema?.items, depth + 1);
      if (merged !== DELETED) out.push(merged);
    } else {
      out.push(deepCopy(item));
    }
  }
  return out;
}

function mergeList(original: unknown[], patch: unknown[], schema: ListSchema | undefined, depth: number): unknown[] {
  if (depth > MAX_DEPTH) fail('patch is nested too deeply');
  const mergeKey = schema?.mergeKey;
  if (!schema || schema.strategy !== 'merge') return cleanList(patch, schema, depth);
  if (!mergeKey || !patch.some(isPlainObject)) {
    // A set of scalars: union, keeping the original order first.
    const out = [...original];
    for (const item of patch) if (!out.some((existing) => jsonEqual(existing, item))) out.push(deepCopy(item));
    return out;
  }

  let result = original.map((item) => deepCopy(item));
  const items: Record<string, unknown>[] = [];
  let replace = false;
  for (const item of patch) {
    if (!isPlainObject(item)) fail(`list of maps ${mergeKey} contains a non-map element: ${JSON.stringify(item)}`);
    const directive = item[DIRECTIVE];
    if (directive === undefined) {
      items.push(item);
      continue;
    }
    switch (directive) {
      case 'delete': {
        if (!(mergeKey in item)) fail(`map: ${goMap(item)} does not contain declared merge key: ${mergeKey}`);
        result = result.filter((existing) => !(isPlainObject(existing) && jsonEqual(existing[mergeKey], item[mergeKey])));
        break;
      }
      case 'replace':
        replace = true;
        break;
      case 'merge':
        fail('merging lists cannot yet be specified in the patch');
        break;
      default:
        fail(`unknown patch type: ${String(directive)} in map: ${goMap(item)}`);
    }
  }
  if (replace) return cleanList(items, schema, depth);

  for (const item of items) {
    if (!(mergeKey in item)) fail(`map: ${goMap(item)} does not contain declared merge key: ${mergeKey}`);
    const index = result.findIndex((existing) => isPlainObject(existing) && jsonEqual(existing[mergeKey], item[mergeKey]));
    if (index >= 0) {
      const merged = mergeMap(result[index] as Record<string, unknown>, item, schema.items, depth + 1);
      if (merged === DELETED) result.splice(index, 1);
      else result[index] = merged;
    } else {
      const added = mergeMap({}, item, schema.items, depth + 1);
      if (added !== DELETED) result.push(added);
    }
  }
  return result;
}

function identity(item: unknown, mergeKey: string | undefined): unknown {
  return mergeKey && isPlainObject(item) ? item[mergeKey] : item;
}

function indexIn(list: readonly unknown[], item: unknown, mergeKey: string | undefined): number {
  const wanted = identity(item, mergeKey);
  return list.findIndex((candidate) => jsonEqual(identity(candidate, mergeKey), wanted));
}

/**
 * upstream normalizeElementOrder: items named by the order directive come in
 * that order; items only the server has keep their server order; the two are
 * interleaved by their positions in the server's list.
 */
function orderList(merged: unknown[], order: unknown[], serverList: unknown[], mergeKey: string | undefined): unknown[] {
  const named: unknown[] = [];
  const serverOnly: unknown[] = [];
  for (const item of merged) (indexIn(order, item, mergeKey) >= 0 ? named : serverOnly).push(item);
  const byOrder = (list: readonly unknown[]) => (a: unknown, b: unknown) => indexIn(list, a, mergeKey) - indexIn(list, b, mergeKey);
  named.sort(byOrder(order));
  serverOnly.sort(byOrder(serverList));
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < named.length) {
    if (i >= serverOnly.length) out.push(named[j++]);
    else if (j >= named.length) out.push(serverOnly[i++]);
    else {
      const left = indexIn(serverList, serverOnly[i], mergeKey);
      const right = indexIn(serverList, named[j], mergeKey);
      if (left >= 0 && right >= 0 && left < right) out.push(serverOnly[i++]);
      else out.push(named[j++]);
    }
  }
  return out;
}
