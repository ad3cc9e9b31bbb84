import { decodeContinueToken, encodeContinueToken } from './continue-token';
import { StorageError } from './errors';

const prefix = '/registry/pods/';
const token = (body: unknown): string => Buffer.from(JSON.stringify(body)).toString('base64url');

describe('continue tokens', () => {
  it('round-trips the revision and the next key, relative to the prefix like upstream', () => {
    const encoded = encodeContinueToken(prefix, { revision: 42, startKey: '/registry/pods/default/web-1\u0000' });
    expect(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'))).toEqual({ v: 'meta.k8s.io/v1', rv: 42, start: 'default/web-1\u0000' });
    expect(decodeContinueToken(prefix, encoded)).toEqual({ revision: 42, startKey: '/registry/pods/default/web-1\u0000' });
  });

  it.each([
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{nope').toString('base64url')],
    ['a wrong version', token({ v: 'v2', rv: 1, start: 'a' })],
    ['a zero revision', token({ v: 'meta.k8s.io/v1', rv: 0, start: 'a' })],
    ['a fractional revision', token({ v: 'meta.k8s.io/v1', rv: 1.5, start: 'a' })],
    ['an empty start key', token({ v: 'meta.k8s.io/v1', rv: 3, start: '' })],
    ['a start key escaping the prefix', token({ v: 'meta.k8s.io/v1', rv: 3, start: '../secrets/x' })],
    ['a start key with an empty segment', token({ v: 'meta.k8s.io/v1', rv: 3, start: '/etc' })],
  ])('rejects %s as InvalidResourceVersion', (_case, value) => {
    let caught: unknown;
    try {
      decodeContinueToken(prefix, value);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StorageError);
    expect((caught as StorageError).code).toBe('InvalidResourceVersion');
    expect((caught as StorageError).message).toMatch(/^continue key is not valid/);
  });

  it('refuses to encode a key outside the prefix (a bug in the caller)', () => {
    expect(() => encodeContinueToken(prefix, { revision: 1, startKey: '/registry/services/a' })).toThrow(RangeError);
  });
});
