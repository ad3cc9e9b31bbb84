import { spawn } from 'child_process';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CompactedError, UnavailableError, type Entry, type HardState, type Ready, type Snapshot } from '../raft/types';
import { DurableRaftStorage, RaftStorageContractError } from './raft-storage';
import { SnapshotFileError } from './raft-storage-snap';

function entry(index: number, term: number, text = `e${index}t${term}`): Entry {
  return { index, term, type: 'normal', data: Buffer.from(text) };
}

function entries(from: number, to: number, term: number): Entry[] {
  const list: Entry[] = [];
  for (let index = from; index <= to; index++) list.push(entry(index, term));
  return list;
}

function ready(fields: { hardState?: HardState; entries?: Entry[]; snapshot?: Snapshot; mustSync?: boolean }): Ready {
  return {
    readStates: [],
    entries: fields.entries ?? [],
    committedEntries: [],
    messages: [],
    mustSync: fields.mustSync ?? true,
    ...(fields.hardState ? { hardState: fields.hardState } : {}),
    ...(fields.snapshot ? { snapshot: fields.snapshot } : {}),
  };
}

function logOf(storage: DurableRaftStorage): Array<[number, number, string]> {
  if (storage.lastIndex() < storage.firstIndex()) return [];
  return storage
    .entries(storage.firstIndex(), storage.lastIndex() + 1, Number.MAX_SAFE_INTEGER)
    .map((e) => [e.index, e.term, Buffer.from(e.data).toString()]);
}

// Runs a TypeScript file (argv[1] of `node -e`) in a plain node process, compiled the way
// jest compiles the tests (swc, type-stripping only).
const RUN_TYPESCRIPT = `
const fs = require('fs');
const swc = require('@swc/core');
require.extensions['.ts'] = (module, file) => {
  const { code } = swc.transformSync(fs.readFileSync(file, 'utf8'), {
    filename: file,
    jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    module: { type: 'commonjs' },
  });
  module._compile(code, file);
};
require(process.argv[1]);
`;

let directory: string;
const open: DurableRaftStorage[] = [];

async function openStorage(): Promise<DurableRaftStorage> {
  const storage = await DurableRaftStorage.open(directory);
  open.push(storage);
  return storage;
}

async function reopen(storage: DurableRaftStorage): Promise<DurableRaftStorage> {
  await storage.close();
  return openStorage();
}

beforeEach(async () => {
  directory = await fs.mkdtemp(path.join(os.tmpdir(), 'raft-storage-'));
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
  await fs.rm(directory, { recursive: true, force: true });
});

