// Turns a decoded ApiServer RPC into what the REST frame would have derived
// from the equivalent HTTP request: verb, group/version/resource/subresource,
// namespace/name, and the query parameters. The query is rebuilt as REST
// would see it and parsed by the REST frame's own parsers, so both front ends
// validate options identically and handlers see the same RequestContext.
// Pure: no I/O, table-tested in call-plan.test.ts.

import type { apiserverpb } from '@kube-lite/client';
import type { AuthorizationAttributes, UserInfo } from '../auth';
import { exactFieldMatch } from '../auth';
import type { DeleteOptions, ListOptions, PatchRequest, PatchType, ResourceVerb, WriteOptions } from '../server';
import { badRequest, StatusError } from '../server';
import { parseDeleteOptions, parseListOptions, parseWriteOptions } from '../server/options';

/** The RPCs of kubelite.apiserver.v1.ApiServer. */
export type ApiServerMethod = apiserverpb.ApiServerMethod;

/** A resource request as both front ends understand it. */
export interface CallPlan {
  method: ApiServerMethod;
  verb: ResourceVerb;
  group: string;
  version: string;
  resource: string;
  /** `` or `status`, `scale`, `binding`, `eviction`, `finalize`. */
  subresource: string;
  namespace: string;
  /** `` for collection requests (List, Watch, Create). */
  name: string;
  /** For List/Watch pinned to one object by `metadata.name=`: what authorization may grant like a get of that name. */
  selectedName: string;
  /** The REST query this call corresponds to; handlers may read it (context.query). */
  query: URLSearchParams;
  list: ListOptions;
  write: WriteOptions;
  /** The REST path of the same request, for logs and authorization attributes. */
  path: string;
}

const emptyRef: apiserverpb.ResourceRefMessage = { group: '', version: '', resource: '', namespace: '', name: '' };

/** proto3 leaves an unset message field null; treat it as all-empty. */
function refOf(request: { ref?: apiserverpb.ResourceRefMessage | null }): apiserverpb.ResourceRefMessage {
  return request.ref ?? emptyRef;
}

/** int64 fields arrive as decimal strings; anything outside the safe integer range is a client error. */
function int64Value(field: string, value: number | string | null | undefined): number {
  if (value === null || value === undefined || value === '') return 0;
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw badRequest(`${field}: "${String(value)}" is not an integer`);
  return parsed;
}

function restPath(group: string, version: string, resource: string, namespace: string, name: string, subresource: string): string {
  const segments = [group === '' ? 'api' : 'apis'];
  if (group !== '') segments.push(group);
  segments.push(version);
  if (namespace !== '' && !(resource === 'namespaces' && name !== '')) segments.push('namespaces', namespace);
  segments.push(resource);
  if (name !== '') segments.push(name);
  if (subresource !== '') segments.push(subresource);
  return `/${segments.map((segment) => encodeURIComponent(segment)).join('/')}`;
}

interface PlanInput {
  method: ApiServerMethod;
  verb: ResourceVerb;
  ref: apiserverpb.ResourceRefMessage;
  subresource?: string;
  query?: URLSearchParams;
  /** Whether ref.name must be set (object requests) or empty (collection requests). */
  name: 'required' | 'forbidden' | 'selects';
}

function plan(input: PlanInput): CallPlan {
  const { ref, method } = input;
  if (input.name === 'required' && ref.name === '') throw badRequest(`${method}: ref.name is required`);
  if (input.name === 'forbidden' && ref.name !== '') {
    throw badRequest(`${method}: ref.name must be empty (${method === 'Create' ? 'the name comes from the object\'s metadata' : 'it addresses a collection'})`);
  }
  const query = input.query ?? new URLSearchParams();
  let name = ref.name;
  let selectedName = '';
  if (input.name === 'selects') {
    // A watch of one object is a watch of the collection narrowed to that name, as REST's /watch/.../name form.
    if (name !== '') {
      const term = `metadata.name=${name}`;
      const fieldSelector = query.get('fieldSelector') ?? '';
      query.set('fieldSelector', fieldSelector === '' ? term : `${fieldSelector},${term}`);
    }
    name = '';
  }
  if (input.verb === 'list' || input.verb === 'watch') {
    // As REST's request info: a list or watch narrowed to one name is authorized like a read of that name.
    selectedName = exactFieldMatch(query.get('fieldSelector'), 'metadata.name');
  }
  // Namespaces are cluster-scoped even though REST paths them under /namespaces/<name>.
  const namespace = ref.resource === 'namespaces' && ref.group === '' ? '' : ref.namespace;
  const subresource = input.subresource ?? '';
  return {
    method,
    verb: input.verb,
    group: ref.group,
    version: ref.version,
    resource: ref.resource,
    subresource,
    namespace,
    name,
    selectedName,
    query,
    list: parseListOptions(query),
    write: parseWriteOptions(query),
    path: restPath(ref.group, ref.version, ref.resource, namespace, name, subresource),
  };
}

