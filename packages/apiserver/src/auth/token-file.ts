// Static bearer tokens in upstream's --token-auth-file format: one CSV record
// per line, `token,user,uid,"group1,group2"` (the groups column optional).

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { MASTERS_GROUP, type UserInfo } from './user';

/** The token file is missing, unreadable or has a malformed line. */
export class TokenFileError extends Error {
  override readonly name = 'TokenFileError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface TokenEntry {
  token: string;
  user: UserInfo;
}

/** Splits one CSV record: commas separate fields, double quotes protect commas, `""` is a literal quote. */
function splitCsvRecord(line: string, lineNumber: number, source: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let index = 0;
  while (index < line.length) {
    const character = line[index] as string;
    if (quoted) {
      if (character === '"' && line[index + 1] === '"') {
        field += '"';
        index += 2;
        continue;
      }
      if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (character === ',') {
      fields.push(field);
      field = '';
    } else {
      field += character;
    }
    index += 1;
  }
  if (quoted) throw new TokenFileError(`${source}:${lineNumber}: unterminated quoted field`);
  fields.push(field);
  return fields.map((value) => value.trim());
}

/** Parses the file's text; `source` names it in errors. Later duplicates of a token replace earlier ones, as upstream. */
export function parseTokenFile(text: string, source = 'token file'): TokenEntry[] {
  const byToken = new Map<string, TokenEntry>();
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    const lineNumber = index + 1;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const fields = splitCsvRecord(line, lineNumber, source);
    if (fields.length < 3) {
      throw new TokenFileError(`${source}:${lineNumber}: needs at least 3 columns (token,user,uid[,"group1,group2"]), found ${fields.length}`);
    }
    const [token, name, uid, groupsField] = fields as [string, string, string, string | undefined];
    if (token === '') throw new TokenFileError(`${source}:${lineNumber}: the token column is empty`);
    if (name === '') throw new TokenFileError(`${source}:${lineNumber}: the user column is empty`);
    const groups = (groupsField ?? '')
      .split(',')
      .map((group) => group.trim())
      .filter((group) => group !== '');
    byToken.set(token, { token, user: { name, uid, groups } });
  });
  return [...byToken.values()];
}

export function loadTokenFile(path: string): TokenEntry[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new TokenFileError(`cannot read token file ${path}: ${(cause as Error).message}`, { cause });
  }
  return parseTokenFile(text, path);
}

function quoteCsv(value: string): string {
  return /[",\s]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

export function formatTokenFile(entries: readonly TokenEntry[]): string {
  return entries
    .map((entry) => [entry.token, entry.user.name, entry.user.uid, entry.user.groups.join(',')].map(quoteCsv).join(',') + '\n')
    .join('');
}

/** A fresh random bearer token (256 bits, URL-safe). */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Writes the file readable by its owner only, replacing it atomically. */
export function writeTokenFile(path: string, entries: readonly TokenEntry[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporaryPath = `${path}.tmp-${process.pid}`;
  writeFileSync(temporaryPath, formatTokenFile(entries), { mode: 0o600 });
  renameSync(temporaryPath, path);
}

/** The identity the generated admin token belongs to. */
export const ADMIN_USER: UserInfo = { name: 'admin', uid: 'admin', groups: [MASTERS_GROUP] };

/**
 * Loads the token file at `path`, creating it on first start with one admin token (group system:masters).
 * Returns all entries and the token of the first system:masters member (undefined if the file has none).
 */
export function ensureAdminTokenFile(path: string): { entries: TokenEntry[]; adminToken: string | undefined } {
  if (!existsSync(path)) writeTokenFile(path, [{ token: generateToken(), user: ADMIN_USER }]);
  const entries = loadTokenFile(path);
  const admin = entries.find((entry) => entry.user.groups.includes(MASTERS_GROUP));
  return { entries, adminToken: admin?.token };
}
