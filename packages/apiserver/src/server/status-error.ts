// Kubernetes reports every failure as a `Status` object whose reason, code and
// message kubectl prints verbatim ("Error from server (NotFound): ..."). The
// helpers below reproduce apimachinery's wording so clients that parse these
// messages (kubectl, client-go retry logic) behave as against upstream.
//
// The wire shapes are declared here rather than imported from @kube-lite/api so
// the HTTP frame has no dependency on the type package beyond JSON structure.

/** One reason a request failed, e.g. a field that did not validate. */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** Extra machine-readable data about a failure. */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** meta/v1 Status as it travels on the wire. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** A group plus a plural resource name, printed as upstream's GroupResource ("deployments.apps"). */
export interface GroupResource {
  group: string;
  resource: string;
}

/** A group plus a kind, printed as upstream's GroupKind ("Deployment.apps"). */
export interface GroupKind {
  group: string;
  kind: string;
}

/** A request failed in a way the client should hear about as a Status with this code and reason. */
export class StatusError extends Error {
  override readonly name = 'StatusError';

  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Seconds a client should wait before retrying, when the failure is transient. */
  get retryAfterSeconds(): number | undefined {
    return this.details?.retryAfterSeconds;
  }

  toStatus(): Status {
    const status: Status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      code: this.code,
    };
    if (this.details !== undefined) status.details = this.details;
    return status;
  }
}

/** A Status reporting success (DELETE of an object that is already gone from storage, eviction accepted). */
export function successStatus(code = 200, details?: StatusDetails): Status {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code };
  if (details !== undefined) status.details = details;
  return status;
}

/** "deployments.apps", or just "pods" for the core group. */
export function groupResourceString(resource: GroupResource): string {
  return resource.group === '' ? resource.resource : `${resource.resource}.${resource.group}`;
}

function groupKindString(kind: GroupKind): string {
  return kind.group === '' ? kind.kind : `${kind.kind}.${kind.group}`;
}

function resourceDetails(resource: GroupResource, name: string): StatusDetails {
  const details: StatusDetails = { name, kind: resource.resource };
  if (resource.group !== '') details.group = resource.group;
  return details;
}

export function notFound(resource: GroupResource, name: string): StatusError {
  return new StatusError(404, 'NotFound', `${groupResourceString(resource)} "${name}" not found`, resourceDetails(resource, name));
}

/** The 404 for a path that names no known resource, group or endpoint. */
export function pathNotFound(): StatusError {
  return new StatusError(404, 'NotFound', 'the server could not find the requested resource', {});
}

export function alreadyExists(resource: GroupResource, name: string): StatusError {
  return new StatusError(409, 'AlreadyExists', `${groupResourceString(resource)} "${name}" already exists`, resourceDetails(resource, name));
}

/** A write lost a race (stale resourceVersion, precondition failed); `detail` says why. */
export function conflict(resource: GroupResource, name: string, detail: string): StatusError {
  return new StatusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${groupResourceString(resource)} "${name}": ${detail}`,
    resourceDetails(resource, name),
  );
}

/** The wording of the most common conflict, a stale resourceVersion on update. */
export const OBJECT_MODIFIED_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

/** One field-level validation failure, as upstream's field.Error. */
export interface FieldCause {
  /** Upstream's field.ErrorType reason, e.g. FieldValueRequired, FieldValueInvalid, FieldValueNotSupported. */
  reason: string;
  /** The JSON path of the field, e.g. `spec.template.spec.containers[0].image`. */
  field: string;
  /** The error body without the field, e.g. `Required value` or `Invalid value: -1: must be greater than or equal to 0`. */
  message: string;
}

/** 422 Invalid: `Deployment.apps "bad" is invalid: [spec.selector: Required value, ...]`. */
export function invalid(kind: GroupKind, name: string, causes: readonly FieldCause[]): StatusError {
  const parts = causes.map((cause) => `${cause.field}: ${cause.message}`);
  const aggregate = parts.length === 1 ? (parts[0] as string) : `[${parts.join(', ')}]`;
  const details: StatusDetails = {
    name,
    kind: kind.kind,
    causes: causes.map((cause) => ({ reason: cause.reason, message: cause.message, field: cause.field })),
  };
  if (kind.group !== '') details.group = kind.group;
  return new StatusError(422, 'Invalid', `${groupKindString(kind)} "${name}" is invalid: ${aggregate}`, details);
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, 'BadRequest', message);
}

export function unauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError(401, 'Unauthorized', message);
}

/** 403 with upstream's wording; `detail` is the authorizer's sentence (`User "x" cannot list resource ...`). */
export function forbidden(resource: GroupResource | undefined, name: string, detail: string): StatusError {
  if (resource === undefined || resource.resource === '') {
    return new StatusError(403, 'Forbidden', `forbidden: ${detail}`, {});
  }
  const subject = name === '' ? groupResourceString(resource) : `${groupResourceString(resource)} "${name}"`;
  const details: StatusDetails = { kind: resource.resource };
  if (name !== '') details.name = name;
  if (resource.group !== '') details.group = resource.group;
  return new StatusError(403, 'Forbidden', `${subject} is forbidden: ${detail}`, details);
}

/** 405: the resource exists but does not support this action (`create is not supported on resources of kind "nodes"`). */
export function methodNotAllowed(resource: GroupResource, action: string): StatusError {
  const details: StatusDetails = { kind: resource.resource };
  if (resource.group !== '') details.group = resource.group;
  return new StatusError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind "${groupResourceString(resource)}"`, details);
}

/** 410 Expired: the requested resourceVersion has been compacted; clients relist. */
export function expired(message: string): StatusError {
  return new StatusError(410, 'Expired', message);
}

export function gone(message: string): StatusError {
  return new StatusError(410, 'Gone', message);
}

export function tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
}

/** 500 for a bug or an unexpected failure below the API layer; the cause is logged, its message shown. */
export function internalError(cause: unknown): StatusError {
  const text = cause instanceof Error ? cause.message : String(cause);
  return new StatusError(500, 'InternalError', `Internal error occurred: ${text}`, { causes: [{ message: text }] }, { cause });
}

export function timeout(message: string, retryAfterSeconds = 0): StatusError {
  return new StatusError(504, 'Timeout', `Timeout: ${message}`, { retryAfterSeconds });
}

export function requestEntityTooLarge(limitBytes: number): StatusError {
  return new StatusError(413, 'RequestEntityTooLarge', `Request entity too large: limit is ${limitBytes}`);
}

export function unsupportedMediaType(contentType: string, accepted: readonly string[]): StatusError {
  return new StatusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format (${contentType || 'no Content-Type'}) - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function notAcceptable(accepted: readonly string[]): StatusError {
  return new StatusError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, 'ServiceUnavailable', message);
}

/** Any thrown value as a StatusError: StatusErrors pass through, everything else is an internal error. */
export function toStatusError(error: unknown): StatusError {
  return error instanceof StatusError ? error : internalError(error);
}
