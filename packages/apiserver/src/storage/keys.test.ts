import { InvalidStorageKeyError, StorageError } from './errors';
import { normalizePrefix, objectKey, prefixRangeEnd, resourcePrefix, validateKey } from './keys';
import { parseResourceVersion } from './resource-version';

describe('storage keys', () => {
  it.each([
    [{ resource: 'pods', namespace: 'default', name: 'web' }, '/registry/pods/default/web'],
    [{ resource: 'nodes', name: 'worker-1' }, '/registry/nodes/worker-1'],
  ])('objectKey(%j) is %s', (parts, expected) => {
    expect(objectKey(parts)).toBe(expected);
  });

  it.each([
    [{ resource: 'pods', namespace: 'a/b', name: 'web' }],
    [{ resource: 'pods', namespace: 'default', name: '..' }],
    [{ resource: '', name: 'x' }],
  ])('objectKey rejects %j', (parts) => {
    expect(() => objectKey(parts)).toThrow(InvalidStorageKeyError);
  });

  it('builds prefixes that end in "/"', () => {
    expect(resourcePrefix('pods')).toBe('/registry/pods/');
    expect(resourcePrefix('pods', 'kube-system')).toBe('/registry/pods/kube-system/');
    expect(normalizePrefix('/registry/pods')).toBe('/registry/pods/');
  });

  it.each(['registry/pods', '/registry//pods', '/registry/../x', '/registry/./x'])('validateKey rejects %s', (key) => {
    expect(() => validateKey(key)).toThrow(InvalidStorageKeyError);
  });

  it.each([
    ['/registry/pods/', '/registry/pods0'],
    ['a\u00ff', 'b'],
    ['\u00ff', '\u0000'],
  ])('prefixRangeEnd(%j) is %j', (prefix, expected) => {
    const encode = (text: string): Buffer => Buffer.from(Array.from(text, (character) => character.charCodeAt(0)));
    expect(prefixRangeEnd(encode(prefix))).toEqual(encode(expected));
  });
});

describe('parseResourceVersion', () => {
  it.each([
    [undefined, 0],
    ['', 0],
    ['0', 0],
    ['17', 17],
  ])('parses %j as %d', (text, expected) => {
    expect(parseResourceVersion('/k', text)).toBe(expected);
  });

  it.each(['-1', '01', 'abc', '1.5', '99999999999999999'])('rejects %j', (text) => {
    expect(() => parseResourceVersion('/k', text)).toThrow(StorageError);
  });
});
