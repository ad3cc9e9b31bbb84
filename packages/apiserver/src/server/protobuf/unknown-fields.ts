// Finds fields on the wire that our .proto files do not declare. protobufjs
// skips such fields silently, which would lose what the client set, so the
// decoder refuses a body that carries one with a value. A zero value (0, an
// empty string, an empty nested message) is harmless: Go's generated code
// writes every plain field, including ones newer than our copy, and a zero
// means the same as absent.

import * as protobuf from 'protobufjs';

/** Nested messages deeper than this are not examined; Kubernetes objects are far shallower. */
const MAX_DEPTH = 64;

/** One undeclared, non-zero field: where it sits (JSON path) and what it is. */
export interface UnknownField {
  path: string;
  messageName: string;
  fieldNumber: number;
}

/** Walks `bytes` as a `type` message; throws RangeError/Error from protobufjs on malformed input. */
export function findUnknownFields(type: protobuf.Type, bytes: Uint8Array, path: string, limit = 10): UnknownField[] {
  const found: UnknownField[] = [];
  walk(type, bytes, path, 0, found, limit);
  return found;
}

function walk(type: protobuf.Type, bytes: Uint8Array, path: string, depth: number, found: UnknownField[], limit: number): void {
  if (depth > MAX_DEPTH) throw new Error(`messages nested deeper than ${MAX_DEPTH} levels`);
  const reader = protobuf.Reader.create(bytes);
  const occurrences = new Map<number, number>();
  while (reader.pos < reader.len && found.length < limit) {
    const tag = reader.uint32();
    const fieldNumber = tag >>> 3;
    const wireType = tag & 7;
    const field = type.fieldsById[fieldNumber];
    if (field === undefined) {
      if (!isZeroField(reader, wireType, depth)) found.push({ path, messageName: type.fullName.replace(/^\./, ''), fieldNumber });
      continue;
    }
    const index = occurrences.get(fieldNumber) ?? 0;
    occurrences.set(fieldNumber, index + 1);
    const valueType = field.resolvedType;
    if (wireType !== 2 || !(valueType instanceof protobuf.Type)) {
      reader.skipType(wireType);
      continue;
    }
    const content = reader.bytes();
    if (field.map) {
      // A map entry is a message {1: key, 2: value}.
      const entry = readEntry(content);
      if (entry.value !== undefined) walk(valueType, entry.value, `${path}.${field.name}[${entry.key}]`, depth + 1, found, limit);
    } else {
      walk(valueType, content, `${path}.${field.name}${field.repeated ? `[${index}]` : ''}`, depth + 1, found, limit);
    }
  }
}

function readEntry(content: Uint8Array): { key: string; value: Uint8Array | undefined } {
  const reader = protobuf.Reader.create(content);
  let key = '';
  let value: Uint8Array | undefined;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag === ((1 << 3) | 2)) key = reader.string();
    else if (tag === ((2 << 3) | 2)) value = reader.bytes();
    else reader.skipType(tag & 7);
  }
  return { key, value };
}

/** Consumes one field's value and says whether it is a zero value (recursively, for nested messages). */
function isZeroField(reader: protobuf.Reader, wireType: number, depth: number): boolean {
  switch (wireType) {
    case 0:
      return reader.uint64().toString() === '0';
    case 1:
      return reader.fixed64().toString() === '0';
    case 5:
      return reader.fixed32() === 0;
    case 2:
      return isZeroPayload(reader.bytes(), depth + 1);
    default:
      reader.skipType(wireType);
      return false;
  }
}

/** An empty payload, or one that reads as a message whose every field is zero. Anything else is a value. */
function isZeroPayload(content: Uint8Array, depth: number): boolean {
  if (content.length === 0) return true;
  if (depth > MAX_DEPTH) return false;
  try {
    const reader = protobuf.Reader.create(content);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 0 || !isZeroField(reader, tag & 7, depth)) return false;
    }
    return true;
  } catch {
    // Not a message: a string or bytes value, which is non-empty.
    return false;
  }
}
