import { redactValues, secretValues } from './redact';

describe('redacting Secret values from messages', () => {
  const stored = { kind: 'Secret', metadata: { name: 'db' }, data: { password: Buffer.from('hunter22').toString('base64') }, type: 'Opaque' };

  test.each([
    ['a value of the patch', 'unknown patch type: x in map: map[$patch:x token:abcdef123]', { data: { token: 'abcdef123' } }, 'unknown patch type: x in map: map[$patch:x token:<redacted>]'],
    ['a stored base64 value and its decoded form', `cannot merge aHVudGVyMjI= (hunter22)`, {}, 'cannot merge <redacted> (<redacted>)'],
    ['json-patch operation values', 'test failed for value s3cr3t-value', [{ op: 'test', path: '/data/a', value: 's3cr3t-value' }], 'test failed for value <redacted>'],
    ['short strings and names of stored objects stay', 'Secret "db" of type Opaque', { data: { a: 'xyz' } }, 'Secret "db" of type Opaque'],
  ])('%s', (_case, message, patch, expected) => {
    expect(redactValues(message, secretValues(patch, stored))).toBe(expected);
  });
});
