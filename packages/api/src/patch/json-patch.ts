// JSON patch (RFC 6902), as `kubectl rollout undo` and `kubectl patch --type json`
// send it. Error texts follow the library upstream's API server uses
// (evanphx/json-patch v4), including its leniency: "replace" of a missing
// object member sets it.
import { PatchError } from '../errors';
import { deepCopy, isPlainObject, jsonEqual } from '../deepcopy';

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'move' | 'copy' | 'test' | string;
  path?: string;
  from?: string;
  value?: unknown;
}

const MISSING = 'missing value';
const INVALID_INDEX = 'invalid index referenced';

function fail(message: string): never {
  throw new PatchError(message, 'json');
}

function decodeToken(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

type Container = Record<string, unknown> | unknown[];

/** Walks to the parent of `path`; undefined when any step is missing or not a container. */
function findParent(document: { root: unknown }, path: string): { container: Container; key: string } | undefined {
  const parts = path.split('/');
  if (parts.length < 2) return undefined;
  let current: unknown = document.root;
  for (const raw of parts.slice(1, -1)) {
    const token = decodeToken(raw);
    if (Array.isArray(current)) {
      if (!/^\d+$/.test(token)) return undefined;
      current = current[Number(token)];
    } else if (isPlainObject(current)) {
      current = current[token];
    } else {
      return undefined;
    }
    if (current === undefined || current === null || typeof current !== 'object') return undefined;
  }
  if (!Array.isArray(current) && !isPlainObject(current)) return undefined;
  return { container: current, key: decodeToken(parts[parts.length - 1] ?? '') };
}

function parseIndex(key: string, length: number, allowEnd: boolean): number {
  if (!/^\d+$/.test(key)) fail(`value was not a proper array index: '${key}': strconv.Atoi: parsing ${JSON.stringify(key)}: invalid syntax`);
  const index = Number(key);
  if (index > length || (!allowEnd && index === length)) fail(`Unable to access invalid index: ${index}: ${INVALID_INDEX}`);
  return index;
}

function getMember(container: Container, key: string): unknown {
  if (Array.isArray(container)) {
    const index = parseIndex(key, container.length, false);
    return container[index];
  }
  return container[key];
}

function addMember(container: Container, key: string, value: unknown): void {
  if (Array.isArray(container)) {
    if (key === '-') container.push(value);
    else container.splice(parseIndex(key, container.length, true), 0, value);
  } else {
    container[key] = value;
  }
}

function removeMember(container: Container, key: string): void {
  if (Array.isArray(container)) {
    container.splice(parseIndex(key, container.length, false), 1);
  } else {
    if (!(key in container)) fail(`Unable to remove nonexistent key: ${key}: ${MISSING}`);
    delete container[key];
  }
}

function wrap(prefix: string, action: () => void): void {
  try {
    action();
  } catch (error) {
    if (error instanceof PatchError) fail(`${prefix}: ${error.message}`);
    throw error;
  }
}

function requirePath(operation: JsonPatchOperation, field: 'path' | 'from'): string {
  const value = operation[field];
  if (typeof value !== 'string') {
    fail(field === 'path' ? `${operation.op} operation failed to decode path: ${MISSING}` : `${operation.op} operation failed to decode from: ${MISSING}`);
  }
  return value;
}

/** Applies the operations in order to a copy of `target`; throws PatchError on the first failure. */
export function applyJsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) fail('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  const document = { root: deepCopy(target) };
  for (const raw of operations) {
    if (!isPlainObject(raw)) fail('json: cannot unmarshal into Go value of type jsonpatch.Operation');
    const operation = raw as unknown as JsonPatchOperation;
    const op = typeof operation.op === 'string' ? operation.op : 'unknown';
    switch (op) {
      case 'add': {
        const path = requirePath(operation, 'path');
        const parent = findParent(document, path) ?? fail(`add operation does not apply: doc is missing path: "${path}": ${MISSING}`);
        wrap(`error in add for path: '${path}'`, () => addMember(parent.container, parent.key, deepCopy(operation.value ?? null)));
        break;
      }
      case 'remove': {
        const path = requirePath(operation, 'path');
        const parent = findParent(document, path) ?? fail(`remove operation does not apply: doc is missing path: "${path}": ${MISSING}`);
        wrap(`error in remove for path: '${path}'`, () => removeMember(parent.container, parent.key));
        break;
      }
      case 'replace': {
        const path = requirePath(operation, 'path');
        const parent = findParent(document, path) ?? fail(`replace operation does not apply: doc is missing path: ${path}: ${MISSING}`);
        if (Array.isArray(parent.container)) {
          const index = /^\d+$/.test(parent.key) ? Number(parent.key) : -1;
          if (index < 0 || index >= parent.container.length) fail(`replace operation does not apply: doc is missing key: ${path}: ${MISSING}`);
          parent.container[index] = deepCopy(operation.value ?? null);
        } else {
          parent.container[parent.key] = deepCopy(operation.value ?? null);
        }
        break;
      }
      case 'move': {
        const from = requirePath(operation, 'from');
        const source = findParent(document, from) ?? fail(`move operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
        let value: unknown;
        wrap(`error in move for path: '${source.key}'`, () => {
          value = getMember(source.container, source.key);
          if (value === undefined) fail(`Unable to remove nonexistent key: ${source.key}: ${MISSING}`);
          removeMember(source.container, source.key);
        });
        const path = requirePath(operation, 'path');
        const target = findParent(document, path) ?? fail(`move operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
        wrap(`error in move for path: '${path}'`, () => addMember(target.container, target.key, value));
        break;
      }
      case 'copy': {
        const from = requirePath(operation, 'from');
        const source = findParent(document, from) ?? fail(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
        let value: unknown;
        wrap(`error in copy for from: '${from}'`, () => {
          value = getMember(source.container, source.key);
        });
        if (value === undefined) fail(`copy operation does not apply: doc is missing from path: ${from}: ${MISSING}`);
        const path = requirePath(operation, 'path');
        const target = findParent(document, path) ?? fail(`copy operation does not apply: doc is missing destination path: ${path}: ${MISSING}`);
        wrap('error while adding value during copy', () => addMember(target.container, target.key, deepCopy(value)));
        break;
      }
      case 'test': {
        const path = requirePath(operation, 'path');
        const parent = findParent(document, path) ?? fail(`test operation does not apply: is missing path: ${path}: ${MISSING}`);
        let actual: unknown;
        wrap(`error in test for path: '${path}'`, () => {
          actual = getMember(parent.container, parent.key);
        });
        const expected = operation.value === undefined ? null : operation.value;
        if (!jsonEqual(actual === undefined ? null : actual, expected)) fail(`testing value ${path} failed: test failed`);
        break;
      }
      default:
        fail(`Unexpected kind: ${op}`);
    }
  }
  return document.root;
}
