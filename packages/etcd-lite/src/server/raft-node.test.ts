import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, Ready } from '../raft';
import { RaftNode } from './raft-node';
import { DurableRaftStorage } from './raft-storage';

type StateMachine = ConstructorParameters<typeof RaftNode>[0]['stateMachine'];

/** A single voter on `storage` with fast ticks; the snapshot thresholds are the test's. */
function singleVoter(storage: DurableRaftStorage, stateMachine: StateMachine, snapshotEntries: number, snapshotCatchUpEntries: number): RaftNode {
  return new RaftNode({
    id: 1,
    storage,
    stateMachine,
    sender: { send: () => undefined },
    tickIntervalMs: 5,
    electionTicks: 4,
    bootstrapPeers: [1],
    snapshotEntries,
    snapshotCatchUpEntries,
    random: () => 0.5,
    onFatal: (error) => {
      throw error;
    },
  });
}

async function untilLeader(node: RaftNode): Promise<void> {
  for (let attempt = 0; node.leaderId !== 1; attempt++) {
    if (attempt > 400) throw new Error('no leader');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// The raft loop overlaps applying committed entries with the fsync of the
// next Ready. A single voter commits its own entries in the Ready that
// appends them, so those must not be applied (and acknowledged) before the
// write that makes them durable has finished.
describe('RaftNode durability', () => {
  let directory: string;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'raft-node-'));
  });
  afterEach(() => rmSync(directory, { recursive: true, force: true }));

  test('a single voter applies a proposal only after the Ready appending it is persisted', async () => {
    const storage = await DurableRaftStorage.open(directory);
    const persistedIndexes = new Set<number>();
    const persist = storage.persist.bind(storage);
    storage.persist = async (ready: Ready) => {
      // A slow disk: the write finishes well after the loop could apply.
      await new Promise((resolve) => setTimeout(resolve, 20));
      await persist(ready);
      for (const entry of ready.entries) persistedIndexes.add(entry.index);
    };
    const appliedBeforeDurable: number[] = [];
    const applied: number[] = [];
    const node = singleVoter(
      storage,
      {
        applyEntry: (entry: Entry) => {
          if (!persistedIndexes.has(entry.index)) appliedBeforeDurable.push(entry.index);
          applied.push(entry.index);
        },
        applyConfChange: async () => undefined,
        restoreSnapshot: async () => undefined,
        persistApplied: async () => undefined,
      },
      1_000_000,
      5000,
    );
    node.start();
    try {
      await untilLeader(node);
      for (let i = 0; i < 5; i++) node.propose(new TextEncoder().encode(`value-${i}`));
      const deadline = Date.now() + 10_000;
      while (applied.length < 5 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(applied.length).toBeGreaterThanOrEqual(5);
      expect(appliedBeforeDurable).toEqual([]);
    } finally {
      node.stop();
      await storage.close();
    }
  });

  test('a snapshot is metadata only, recorded and followed by compaction only once the state machine made its state durable', async () => {
    const storage = await DurableRaftStorage.open(directory);
    let lastApplied = 0;
    let durableIndex = 0;
    const violations: string[] = [];
    const commitSnapshot = storage.commitSnapshot.bind(storage);
    storage.commitSnapshot = async (prepared) => {
      const { index } = prepared.snapshot.metadata;
      if (index > durableIndex) violations.push(`snapshot at ${index} recorded with the state durable up to ${durableIndex}`);
      if (prepared.snapshot.data.length > 0) violations.push(`snapshot at ${index} carries ${prepared.snapshot.data.length} bytes of state`);
      return commitSnapshot(prepared);
    };
    const compact = storage.compact.bind(storage);
    storage.compact = async (index) => {
      if (index > durableIndex) violations.push(`log compacted to ${index} with the state durable up to ${durableIndex}`);
      return compact(index);
    };
    const node = singleVoter(
      storage,
      {
        applyEntry: (entry: Entry) => {
          lastApplied = entry.index;
        },
        applyConfChange: async () => undefined,
        restoreSnapshot: async () => undefined,
        persistApplied: async () => {
          const reached = lastApplied;
          // A slow sync: the loop goes on applying meanwhile.
          await new Promise((resolve) => setTimeout(resolve, 30));
          durableIndex = Math.max(durableIndex, reached);
        },
      },
      10,
      2,
    );
    node.start();
    try {
      await untilLeader(node);
      const deadline = Date.now() + 10_000;
      for (let i = 0; i < 40 && Date.now() < deadline; i++) {
        node.propose(new TextEncoder().encode(`value-${i}`));
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      while (storage.firstIndex() < 20 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      expect(storage.snapshot().metadata.index).toBeGreaterThanOrEqual(20);
      expect(storage.firstIndex()).toBeGreaterThanOrEqual(20);
      expect(violations).toEqual([]);
    } finally {
      await node.stop();
      await storage.close();
    }
  });
});
