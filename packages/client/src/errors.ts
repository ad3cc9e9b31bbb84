// The failures a client caller may want to tell apart, one class each. The
// API server's refusals all arrive as ApiError (a Kubernetes Status), so a
// controller checks `isNotFound(error)` the way client-go code checks
// apierrors.IsNotFound.
import type { Status, StatusDetails } from '@kube-lite/api';

/** The API server refused a request (or could not be reached): a meta/v1 Status as an error. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    /** HTTP status code: 404, 409, 410, 422, 500, 503 ... */
    readonly code: number,
    /** Status reason: "NotFound", "AlreadyExists", "Conflict", "Expired", ... ("" when unknown). */
    readonly reason: string,
    message: string,
    /** Which object the failure is about, and field-level causes for Invalid. */
    readonly details?: StatusDetails,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Rebuilds the error a REST or gRPC answer carried as a Status. */
  static fromStatus(status: Status, options?: { cause?: unknown }): ApiError {
    return new ApiError(status.code ?? 500, status.reason ?? '', status.message ?? `request failed with status ${status.code ?? 'unknown'}`, status.details, options);
  }

  /** The meta/v1 Status form, as a server sends it. */
  toStatus(): Status {
    const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: this.message, reason: this.reason, code: this.code };
    if (this.details !== undefined) status.details = this.details;
    return status;
  }
}

function hasReason(error: unknown, reason: string, code: number): boolean {
  if (!(error instanceof ApiError)) return false;
  // Like apierrors: the reason decides; with no reason the code does.
  return error.reason === reason || (error.reason === '' && error.code === code);
}

export function isNotFound(error: unknown): boolean {
  return hasReason(error, 'NotFound', 404);
}
export function isAlreadyExists(error: unknown): boolean {
  return hasReason(error, 'AlreadyExists', 409);
}
/** A write lost a race: stale resourceVersion or a failed precondition. */
export function isConflict(error: unknown): boolean {
  return hasReason(error, 'Conflict', 409);
}
/** The resource version asked for is older than the server's history (410 Gone or Expired): list again. */
export function isGone(error: unknown): boolean {
  return error instanceof ApiError && (error.code === 410 || error.reason === 'Gone' || error.reason === 'Expired');
}
export function isInvalid(error: unknown): boolean {
  return hasReason(error, 'Invalid', 422);
}
export function isForbidden(error: unknown): boolean {
  return hasReason(error, 'Forbidden', 403);
}
export function isUnauthorized(error: unknown): boolean {
  return hasReason(error, 'Unauthorized', 401);
}
export function isTooManyRequests(error: unknown): boolean {
  return hasReason(error, 'TooManyRequests', 429);
}
export function isBadRequest(error: unknown): boolean {
  return hasReason(error, 'BadRequest', 400);
}
/** The server could not be reached or answered 503: safe to retry later. */
export function isServiceUnavailable(error: unknown): boolean {
  return hasReason(error, 'ServiceUnavailable', 503);
}
/** The request ran out of time (client deadline or server timeout). */
export function isTimeout(error: unknown): boolean {
  return error instanceof ApiError && (error.reason === 'Timeout' || error.reason === 'ServerTimeout' || error.code === 504);
}

function groupResource(group: string, resource: string): string {
  return group === '' ? resource : `${resource}.${group}`;
}

function details(group: string, resource: string, name: string): StatusDetails {
  return group === '' ? { name, kind: resource } : { name, group, kind: resource };
}

// Constructors with apimachinery's wording, for fakes and servers.

export function notFoundError(group: string, resource: string, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${groupResource(group, resource)} "${name}" not found`, details(group, resource, name));
}

export function alreadyExistsError(group: string, resource: string, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${groupResource(group, resource)} "${name}" already exists`, details(group, resource, name));
}

export function conflictError(group: string, resource: string, name: string, why: string): ApiError {
  return new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${groupResource(group, resource)} "${name}": ${why}`, details(group, resource, name));
}

/** The message upstream uses when an update carries a stale resourceVersion. */
export const OPTIMISTIC_LOCK_MESSAGE = 'the object has been modified; please apply your changes to the latest version and try again';

export function goneError(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

export function invalidError(kind: string, name: string, message: string): ApiError {
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${message}`, { name, kind });
}

export function badRequestError(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

export function tooManyRequestsError(message: string, retryAfterSeconds?: number): ApiError {
  return new ApiError(429, 'TooManyRequests', message, retryAfterSeconds === undefined ? {} : { retryAfterSeconds });
}

/** A WorkQueue holds maxSize keys already; the caller should slow down or drop the key. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(
    readonly queueName: string,
    readonly maxSize: number,
  ) {
    super(`work queue "${queueName}" is full (${maxSize} keys waiting); the workers are not keeping up`);
  }
}

/** A component configuration value is out of range (leader election timings, queue bounds...). */
export class ClientConfigError extends Error {
  override readonly name = 'ClientConfigError';
  constructor(message: string) {
    super(message);
  }
}

/** The client was closed and cannot make calls any more. */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
  constructor() {
    super('the API client was closed');
  }
}
