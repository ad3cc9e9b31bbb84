// The two ways a protobuf body fails: it is not valid protobuf (400), or it
// is valid but holds something kube-lite does not decode (415, with the
// advice to send JSON instead).

import { StatusError } from '../status-error';

/** The advice every 415 ends with: the same object as YAML/JSON always works. */
export const USE_JSON_ADVICE =
  'send the object as JSON instead: write it as YAML and run `kubectl create -f FILE` (or `kubectl apply -f FILE`); `--validate=false` does not change how kubectl encodes the body';

/** The body is not a well-formed Kubernetes protobuf message. */
export function malformedProtobuf(detail: string, cause?: unknown): StatusError {
  return new StatusError(400, 'BadRequest', `malformed protobuf body: ${detail}`, undefined, cause === undefined ? undefined : { cause });
}

/** The body is well formed but carries a kind, encoding or field kube-lite does not decode. */
export function unsupportedProtobuf(detail: string): StatusError {
  return new StatusError(415, 'UnsupportedMediaType', `${detail}; ${USE_JSON_ADVICE}`);
}
