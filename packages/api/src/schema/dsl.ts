// A compact structural schema: field names, nested types and the strategic
// merge patch metadata (merge keys, list strategies). Written by hand from the
// upstream types; used for fieldValidation=Strict, strategic merge patches and
// a minimal OpenAPI document.

export type ScalarType = 'string' | 'integer' | 'number' | 'boolean' | 'int-or-string' | 'quantity' | 'any';

export interface ScalarSchema {
  type: ScalarType;
}

export interface ObjectSchema {
  type: 'object';
  fields: Record<string, FieldSchema>;
  /** Strategic merge: `$retainKeys` is generated for this map (Deployment strategy, volume sources). */
  retainKeys?: boolean;
}

/** A map with arbitrary keys (labels, data, resource lists). */
export interface MapSchema {
  type: 'map';
  values: FieldSchema;
}

export interface ListSchema {
  type: 'list';
  items: FieldSchema;
  /** Strategic merge: "merge" lists are merged (by mergeKey for objects, as sets for scalars); others are replaced. */
  strategy: 'merge' | 'replace';
  mergeKey?: string;
}

export type FieldSchema = ScalarSchema | ObjectSchema | MapSchema | ListSchema;

export const string: ScalarSchema = { type: 'string' };
export const integer: ScalarSchema = { type: 'integer' };
export const number: ScalarSchema = { type: 'number' };
export const boolean: ScalarSchema = { type: 'boolean' };
export const intOrString: ScalarSchema = { type: 'int-or-string' };
export const quantity: ScalarSchema = { type: 'quantity' };
/** Free-form JSON: nothing below it is checked. */
export const any: ScalarSchema = { type: 'any' };
export const time: ScalarSchema = string;

export function object(fields: Record<string, FieldSchema>, options: { retainKeys?: boolean } = {}): ObjectSchema {
  return options.retainKeys ? { type: 'object', fields, retainKeys: true } : { type: 'object', fields };
}

/** An object extended with more fields (Go's embedded structs). */
export function extend(base: ObjectSchema, fields: Record<string, FieldSchema>): ObjectSchema {
  return object({ ...base.fields, ...fields }, { retainKeys: base.retainKeys === true });
}

export function map(values: FieldSchema = string): MapSchema {
  return { type: 'map', values };
}

/** An atomic list: a patch replaces it whole. */
export function list(items: FieldSchema): ListSchema {
  return { type: 'list', items, strategy: 'replace' };
}

/** A list of objects merged element by element on `mergeKey`. */
export function mergeList(items: FieldSchema, mergeKey: string): ListSchema {
  return { type: 'list', items, strategy: 'merge', mergeKey };
}

/** A list of scalars merged as a set (finalizers). */
export function setList(items: FieldSchema = string): ListSchema {
  return { type: 'list', items, strategy: 'merge' };
}

export const stringList = list(string);
export const stringMap = map(string);
export const resourceList = map(quantity);

/** Looks up the schema of a child field; undefined when unknown or not an object/map. */
export function childSchema(schema: FieldSchema | undefined, key: string): FieldSchema | undefined {
  if (!schema) return undefined;
  if (schema.type === 'object') return schema.fields[key];
  if (schema.type === 'map') return schema.values;
  if (schema.type === 'any') return any;
  return undefined;
}
