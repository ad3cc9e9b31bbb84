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
