// TEST-ONLY: builds Kubernetes protobuf bodies from objects shaped like our
// .proto messages (field names as declared, IntOrString as {type, intVal,
// strVal}, Time as {seconds}), the way client-go would frame them.

import { PROTOBUF_MAGIC } from './decode';
import { loadK8sRoot } from './load';

/** Encodes `value` as `messageName` and wraps it in the "k8s\0" + runtime.Unknown envelope. */
export function encodeBody(typeMeta: { apiVersion?: string; kind?: string }, messageName: string, value: Record<string, unknown>, envelopeExtra: Record<string, unknown> = {}): Buffer {
  return encodeEnvelope({ typeMeta, raw: encodeMessage(messageName, value), ...envelopeExtra });
}

/** The protobuf bytes of one message, without the envelope. */
export function encodeMessage(messageName: string, value: Record<string, unknown>): Buffer {
  const type = loadK8sRoot().lookupType(messageName);
  const problem = type.verify(value);
  if (problem !== null) throw new Error(`test object is not a valid ${messageName}: ${problem}`);
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

/** Wraps a runtime.Unknown object (typeMeta, raw, contentEncoding, contentType) with the magic prefix. */
export function encodeEnvelope(unknown: Record<string, unknown>): Buffer {
  const envelope = encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', unknown);
  return Buffer.concat([PROTOBUF_MAGIC, envelope]);
}

/** Appends a raw field (`number`, length-delimited `payload`) to encoded message bytes, as a newer client would. */
export function appendField(message: Buffer, number: number, payload: Buffer): Buffer {
  return Buffer.concat([message, varint((number << 3) | 2), varint(payload.length), payload]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}
