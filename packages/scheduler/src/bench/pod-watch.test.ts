import type { Pod } from '@kube-lite/api';
import { FakeApiClient } from '@kube-lite/client';
import { PodWatch } from './pod-watch';
import { benchPod, RUN_LABEL } from './workload';

/** Lets the fake's watch channels deliver what is queued. */
async function settle(): Promise<void> {
  for (let round = 0; round < 5; round++) await new Promise((resolve) => setImmediate(resolve));
}

async function watched(client: FakeApiClient): Promise<{ watch: PodWatch; seen: string[] }> {
  const seen: string[] = [];
  const watch = new PodWatch(client, `${RUN_LABEL}=run`, (type: string, pod: Pod) => seen.push(`${type} ${pod.metadata?.name}${pod.spec?.nodeName ? ` @${pod.spec.nodeName}` : ''}`), () => 0);
  await watch.start();
  await settle();
  return { watch, seen };
}

describe('PodWatch', () => {
  it('sees only the pods of its run, from its start on', async () => {
    const client = new FakeApiClient();
    await client.pods('default').create(benchPod('before', 0, 'run'));
    const { watch, seen } = await watched(client);
    await client.pods('default').create(benchPod('mine', 1, 'run'));
    await client.pods('default').create(benchPod('other', 2, 'another-run'));
    await client.pods('default').bind('mine', 'n1');
    await settle();
    await watch.stop();
    expect(seen).toEqual(['ADDED mine', 'MODIFIED mine @n1']);
    expect(watch.restarts).toBe(0);
  });

  it.each([
    { title: 'the server ends the stream (timeout): resumes from the last version, no event twice or lost', error: undefined, expectedReason: /ended the stream/ },
    { title: 'the connection drops: resumes after a pause', error: new Error('connection reset'), expectedReason: /connection reset/ },
  ])('$title', async ({ error, expectedReason }) => {
    const client = new FakeApiClient();
    const { watch, seen } = await watched(client);
    await client.pods('default').create(benchPod('a', 0, 'run'));
    await settle();
    client.breakWatches(error);
    await client.pods('default').create(benchPod('b', 1, 'run'));
    await new Promise((resolve) => setTimeout(resolve, 150));
    await settle();
    await watch.stop();
    expect(seen).toEqual(['ADDED a', 'ADDED b']);
    expect(watch.restarts).toBe(1);
    expect(watch.endReasons[0]).toMatch(expectedReason);
  });

  it('lists again after 410 Gone and feeds the listed pods as ADDED, bound ones with their node', async () => {
    const client = new FakeApiClient({ maxHistory: 1 });
    const { watch, seen } = await watched(client);
    await client.pods('default').create(benchPod('a', 0, 'run'));
    await settle();
    client.breakWatches();
    // While the stream is down, more happens than the history keeps: resuming answers 410.
    client.compactHistory();
    await client.pods('default').create(benchPod('b', 1, 'run'));
    await client.pods('default').bind('a', 'n1');
    client.compactHistory();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await settle();
    await watch.stop();
    expect(seen.slice(0, 1)).toEqual(['ADDED a']);
    expect(seen).toEqual(expect.arrayContaining(['ADDED a @n1', 'ADDED b']));
    expect(watch.endReasons.some((reason) => /410|expired|too old/i.test(reason))).toBe(true);
  });
});
