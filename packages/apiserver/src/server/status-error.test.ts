import {
  alreadyExists,
  conflict,
  expired,
  forbidden,
  internalError,
  invalid,
  methodNotAllowed,
  notFound,
  OBJECT_MODIFIED_MESSAGE,
  requestEntityTooLarge,
  timeout,
  tooManyRequests,
  toStatusError,
  unauthorized,
  type StatusError,
} from './status-error';

describe('StatusError helpers reproduce upstream wording', () => {
  test.each<{ name: string; error: StatusError; code: number; reason: string; message: string; details?: object }>([
    { name: 'NotFound core', error: notFound({ group: '', resource: 'pods' }, 'nope'), code: 404, reason: 'NotFound', message: 'pods "nope" not found', details: { name: 'nope', kind: 'pods' } },
    { name: 'NotFound group', error: notFound({ group: 'apps', resource: 'deployments' }, 'web'), code: 404, reason: 'NotFound', message: 'deployments.apps "web" not found', details: { name: 'web', group: 'apps', kind: 'deployments' } },
    { name: 'AlreadyExists', error: alreadyExists({ group: 'apps', resource: 'deployments' }, 'web'), code: 409, reason: 'AlreadyExists', message: 'deployments.apps "web" already exists' },
    { name: 'Conflict', error: conflict({ group: '', resource: 'configmaps' }, 'cfg', OBJECT_MODIFIED_MESSAGE), code: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again' },
    {
      name: 'Invalid, one cause',
      error: invalid({ group: 'apps', kind: 'Deployment' }, 'bad', [{ reason: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' }]),
      code: 422,
      reason: 'Invalid',
      message: 'Deployment.apps "bad" is invalid: spec.selector: Required value',
      details: { name: 'bad', group: 'apps', kind: 'Deployment', causes: [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' }] },
    },
    {
      name: 'Invalid, two causes',
      error: invalid({ group: '', kind: 'Pod' }, 'p', [
        { reason: 'FieldValueRequired', field: 'spec.containers', message: 'Required value' },
        { reason: 'FieldValueInvalid', field: 'metadata.name', message: 'Invalid value: "P": bad' },
      ]),
      code: 422,
      reason: 'Invalid',
      message: 'Pod "p" is invalid: [spec.containers: Required value, metadata.name: Invalid value: "P": bad]',
    },
    { name: 'Unauthorized', error: unauthorized(), code: 401, reason: 'Unauthorized', message: 'Unauthorized' },
    {
      name: 'Forbidden collection',
      error: forbidden({ group: '', resource: 'pods' }, '', 'User "alice" cannot list resource "pods" in API group "" in the namespace "default"'),
      code: 403,
      reason: 'Forbidden',
      message: 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"',
      details: { kind: 'pods' },
    },
    { name: 'Forbidden path', error: forbidden(undefined, '', 'User "bob" cannot get path "/metrics"'), code: 403, reason: 'Forbidden', message: 'forbidden: User "bob" cannot get path "/metrics"' },
    { name: 'MethodNotAllowed', error: methodNotAllowed({ group: '', resource: 'nodes' }, 'create'), code: 405, reason: 'MethodNotAllowed', message: 'create is not supported on resources of kind "nodes"' },
    { name: 'Expired', error: expired('too old resource version: 1 (5)'), code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' },
    { name: 'TooManyRequests', error: tooManyRequests('slow down', 3), code: 429, reason: 'TooManyRequests', message: 'slow down', details: { retryAfterSeconds: 3 } },
    { name: 'InternalError', error: internalError(new Error('boom')), code: 500, reason: 'InternalError', message: 'Internal error occurred: boom', details: { causes: [{ message: 'boom' }] } },
    { name: 'Timeout', error: timeout('request did not complete', 2), code: 504, reason: 'Timeout', message: 'Timeout: request did not complete', details: { retryAfterSeconds: 2 } },
    { name: 'RequestEntityTooLarge', error: requestEntityTooLarge(3145728), code: 413, reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' },
  ])('$name', ({ error, code, reason, message, details }) => {
    const status = error.toStatus();
    expect(status).toMatchObject({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message });
    if (details !== undefined) expect(status.details).toEqual(details);
  });

  test('toStatusError keeps StatusErrors and wraps anything else as InternalError with the cause', () => {
    const original = notFound({ group: '', resource: 'pods' }, 'x');
    expect(toStatusError(original)).toBe(original);
    const wrapped = toStatusError('kaput');
    expect(wrapped.code).toBe(500);
    expect(wrapped.cause).toBe('kaput');
  });
});
