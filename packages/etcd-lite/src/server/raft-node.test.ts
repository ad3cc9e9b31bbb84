import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, Ready } from '../raft';
import { RaftNode } from './raft-node';
import { DurableRaftStorage } from './raft-storage';

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
    const node = new RaftNode({
      id: 1,
      storage,
      stateMachine: {
        applyEntry: (entry: Entry) => {
          if (!persistedIndexes.has(entry.index)) appliedBeforeDurable.push(entry.index);
          applied.push(entry.index);
        },
        applyConfChange: async () => undefined,
        restoreSnapshot: async () => undefined,
        captureSnapshot: async () => new Uint8Array(0),
      },
      sender: { send: () => undefined },
      tickIntervalMs: 5,
      electionTicks: 4,
      bootstrapPeers: [1],
      snapshotEntries: 1_000_000,
      snapshotCatchUpEntries: 5000,
      random: () => 0.5,
      onFatal: (error) => {
        throw error;
      },
    });
    node.start();
    try {
      for (let attempt = 0; node.leaderId !== 1; attempt++) {
        if (attempt > 400) throw new Error('no leader');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
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
});
