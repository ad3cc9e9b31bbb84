// Structural schemas of the served kinds and the checks built on them.
import { isPlainObject } from '../deepcopy';
import { childSchema, type FieldSchema } from './dsl';
import { schemaFor, schemaKinds } from './kinds';

export * from './dsl';
export { schemaFor, schemaKinds, podSpec as podSpecSchema, podTemplateSpec as podTemplateSpecSchema, objectMeta as objectMetaSchema } from './kinds';

/** Caps the walk so a hostile deeply nested body cannot exhaust the stack. */
const MAX_DEPTH = 64;

/**
 * Paths of fields the kind's schema does not declare, for
 * fieldValidation=Strict (`unknown field "spec.foo"`). The schema is picked
 * from the object's apiVersion, or the kind's first registered version.
 * Returns [] for kinds without a schema.
 */
export function unknownFields(kind: string, object: unknown, apiVersion?: string): string[] {
  const version = apiVersion ?? (isPlainObject(object) && typeof object.apiVersion === 'string' ? object.apiVersion : undefined);
  const schema = (version ? schemaFor(version, kind) : undefined) ?? firstSchemaOfKind(kind);
  if (!schema) return [];
  const found: string[] = [];
  walk(schema, object, '', found, 0);
  return found;
}

/** `unknown field "spec.foo"`, the message upstream's strict decoder gives. */
export function unknownFieldMessage(path: string): string {
  return `unknown field "${path}"`;
}

function firstSchemaOfKind(kind: string): FieldSchema | undefined {
  const entry = schemaKinds().find((k) => k.kind === kind);
  return entry ? schemaFor(entry.apiVersion, entry.kind) : undefined;
}

function walk(schema: FieldSchema, value: unknown, path: string, found: string[], depth: number): void {
  if (depth > MAX_DEPTH || value === null || value === undefined) return;
  switch (schema.type) {
    case 'object':
      if (!isPlainObject(value)) return;
      for (const [key, member] of Object.entries(value)) {
        const memberPath = path === '' ? key : `${path}.${key}`;
        const memberSchema = schema.fields[key];
        if (!memberSchema) found.push(memberPath);
        else walk(memberSchema, member, memberPath, found, depth + 1);
      }
      return;
    case 'map':
      if (!isPlainObject(value)) return;
      for (const [key, member] of Object.entries(value)) walk(schema.values, member, `${path}.${key}`, found, depth + 1);
      return;
    case 'list':
      if (!Array.isArray(value)) return;
      value.forEach((item, i) => walk(schema.items, item, `${path}[${i}]`, found, depth + 1));
      return;
    default:
      return;
  }
}

/** The schema found by following `path` (field names) from a kind's root. */
export function schemaAt(root: FieldSchema | undefined, path: readonly string[]): FieldSchema | undefined {
  let current = root;
  for (const segment of path) {
    if (current?.type === 'list') current = current.items;
    current = childSchema(current, segment);
  }
  return current;
}
