// Kubernetes Status <-> gRPC status. The server ends a failed call with the
// gRPC code derived from the HTTP code and the whole Status JSON in the
// `kube-status-bin` trailer; the client prefers the trailer and falls back to
// the gRPC code alone (transport failures, servers that omit the trailer).
import * as grpc from '@grpc/grpc-js';
import type { Status } from '@kube-lite/api';
import { ApiError } from '../errors';

/** Trailing metadata key holding the Status JSON ("-bin": binary value, base64 on the wire). */
export const KUBE_STATUS_METADATA_KEY = 'kube-status-bin';

/** The gRPC code a server should answer for a Status. */
export function grpcCodeForStatus(code: number, reason: string): grpc.status {
  switch (code) {
    case 400:
    case 413:
    case 415:
    case 422:
      return grpc.status.INVALID_ARGUMENT;
    case 401:
      return grpc.status.UNAUTHENTICATED;
    case 403:
      return grpc.status.PERMISSION_DENIED;
    case 404:
      return grpc.status.NOT_FOUND;
    case 405:
    case 406:
      return grpc.status.UNIMPLEMENTED;
    case 409:
      return reason === 'AlreadyExists' ? grpc.status.ALREADY_EXISTS : grpc.status.ABORTED;
    case 410:
      return grpc.status.OUT_OF_RANGE;
    case 429:
      return grpc.status.RESOURCE_EXHAUSTED;
    case 503:
      return grpc.status.UNAVAILABLE;
    case 504:
      return grpc.status.DEADLINE_EXCEEDED;
    default:
      return code >= 500 ? grpc.status.INTERNAL : grpc.status.UNKNOWN;
  }
}

/** What a server passes to a unary callback or `call.destroy()`/`emit('error')` to fail with this Status. */
export function statusToServiceError(status: Status): grpc.ServerErrorResponse {
  const metadata = new grpc.Metadata();
  metadata.set(KUBE_STATUS_METADATA_KEY, Buffer.from(JSON.stringify(status)));
  const message = status.message ?? status.reason ?? 'request failed';
  return Object.assign(new Error(message), { code: grpcCodeForStatus(status.code ?? 500, status.reason ?? ''), details: message, metadata });
}

interface HttpEquivalent {
  code: number;
  reason: string;
}

// When no Status came back, what the gRPC code most likely meant.
const HTTP_FOR_GRPC: Partial<Record<grpc.status, HttpEquivalent>> = {
  [grpc.status.INVALID_ARGUMENT]: { code: 400, reason: 'BadRequest' },
  [grpc.status.FAILED_PRECONDITION]: { code: 400, reason: 'BadRequest' },
  [grpc.status.UNAUTHENTICATED]: { code: 401, reason: 'Unauthorized' },
  [grpc.status.PERMISSION_DENIED]: { code: 403, reason: 'Forbidden' },
  [grpc.status.NOT_FOUND]: { code: 404, reason: 'NotFound' },
  [grpc.status.UNIMPLEMENTED]: { code: 405, reason: 'MethodNotAllowed' },
  [grpc.status.ALREADY_EXISTS]: { code: 409, reason: 'AlreadyExists' },
  [grpc.status.ABORTED]: { code: 409, reason: 'Conflict' },
  [grpc.status.OUT_OF_RANGE]: { code: 410, reason: 'Expired' },
  [grpc.status.RESOURCE_EXHAUSTED]: { code: 429, reason: 'TooManyRequests' },
  [grpc.status.UNAVAILABLE]: { code: 503, reason: 'ServiceUnavailable' },
  [grpc.status.DEADLINE_EXCEEDED]: { code: 504, reason: 'Timeout' },
};

function isServiceError(error: unknown): error is grpc.ServiceError {
  return error instanceof Error && typeof (error as Partial<grpc.ServiceError>).code === 'number';
}

/** Rebuilds the ApiError a failed call stands for; `cause` keeps the gRPC error. */
export function apiErrorFromGrpc(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (!isServiceError(error)) {
    return new ApiError(500, 'InternalError', `unexpected client failure: ${error instanceof Error ? error.message : String(error)}`, undefined, { cause: error });
  }
  const raw = error.metadata?.get(KUBE_STATUS_METADATA_KEY)[0];
  if (raw !== undefined) {
    try {
      const status = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw) as Status;
      if (typeof status === 'object' && status !== null && typeof status.code === 'number') return ApiError.fromStatus(status, { cause: error });
    } catch {
      // A malformed trailer is reported from the gRPC code below.
    }
  }
  const equivalent = HTTP_FOR_GRPC[error.code as grpc.status] ?? { code: 500, reason: 'InternalError' };
  return new ApiError(equivalent.code, equivalent.reason, error.details || error.message, undefined, { cause: error });
}
