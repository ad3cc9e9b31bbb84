import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import {
  BackendClosedError,
  BatchAlreadyCommittedError,
  InvalidBucketNameError,
  InvalidReplacementError,
  type Backend,
  type BackendImageReader,
  type SnapshotEntry,
} from './backend';
import { MemoryBackend } from './memory-backend';
import { RocksDbBackend } from './rocksdb-backend';
import { SnapshotDecoder, SnapshotEncoder, SnapshotFormatError } from './snapshot-format';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

async function collect(iterable: AsyncIterable<{ key: Buffer; value: Buffer }>): Promise<string[]> {
  const result: string[] = [];
  for await (const entry of iterable) result.push(`${entry.key.toString('latin1')}=${entry.value.toString('latin1')}`);
  return result;
}

/** Every entry of a reader, in the order given, as bucket/key=value; checks each chunk respects the byte bound. */
async function readAll(reader: BackendImageReader, maxBytes: number): Promise<string[]> {
  const result: string[] = [];
  for (;;) {
    const entries = await reader.next(maxBytes);
    if (entries.length === 0) return result;
    const bytes = entries.slice(0, -1).reduce((sum, entry) => sum + entry.key.length + entry.value.length, 0);
    expect(bytes).toBeLessThan(maxBytes);
    for (const entry of entries) result.push(`${entry.bucket}/${entry.key.toString('latin1')}=${entry.value.toString('latin1')}`);
  }
}

const directories: string[] = [];
function temporaryDirectory(): string {
  const directory = mkdtempSync(path.join(tmpdir(), 'etcd-lite-backend-'));
  directories.push(directory);
  return directory;
}
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

interface Implementation {
  name: string;
  open(directory: string): Promise<Backend>;
}
const implementations: Implementation[] = [
  { name: 'MemoryBackend', open: async () => new MemoryBackend() },
  { name: 'RocksDbBackend', open: (directory) => RocksDbBackend.open({ directory }) },
];