function writeQuery(options: apiserverpb.WriteOptionsMessage | null | undefined): URLSearchParams {
  const query = new URLSearchParams();
  if (options?.dry_run === true) query.set('dryRun', 'All');
  if (options?.field_manager !== undefined && options.field_manager !== '') query.set('fieldManager', options.field_manager);
  return query;
}

/** Pods as the scheduler and the eviction API address them, when the client left parts of the ref empty. */
function podRef(ref: apiserverpb.ResourceRefMessage): apiserverpb.ResourceRefMessage {
  return { ...ref, version: ref.version === '' ? 'v1' : ref.version, resource: ref.resource === '' ? 'pods' : ref.resource };
}

export function planGet(request: apiserverpb.GetRequest): CallPlan {
  const query = new URLSearchParams();
  if (request.resource_version !== '') query.set('resourceVersion', request.resource_version);
  return plan({ method: 'Get', verb: 'get', ref: refOf(request), name: 'required', query });
}

export function planList(request: apiserverpb.ListRequest): CallPlan {
  const query = new URLSearchParams();
  if (request.label_selector !== '') query.set('labelSelector', request.label_selector);
  if (request.field_selector !== '') query.set('fieldSelector', request.field_selector);
  const limit = int64Value('limit', request.limit);
  if (limit !== 0) query.set('limit', String(limit));
  if (request.continue_token !== '') query.set('continue', request.continue_token);
  if (request.resource_version !== '') query.set('resourceVersion', request.resource_version);
  if (request.resource_version_match !== '') query.set('resourceVersionMatch', request.resource_version_match);
  return plan({ method: 'List', verb: 'list', ref: refOf(request), name: 'forbidden', query });
}

export function planWatch(request: apiserverpb.WatchRequest): CallPlan {
  const query = new URLSearchParams({ watch: '1' });
  if (request.label_selector !== '') query.set('labelSelector', request.label_selector);
  if (request.field_selector !== '') query.set('fieldSelector', request.field_selector);
  if (request.resource_version !== '') query.set('resourceVersion', request.resource_version);
  if (request.allow_watch_bookmarks) query.set('allowWatchBookmarks', 'true');
  const timeoutSeconds = int64Value('timeout_seconds', request.timeout_seconds);
  if (timeoutSeconds !== 0) query.set('timeoutSeconds', String(timeoutSeconds));
  return plan({ method: 'Watch', verb: 'watch', ref: refOf(request), name: 'selects', query });
}

export function planCreate(request: apiserverpb.CreateRequest): CallPlan {
  return plan({ method: 'Create', verb: 'create', ref: refOf(request), name: 'forbidden', query: writeQuery(request.options) });
}

/** Update, or UpdateStatus (`status` true): the same call with subresource "status". */
export function planUpdate(request: apiserverpb.UpdateRequest, status: boolean): CallPlan {
  const method = status ? 'UpdateStatus' : 'Update';
  const requested = request.subresource ?? '';
  if (status && requested !== '' && requested !== 'status') {
    throw badRequest(`UpdateStatus: subresource must be empty or "status", got "${requested}"; use Update for other subresources`);
  }
  const subresource = status ? 'status' : requested;
  return plan({ method, verb: 'update', ref: refOf(request), name: 'required', query: writeQuery(request.options), subresource });
}

export function planPatch(request: apiserverpb.PatchRequest): CallPlan {
  return plan({ method: 'Patch', verb: 'patch', ref: refOf(request), name: 'required', query: writeQuery(request.options), subresource: request.subresource });
}

export function planDelete(request: apiserverpb.DeleteRequest): CallPlan {
  return plan({ method: 'Delete', verb: 'delete', ref: refOf(request), name: 'required' });
}

