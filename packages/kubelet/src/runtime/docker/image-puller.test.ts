import { ImageNeverPullError, ImagePullBackOffError, ImagePullError } from './errors';
import { ImagePuller, type ImageStore } from './image-puller';

class FakeStore implements ImageStore {
  readonly present = new Set<string>();
  readonly pulls: string[] = [];
  failWith: string | undefined;

  async has(image: string): Promise<boolean> {
    return this.present.has(image);
  }

  async pull(image: string): Promise<void> {
    this.pulls.push(image);
    if (this.failWith) throw new Error(this.failWith);
    this.present.add(image);
  }
}

function setUp() {
  const store = new FakeStore();
  let nowMs = 1_000_000;
  const puller = new ImagePuller(store, () => nowMs, { initialMs: 10_000, maxMs: 40_000 });
  return { store, puller, advance: (ms: number) => (nowMs += ms) };
}

describe('ImagePuller policies', () => {
  test.each([
    { policy: 'IfNotPresent' as const, present: true, outcome: 'present', pulls: 0 },
    { policy: 'IfNotPresent' as const, present: false, outcome: 'pulled', pulls: 1 },
    { policy: 'Always' as const, present: true, outcome: 'pulled', pulls: 1 },
    { policy: 'Never' as const, present: true, outcome: 'present', pulls: 0 },
  ])('$policy with the image present=$present', async ({ policy, present, outcome, pulls }) => {
    const { store, puller } = setUp();
    if (present) store.present.add('app:1');
    await expect(puller.ensure('app:1', policy)).resolves.toBe(outcome);
    expect(store.pulls).toHaveLength(pulls);
  });

  test('Never with the image absent is ErrImageNeverPull', async () => {
    const { puller } = setUp();
    await expect(puller.ensure('app:1', 'Never')).rejects.toBeInstanceOf(ImageNeverPullError);
    await expect(puller.ensure('app:1', 'Never')).rejects.toMatchObject({ reason: 'ErrImageNeverPull' });
  });
});

test('a failed pull is ErrImagePull with the registry message, then ImagePullBackOff until the back-off (doubling, capped) ends', async () => {
  const { store, puller, advance } = setUp();
  store.failWith = 'pull access denied for app, repository does not exist';
  const first = puller.ensure('app:1', 'IfNotPresent');
  await expect(first).rejects.toBeInstanceOf(ImagePullError);
  await expect(first).rejects.toMatchObject({ reason: 'ErrImagePull', message: expect.stringContaining('repository does not exist') });
  await expect(puller.ensure('app:1', 'IfNotPresent')).rejects.toBeInstanceOf(ImagePullBackOffError);
  expect(store.pulls).toHaveLength(1);
  for (const delayMs of [10_000, 20_000, 40_000, 40_000]) {
    advance(delayMs - 1);
    await expect(puller.ensure('app:1', 'IfNotPresent')).rejects.toMatchObject({ reason: 'ImagePullBackOff' });
    advance(1);
    await expect(puller.ensure('app:1', 'IfNotPresent')).rejects.toMatchObject({ reason: 'ErrImagePull' });
  }
  expect(store.pulls).toHaveLength(5);
  store.failWith = undefined;
  advance(40_000);
  await expect(puller.ensure('app:1', 'IfNotPresent')).resolves.toBe('pulled');
  await expect(puller.ensure('app:1', 'Always')).resolves.toBe('pulled');
});

test('concurrent pulls of one image share one request', async () => {
  const { store, puller } = setUp();
  await Promise.all([puller.ensure('app:1', 'Always'), puller.ensure('app:1', 'Always'), puller.ensure('app:1', 'IfNotPresent')]);
  expect(store.pulls).toEqual(['app:1']);
});
