// Turns a decoded protobuf message into the JSON object a client would have
// sent for the same Go struct, so the request continues exactly as a JSON
// body would (defaults, validation, fieldValidation).
//
// The rules mirror Go's encoding/json over the Kubernetes types:
// - a plain Go field is always on the wire, and its zero value ("" / 0 /
//   false) is left out, as `omitempty` does; a field marked
//   (kube_lite.protobuf.pointer) keeps its zero, because the client set it;
// - empty lists and maps are left out;
// - a field marked (kube_lite.protobuf.inline) spreads into its parent;
// - Time / MicroTime become RFC 3339 strings (an empty Time is the zero time
//   and is left out), IntOrString a number or string, Quantity its string,
//   bytes base64, FieldsV1 its JSON document, int64 a number.

import * as protobuf from 'protobufjs';
import { malformedProtobuf } from './errors';

const POINTER_OPTION = '(kube_lite.protobuf.pointer)';
const INLINE_OPTION = '(kube_lite.protobuf.inline)';

const TIME = '.k8s.io.apimachinery.pkg.apis.meta.v1.Time';
const MICRO_TIME = '.k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime';
const FIELDS_V1 = '.k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1';
const INT_OR_STRING = '.k8s.io.apimachinery.pkg.util.intstr.IntOrString';
const QUANTITY = '.k8s.io.apimachinery.pkg.api.resource.Quantity';

const int64Types = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

type Plain = Record<string, unknown>;

/** How protobufjs' toObject must be called for `toKubernetesJson`: 64-bit integers and bytes as strings. */
export const plainObjectOptions: protobuf.IConversionOptions = { longs: String, bytes: String };

/** Converts `type.toObject(message, plainObjectOptions)` into the Kubernetes JSON shape. */
export function toKubernetesJson(type: protobuf.Type, plain: Plain): Plain {
  const converted = convertMessage(type, plain, type.name);
  if (typeof converted !== 'object' || converted === null) throw new Error(`BUG: ${type.fullName} is not an object type`);
  return converted as Plain;
}

function convertMessage(type: protobuf.Type, plain: Plain, path: string): unknown {
  switch (type.fullName) {
    case TIME:
      return formatTime(plain, false, path);
    case MICRO_TIME:
      return formatTime(plain, true, path);
    case INT_OR_STRING:
      return Number(plain.type ?? 0) === 1 ? (plain.strVal ?? '') : (plain.intVal ?? 0);
    case QUANTITY:
      return typeof plain.string === 'string' && plain.string !== '' ? plain.string : '0';
    case FIELDS_V1:
      return parseFieldsV1(plain, path);
    default:
      break;
  }
  const result: Plain = {};
  for (const field of type.fieldsArray) {
    const value = plain[field.name];
    if (value === undefined || value === null) continue;
    const fieldPath = `${path}.${field.name}`;
    let converted: unknown;
    if (field.map) {
      const entries = Object.entries(value as Plain).map(([key, item]) => [key, convertValue(field, item, true, `${fieldPath}[${key}]`)] as const);
      if (entries.length === 0) continue;
      converted = Object.fromEntries(entries.map(([key, item]) => [key, item ?? null]));
    } else if (field.repeated) {
      const items = (value as unknown[]).map((item, index) => convertValue(field, item, true, `${fieldPath}[${index}]`) ?? null);
      if (items.length === 0) continue;
      converted = items;
    } else {
      converted = convertValue(field, value, field.options?.[POINTER_OPTION] === true, fieldPath);
      if (converted === undefined) continue;
    }
    if (field.options?.[INLINE_OPTION] === true) {
      if (typeof converted !== 'object' || converted === null || Array.isArray(converted)) {
        throw new Error(`BUG: inline field ${fieldPath} is not a message`);
      }
      Object.assign(result, converted);
    } else {
      result[field.name] = converted;
    }
  }
  return result;
}

/** One value of a field: a nested message, or a scalar dropped when zero unless `keepZero`. */
function convertValue(field: protobuf.Field, value: unknown, keepZero: boolean, path: string): unknown {
  if (field.resolvedType instanceof protobuf.Type) return convertMessage(field.resolvedType, value as Plain, path);
  let scalar = value;
  if (int64Types.has(field.type)) scalar = toSafeNumber(String(value), path);
  if (!keepZero && (scalar === '' || scalar === 0 || scalar === false)) return undefined;
  return scalar;
}

function toSafeNumber(decimal: string, path: string): number {
  const number = Number(decimal);
  if (!Number.isSafeInteger(number)) throw malformedProtobuf(`${path}: ${decimal} does not fit a JSON number exactly`);
  return number;
}

/** Seconds precision for Time (as upstream's JSON), microseconds for MicroTime; the zero time is left out. */
function formatTime(plain: Plain, micro: boolean, path: string): string | undefined {
  if (plain.seconds === undefined && plain.nanos === undefined) return undefined;
  const seconds = toSafeNumber(String(plain.seconds ?? '0'), path);
  const nanos = Number(plain.nanos ?? 0);
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 0 || date.getUTCFullYear() > 9999 || nanos < 0 || nanos > 999_999_999) {
    throw malformedProtobuf(`${path}: ${seconds}s ${nanos}ns is not a valid time`);
  }
  const whole = date.toISOString().slice(0, 19);
  if (!micro) return `${whole}Z`;
  return `${whole}.${String(Math.floor(nanos / 1000)).padStart(6, '0')}Z`;
}

function parseFieldsV1(plain: Plain, path: string): unknown {
  if (typeof plain.Raw !== 'string' || plain.Raw === '') return undefined;
  try {
    return JSON.parse(Buffer.from(plain.Raw, 'base64').toString('utf8'));
  } catch (cause) {
    throw malformedProtobuf(`${path}: managed fields are not valid JSON`, cause);
  }
}
