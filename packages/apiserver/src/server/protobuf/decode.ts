// Decodes a Kubernetes protobuf request body (Content-Type
// application/vnd.kubernetes.protobuf) into the JSON object the client meant.
//
// Layout: the 4 bytes "k8s\0", then a runtime.Unknown
// {typeMeta {apiVersion, kind}, raw, contentEncoding, contentType}
// whose `raw` is the typed object's protobuf (k8s.io.api.core.v1.ConfigMap...).

import type * as protobuf from 'protobufjs';
import { StatusError } from '../status-error';
import { malformedProtobuf, unsupportedProtobuf } from './errors';
import { decodableKinds, messageNameFor } from './kinds';
import { loadK8sRoot } from './load';
import { plainObjectOptions, toKubernetesJson } from './to-json';
import { findUnknownFields } from './unknown-fields';

/** The 4-byte prefix of every Kubernetes protobuf body. */
export const PROTOBUF_MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** The media type kubectl's typed clients send. */
export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

interface Envelope {
  typeMeta?: { apiVersion?: string; kind?: string };
  raw?: Uint8Array;
  contentEncoding?: string;
  contentType?: string;
}

/**
 * Decodes a protobuf body into a JSON object with `apiVersion` and `kind` set from the envelope.
 * Throws a 400 StatusError for malformed bytes and a 415 one for a kind, encoding or field we do not decode.
 */
export function decodeProtobufObject(body: Uint8Array): Record<string, unknown> {
  const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (bytes.length < PROTOBUF_MAGIC.length || !bytes.subarray(0, PROTOBUF_MAGIC.length).equals(PROTOBUF_MAGIC)) {
    throw malformedProtobuf('it does not start with the Kubernetes "k8s\\0" prefix');
  }
  const root = loadK8sRoot();
  const envelope = decodeEnvelope(root.lookupType('k8s.io.apimachinery.pkg.runtime.Unknown'), bytes.subarray(PROTOBUF_MAGIC.length));
  const apiVersion = envelope.typeMeta?.apiVersion ?? '';
  const kind = envelope.typeMeta?.kind ?? '';
  if (envelope.contentEncoding !== undefined && envelope.contentEncoding !== '') {
    throw unsupportedProtobuf(`kube-lite does not decode protobuf bodies with content encoding "${envelope.contentEncoding}"`);
  }
  if (kind === '' || apiVersion === '') {
    throw unsupportedProtobuf('the protobuf body does not name its apiVersion and kind, so kube-lite cannot decode it');
  }
  const messageName = messageNameFor(apiVersion, kind);
  if (messageName === undefined) {
    throw unsupportedProtobuf(
      `kube-lite cannot decode a protobuf body of kind ${kind} (apiVersion ${apiVersion}); it decodes protobuf only for ${decodableKinds().join(', ')}`,
    );
  }
  const type = root.lookupType(messageName);
  const raw = envelope.raw ?? new Uint8Array(0);
  const unknown = guard(() => findUnknownFields(type, raw, kind));
  if (unknown.length > 0) {
    const fields = unknown.map((field) => `${field.path} (field ${field.fieldNumber} of ${field.messageName})`).join(', ');
    throw unsupportedProtobuf(`the ${kind} sets fields kube-lite does not decode from protobuf: ${fields}`);
  }
  const message = guard(() => type.decode(raw));
  const object = toKubernetesJson(type, type.toObject(message, plainObjectOptions));
  return { apiVersion, kind, ...object };
}

function decodeEnvelope(type: protobuf.Type, bytes: Uint8Array): Envelope {
  return guard(() => type.toObject(type.decode(bytes), { defaults: false })) as Envelope;
}

/** protobufjs reports truncated or invalid input as plain Errors (RangeError "index out of range"); those are the client's 400. */
function guard<T>(action: () => T): T {
  try {
    return action();
  } catch (error) {
    if (error instanceof StatusError) throw error;
    throw malformedProtobuf((error as Error).message, error);
  }
}
