import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StateFileError } from '../errors';
import { StateStore } from './state-file';

describe('StateStore', () => {
  let directory: string;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-state-'));
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('loses no change when many updates race (read-modify-write under the lock)', async () => {
    const store = new StateStore<{ counter: number }>(path.join(directory, 'state.json'));
    store.write({ version: 1, components: [], cluster: { counter: 0 } });
    // Each update yields between read and write, the window a lost update needs.
    await Promise.all(
      Array.from({ length: 20 }, () =>
        store.update(async (state) => {
          const seen = state.cluster.counter;
          await new Promise((resolve) => setImmediate(resolve));
          state.cluster.counter = seen + 1;
        }),
      ),
    );
    expect(store.read()?.cluster.counter).toBe(20);
    expect(fs.existsSync(store.lockDirectory)).toBe(false);
  });

  it('takes over a lock left behind by a process that died', async () => {
    const store = new StateStore<{ counter: number }>(path.join(directory, 'state.json'));
    store.write({ version: 1, components: [], cluster: { counter: 0 } });
    fs.mkdirSync(store.lockDirectory);
    fs.writeFileSync(path.join(store.lockDirectory, 'owner'), '999999999');
    await store.update((state) => void (state.cluster.counter = 5));
    expect(store.read()?.cluster.counter).toBe(5);
  });

  it.each([
    { content: '{ not json', message: /not valid JSON/ },
    { content: '{"version": 7, "components": []}', message: /unknown format/ },
  ])('refuses a damaged file: $content', ({ content, message }) => {
    const file = path.join(directory, 'state.json');
    fs.writeFileSync(file, content);
    expect(() => new StateStore(file).read()).toThrow(StateFileError);
    expect(() => new StateStore(file).read()).toThrow(message);
  });

  it('reads a missing file as no cluster', () => {
    expect(new StateStore(path.join(directory, 'state.json')).read()).toBeUndefined();
  });
});
