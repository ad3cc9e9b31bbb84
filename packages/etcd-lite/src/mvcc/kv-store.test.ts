import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { MemoryBackend, RocksDbBackend } from '../backend';
import { compareHolds, type CompareQuery } from './compare';
import { CompactedError, FutureRevisionError } from './errors';
import { MvccStore } from './kv-store';
import { rangeQuery, type RangeQuery } from './range-query';

const b = (text: string): Buffer => Buffer.from(text, 'latin1');
const zero = Buffer.from([0]);

type Op = { put: string; value?: string; lease?: number } | { del: string; end?: string };

/** Applies each inner list as one write transaction, Raft index = position + 1. */
function applyAll(store: MvccStore, transactions: Op[][]): void {
  let index = store.consistentIndex;
  for (const transaction of transactions) {
    const txn = store.write(++index);
    for (const op of transaction) {
      if ('put' in op) txn.put(b(op.put), b(op.value ?? `${op.put}@${txn.beginRevision + 1}`), op.lease ?? 0);
      else txn.deleteRange(b(op.del), op.end === undefined ? undefined : op.end === '\0' ? zero : b(op.end));
    }
    txn.end();
  }
}

const summary = (kvs: Array<{ key: Buffer; value: Buffer; create_revision: number; mod_revision: number; version: number }>): string[] =>
  kvs.map((kv) => `${kv.key.toString('latin1')}=${kv.value.toString('latin1')} c${kv.create_revision} m${kv.mod_revision} v${kv.version}`);

// rev 2: a, b   rev 3: a   rev 4: delete a   rev 5: a again, c   rev 6: delete [b, d)
const history: Op[][] = [[{ put: 'a' }, { put: 'b' }], [{ put: 'a' }], [{ del: 'a' }], [{ put: 'a' }, { put: 'c' }], [{ del: 'b', end: 'd' }]];

describe('MvccStore revisions and history', () => {
  let store: MvccStore;
  beforeEach(async () => {
    store = await MvccStore.open(new MemoryBackend());
    applyAll(store, [[{ put: '_seed' }]]); // rev 1 -> the history above starts at rev 2
    applyAll(store, history);
  });

  it('gives one main revision per transaction', () => {
    expect(store.revision).toBe(6);
    expect(store.consistentIndex).toBe(6);
  });

  const cases: Array<{ revision: number; expected: string[] }> = [
    { revision: 1, expected: [] },
    { revision: 2, expected: ['a=a@2 c2 m2 v1', 'b=b@2 c2 m2 v1'] },
    { revision: 3, expected: ['a=a@3 c2 m3 v2', 'b=b@2 c2 m2 v1'] },
    { revision: 4, expected: ['b=b@2 c2 m2 v1'] },
    { revision: 5, expected: ['a=a@5 c5 m5 v1', 'b=b@2 c2 m2 v1', 'c=c@5 c5 m5 v1'] },
    { revision: 6, expected: ['a=a@5 c5 m5 v1'] },
    { revision: 0, expected: ['a=a@5 c5 m5 v1'] },
  ];
  it.each(cases)('reads the keyspace [a, z) as of revision $revision', ({ revision, expected }) => {
    const result = store.range(b('a'), b('z'), { revision });
    expect(summary(result.kvs)).toEqual(expected);
    expect(result.count).toBe(expected.length);
    expect(result.revision).toBe(6);
  });

  it('refuses future revisions', () => {
    expect(() => store.range(b('a'), undefined, { revision: 7 })).toThrow(FutureRevisionError);
  });

  it('reports DELETE events with only key and the deletion revision', () => {
    const events = store.historyEvents(4, 4, () => true, true);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'DELETE', kv: { key: b('a'), mod_revision: 4, version: 0, create_revision: 0 } });
    expect(summary([events[0]!.prev_kv!])).toEqual(['a=a@3 c2 m3 v2']);
  });
});

