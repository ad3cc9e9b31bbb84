// field.Path and field.Error as upstream prints them, so a 422 Status lists
// the same causes (`spec.replicas: Invalid value: -1: must be greater than or
// equal to 0`) that kubectl users know.

export type FieldErrorReason =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid';

/** One validation failure; `message` is the full upstream text after the field name. */
export interface FieldError {
  field: string;
  reason: FieldErrorReason;
  message: string;
}

export type FieldErrorList = FieldError[];

/** An immutable path into an object, printed as `spec.containers[0].ports[1]` or `metadata.labels[app]`. */
export class FieldPath {
  private constructor(private readonly text: string) {}

  static root(...names: string[]): FieldPath {
    return new FieldPath('').child(...names);
  }

  child(...names: string[]): FieldPath {
    let text = this.text;
    for (const name of names) text = text === '' ? name : `${text}.${name}`;
    return new FieldPath(text);
  }

  index(i: number): FieldPath {
    return new FieldPath(`${this.text}[${i}]`);
  }

  key(key: string): FieldPath {
    return new FieldPath(`${this.text}[${key}]`);
  }

  toString(): string {
    return this.text;
  }
}

/** Marks a value that must not be printed (upstream's omitValue). */
export const OMIT_VALUE: unique symbol = Symbol('omitValue');

/**
 * Prints a bad value as Go's %q / %v / %#v would for the types validation
 * reports: strings quoted, numbers and booleans bare, string maps as
 * map[string]string{"a":"b"}, string slices as []string{"a", "b"}.
 */
export function formatBadValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) {
    if (value.every((item) => typeof item === 'string')) {
      return `[]string{${value.map((item) => JSON.stringify(item)).join(', ')}}`;
    }
    if (value.every((item) => typeof item === 'number')) return `[]int32{${value.join(', ')}}`;
    return JSON.stringify(value);
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.every(([, v]) => typeof v === 'string')) {
      const body = entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
        .join(', ');
      return `map[string]string{${body}}`;
    }
    if ((value as { toString?: unknown }).toString !== Object.prototype.toString) return String(value);
    return JSON.stringify(value);
  }
  return String(value);
}

function withDetail(body: string, detail: string | undefined): string {
  return detail ? `${body}: ${detail}` : body;
}

function withValue(typeText: string, value: unknown): string {
  return value === OMIT_VALUE ? typeText : `${typeText}: ${formatBadValue(value)}`;
}

export function required(path: FieldPath, detail?: string): FieldError {
  return { field: path.toString(), reason: 'FieldValueRequired', message: withDetail('Required value', detail) };
}

export function invalid(path: FieldPath, value: unknown, detail?: string): FieldError {
  return { field: path.toString(), reason: 'FieldValueInvalid', message: withDetail(withValue('Invalid value', value), detail) };
}

export function duplicate(path: FieldPath, value: unknown): FieldError {
  return { field: path.toString(), reason: 'FieldValueDuplicate', message: withValue('Duplicate value', value) };
}

export function notFound(path: FieldPath, value: unknown): FieldError {
  return { field: path.toString(), reason: 'FieldValueNotFound', message: withValue('Not found', value) };
}

export function forbidden(path: FieldPath, detail: string): FieldError {
  return { field: path.toString(), reason: 'FieldValueForbidden', message: withDetail('Forbidden', detail) };
}

/**
 * `Unsupported value: "x": supported values: "a", "b"`. Supported values are
 * listed sorted, as upstream does where it builds them from a set; pass
 * sortValues false where upstream passes a literal list.
 */
export function notSupported(path: FieldPath, value: unknown, supported: readonly string[], sortValues = true): FieldError {
  const ordered = sortValues ? [...supported].sort() : [...supported];
  const list = ordered.map((v) => JSON.stringify(v)).join(', ');
  return {
    field: path.toString(),
    reason: 'FieldValueNotSupported',
    message: withDetail(withValue('Unsupported value', value), supported.length > 0 ? `supported values: ${list}` : undefined),
  };
}

export function tooLong(path: FieldPath, maxLength: number): FieldError {
  return { field: path.toString(), reason: 'FieldValueTooLong', message: `Too long: may not be more than ${maxLength} bytes` };
}

export function tooMany(path: FieldPath, actual: number, max: number): FieldError {
  return { field: path.toString(), reason: 'FieldValueTooMany', message: `Too many: ${actual}: must have at most ${max} items` };
}

/** `spec.replicas: Invalid value: -1: ...`, the line kubectl prints for a cause. */
export function formatFieldError(error: FieldError): string {
  return error.field ? `${error.field}: ${error.message}` : error.message;
}

/** Upstream's aggregate: one error alone, several as `[a, b]`. */
export function aggregateMessage(errors: readonly FieldError[]): string {
  const lines = errors.map(formatFieldError);
  return lines.length === 1 ? (lines[0] ?? '') : `[${lines.join(', ')}]`;
}
