// Request bodies and response formats: reading a body under the size limit,
// decoding it by Content-Type (JSON, YAML, Kubernetes protobuf, the four patch
// types, protobuf DeleteOptions), and reading the Accept header for Table
// requests. We answer JSON only; kubectl lists JSON after protobuf in Accept.

import type { IncomingMessage } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { duplicateJsonFields, duplicateYamlFields } from './duplicate-fields';
import type { OutputOptions, PatchRequest, PatchType } from './handler';
import { decodeProtobufObject, PROTOBUF_MEDIA_TYPE } from './protobuf';
import { decodeProtobufDeleteOptions } from './protobuf-delete-options';
import { badRequest, notAcceptable, requestEntityTooLarge, unsupportedMediaType } from './status-error';

/** Upstream's MaxRequestBodyBytes: 3 MiB. */
export const DEFAULT_MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

/** Reads the whole body, failing with 413 as soon as it exceeds `limitBytes` (or Content-Length says it will). */
export async function readBody(request: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? '0');
  if (Number.isFinite(declared) && declared > limitBytes) {
    request.resume();
    throw requestEntityTooLarge(limitBytes);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limitBytes) {
      request.resume();
      throw requestEntityTooLarge(limitBytes);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** The media type without parameters, lower-cased: `application/json; charset=utf-8` -> `application/json`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

const objectMediaTypes = ['application/json', 'application/yaml', PROTOBUF_MEDIA_TYPE];

/**
 * V8 quotes the start of the text in some messages (`Unexpected token 'x', "{"data":..." is not valid JSON`):
 * a body may hold Secret data, and an error message must not carry it back or into a log.
 */
function jsonErrorMessage(cause: unknown): string {
  return String((cause as Error).message).replace(/, ".*" is not valid JSON$/s, '');
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw badRequest(`the request body is not valid JSON: ${jsonErrorMessage(cause)}`);
  }
}

/**
 * Duplicate keys are kept (the last wins) so that fieldValidation decides about them (see duplicateFields);
 * prettyErrors is off because it quotes the offending lines of the body.
 */
function parseYamlDocument(body: Buffer): unknown {
  const text = body.toString('utf8');
  try {
    return parseYaml(text, { maxAliasCount: 100, uniqueKeys: false, prettyErrors: false });
  } catch (cause) {
    const offset = (cause as { pos?: number[] }).pos?.[0];
    const where = offset === undefined ? '' : ` at line ${text.slice(0, offset).split('\n').length}`;
    throw badRequest(`the request body is not valid YAML${where}: ${String((cause as Error).message)}`);
  }
}

/** Keys given twice in one object of a JSON or YAML object body, as field paths; [] for other media types. */
export function duplicateFields(contentType: string | undefined, body: Buffer): string[] {
  const type = mediaType(contentType);
  if (type === '' || type === 'application/json') return duplicateJsonFields(body.toString('utf8'));
  if (type === 'application/yaml') return duplicateYamlFields(body.toString('utf8'));
  return [];
}

/**
 * Decodes a POST/PUT body into an object. JSON, YAML and Kubernetes protobuf (kubectl's typed clients: `kubectl
 * create deployment`, `run`, `expose`...) are accepted; a missing Content-Type is read as JSON because `kubectl
 * scale --current-replicas` sends PUT without one.
 */
export function decodeObjectBody(contentType: string | undefined, body: Buffer): unknown {
  const type = mediaType(contentType);
  if (body.length === 0) throw badRequest('the request body is empty; an object is required');
  let value: unknown;
  if (type === '' || type === 'application/json') value = parseJson(body);
  else if (type === 'application/yaml') value = parseYamlDocument(body);
  else if (type === PROTOBUF_MEDIA_TYPE) value = decodeProtobufObject(body);
  else throw unsupportedMediaType(type, objectMediaTypes);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw badRequest('the request body must be a single JSON object');
  }
  return value;
}

const patchMediaTypes: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