describe('MvccStore ranges', () => {
  let store: MvccStore;
  beforeEach(async () => {
    store = await MvccStore.open(new MemoryBackend());
    applyAll(store, [[{ put: 'foo' }, { put: 'foo/a' }, { put: 'foo/b' }, { put: 'fop' }, { put: 'zzz' }, { put: '\u00ff' }]]);
  });

  const cases: Array<{ title: string; key: string; end?: Buffer | string; limit?: number; countOnly?: boolean; keys: string[]; count: number }> = [
    { title: 'single key', key: 'foo', keys: ['foo'], count: 1 },
    { title: 'missing key', key: 'fo', keys: [], count: 0 },
    { title: 'prefix foo/ via range end foo0', key: 'foo/', end: 'foo0', keys: ['foo/a', 'foo/b'], count: 2 },
    { title: 'from key with "\\0"', key: 'fop', end: zero, keys: ['fop', 'zzz', '\u00ff'], count: 3 },
    { title: 'all keys: "\\0" to "\\0"', key: '\u0000', end: zero, keys: ['foo', 'foo/a', 'foo/b', 'fop', 'zzz', '\u00ff'], count: 6 },
    { title: 'limit keeps count', key: 'f', end: 'g', limit: 2, keys: ['foo', 'foo/a'], count: 4 },
    { title: 'count only', key: 'f', end: 'g', countOnly: true, keys: [], count: 4 },
    { title: 'end before start', key: 'z', end: 'a', keys: [], count: 0 },
  ];
  it.each(cases)('$title', ({ key, end, limit, countOnly, keys, count }) => {
    const result = store.range(b(key), typeof end === 'string' ? b(end) : end, { limit, countOnly });
    expect(result.kvs.map((kv) => kv.key.toString('latin1'))).toEqual(keys);
    expect(result.count).toBe(count);
  });
});

describe('rangeQuery (RangeRequest semantics)', () => {
  let store: MvccStore;
  beforeEach(async () => {
    store = await MvccStore.open(new MemoryBackend());
    // rev1: k1=c k2=a k3=b; rev2: k1 again (version 2); rev3: k4=a
    applyAll(store, [[{ put: 'k1', value: 'c' }, { put: 'k2', value: 'a' }, { put: 'k3', value: 'b' }], [{ put: 'k1', value: 'c2' }], [{ put: 'k4', value: 'a' }]]);
  });
  const all = { key: b('k'), rangeEnd: b('l') };
  const cases: Array<{ title: string; query: Partial<RangeQuery>; keys: string[]; more?: boolean; count?: number }> = [
    { title: 'default key order', query: {}, keys: ['k1', 'k2', 'k3', 'k4'] },
    { title: 'descending keys', query: { sortOrder: 'DESCEND' }, keys: ['k4', 'k3', 'k2', 'k1'] },
    { title: 'by value, ascending by default, stable', query: { sortTarget: 'VALUE' }, keys: ['k2', 'k4', 'k3', 'k1'] },
    { title: 'by version descending', query: { sortTarget: 'VERSION', sortOrder: 'DESCEND' }, keys: ['k1', 'k2', 'k3', 'k4'] },
    { title: 'by mod revision descending with limit', query: { sortTarget: 'MOD', sortOrder: 'DESCEND', limit: 2 }, keys: ['k4', 'k1'], more: true, count: 4 },
    { title: 'by create revision descending', query: { sortTarget: 'CREATE', sortOrder: 'DESCEND' }, keys: ['k4', 'k1', 'k2', 'k3'] },
    { title: 'limit sets more', query: { limit: 3 }, keys: ['k1', 'k2', 'k3'], more: true },
    { title: 'limit equal to size: no more', query: { limit: 4 }, keys: ['k1', 'k2', 'k3', 'k4'], more: false },
    { title: 'min mod revision', query: { minModRevision: 2 }, keys: ['k1', 'k4'], count: 4 },
    { title: 'max mod revision', query: { maxModRevision: 1 }, keys: ['k2', 'k3'] },
    { title: 'min create revision', query: { minCreateRevision: 3 }, keys: ['k4'] },
    { title: 'max create revision', query: { maxCreateRevision: 1 }, keys: ['k1', 'k2', 'k3'] },
    { title: 'at a past revision', query: { revision: 1 }, keys: ['k1', 'k2', 'k3'], count: 3 },
    { title: 'count only', query: { countOnly: true }, keys: [], count: 4 },
  ];
  it.each(cases)('$title', ({ query, keys, more, count }) => {
    const result = rangeQuery(store, { ...all, ...query });
    expect(result.kvs.map((kv) => kv.key.toString())).toEqual(keys);
    if (more !== undefined) expect(result.more).toBe(more);
    if (count !== undefined) expect(result.count).toBe(count);
    expect(result.revision).toBe(3);
  });

  it('keys only drops values without touching the store', () => {
    const result = rangeQuery(store, { key: b('k1'), keysOnly: true });
    expect(result.kvs[0]!.value.length).toBe(0);
    expect(store.range(b('k1')).kvs[0]!.value.toString()).toBe('c2');
  });
});

