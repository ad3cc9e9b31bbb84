// Turns a method and URL into what the request is about (upstream's
// RequestInfoFactory): resource requests under /api and /apis carry a verb,
// group, version, namespace, resource, name and subresource; everything else
// (discovery, /version, /healthz, /openapi) is a non-resource request whose
// verb is the lower-cased HTTP method. Pure: no I/O, so it is table-tested.

import { exactFieldMatch } from '../auth';
import { badRequest } from './status-error';

/** The verbs authorization and routing know; upstream's names. */
export type ResourceVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface ResourceRequestInfo {
  isResourceRequest: true;
  /** The decoded path, for logs and non-resource authorization. */
  path: string;
  /** `api` for the core group, `apis` for named groups. */
  apiPrefix: 'api' | 'apis';
  /** `` for the core group. */
  apiGroup: string;
  apiVersion: string;
  /** Undefined when the method has no verb (OPTIONS, ...): routing answers 405. */
  verb: ResourceVerb | undefined;
  /** `` for cluster-scoped requests and for lists across all namespaces. */
  namespace: string;
  /** May be `` for a request against the version root (/api/v1/namespaces/x is resource "namespaces"). */
  resource: string;
  subresource: string;
  /** `` for collection requests. */
  name: string;
  /** Segments after the subresource (only meaningful for proxy-like subresources). */
  extraPath: string[];
  /**
   * For list/watch with `fieldSelector=metadata.name=x` (or the legacy /watch/.../name form), the one name the
   * request can return: authorization may grant it like a get of that name, as upstream does.
   */
  selectedName: string;
  /** True for the legacy `/api/v1/watch/...` form, which is a watch whatever the query says. */
  legacyWatchPath: boolean;
}

export interface NonResourceRequestInfo {
  isResourceRequest: false;
  path: string;
  /** The lower-cased HTTP method (`get`, `post`, ...), as upstream authorizes non-resource paths. */
  verb: string;
}

export type RequestInfo = ResourceRequestInfo | NonResourceRequestInfo;

/** The request target split into its raw (still percent-encoded, unnormalized) path and its query. */
export interface RequestUrl {
  pathname: string;
  searchParams: URLSearchParams;
}

const methodVerbs: Record<string, ResourceVerb> = {
  GET: 'get',
  HEAD: 'get',
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** Subresources of a Namespace object itself (/api/v1/namespaces/x/status), not namespaced resources. */
const namespaceSubresources = new Set(['status', 'finalize']);

const createOnConnect = new Set(['exec', 'attach', 'portforward']);

/** Go's strconv.ParseBool, which upstream uses for boolean query parameters. */
export function parseBooleanParameter(name: string, value: string | null): boolean {
  if (value === null) return false;
  switch (value) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
    case '':
      return false;
    default:
      throw badRequest(`invalid value for query parameter ${name}: "${value}" (allowed: true, false, 1, 0)`);
  }
}

function splitPath(path: string): string[] {
  const segments: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      throw badRequest(`invalid percent-encoding in URL path segment "${raw}"`);
    }
    if (segment === '.' || segment === '..' || segment.includes('/')) {
      throw badRequest(`invalid URL path segment "${segment}"`);
    }
    segments.push(segment);
  }
  return segments;
}

/** Parses method + URL into a RequestInfo. Throws a 400 StatusError on malformed paths or query values. */
export function parseRequestInfo(method: string, url: RequestUrl): RequestInfo {
  const path = url.pathname;
  const parts = splitPath(path);
  const nonResource: NonResourceRequestInfo = { isResourceRequest: false, path, verb: method.toLowerCase() };
  const prefix = parts[0];
  if (prefix !== 'api' && prefix !== 'apis') return nonResource;
  // Discovery documents: /api, /api/v1, /apis, /apis/g, /apis/g/v.
  const minimum = prefix === 'api' ? 3 : 4;
  if (parts.length < minimum) return nonResource;

  let rest = parts.slice(1);
  let apiGroup = '';
  if (prefix === 'apis') {
    apiGroup = rest[0] as string;
    rest = rest.slice(1);
  }
  const apiVersion = rest[0] as string;
  rest = rest.slice(1);

  let verb: ResourceVerb | undefined = methodVerbs[method.toUpperCase()];
  let legacyWatchPath = false;
  if (rest[0] === 'watch') {
    if (rest.length < 2) throw badRequest(`unable to determine kind and namespace from url ${path}`);
    legacyWatchPath = true;
    verb = 'watch';
    rest = rest.slice(1);
  }

  let namespace = '';
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1] as string;
    if (rest.length > 2 && !namespaceSubresources.has(rest[2] as string)) rest = rest.slice(2);
  }

  const resource = rest[0] ?? '';
  let name = rest[1] ?? '';
  const subresource = rest[2] ?? '';
  const extraPath = rest.slice(3);
  // A Namespace object is addressed as /api/v1/namespaces/<name>: it is cluster-scoped, its "namespace" is itself.
  if (resource === 'namespaces' && name !== '') namespace = '';

  // Upstream authorizes exec/attach/portforward as `create` even over a WebSocket GET: they run code in the pod.
  if (verb === 'get' && name !== '' && createOnConnect.has(subresource)) verb = 'create';

  let selectedName = '';
  const watchParameter = parseBooleanParameter('watch', url.searchParams.get('watch'));
  if (legacyWatchPath) {
    selectedName = name;
    name = '';
  } else if (verb === 'get' && name === '') {
    verb = watchParameter ? 'watch' : 'list';
  } else if (verb === 'delete' && name === '') {
    verb = 'deletecollection';
  }
  if ((verb === 'list' || verb === 'watch') && selectedName === '') {
    selectedName = exactFieldMatch(url.searchParams.get('fieldSelector'), 'metadata.name');
  }

  return {
    isResourceRequest: true,
    path,
    apiPrefix: prefix,
    apiGroup,
    apiVersion,
    verb,
    namespace,
    resource,
    subresource,
    name,
    extraPath,
    selectedName,
    legacyWatchPath,
  };
}
