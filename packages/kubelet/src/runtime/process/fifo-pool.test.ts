import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FifoCreationError, FifoPool } from './fifo-pool';

describe('FifoPool', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-fifo-pool-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const cases: { name: string; batchSize: number; takes: number[]; maxLeft: number }[] = [
    { name: 'one take from a fresh pool', batchSize: 4, takes: [2], maxLeft: 4 },
    { name: 'more takes than one batch holds refill the pool', batchSize: 4, takes: [2, 2, 2, 2, 2], maxLeft: 8 },
    { name: 'a take larger than a batch makes several batches', batchSize: 2, takes: [5], maxLeft: 4 },
  ];
  it.each(cases)('$name', async ({ batchSize, takes, maxLeft }) => {
    const pool = new FifoPool(path.join(root, 'pool'), batchSize);
    const destinations: string[] = [];
    for (const [round, count] of takes.entries()) {
      const batch = Array.from({ length: count }, (_, index) => path.join(root, `taken-${round}-${index}.fifo`));
      await pool.take(batch);
      destinations.push(...batch);
    }
    for (const file of destinations) expect(fs.statSync(file).isFIFO()).toBe(true);
    expect(new Set(destinations.map((file) => fs.statSync(file).ino)).size).toBe(destinations.length);
    expect(pool.size).toBeLessThanOrEqual(maxLeft);
  });

  it('rejects with FifoCreationError when the FIFOs cannot be made, and takes none', async () => {
    const blocker = path.join(root, 'not-a-directory');
    fs.writeFileSync(blocker, '');
    const pool = new FifoPool(path.join(blocker, 'pool'), 2);
    await expect(pool.take([path.join(root, 'a.fifo')])).rejects.toBeInstanceOf(FifoCreationError);
    expect(fs.existsSync(path.join(root, 'a.fifo'))).toBe(false);
  });
});