describe('compareHolds (Txn compare semantics)', () => {
  let store: MvccStore;
  beforeEach(async () => {
    store = await MvccStore.open(new MemoryBackend());
    applyAll(store, [[{ put: 'a', value: 'x', lease: 7 }, { put: 'b', value: 'y' }], [{ put: 'a', value: 'x2', lease: 7 }]]);
  });
  const cases: Array<{ title: string; compare: Omit<CompareQuery, 'key'> & { key: string; end?: string }; holds: boolean }> = [
    { title: 'value equal', compare: { key: 'a', target: 'VALUE', result: 'EQUAL', operand: b('x2') }, holds: true },
    { title: 'value less', compare: { key: 'a', target: 'VALUE', result: 'LESS', operand: b('y') }, holds: true },
    { title: 'value of a missing key never holds', compare: { key: 'nope', target: 'VALUE', result: 'NOT_EQUAL', operand: b('q') }, holds: false },
    { title: 'version of a missing key is 0', compare: { key: 'nope', target: 'VERSION', result: 'EQUAL', operand: 0 }, holds: true },
    { title: 'create revision of a missing key is 0', compare: { key: 'nope', target: 'CREATE', result: 'EQUAL', operand: 0 }, holds: true },
    { title: 'version greater', compare: { key: 'a', target: 'VERSION', result: 'GREATER', operand: 1 }, holds: true },
    { title: 'mod revision equal', compare: { key: 'a', target: 'MOD', result: 'EQUAL', operand: 2 }, holds: true },
    { title: 'mod revision not equal', compare: { key: 'a', target: 'MOD', result: 'NOT_EQUAL', operand: 2 }, holds: false },
    { title: 'create revision less', compare: { key: 'a', target: 'CREATE', result: 'LESS', operand: 2 }, holds: true },
    { title: 'lease equal', compare: { key: 'a', target: 'LEASE', result: 'EQUAL', operand: 7 }, holds: true },
    { title: 'range: every key must hold (fails on b)', compare: { key: 'a', end: 'c', target: 'LEASE', result: 'EQUAL', operand: 7 }, holds: false },
    { title: 'range: every key holds', compare: { key: 'a', end: 'c', target: 'CREATE', result: 'EQUAL', operand: 1 }, holds: true },
  ];
  it.each(cases)('$title', ({ compare, holds }) => {
    const { key, end, ...rest } = compare;
    expect(compareHolds(store, { ...rest, key: b(key), rangeEnd: end === undefined ? undefined : b(end) })).toBe(holds);
  });
});

