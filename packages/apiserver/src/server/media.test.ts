import { decodeObjectBody, decodePatchBody, negotiateOutput, parseAccept } from './media';
import { decodeProtobufDeleteOptions } from './protobuf-delete-options';
import { StatusError } from './status-error';

function codeOf(action: () => unknown): number | undefined {
  try {
    action();
    return undefined;
  } catch (error) {
    return error instanceof StatusError ? error.code : -1;
  }
}

describe('media', () => {
  test('parseAccept splits ranges, parameters and quality', () => {
    expect(parseAccept('application/json;as=Table;v=v1;g=meta.k8s.io, */*;q=0.5')).toEqual([
      { type: 'application/json', parameters: new Map([['as', 'Table'], ['v', 'v1'], ['g', 'meta.k8s.io']]), quality: 1 },
      { type: '*/*', parameters: new Map([['q', '0.5']]), quality: 0.5 },
    ]);
  });

  test.each([
    { accept: undefined, include: null, expected: {} },
    { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io', include: 'Object', expected: { table: { version: 'v1', includeObject: 'Object' } } },
    { accept: 'application/json;as=Table;v=v2;g=meta.k8s.io,application/json', include: null, expected: {} },
    { accept: 'application/*', include: null, expected: {} },
  ])('negotiateOutput($accept)', ({ accept, include, expected }) => {
    expect(negotiateOutput(accept, include)).toEqual(expected);
  });

  test.each([
    { accept: 'application/vnd.kubernetes.protobuf' },
    { accept: 'text/html' },
    { accept: 'application/json;q=0' },
    { accept: 'application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io' },
  ])('negotiateOutput($accept) is 406', ({ accept }) => {
    expect(codeOf(() => negotiateOutput(accept, null))).toBe(406);
  });

  test.each([
    { type: undefined, body: '{"a":1}', code: undefined },
    { type: 'application/json; charset=utf-8', body: '{"a":1}', code: undefined },
    { type: 'application/yaml', body: 'a: 1', code: undefined },
    { type: 'application/yaml', body: 'a: [', code: 400 },
    { type: 'application/yaml', body: '- 1', code: 400 },
    { type: 'application/xml', body: '<a/>', code: 415 },
    { type: 'application/json', body: '', code: 400 },
  ])('decodeObjectBody($type, $body)', ({ type, body, code }) => {
    expect(codeOf(() => decodeObjectBody(type, Buffer.from(body)))).toBe(code);
  });

  test('apply patches may be YAML or JSON', () => {
    expect(decodePatchBody('application/apply-patch+yaml', Buffer.from('spec:\n  replicas: 3\n'))).toEqual({ type: 'apply', patch: { spec: { replicas: 3 } } });
    expect(decodePatchBody('application/apply-patch+yaml', Buffer.from('{"spec":{"replicas":3}}'))).toEqual({ type: 'apply', patch: { spec: { replicas: 3 } } });
  });

  test('protobuf DeleteOptions decode every field; truncated input is a 400', () => {
    const uid = Buffer.from('u-1');
    const preconditions = Buffer.from([0x0a, uid.length, ...uid, 0x12, 1, 0x37]);
    // gracePeriodSeconds = -1 as a 10-byte two's-complement varint.
    const raw = Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x12, preconditions.length, ...preconditions, 0x18, 1, 0x2a, 3, ...Buffer.from('All')]);
    const body = Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x12, raw.length]), raw]);
    expect(decodeProtobufDeleteOptions(body)).toEqual({ gracePeriodSeconds: -1, preconditions: { uid: 'u-1', resourceVersion: '7' }, orphanDependents: true, dryRun: ['All'] });
    expect(codeOf(() => decodeProtobufDeleteOptions(Buffer.concat([Buffer.from('k8s\0', 'binary'), Buffer.from([0x12, 40, 1])])))).toBe(400);
    expect(codeOf(() => decodeProtobufDeleteOptions(Buffer.from('{"json":true}')))).toBe(400);
  });
});