describe('DurableRaftStorage', () => {
  test('a fresh directory holds an empty log', async () => {
    const storage = await openStorage();
    expect(storage.initialState()).toEqual({
      hardState: { term: 0, vote: 0, commit: 0 },
      confState: { voters: [], learners: [] },
    });
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(0)]).toEqual([1, 0, 0]);
    await expect(fs.stat(path.join(directory, 'member', 'wal'))).resolves.toBeDefined();
  });

  test('reads during a persist see the old log until the write is durable, then the new one', async () => {
    const storage = await openStorage();
    await storage.persist(ready({ entries: entries(1, 5, 1) }));
    const writing = storage.persist(ready({ entries: entries(4, 8, 2) }));
    expect([storage.lastIndex(), storage.term(4)]).toEqual([5, 1]);
    await writing;
    expect([storage.lastIndex(), storage.term(4), storage.term(8)]).toEqual([8, 2, 2]);
    expect(logOf(await reopen(storage)).map(([index, term]) => [index, term])).toEqual([[1, 1], [2, 1], [3, 1], [4, 2], [5, 2], [6, 2], [7, 2], [8, 2]]);
  });

  test('reopening returns the hard state and entries written', async () => {
    const storage = await openStorage();
    await storage.persist(ready({ hardState: { term: 2, vote: 3, commit: 0 }, entries: entries(1, 3, 1) }));
    await storage.persist(ready({ hardState: { term: 2, vote: 3, commit: 3 }, entries: entries(4, 5, 2) }));
    const before = logOf(storage);
    const reopened = await reopen(storage);
    expect(reopened.initialState().hardState).toEqual({ term: 2, vote: 3, commit: 3 });
    expect(logOf(reopened)).toEqual(before);
    expect(before.map(([index]) => index)).toEqual([1, 2, 3, 4, 5]);
    expect([reopened.term(3), reopened.term(4)]).toEqual([1, 2]);
  });

  test.each([
    { name: 'overwrite the middle', append: entries(3, 4, 3), log: [[1, 1], [2, 1], [3, 3], [4, 3]] },
    { name: 'overwrite from the first index', append: entries(1, 1, 4), log: [[1, 4]] },
    { name: 'extend at the end', append: entries(6, 7, 1), log: [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 1]] },
    { name: 'rewrite the same entries', append: entries(2, 3, 1), log: [[1, 1], [2, 1], [3, 1]] },
  ])('a conflicting append truncates the suffix: $name', async ({ append, log }) => {
    const storage = await openStorage();
    await storage.persist(ready({ entries: entries(1, 5, 1) }));
    await storage.persist(ready({ entries: append }));
    const expected = log.map(([index, term]) => [index, term]);
    expect(logOf(storage).map(([index, term]) => [index, term])).toEqual(expected);
    const reopened = await reopen(storage);
    expect(logOf(reopened).map(([index, term]) => [index, term])).toEqual(expected);
  });

  test.each([
    { name: 'a gap after the last index', append: [entry(5, 1)] },
    { name: 'entries out of order', append: [entry(2, 1), entry(4, 1)] },
  ])('rejects an append that would corrupt the log: $name', async ({ append }) => {
    const storage = await openStorage();
    await storage.persist(ready({ entries: entries(1, 2, 1) }));
    await expect(storage.persist(ready({ entries: append }))).rejects.toThrow(RaftStorageContractError);
    expect(storage.lastIndex()).toBe(2);
  });

  test('reads follow the Storage contract', async () => {
    const storage = await openStorage();
    await storage.persist(ready({ entries: [entry(1, 1, 'aaaa'), entry(2, 1, 'bbbb'), entry(3, 1, 'cccc')] }));
    const cases: Array<{ low: number; high: number; max: number; indexes?: number[]; error?: unknown }> = [
      { low: 1, high: 4, max: 100, indexes: [1, 2, 3] },
      { low: 1, high: 4, max: 8, indexes: [1, 2] },
      { low: 1, high: 4, max: 0, indexes: [1] },
      { low: 2, high: 2, max: 100, indexes: [] },
      { low: 0, high: 2, max: 100, error: CompactedError },
      { low: 1, high: 5, max: 100, error: UnavailableError },
    ];
    for (const c of cases) {
      if (c.error) expect(() => storage.entries(c.low, c.high, c.max)).toThrow(c.error as never);
      else expect(storage.entries(c.low, c.high, c.max).map((e) => e.index)).toEqual(c.indexes);
    }
    expect(() => storage.term(4)).toThrow(UnavailableError);
  });

  test('overlapping writes are refused loudly', async () => {
    const storage = await openStorage();
    const first = storage.persist(ready({ entries: entries(1, 1, 1) }));
    await expect(storage.persist(ready({ entries: entries(2, 2, 1) }))).rejects.toThrow(/overlapping/);
    await first;
  });

  test('snapshot, compact and reopen', async () => {
    const observed: number[] = [];
    const storage = await DurableRaftStorage.open(directory, { walFsyncDurationSeconds: { observe: (s) => observed.push(s) } });
    open.push(storage);
    await storage.persist(ready({ hardState: { term: 1, vote: 1, commit: 10 }, entries: entries(1, 10, 1) }));
    await storage.persist(ready({ entries: entries(11, 12, 2) }));
    const confState = { voters: [1, 2, 3], learners: [4] };
    const data = Buffer.alloc(300_000, 7);
    const snapshot = await storage.createSnapshot(8, confState, data);
    expect(snapshot.metadata).toEqual({ index: 8, term: 1, confState });
    await expect(storage.compact(9)).rejects.toThrow(/beyond the latest snapshot/);
    await storage.compact(6);
    expect([storage.firstIndex(), storage.term(6), storage.lastIndex()]).toEqual([7, 1, 12]);
    expect(() => storage.term(5)).toThrow(CompactedError);
    await expect(storage.compact(6)).rejects.toThrow(CompactedError);

    const reopened = await reopen(storage);
    expect(reopened.initialState()).toEqual({ hardState: { term: 1, vote: 1, commit: 10 }, confState });
    expect([reopened.firstIndex(), reopened.term(6), reopened.lastIndex(), reopened.term(12)]).toEqual([7, 1, 12, 2]);
    expect(reopened.snapshot().metadata.index).toBe(8);
    expect(Buffer.from(reopened.snapshot().data).equals(data)).toBe(true);
    expect(observed.length).toBeGreaterThanOrEqual(3);
    const snapFiles = await fs.readdir(path.join(directory, 'member', 'snap'));
    expect(snapFiles).toEqual(['0000000000000001-0000000000000008.snap']);
  });

  test('a snapshot prepared while the log is written, then committed, survives a reopen', async () => {
    const storage = await openStorage();
    await storage.persist(ready({ hardState: { term: 1, vote: 1, commit: 8 }, entries: entries(1, 8, 1) }));
    const confState = { voters: [1, 2, 3], learners: [] };
    const preparing = storage.prepareSnapshot(6, confState, Buffer.from('image at 6'));
    await storage.persist(ready({ entries: entries(9, 10, 1) }));
    const prepared = await preparing;
    expect(storage.snapshot().metadata.index).toBe(0);
    expect(await storage.commitSnapshot(prepared)).toBe(true);
    const reopened = await reopen(storage);
    expect(reopened.snapshot().metadata).toEqual({ index: 6, term: 1, confState });
    expect(Buffer.from(reopened.snapshot().data).toString()).toBe('image at 6');
    expect(reopened.lastIndex()).toBe(10);
    expect(await fs.readdir(path.join(directory, 'member', 'snap'))).toEqual(['0000000000000001-0000000000000006.snap']);
  });

  test('a prepared snapshot overtaken by a newer one from the leader is dropped', async () => {
    const storage = await openStorage();
    await storage.persist(ready({ entries: entries(1, 8, 1) }));
    const prepared = await storage.prepareSnapshot(5, { voters: [1], learners: [] }, Buffer.from('old image'));
    const leaderSnapshot: Snapshot = { metadata: { index: 12, term: 2, confState: { voters: [1], learners: [] } }, data: Buffer.from('leader image') };
    await storage.persist(ready({ snapshot: leaderSnapshot, hardState: { term: 2, vote: 0, commit: 12 } }));
    expect(await storage.commitSnapshot(prepared)).toBe(false);
    expect(storage.snapshot().metadata.index).toBe(12);
    expect(await fs.readdir(path.join(directory, 'member', 'snap'))).toEqual(['0000000000000002-000000000000000c.snap']);
  });

  test('a snapshot from the leader replaces the log and survives a reopen', async () => {
    const storage = await openStorage();
    await storage.persist(ready({ entries: entries(1, 20, 1) }));
    const leaderSnapshot: Snapshot = {
      metadata: { index: 15, term: 3, confState: { voters: [1, 2], learners: [] } },
      data: Buffer.from('state machine image'),
    };
    await storage.persist(
      ready({ snapshot: leaderSnapshot, hardState: { term: 3, vote: 0, commit: 15 }, entries: entries(16, 17, 3) }),
    );
    expect([storage.firstIndex(), storage.lastIndex(), storage.term(15), storage.term(16)]).toEqual([16, 17, 3, 3]);
    const reopened = await reopen(storage);
    expect([reopened.firstIndex(), reopened.lastIndex(), reopened.term(15)]).toEqual([16, 17, 3]);
    expect(logOf(reopened).map(([index, term]) => [index, term])).toEqual([[16, 3], [17, 3]]);
    expect(Buffer.from(reopened.snapshot().data).toString()).toBe('state machine image');
    expect(reopened.initialState().confState).toEqual({ voters: [1, 2], learners: [] });
  });

  test('a damaged snapshot file stops the member from starting', async () => {
    const storage = await openStorage();
    await storage.persist(ready({ entries: entries(1, 3, 1) }));
    await storage.createSnapshot(2, { voters: [1], learners: [] }, Buffer.from('image'));
    await storage.close();
    const file = path.join(directory, 'member', 'snap', '0000000000000001-0000000000000002.snap');
    const bytes = await fs.readFile(file);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    await fs.writeFile(file, bytes);
    await expect(DurableRaftStorage.open(directory)).rejects.toThrow(SnapshotFileError);
  });

  // A child process persists Readys as fast as it can and is killed with
  // SIGKILL mid-stream. Every Ready writes entries together with a hard state
  // whose commit equals the new last index, and every fourth one truncates, so
  // a half-applied batch would show as a commit that disagrees with the log.
  test('a crash between batches never leaves a half-written batch', async () => {
    const child = spawn(process.execPath, ['-e', RUN_TYPESCRIPT, path.join(__dirname, 'raft-storage-crash-child.ts'), directory], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let acknowledged = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('child made no progress in 20 s')), 20_000);
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        const lines = chunk.trim().split('\n');
        acknowledged = Number(lines[lines.length - 1]);
        if (acknowledged >= 40) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        if (acknowledged < 40) reject(new Error(`child exited early with ${code}`));
      });
    });
    await new Promise((resolve) => child.once('close', resolve));
    const storage = await openStorage();
    const { hardState } = storage.initialState();
    expect(hardState.commit).toBe(storage.lastIndex());
    expect(hardState.term).toBeGreaterThanOrEqual(acknowledged);
    const log = logOf(storage);
    log.forEach(([index, term, text]) => {
      expect(text).toBe(`batch${term}:${index}`);
    });
    expect(log.length).toBe(storage.lastIndex());
  });
});