describe.each(implementations)('Backend contract: $name', ({ open }) => {
  let backend: Backend;
  beforeEach(async () => {
    backend = await open(temporaryDirectory());
  });
  afterEach(async () => {
    await backend.close();
  });

  it('keeps buckets apart and reads back what a batch wrote', async () => {
    await backend.batch().put('key', b('a'), b('1')).put('meta', b('a'), b('2')).commit({ sync: true });
    expect((await backend.get('key', b('a')))?.toString()).toBe('1');
    expect((await backend.get('meta', b('a')))?.toString()).toBe('2');
    expect(await backend.get('lease', b('a'))).toBeUndefined();
    expect(await collect(backend.range('key'))).toEqual(['a=1']);
  });

  it('applies the operations of one batch in order', async () => {
    const batch = backend.batch().put('key', b('x'), b('1')).delete('key', b('x')).put('key', b('y'), b('1')).put('key', b('y'), b('2'));
    expect(batch.length).toBe(4);
    await batch.commit();
    expect(await backend.get('key', b('x'))).toBeUndefined();
    expect((await backend.get('key', b('y')))?.toString()).toBe('2');
  });

  it('applies batches in commit order even when not awaited one by one', async () => {
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 20; i++) pending.push(backend.batch().put('key', b('counter'), b(String(i))).commit());
    await Promise.all(pending);
    expect((await backend.get('key', b('counter')))?.toString()).toBe('19');
  });

  it('commits many batches at once (puts, deletes, one synced) as if applied one by one', async () => {
    const pending: Array<Promise<void>> = [];
    for (let i = 0; i < 50; i++) {
      const batch = backend.batch().put('key', b(`k${i % 7}`), b(String(i)));
      if (i % 5 === 4) batch.delete('key', b(`k${(i + 3) % 7}`));
      pending.push(batch.commit({ sync: i === 25 }));
    }
    await Promise.all(pending);
    const expected = new Map<string, string>();
    for (let i = 0; i < 50; i++) {
      expected.set(`k${i % 7}`, String(i));
      if (i % 5 === 4) expected.delete(`k${(i + 3) % 7}`);
    }
    expect(await collect(backend.range('key'))).toEqual([...expected].sort(([a], [c]) => a.localeCompare(c)).map(([key, value]) => `${key}=${value}`));
  });

  it('refuses to commit a batch twice', async () => {
    const batch = backend.batch().put('key', b('a'), b('1'));
    await batch.commit();
    await expect(batch.commit()).rejects.toBeInstanceOf(BatchAlreadyCommittedError);
  });

  const rangeCases: Array<{ title: string; options: Parameters<Backend['range']>[1]; expected: string[] }> = [
    { title: 'all, byte order', options: {}, expected: ['\u0000=z', 'a=1', 'a\u0000=2', 'ab=3', 'b=4', '\u00ff=5'] },
    { title: 'gte/lt', options: { gte: b('a\u0000'), lt: b('b') }, expected: ['a\u0000=2', 'ab=3'] },
    { title: 'limit', options: { limit: 2 }, expected: ['\u0000=z', 'a=1'] },
    { title: 'reverse with limit', options: { reverse: true, limit: 2 }, expected: ['\u00ff=5', 'b=4'] },
    { title: 'reverse within bounds', options: { gte: b('a'), lt: b('b'), reverse: true }, expected: ['ab=3', 'a\u0000=2', 'a=1'] },
    { title: 'empty interval', options: { gte: b('c'), lt: b('d') }, expected: [] },
  ];
  it.each(rangeCases)('ranges within one bucket: $title', async ({ options, expected }) => {
    await backend
      .batch()
      .put('key', b('b'), b('4'))
      .put('key', b('a'), b('1'))
      .put('key', b('\u00ff'), b('5'))
      .put('key', b('ab'), b('3'))
      .put('key', b('a\u0000'), b('2'))
      .put('key', b('\u0000'), b('z'))
      .put('kez', b('a'), b('other bucket'))
      .put('ke', b('a'), b('prefix bucket'))
      .commit();
    expect(await collect(backend.range('key', options))).toEqual(expected);
  });

  it('exports a snapshot that restores on either implementation, replacing old contents', async () => {
    await backend.batch().put('key', b('k1'), b('v1')).put('lease', b('\u0000\u0001'), b('l')).put('meta', b('ci'), b('7')).commit();
    const snapshot = await backend.exportSnapshot();
    for (const target of implementations) {
      const other = await target.open(temporaryDirectory());
      try {
        await other.batch().put('key', b('stale'), b('x')).put('members', b('m'), b('y')).commit();
        await other.restoreSnapshot(snapshot);
        expect(await collect(other.range('key'))).toEqual(['k1=v1']);
        expect(await collect(other.range('members'))).toEqual([]);
        expect((await other.get('lease', b('\u0000\u0001')))?.toString()).toBe('l');
        expect(Buffer.from(await other.exportSnapshot()).equals(Buffer.from(snapshot))).toBe(true);
      } finally {
        await other.close();
      }
    }
  });

  const corruptions: Array<{ title: string; corrupt: (snapshot: Buffer) => Buffer }> = [
    { title: 'flipped byte', corrupt: (s) => Buffer.concat([s.subarray(0, 12), Buffer.from([s[12]! ^ 1]), s.subarray(13)]) },
    { title: 'truncated', corrupt: (s) => s.subarray(0, s.length - 5) },
    { title: 'no header', corrupt: () => Buffer.from('nonsense') },
  ];
  it.each(corruptions)('rejects a damaged snapshot ($title) and keeps its data', async ({ corrupt }) => {
    await backend.batch().put('key', b('keep'), b('me')).commit();
    const snapshot = Buffer.from(await backend.exportSnapshot());
    await expect(backend.restoreSnapshot(corrupt(snapshot))).rejects.toBeInstanceOf(SnapshotFormatError);
    expect(await collect(backend.range('key'))).toEqual(['keep=me']);
  });

  it('reads an image as of the moment it was opened, while writes go on', async () => {
    await backend.batch().put('key', b('a'), b('1')).put('key', b('b'), b('2')).put('meta', b('ci'), b('7')).commit();
    const reader = backend.openImage();
    await backend.batch().put('key', b('c'), b('3')).delete('key', b('a')).put('meta', b('ci'), b('8')).commit({ sync: true });
    expect(await readAll(reader, 2)).toEqual(['key/a=1', 'key/b=2', 'meta/ci=7']);
    await reader.close();
    expect(await readAll(backend.openImage(), 1024)).toEqual(['key/b=2', 'key/c=3', 'meta/ci=8']);
  });

  it('installs a finished replacement in place of every bucket, and keeps working on it', async () => {
    await backend.batch().put('key', b('old'), b('x')).put('members', b('m'), b('y')).commit({ sync: true });
    const replacement = await backend.beginReplacement();
    await replacement.write([{ bucket: 'key', key: b('new'), value: b('1') }]);
    await replacement.write([{ bucket: 'meta', key: b('ci'), value: b('9') }, { bucket: 'key', key: b('new'), value: b('2') }]);
    // Not visible before install, and the live contents still take writes.
    await backend.batch().put('key', b('old2'), b('z')).commit();
    expect(await collect(backend.range('key'))).toEqual(['old=x', 'old2=z']);
    await expect(backend.install(replacement)).rejects.toBeInstanceOf(InvalidReplacementError);
    await replacement.finish();
    await backend.install(replacement);
    expect(await collect(backend.range('key'))).toEqual(['new=2']);
    expect(await collect(backend.range('members'))).toEqual([]);
    expect((await backend.get('meta', b('ci')))?.toString()).toBe('9');
    await backend.batch().put('key', b('after'), b('3')).commit({ sync: true });
    expect(await collect(backend.range('key'))).toEqual(['after=3', 'new=2']);
    await expect(backend.install(replacement)).rejects.toBeInstanceOf(InvalidReplacementError);
  });

  it('refuses to install a discarded replacement or one from another backend', async () => {
    const discarded = await backend.beginReplacement();
    await discarded.discard();
    await expect(discarded.write([])).rejects.toBeInstanceOf(InvalidReplacementError);
    await expect(backend.install(discarded)).rejects.toBeInstanceOf(InvalidReplacementError);
    const other = new MemoryBackend();
    const foreign = await other.beginReplacement();
    await foreign.finish();
    await expect(backend.install(foreign)).rejects.toBeInstanceOf(InvalidReplacementError);
  });

  it('streams an image piece by piece into another implementation: the same bytes as exportSnapshot', async () => {
    const batch = backend.batch();
    for (let i = 0; i < 300; i++) batch.put(i % 3 === 0 ? 'lease' : 'key', b(`k${String(i).padStart(3, '0')}`), Buffer.alloc(i * 7, i));
    await batch.commit({ sync: true });
    const exported = Buffer.from(await backend.exportSnapshot());
    const reader = backend.openImage();
    const encoder = new SnapshotEncoder();
    const pieces: Buffer[] = [];
    for (let entries = await reader.next(4096); entries.length > 0; entries = await reader.next(4096)) pieces.push(encoder.encode(entries));
    pieces.push(encoder.finish());
    expect(Buffer.concat(pieces).equals(exported)).toBe(true);
    for (const target of implementations) {
      const other = await target.open(temporaryDirectory());
      try {
        const replacement = await other.beginReplacement();
        const decoder = new SnapshotDecoder();
        // Pieces of an awkward size: entries straddle them.
        for (let offset = 0; offset < exported.length; offset += 1000) await replacement.write(decoder.push(exported.subarray(offset, offset + 1000)));
        decoder.end();
        await replacement.finish();
        await other.install(replacement);
        expect(Buffer.from(await other.exportSnapshot()).equals(exported)).toBe(true);
      } finally {
        await other.close();
      }
    }
  });

  it('reports a size that grows with the data', async () => {
    const before = await backend.sizeBytes();
    await backend.batch().put('key', b('big'), Buffer.alloc(64 * 1024, 7)).commit({ sync: true });
    expect(await backend.sizeBytes()).toBeGreaterThan(before);
  });

  it('rejects bucket names that could collide with the key encoding', () => {
    expect(() => backend.batch().put('Bad\u0000', b('a'), b('1'))).toThrow(InvalidBucketNameError);
    expect(() => backend.batch().put('', b('a'), b('1'))).toThrow(InvalidBucketNameError);
  });

  it('rejects use after close', async () => {
    await backend.close();
    await expect(backend.get('key', b('a'))).rejects.toBeInstanceOf(BackendClosedError);
    expect(() => backend.batch()).toThrow(BackendClosedError);
  });
});

