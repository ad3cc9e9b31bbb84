// Storage failures as the Status errors clients expect, worded as upstream's
// registry reports them for the resource at hand.

import { isStorageError, type StorageError } from '../storage';
import {
  OBJECT_MODIFIED_MESSAGE,
  StatusError,
  alreadyExists,
  badRequest,
  conflict,
  expired,
  internalError,
  notFound,
  serviceUnavailable,
  timeout,
  type GroupResource,
} from '../server';

/** Maps a StorageError (or passes any other error through) for the object `name` of `resource`. */
export function toApiError(error: unknown, resource: GroupResource, name: string): unknown {
  if (error instanceof StatusError || !isStorageError(error)) return error;
  return storageToStatus(error, resource, name);
}

export function storageToStatus(error: StorageError, resource: GroupResource, name: string): StatusError {
  switch (error.code) {
    case 'NotFound':
      return notFound(resource, name);
    case 'AlreadyExists':
      return alreadyExists(resource, name);
    case 'Conflict': {
      const precondition = /Precondition failed: .*/.exec(error.message);
      if (precondition !== null) return conflict(resource, name, precondition[0]);
      if (error.message.includes('has been modified')) return conflict(resource, name, OBJECT_MODIFIED_MESSAGE);
      return conflict(resource, name, error.message.replace(/^conflict on [^:]*: /, ''));
    }
    case 'Expired':
      return expired(error.message);
    case 'InvalidResourceVersion':
      return badRequest(error.message);
    case 'Timeout':
      // A resourceVersion newer than anything stored: upstream answers 504 with a retry hint.
      return timeout(error.message, error.message.startsWith('Too large resource version') ? 1 : 0);
    case 'Unavailable':
      return serviceUnavailable(error.message);
    case 'InternalError':
      return internalError(error);
  }
}

/** Runs a storage call and rethrows its failure as a Status error. */
export async function withApiErrors<T>(resource: GroupResource, name: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw toApiError(error, resource, name);
  }
}
