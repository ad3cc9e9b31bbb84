// kubectl drain (and client-go's default protobuf clients) send DELETE with a
// protobuf DeleteOptions body even to servers that answer only JSON. Rather
// than reject the delete, decode the handful of DeleteOptions fields.
//
// Layout: the 4-byte magic "k8s\0", then a runtime.Unknown message
// {1: typeMeta {1: apiVersion, 2: kind}, 2: raw, 3: contentEncoding, 4: contentType}
// whose `raw` is a meta/v1 DeleteOptions:
// {1: gracePeriodSeconds int64, 2: preconditions {1: uid, 2: resourceVersion},
//  3: orphanDependents bool, 4: propagationPolicy string, 5: dryRun repeated string}.

import { badRequest } from './status-error';

const magic = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

interface Field {
  number: number;
  wireType: number;
  /** Varint value (wire type 0). */
  varint?: bigint;
  /** Length-delimited bytes (wire type 2). */
  bytes?: Buffer;
}

function readVarint(buffer: Buffer, offset: number): { value: bigint; next: number } {
  let value = 0n;
  let shift = 0n;
  for (let index = offset; index < buffer.length && index < offset + 10; index += 1) {
    const byte = buffer[index] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return { value, next: index + 1 };
    shift += 7n;
  }
  throw badRequest('malformed protobuf body: truncated varint');
}

function readFields(buffer: Buffer): Field[] {
  const fields: Field[] = [];
  let offset = 0;
  while (offset < buffer.length) {
    const key = readVarint(buffer, offset);
    offset = key.next;
    const number = Number(key.value >> 3n);
    const wireType = Number(key.value & 7n);
    if (wireType === 0) {
      const varint = readVarint(buffer, offset);
      fields.push({ number, wireType, varint: varint.value });
      offset = varint.next;
    } else if (wireType === 2) {
      const length = readVarint(buffer, offset);
      const end = length.next + Number(length.value);
      if (end > buffer.length) throw badRequest('malformed protobuf body: field runs past the end');
      fields.push({ number, wireType, bytes: buffer.subarray(length.next, end) });
      offset = end;
    } else if (wireType === 1) {
      offset += 8;
    } else if (wireType === 5) {
      offset += 4;
    } else {
      throw badRequest(`malformed protobuf body: unsupported wire type ${wireType}`);
    }
  }
  if (offset > buffer.length) throw badRequest('malformed protobuf body: truncated fixed-width field');
  return fields;
}

/** Decodes a protobuf-encoded DeleteOptions into its JSON form (only the fields that are set). */
export function decodeProtobufDeleteOptions(body: Buffer): Record<string, unknown> {
  if (body.length < magic.length || !body.subarray(0, magic.length).equals(magic)) {
    throw badRequest('protobuf body does not start with the Kubernetes "k8s\\0" prefix');
  }
  const envelope = readFields(body.subarray(magic.length));
  const raw = envelope.find((field) => field.number === 2 && field.bytes !== undefined)?.bytes ?? Buffer.alloc(0);
  const options: Record<string, unknown> = {};
  const dryRun: string[] = [];
  for (const field of readFields(raw)) {
    if (field.number === 1 && field.varint !== undefined) options.gracePeriodSeconds = Number(BigInt.asIntN(64, field.varint));
    else if (field.number === 3 && field.varint !== undefined) options.orphanDependents = field.varint !== 0n;
    else if (field.number === 4 && field.bytes !== undefined) options.propagationPolicy = field.bytes.toString('utf8');
    else if (field.number === 5 && field.bytes !== undefined) dryRun.push(field.bytes.toString('utf8'));
    else if (field.number === 2 && field.bytes !== undefined) {
      const preconditions: Record<string, string> = {};
      for (const inner of readFields(field.bytes)) {
        if (inner.number === 1 && inner.bytes !== undefined) preconditions.uid = inner.bytes.toString('utf8');
        if (inner.number === 2 && inner.bytes !== undefined) preconditions.resourceVersion = inner.bytes.toString('utf8');
      }
      options.preconditions = preconditions;
    }
  }
  if (dryRun.length > 0) options.dryRun = dryRun;
  return options;
}
