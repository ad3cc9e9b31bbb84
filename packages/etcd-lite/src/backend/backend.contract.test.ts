import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BackendClosedError, BatchAlreadyCommittedError, InvalidBucketNameError, type Backend } from './backend';
import { MemoryBackend } from './memory-backend';
import { RocksDbBackend } from './rocksdb-backend';
import { SnapshotFormatError } from './snapshot-format';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');

async function collect(iterable: AsyncIterable<{ key: Buffer; value: Buffer }>): Promise<string[]> {
  const result: string[] = [];
  for await (const entry of iterable) result.push(`${entry.key.toString('latin1')}=${entry.value.toString('latin1')}`);
  return result;
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
