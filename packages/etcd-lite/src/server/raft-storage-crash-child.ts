// Test helper for raft-storage.test.ts, run in a child process that the test
// kills with SIGKILL: persists Readys in a loop and prints each acknowledged
// batch number. Every batch's hard state commits exactly up to its last entry,
// so the survivor can check that no batch was applied in part.

import type { Entry } from '../raft/types';
import { DurableRaftStorage } from './raft-storage';

const ENTRIES_PER_BATCH = 50;
const MAX_BATCHES = 5_000;

async function main(directory: string): Promise<void> {
  const storage = await DurableRaftStorage.open(directory);
  for (let batch = 1; batch <= MAX_BATCHES; batch++) {
    const last = storage.lastIndex();
    // Every fourth batch overwrites a suffix, exercising the truncation path.
    const start = batch % 4 === 0 ? Math.max(1, last - 5) : last + 1;
    const entries: Entry[] = [];
    for (let index = start; index < start + ENTRIES_PER_BATCH; index++) {
      entries.push({ index, term: batch, type: 'normal', data: Buffer.from(`batch${batch}:${index}`) });
    }
    const commit = start + ENTRIES_PER_BATCH - 1;
    await storage.persist({
      hardState: { term: batch, vote: 1, commit },
      entries,
      readStates: [],
      committedEntries: [],
      messages: [],
      mustSync: true,
    });
    process.stdout.write(`${batch}\n`);
  }
  await storage.close();
}

main(process.argv[2] ?? '').catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