describe('MvccStore write transactions', () => {
  it('lets reads inside a transaction see its own changes, and others only after end()', async () => {
    const store = await MvccStore.open(new MemoryBackend());
    const txn = store.write(1);
    txn.put(b('k'), b('v'), 0);
    expect(txn.revision).toBe(1);
    expect(txn.range(b('k')).kvs).toHaveLength(1);
    expect(store.range(b('k')).kvs).toHaveLength(0);
    txn.end();
    expect(store.range(b('k')).kvs).toHaveLength(1);
  });

  it('abort reverts every change and leaves revision and consistent index alone', async () => {
    const backend = new MemoryBackend();
    const store = await MvccStore.open(backend);
    applyAll(store, [[{ put: 'keep' }, { put: 'gone' }]]);
    // Writes reach the backend at the end of the synchronous run that made them; flush() waits for that.
    await store.flush();
    const before = await backend.exportSnapshot();
    const txn = store.write(2);
    txn.put(b('new'), b('1'), 0);
    txn.put(b('keep'), b('changed'), 0);
    txn.deleteRange(b('gone'));
    txn.abort();
    expect(store.revision).toBe(1);
    expect(store.consistentIndex).toBe(1);
    expect(summary(store.range(b('a'), b('z')).kvs)).toEqual(['gone=gone@1 c1 m1 v1', 'keep=keep@1 c1 m1 v1']);
    await store.flush();
    expect(Buffer.from(await backend.exportSnapshot()).equals(Buffer.from(before))).toBe(true);
    applyAll(store, [[{ put: 'new' }]]);
    expect(summary(store.range(b('new')).kvs)).toEqual(['new=new@2 c2 m2 v1']);
  });

  it('records a consistent index without a new revision when nothing changed', async () => {
    const store = await MvccStore.open(new MemoryBackend());
    store.recordConsistentIndex(5);
    expect(store.revision).toBe(0);
    expect(store.consistentIndex).toBe(5);
    expect(() => store.write(5)).toThrow(/not after the consistent index/);
  });
});

describe('MvccStore sync', () => {
  /** A MemoryBackend that records whether each batch was committed with sync. */
  function recordingBackend(): { backend: MemoryBackend; syncs: boolean[] } {
    const backend = new MemoryBackend();
    const syncs: boolean[] = [];
    const batch = backend.batch.bind(backend);
    backend.batch = () => {
      const created = batch();
      const commit = created.commit.bind(created);
      created.commit = (options) => {
        syncs.push(options?.sync === true);
        return commit(options);
      };
      return created;
    };
    return { backend, syncs };
  }

  it.each([
    { title: 'with writes not yet handed over', writesAfterFlush: 2 },
    { title: 'with nothing pending', writesAfterFlush: 0 },
  ])('makes everything applied durable $title, and says up to which raft index', async ({ writesAfterFlush }) => {
    const { backend, syncs } = recordingBackend();
    const store = await MvccStore.open(backend);
    applyAll(store, [[{ put: 'a' }], [{ put: 'b' }]]);
    await store.flush();
    applyAll(store, Array.from({ length: writesAfterFlush }, (_, i) => [{ put: `later${i}` }]));
    const before = syncs.length;
    expect(await store.sync()).toBe(2 + writesAfterFlush);
    // One more batch, synced, and it holds the consistent index.
    expect(syncs.slice(before)).toEqual([true]);
    expect((await backend.get('meta', b('consistent_index')))?.readBigUInt64BE(0)).toBe(BigInt(2 + writesAfterFlush));
    expect(store.range(b('later0')).count).toBe(writesAfterFlush > 0 ? 1 : 0);
  });
});

describe('MvccStore compaction', () => {
  let store: MvccStore;
  beforeEach(async () => {
    store = await MvccStore.open(new MemoryBackend());
    applyAll(store, [[{ put: '_seed' }]]);
    applyAll(store, history); // revisions 2..6 as above
  });

  const errorCases: Array<{ revision: number; error: new (...args: never[]) => Error }> = [
    { revision: 7, error: FutureRevisionError },
    { revision: 0, error: CompactedError },
  ];
  it.each(errorCases)('compact($revision) fails with $error.name', ({ revision, error }) => {
    expect(() => store.compact(revision, 100)).toThrow(error);
  });

  it('keeps what is visible at the compact revision and removes superseded records', () => {
    expect(store.recordCount).toBe(9);
    store.compact(5, 100);
    expect(store.compactRevision).toBe(5);
    expect(() => store.range(b('a'), b('z'), { revision: 4 })).toThrow(CompactedError);
    expect(summary(store.range(b('a'), b('z'), { revision: 5 }).kvs)).toEqual(['a=a@5 c5 m5 v1', 'b=b@2 c2 m2 v1', 'c=c@5 c5 m5 v1']);
    expect(summary(store.range(b('a'), b('z'), { revision: 6 }).kvs)).toEqual(['a=a@5 c5 m5 v1']);
    // Left: seed@1, a@5, b@2, c@5, and the two deletions at 6.
    expect(store.recordCount).toBe(6);
    expect(() => store.compact(5, 101)).toThrow(CompactedError);
  });

  it('drops deleted keys entirely once their deletion is compacted', async () => {
    store.compact(6, 100);
    expect(store.recordCount).toBe(2); // seed@1 and a@5
    expect(store.historyEvents(1, 6, () => true, false).map((event) => event.kv.key.toString())).toEqual(['_seed', 'a']);
    applyAll(store, [[{ put: 'b' }]]);
    expect(summary(store.range(b('b')).kvs)).toEqual(['b=b@7 c7 m7 v1']);
  });
});

