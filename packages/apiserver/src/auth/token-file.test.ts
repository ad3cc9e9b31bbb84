import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureAdminTokenFile, formatTokenFile, parseTokenFile, TokenFileError } from './token-file';

describe('parseTokenFile', () => {
  test.each([
    { text: 'tok,alice,uid1', expected: [{ token: 'tok', user: { name: 'alice', uid: 'uid1', groups: [] } }] },
    { text: 'tok,alice,uid1,"dev,ops"', expected: [{ token: 'tok', user: { name: 'alice', uid: 'uid1', groups: ['dev', 'ops'] } }] },
    { text: 'tok,alice,uid1,single', expected: [{ token: 'tok', user: { name: 'alice', uid: 'uid1', groups: ['single'] } }] },
    { text: ' tok , alice , uid1 , " a , b " \r\n', expected: [{ token: 'tok', user: { name: 'alice', uid: 'uid1', groups: ['a', 'b'] } }] },
    { text: '# comment\n\ntok,a,1\ntok,b,2\n', expected: [{ token: 'tok', user: { name: 'b', uid: '2', groups: [] } }] },
    { text: 'tok,"quoted ""name""",1,extra,columns', expected: [{ token: 'tok', user: { name: 'quoted "name"', uid: '1', groups: ['extra'] } }] },
  ])('$text', ({ text, expected }) => {
    expect(parseTokenFile(text)).toEqual(expected);
  });

  test.each([
    { text: 'tok,alice', message: 'tokens.csv:1: needs at least 3 columns' },
    { text: ',alice,1', message: 'tokens.csv:1: the token column is empty' },
    { text: 'ok,a,1\ntok,,1', message: 'tokens.csv:2: the user column is empty' },
    { text: 'tok,alice,1,"unterminated', message: 'tokens.csv:1: unterminated quoted field' },
  ])('rejects $text', ({ text, message }) => {
    expect(() => parseTokenFile(text, 'tokens.csv')).toThrow(TokenFileError);
    expect(() => parseTokenFile(text, 'tokens.csv')).toThrow(message);
  });

  test('format and parse round-trip', () => {
    const entries = [{ token: 't1', user: { name: 'system:node:n1', uid: 'n1', groups: ['system:nodes', 'x y'] } }];
    expect(parseTokenFile(formatTokenFile(entries))).toEqual(entries);
  });
});

describe('ensureAdminTokenFile', () => {
  test('creates an owner-only admin token on first start and reuses it afterwards', () => {
    const directory = mkdtempSync(join(tmpdir(), 'kube-lite-tokens-'));
    try {
      const path = join(directory, 'nested', 'admin-token.csv');
      const first = ensureAdminTokenFile(path);
      expect(first.adminToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first.entries[0]?.user).toEqual({ name: 'admin', uid: 'admin', groups: ['system:masters'] });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const second = ensureAdminTokenFile(path);
      expect(second.adminToken).toBe(first.adminToken);
      expect(readFileSync(path, 'utf8')).toBe(`${first.adminToken},admin,admin,system:masters\n`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