describe('RocksDbBackend durability', () => {
  it('keeps committed data across close and reopen', async () => {
    const directory = temporaryDirectory();
    const first = await RocksDbBackend.open({ directory });
    await first.batch().put('key', b('persist'), b('yes')).commit({ sync: true });
    await first.close();
    const second = await RocksDbBackend.open({ directory });
    try {
      expect((await second.get('key', b('persist')))?.toString()).toBe('yes');
    } finally {
      await second.close();
    }
  });
});

describe('RocksDbBackend replacement on disk', () => {
  const entry = (key: string, value: string): SnapshotEntry => ({ bucket: 'key', key: b(key), value: b(value) });

  it('keeps installed contents across close and reopen, and leaves no swap directory behind', async () => {
    const parent = temporaryDirectory();
    const directory = path.join(parent, 'db');
    const first = await RocksDbBackend.open({ directory });
    await first.batch().put('key', b('old'), b('1')).commit({ sync: true });
    const replacement = await first.beginReplacement();
    await replacement.write([entry('new', '2')]);
    await replacement.finish();
    await first.install(replacement);
    await first.close();
    expect(readdirSync(parent)).toEqual(['db']);
    const second = await RocksDbBackend.open({ directory });
    try {
      expect(await collect(second.range('key'))).toEqual(['new=2']);
    } finally {
      await second.close();
    }
  });

  // A crash at each step of install(): what open() must make of what is on disk.
  const crashes: Array<{ title: string; layout: { db?: string; installing?: string; old?: string; incoming?: string }; expected: string[] }> = [
    { title: 'before the decision (a replacement still incoming)', layout: { db: 'old', incoming: 'new' }, expected: ['old=1'] },
    { title: 'after the decision', layout: { db: 'old', installing: 'new' }, expected: ['new=1'] },
    { title: 'after moving the old database aside', layout: { old: 'old', installing: 'new' }, expected: ['new=1'] },
    { title: 'after moving the new one in', layout: { db: 'new', old: 'old' }, expected: ['new=1'] },
  ];
  it.each(crashes)('finishes or drops a swap interrupted $title', async ({ layout, expected }) => {
    const parent = temporaryDirectory();
    const directory = path.join(parent, 'db');
    const names = { db: 'db', installing: 'db.installing', old: 'db.old', incoming: 'db.incoming-3' } as const;
    for (const [role, key] of Object.entries(layout) as Array<[keyof typeof names, string]>) {
      mkdirSync(path.join(parent, names[role]));
      const made = await RocksDbBackend.open({ directory: path.join(parent, names[role]) });
      await made.batch().put('key', b(key), b('1')).commit({ sync: true });
      await made.close();
    }
    const opened = await RocksDbBackend.open({ directory });
    try {
      expect(await collect(opened.range('key'))).toEqual(expected);
      expect(readdirSync(parent)).toEqual(['db']);
      expect(existsSync(path.join(parent, 'db.old'))).toBe(false);
    } finally {
      await opened.close();
    }
  });
});
