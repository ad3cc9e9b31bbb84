import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DATA_LINK, writeVolumeFiles, type VolumeFiles } from './atomic-writer';

let directory: string;
beforeEach(() => {
  directory = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-writer-')), 'volume');
});
afterEach(() => fs.rmSync(path.dirname(directory), { recursive: true, force: true }));

function files(entries: Record<string, string>, mode?: number): VolumeFiles {
  return new Map(Object.entries(entries).map(([name, text]) => [name, { content: Buffer.from(text), ...(mode === undefined ? {} : { mode }) }]));
}

/** What a container sees: every visible name (not bookkeeping) and the text behind it. */
function visible(): Record<string, string> {
  const seen: Record<string, string> = {};
  const walk = (relative: string): void => {
    const full = path.join(directory, relative);
    if (fs.statSync(full).isDirectory()) for (const name of fs.readdirSync(full)) walk(path.join(relative, name));
    else seen[relative] = fs.readFileSync(full, 'utf8');
  };
  for (const name of fs.readdirSync(directory)) if (!name.startsWith('..')) walk(name);
  return seen;
}

describe('writeVolumeFiles', () => {
  it('lays out a version directory, ..data and one relative link per top-level name', () => {
    expect(writeVolumeFiles(directory, files({ 'a.conf': 'A', 'nested/b.conf': 'B' }), 'v', Date.UTC(2025, 0, 31, 10, 0, 0))).toBe(true);
    const version = fs.readlinkSync(path.join(directory, DATA_LINK));
    expect(version).toMatch(/^\.\.2025_01_31_10_00_00\.[0-9a-f]{8}$/);
    expect(fs.readlinkSync(path.join(directory, 'a.conf'))).toBe('..data/a.conf');
    expect(fs.readlinkSync(path.join(directory, 'nested'))).toBe('..data/nested');
    expect(visible()).toEqual({ 'a.conf': 'A', 'nested/b.conf': 'B' });
    expect(fs.readdirSync(directory).sort()).toEqual([version, DATA_LINK, 'a.conf', 'nested'].sort());
  });

  it.each<{ name: string; before: VolumeFiles; after: VolumeFiles; changed: boolean; expected: Record<string, string> }>([
    { name: 'same files: nothing written', before: files({ a: '1' }), after: files({ a: '1' }), changed: false, expected: { a: '1' } },
    { name: 'a changed value', before: files({ a: '1' }), after: files({ a: '2' }), changed: true, expected: { a: '2' } },
    { name: 'a key added and one removed', before: files({ a: '1', b: '2' }), after: files({ a: '1', c: '3' }), changed: true, expected: { a: '1', c: '3' } },
    { name: 'only the mode changed', before: files({ a: '1' }, 0o644), after: files({ a: '1' }, 0o600), changed: true, expected: { a: '1' } },
    { name: 'everything removed', before: files({ a: '1' }), after: files({}), changed: true, expected: {} },
  ])('$name', ({ before, after, changed, expected }) => {
    writeVolumeFiles(directory, before, 'v');
    const first = fs.readlinkSync(path.join(directory, DATA_LINK));
    expect(writeVolumeFiles(directory, after, 'v')).toBe(changed);
    expect(visible()).toEqual(expected);
    const current = fs.readlinkSync(path.join(directory, DATA_LINK));
    expect(current === first).toBe(!changed);
    // Exactly one version directory is left.
    expect(fs.readdirSync(directory).filter((name) => name.startsWith('..') && name !== DATA_LINK)).toEqual([current]);
  });

  it('an open file of the previous version keeps its content while the volume moves on', () => {
    writeVolumeFiles(directory, files({ a: 'old' }), 'v');
    const descriptor = fs.openSync(path.join(directory, 'a'), 'r');
    try {
      writeVolumeFiles(directory, files({ a: 'new' }), 'v');
      expect(fs.readFileSync(descriptor, 'utf8')).toBe('old');
      expect(fs.readFileSync(path.join(directory, 'a'), 'utf8')).toBe('new');
    } finally {
      fs.closeSync(descriptor);
    }
  });

  it('takes over a volume written as plain files by an older kubelet', () => {
    fs.mkdirSync(path.join(directory, 'conf'), { recursive: true });
    fs.writeFileSync(path.join(directory, 'conf', 'old'), 'stale');
    fs.writeFileSync(path.join(directory, 'gone'), 'stale');
    writeVolumeFiles(directory, files({ 'conf/new': 'fresh' }), 'v');
    expect(visible()).toEqual({ 'conf/new': 'fresh' });
    expect(fs.lstatSync(path.join(directory, 'conf')).isSymbolicLink()).toBe(true);
  });

  it('writes the mode asked for, whatever the umask', () => {
    const previous = process.umask(0o077);
    try {
      writeVolumeFiles(directory, files({ a: '1' }), 'v');
      writeVolumeFiles(path.join(directory, '..', 'other'), files({ b: '2' }, 0o440), 'v');
    } finally {
      process.umask(previous);
    }
    expect(fs.statSync(path.join(directory, 'a')).mode & 0o777).toBe(0o644);
    expect(fs.statSync(path.join(directory, '..', 'other', 'b')).mode & 0o777).toBe(0o440);
  });
});