describe('MvccStore restart', () => {
  const directories: string[] = [];
  afterAll(() => directories.forEach((directory) => rmSync(directory, { recursive: true, force: true })));

  const backends: Array<{ name: string; make: () => Promise<{ open: () => Promise<import('../backend').Backend>; close: (b: import('../backend').Backend) => Promise<void> }> }> = [
    {
      name: 'memory',
      make: async () => {
        const backend = new MemoryBackend();
        return { open: async () => backend, close: async () => undefined };
      },
    },
    {
      name: 'rocksdb',
      make: async () => {
        const directory = mkdtempSync(path.join(tmpdir(), 'etcd-lite-mvcc-'));
        directories.push(directory);
        return { open: () => RocksDbBackend.open({ directory }), close: (backend) => backend.close() };
      },
    },
  ];
  it.each(backends)('reloads index, revisions, compaction and consistent index ($name)', async ({ make }) => {
    const { open, close } = await make();
    const first = await open();
    const store = await MvccStore.open(first);
    applyAll(store, [[{ put: '_seed' }]]);
    applyAll(store, history);
    store.compact(4, 10);
    applyAll(store, [[{ put: 'x' }]]); // index 11 -> revision 7
    const before = summary(store.range(b('\u0000'), zero, { revision: 4 }).kvs);
    await store.flush();
    await close(first);

    const reopened = await MvccStore.open(await open());
    expect(reopened.revision).toBe(7);
    expect(reopened.compactRevision).toBe(4);
    expect(reopened.consistentIndex).toBe(11);
    expect(summary(reopened.range(b('\u0000'), zero, { revision: 4 }).kvs)).toEqual(before);
    expect(summary(reopened.range(b('a')).kvs)).toEqual(['a=a@5 c5 m5 v1']);
    expect(() => reopened.range(b('a'), undefined, { revision: 3 })).toThrow(CompactedError);
    applyAll(reopened, [[{ put: 'a' }]]);
    expect(summary(reopened.range(b('a')).kvs)).toEqual(['a=a@8 c5 m8 v2']);
    await reopened.flush();
    await close(reopened.backend);
  });

  it.each([
    { name: 'one synchronous run shares one batch', syncWrites: false, expectedCommits: 1 },
    { name: 'syncWrites commits every transaction by itself', syncWrites: true, expectedCommits: 3 },
  ])('backend batches: $name', async ({ syncWrites, expectedCommits }) => {
    const backend = new MemoryBackend();
    let commits = 0;
    const batch = backend.batch.bind(backend);
    backend.batch = () => {
      const created = batch();
      const commit = created.commit.bind(created);
      created.commit = (options) => {
        commits++;
        return commit(options);
      };
      return created;
    };
    const store = await MvccStore.open(backend, { syncWrites });
    applyAll(store, [[{ put: 'a' }], [{ put: 'b' }], [{ del: 'a' }]]);
    await store.flush();
    expect(commits).toBe(expectedCommits);
    const reopened = await MvccStore.open(backend);
    expect([reopened.revision, reopened.consistentIndex]).toEqual([3, 3]);
    expect(summary(reopened.range(b('a'), b('z')).kvs)).toEqual(['b=b@2 c2 m2 v1']);
  });

  it('keeps the revision when compaction removed every record', async () => {
    const backend = new MemoryBackend();
    const store = await MvccStore.open(backend);
    applyAll(store, [[{ put: 'a' }], [{ del: 'a' }]]);
    store.compact(2, 3);
    expect(store.recordCount).toBe(0);
    const reopened = await MvccStore.open(backend);
    expect(reopened.revision).toBe(2);
    applyAll(reopened, [[{ put: 'a' }]]);
    expect(reopened.revision).toBe(3);
  });

  it('hashes records up to a revision identically on members with the same history', async () => {
    const hashes: Array<ReturnType<MvccStore['hashKv']>> = [];
    for (const extra of [[], [[{ put: 'later' }]]] as Op[][][]) {
      const store = await MvccStore.open(new MemoryBackend());
      applyAll(store, history);
      applyAll(store, extra);
      hashes.push(store.hashKv(5));
    }
    expect(hashes[0]!.hash).toBe(hashes[1]!.hash);
    expect(hashes[0]!.hash).not.toBe(0);
    const store = await MvccStore.open(new MemoryBackend());
    applyAll(store, history);
    expect(store.hashKv(4).hash).not.toBe(hashes[0]!.hash);
    expect(() => store.hashKv(6)).toThrow(FutureRevisionError);
  });

  it('is deterministic: the same transactions give byte-identical backends', async () => {
    const snapshots: Uint8Array[] = [];
    for (let member = 0; member < 2; member++) {
      const backend = new MemoryBackend();
      const store = await MvccStore.open(backend);
      applyAll(store, [[{ put: '_seed' }]]);
      applyAll(store, history);
      store.compact(3, 50);
      snapshots.push(await backend.exportSnapshot());
    }
    expect(Buffer.from(snapshots[0]!).equals(Buffer.from(snapshots[1]!))).toBe(true);
  });
});

