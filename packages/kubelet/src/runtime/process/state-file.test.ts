import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadRuntimeState, RuntimeStateSaver, type RuntimeStateData } from './state-file';

describe('RuntimeStateSaver', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-state-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const cases: { name: string; requests: number; flushes: number; expectedIndex: number; maxSnapshots: number }[] = [
    { name: 'one request is written', requests: 1, flushes: 1, expectedIndex: 1, maxSnapshots: 1 },
    { name: 'a burst of requests is coalesced and the last state wins', requests: 50, flushes: 1, expectedIndex: 50, maxSnapshots: 2 },
    { name: 'flush with nothing requested writes nothing', requests: 0, flushes: 2, expectedIndex: -1, maxSnapshots: 0 },
  ];
  it.each(cases)('$name', async ({ requests, flushes, expectedIndex, maxSnapshots }) => {
    const file = path.join(root, 'nested', 'state.json');
    const state: RuntimeStateData = { version: 1, nextAddressIndex: 0, sandboxes: [], containers: [] };
    let snapshots = 0;
    const saver = new RuntimeStateSaver(file, () => {
      snapshots += 1;
      return state;
    });
    for (let n = 1; n <= requests; n += 1) {
      state.nextAddressIndex = n;
      saver.request();
    }
    for (let n = 0; n < flushes; n += 1) await saver.flush();
    expect(snapshots).toBeLessThanOrEqual(maxSnapshots);
    if (expectedIndex < 0) expect(fs.existsSync(file)).toBe(false);
    else expect(loadRuntimeState(file).nextAddressIndex).toBe(expectedIndex);
    // No temp file is left behind.
    expect(fs.existsSync(path.dirname(file)) ? fs.readdirSync(path.dirname(file)).filter((entry) => entry.endsWith('.tmp')) : []).toEqual([]);
  });

  it('a change made while a write is in flight goes out in the next write', async () => {
    const file = path.join(root, 'state.json');
    const state: RuntimeStateData = { version: 1, nextAddressIndex: 1, sandboxes: [], containers: [] };
    const saver = new RuntimeStateSaver(file, () => state);
    saver.request();
    await new Promise((resolve) => setImmediate(resolve));
    state.nextAddressIndex = 2;
    saver.request();
    await saver.flush();
    expect(loadRuntimeState(file).nextAddressIndex).toBe(2);
  });

  it('flush rejects when the file cannot be written, and a later flush retries', async () => {
    const blocker = path.join(root, 'not-a-directory');
    fs.writeFileSync(blocker, '');
    const file = path.join(blocker, 'state.json');
    const state: RuntimeStateData = { version: 1, nextAddressIndex: 3, sandboxes: [], containers: [] };
    const saver = new RuntimeStateSaver(file, () => state);
    saver.request();
    await expect(saver.flush()).rejects.toThrow();
    fs.rmSync(blocker);
    await saver.flush();
    expect(loadRuntimeState(file).nextAddressIndex).toBe(3);
  });
});
