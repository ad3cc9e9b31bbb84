// Fields given twice in one object of a request body ({"spec":{"replicas":1,"replicas":2}}).
// JSON.parse keeps the last silently; upstream's strict decoder reports them
// (`duplicate field "spec.replicas"`) for fieldValidation=Strict and Warn, so
// the raw text is scanned once more here. Paths use the same notation as
// unknown fields: `spec.containers[0].name`.

import { isMap, isScalar, isSeq, parseDocument, type Node as YamlNode } from 'yaml';

/** Stops a hostile body from producing an unbounded list. */
const MAX_REPORTED = 100;

interface Frame {
  kind: 'object' | 'array';
  path: string;
  keys: Set<string>;
  index: number;
  /** The key whose value comes next (objects). */
  pendingKey: string | undefined;
}

function childPath(parent: string, key: string): string {
  return parent === '' ? key : `${parent}.${key}`;
}

/**
 * Duplicate keys of a JSON text that JSON.parse accepted. A token scanner:
 * strings are skipped with their escapes, so braces inside strings are ignored.
 */
export function duplicateJsonFields(text: string): string[] {
  const duplicates: string[] = [];
  const stack: Frame[] = [];
  let expectKey = false;
  const pathOfNextValue = (): string => {
    const top = stack[stack.length - 1];
    if (top === undefined) return '';
    if (top.kind === 'array') return `${top.path}[${top.index}]`;
    return childPath(top.path, top.pendingKey ?? '');
  };
  for (let position = 0; position < text.length && duplicates.length < MAX_REPORTED; position++) {
    const character = text[position];
    if (character === '"') {
      let end = position + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (expectKey && top !== undefined && top.kind === 'object') {
        const key = JSON.parse(text.slice(position, end + 1)) as string;
        if (top.keys.has(key)) duplicates.push(childPath(top.path, key));
        top.keys.add(key);
        top.pendingKey = key;
        expectKey = false;
      }
      position = end;
    } else if (character === '{' || character === '[') {
      const path = pathOfNextValue();
      stack.push({ kind: character === '{' ? 'object' : 'array', path, keys: new Set(), index: 0, pendingKey: undefined });
      expectKey = character === '{';
    } else if (character === '}' || character === ']') {
      stack.pop();
      expectKey = false;
    } else if (character === ',') {
      const top = stack[stack.length - 1];
      if (top?.kind === 'array') top.index++;
      expectKey = top?.kind === 'object';
    }
  }
  return duplicates;
}

/** Duplicate keys of a YAML document (parsed with duplicates allowed so that Warn and Ignore still work). */
export function duplicateYamlFields(text: string): string[] {
  const duplicates: string[] = [];
  let document;
  try {
    document = parseDocument(text, { uniqueKeys: false });
  } catch {
    return [];
  }
  const walk = (node: unknown, path: string, depth: number): void => {
    if (depth > 100 || duplicates.length >= MAX_REPORTED) return;
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
        if (seen.has(key)) duplicates.push(childPath(path, key));
        seen.add(key);
        walk(pair.value, childPath(path, key), depth + 1);
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item as YamlNode, `${path}[${index}]`, depth + 1));
    }
  };
  walk(document.contents, '', 0);
  return duplicates;
}

/** `duplicate field "spec.replicas"`, upstream's strict decoder wording. */
export function duplicateFieldMessage(path: string): string {
  return `duplicate field "${path}"`;
}