/** Decodes a PATCH body by its Content-Type into one of the four patch types. */
export function decodePatchBody(contentType: string | undefined, body: Buffer): PatchRequest {
  const type = patchMediaTypes[mediaType(contentType)];
  if (type === undefined) throw unsupportedMediaType(mediaType(contentType), Object.keys(patchMediaTypes));
  if (body.length === 0) throw badRequest('the patch body is empty');
  const patch = type === 'apply' ? parseYamlDocument(body) : parseJson(body);
  if (type === 'json') {
    if (!Array.isArray(patch)) throw badRequest('a json-patch body must be a JSON array of operations');
  } else if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw badRequest(`a ${mediaType(contentType)} body must be a single object`);
  }
  return { type, patch };
}

/** Decodes an optional DELETE body (JSON DeleteOptions, or protobuf as kubectl drain sends); undefined when empty. */
export function decodeDeleteBody(contentType: string | undefined, body: Buffer): unknown {
  if (body.length === 0) return undefined;
  const type = mediaType(contentType);
  if (type === PROTOBUF_MEDIA_TYPE) return decodeProtobufDeleteOptions(body);
  if (type === '' || type === 'application/json') return parseJson(body);
  if (type === 'application/yaml') return parseYamlDocument(body);
  throw unsupportedMediaType(type, objectMediaTypes);
}

interface MediaRange {
  type: string;
  parameters: Map<string, string>;
  quality: number;
}

/** Splits an Accept header into media ranges with lower-cased types and parameter names. */
export function parseAccept(accept: string | undefined): MediaRange[] {
  if (accept === undefined || accept.trim() === '') return [];
  const ranges: MediaRange[] = [];
  for (const part of accept.split(',')) {
    const [typePart, ...parameterParts] = part.split(';');
    const type = (typePart ?? '').trim().toLowerCase();
    if (type === '') continue;
    const parameters = new Map<string, string>();
    for (const parameter of parameterParts) {
      const equals = parameter.indexOf('=');
      if (equals < 0) continue;
      parameters.set(parameter.slice(0, equals).trim().toLowerCase(), parameter.slice(equals + 1).trim().replace(/^"|"$/g, ''));
    }
    const quality = parameters.has('q') ? Number(parameters.get('q')) : 1;
    ranges.push({ type, parameters, quality: Number.isFinite(quality) ? quality : 1 });
  }
  return ranges;
}

const jsonRanges = new Set(['application/json', 'application/*', '*/*']);

/**
 * Picks the output for a resource request: the first acceptable range in the client's order (kubectl lists its
 * preference first). `as=Table` yields a Table request; other `as=` forms (PartialObjectMetadata) and protobuf
 * are skipped. Throws 406 when nothing acceptable remains.
 */
export function negotiateOutput(accept: string | undefined, includeObjectParameter: string | null): OutputOptions {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return {};
  const includeObject = includeObjectParameter === 'None' || includeObjectParameter === 'Object' ? includeObjectParameter : 'Metadata';
  for (const range of ranges) {
    if (range.quality <= 0 || !jsonRanges.has(range.type)) continue;
    const as = range.parameters.get('as');
    if (as === undefined) return {};
    const version = range.parameters.get('v');
    if (as === 'Table' && range.parameters.get('g') === 'meta.k8s.io' && (version === 'v1' || version === 'v1beta1')) {
      return { table: { version, includeObject } };
    }
  }
  throw notAcceptable(['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io']);
}

/** The media type of aggregated discovery documents; kubectl sees no resources unless it is exactly this. */
export function aggregatedDiscoveryContentType(version: 'v2' | 'v2beta1'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}

/**
 * Which aggregated discovery version the client asked for first (kubectl 1.32 lists v2, then v2beta1, then
 * plain JSON); undefined when a plain JSON range comes first or none is listed (legacy documents).
 */
export function aggregatedDiscoveryVersion(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const range of parseAccept(accept)) {
    if (range.quality <= 0 || !jsonRanges.has(range.type)) continue;
    const as = range.parameters.get('as');
    if (as === undefined) return undefined;
    const version = range.parameters.get('v');
    if (as === 'APIGroupDiscoveryList' && range.parameters.get('g') === 'apidiscovery.k8s.io' && (version === 'v2' || version === 'v2beta1')) return version;
  }
  return undefined;
}

/** True when a non-resource answer in JSON is acceptable (discovery clients list JSON last, after aggregated forms). */
export function acceptsJson(accept: string | undefined): boolean {
  const ranges = parseAccept(accept);
  return ranges.length === 0 || ranges.some((range) => range.quality > 0 && jsonRanges.has(range.type));
}