describe('MvccStore emptyRevision (etcd starts at revision 1)', () => {
  const cases: Array<{ emptyRevision: number | undefined; before: number; afterFirstWrite: number }> = [
    { emptyRevision: undefined, before: 0, afterFirstWrite: 1 },
    { emptyRevision: 1, before: 1, afterFirstWrite: 2 },
  ];
  it.each(cases)('emptyRevision $emptyRevision: $before before the first write, $afterFirstWrite after', async ({ emptyRevision, before, afterFirstWrite }) => {
    const backend = new MemoryBackend();
    const store = await MvccStore.open(backend, emptyRevision === undefined ? {} : { emptyRevision });
    expect(store.revision).toBe(before);
    expect(store.range(b('a')).revision).toBe(before);
    applyAll(store, [[{ put: 'a' }]]);
    expect(store.revision).toBe(afterFirstWrite);
    expect(summary(store.range(b('a')).kvs)).toEqual([`a=a@${afterFirstWrite} c${afterFirstWrite} m${afterFirstWrite} v1`]);
    await store.flush();
    // Reopened, the stored revision wins over the empty one.
    const reopened = await MvccStore.open(backend, emptyRevision === undefined ? {} : { emptyRevision });
    expect(reopened.revision).toBe(afterFirstWrite);
  });
});

describe('MvccStore key order with keys created between ranges', () => {
  it('ranges see every key in byte order, whatever order keys were created and aborted in', async () => {
    const store = await MvccStore.open(new MemoryBackend());
    const expected = new Set<string>();
    let index = 0;
    // A fixed shuffle of 200 keys; every 17th put is aborted, every 13th step reads a range.
    for (let step = 0; step < 200; step++) {
      const key = `k${String((step * 73) % 200).padStart(3, '0')}`;
      const txn = store.write(++index);
      txn.put(b(key), b('v'), 0);
      if (step % 17 === 16) {
        txn.abort();
      } else {
        txn.end();
        expected.add(key);
      }
      if (step % 13 === 12) {
        const keys = store.range(b('k'), b('l')).kvs.map((kv) => kv.key.toString('latin1'));
        expect(keys).toEqual([...expected].sort());
      }
    }
    expect(store.range(b('k'), zero).kvs.map((kv) => kv.key.toString('latin1'))).toEqual([...expected].sort());
    expect(store.range(b('k050'), b('k060')).count).toBe([...expected].filter((key) => key >= 'k050' && key < 'k060').length);
  });
});
