// The etcd3 client wraps every call in a retry policy (3 attempts) and every
// endpoint in a circuit breaker that, after 3 consecutive failures, refuses
// all calls to it for 5 seconds. For the API server both are wrong: a retried
// compare-and-swap whose first attempt did commit reports a false Conflict,
// and a single slow moment of a one-member etcd would make every request fail
// for 5 seconds after etcd is back. Calls here run exactly once with their own
// deadline; callers (controllers, clients) retry with their own backoff.

import type { IOptions } from 'etcd3';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;

/**
 * The signal every call's policy context carries. Nothing ever aborts it (calls end by their deadline), and
 * etcd3 does not listen to it, so one shared signal spares two AbortControllers per etcd call.
 */
const NEVER_ABORTED = new AbortController().signal;

function passThroughPolicy(): Policy {
  const noListeners = () => ({ dispose: () => undefined });
  const policy = {
    onSuccess: noListeners,
    onFailure: noListeners,
    execute: async <T>(operation: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> => operation({ signal: NEVER_ABORTED }),
  };
  // `_altReturn` exists only in the type (it is declared "never" and absent at runtime).
  return policy as unknown as Policy;
}

/** Fault handling for the store's etcd3 client: no retries, no circuit breaker. */
export function passThroughFaultHandling(): FaultHandling {
  return { global: passThroughPolicy(), host: () => passThroughPolicy() };
}

/** What grpc-js answers a call queued on a channel that was closed before the call could start. */
const CLOSED_BEFORE_START = 'Channel closed before call started';
let resetGuardInstalled = false;

/**
 * etcd3 closes every client of a host when a call to it fails with a
 * recoverable error (UNAVAILABLE and the like), so the next call dials
 * afresh. But calls queued on a channel it closes fail with UNAVAILABLE
 * "Channel closed before call started", which closes the next channel and
 * its queued calls in turn: under steady load (controllers, lease renewals)
 * the API server then never reaches etcd again. Such a failure says nothing
 * about the host: it is left out of the recoverable errors. etcd3 reads
 * isRecoverableError from its module's exports at each call, so the guard
 * wraps that export, once per process.
 */
export function stopChannelCloseCascade(): void {
  if (resetGuardInstalled) return;
  resetGuardInstalled = true;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const errors = require('etcd3/lib/errors') as { isRecoverableError: (error: unknown) => boolean };
  const isRecoverable = errors.isRecoverableError;
  errors.isRecoverableError = (error: unknown): boolean => {
    if (error instanceof Error && error.message.includes(CLOSED_BEFORE_START)) return false;
    return isRecoverable(error);
  };
}