export function planBind(request: apiserverpb.BindRequest): CallPlan {
  return plan({ method: 'Bind', verb: 'create', ref: podRef(refOf(request)), name: 'required', query: writeQuery(request.options), subresource: 'binding' });
}

export function planEvict(request: apiserverpb.EvictRequest, eviction: unknown): CallPlan {
  // EvictRequest has no WriteOptions: a dry run is asked for inside the Eviction, in deleteOptions.dryRun.
  const query = new URLSearchParams();
  const dryRun = (eviction as { deleteOptions?: { dryRun?: unknown } } | undefined)?.deleteOptions?.dryRun;
  if (Array.isArray(dryRun) && dryRun.includes('All')) query.set('dryRun', 'All');
  return plan({ method: 'Evict', verb: 'create', ref: podRef(refOf(request)), name: 'required', query, subresource: 'eviction' });
}

export function planGetScale(request: apiserverpb.GetScaleRequest): CallPlan {
  return plan({ method: 'GetScale', verb: 'get', ref: refOf(request), name: 'required', subresource: 'scale' });
}

export function planUpdateScale(request: apiserverpb.UpdateScaleRequest): CallPlan {
  return plan({ method: 'UpdateScale', verb: 'update', ref: refOf(request), name: 'required', query: writeQuery(request.options), subresource: 'scale' });
}

/** What the authorizer is asked, built exactly as the REST frame builds it for the same request. */
export function authorizationAttributes(call: CallPlan, user: UserInfo): AuthorizationAttributes {
  return {
    user,
    verb: call.verb,
    isResourceRequest: true,
    path: call.path,
    apiGroup: call.group,
    apiVersion: call.version,
    namespace: call.namespace,
    resource: call.resource,
    subresource: call.subresource,
    name: call.name !== '' ? call.name : call.selectedName,
    fieldSelector: call.query.get('fieldSelector') ?? '',
  };
}

/** Parses an object body (JSON bytes); `what` names the field in the message for errors. */
export function decodeObject(bytes: Buffer | null | undefined, what: string): Record<string, unknown> {
  if (bytes === null || bytes === undefined || bytes.length === 0) throw badRequest(`${what} is empty; an object is required`);
  const value = parseJsonBytes(bytes, what);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`${what} must be a single JSON object`);
  return value as Record<string, unknown>;
}

/** Parses an optional object body; undefined when the bytes are empty. */
export function decodeOptionalObject(bytes: Buffer | null | undefined, what: string): Record<string, unknown> | undefined {
  if (bytes === null || bytes === undefined || bytes.length === 0) return undefined;
  return decodeObject(bytes, what);
}

function parseJsonBytes(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (cause) {
    throw badRequest(`${what} is not valid JSON: ${(cause as Error).message}`);
  }
}

const patchTypes: Record<apiserverpb.PatchTypeName, PatchType | undefined> = {
  PATCH_TYPE_UNSPECIFIED: undefined,
  JSON_PATCH: 'json',
  MERGE_PATCH: 'merge',
  STRATEGIC_MERGE_PATCH: 'strategic',
};

/** The patch as REST's decodePatchBody would hand it to the handler. */
export function decodePatch(request: apiserverpb.PatchRequest): PatchRequest {
  const type = patchTypes[request.patch_type];
  if (type === undefined) {
    throw new StatusError(415, 'UnsupportedMediaType', `patch_type "${String(request.patch_type)}" is not supported; use JSON_PATCH, MERGE_PATCH or STRATEGIC_MERGE_PATCH`);
  }
  if (request.patch === null || request.patch === undefined || request.patch.length === 0) throw badRequest('the patch is empty');
  const patch = parseJsonBytes(request.patch, 'patch');
  if (type === 'json') {
    if (!Array.isArray(patch)) throw badRequest('a JSON_PATCH patch must be a JSON array of operations');
  } else if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
    throw badRequest(`a ${request.patch_type} patch must be a single JSON object`);
  }
  return { type, patch };
}

/** DeleteOptions JSON (may be empty), validated by the REST frame's parser. */
export function decodeDeleteOptions(request: apiserverpb.DeleteRequest): DeleteOptions {
  return parseDeleteOptions(new URLSearchParams(), decodeOptionalObject(request.options, 'options'));
}
