import type { Pod } from '@kube-lite/api';
import { PodLatencyTracker } from './pod-latency-tracker';

function pod(name: string, nodeName?: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [], ...(nodeName === undefined ? {} : { nodeName }) } };
}

/** One step of a scripted run: [what, pod name, time ms, node]. */
type Step = ['sent' | 'acked', string, number] | ['ADDED' | 'MODIFIED' | 'DELETED', string, number, string?];

function replay(steps: readonly Step[]): PodLatencyTracker {
  const tracker = new PodLatencyTracker();
  for (const step of steps) {
    const [kind, name, atMs] = step;
    if (kind === 'sent') tracker.createSent(name, atMs);
    else if (kind === 'acked') tracker.createAcked(name, atMs);
    else tracker.observe(kind, pod(name, step[3]), atMs);
  }
  return tracker;
}

describe('PodLatencyTracker', () => {
  it.each<{ title: string; steps: Step[]; bound: number; endToEndP50: number; addedP50: number; addedToBoundP50: number }>([
    {
      title: 'one pod: sent, added before the ack, bound',
      steps: [['sent', 'a', 0], ['ADDED', 'a', 5], ['acked', 'a', 8], ['MODIFIED', 'a', 20, 'n1']],
      bound: 1,
      endToEndP50: 20,
      addedP50: 5,
      addedToBoundP50: 15,
    },
    {
      title: 'a later MODIFIED of a bound pod does not move its bind time',
      steps: [['sent', 'a', 0], ['ADDED', 'a', 5], ['MODIFIED', 'a', 20, 'n1'], ['MODIFIED', 'a', 90, 'n1']],
      bound: 1,
      endToEndP50: 20,
      addedP50: 5,
      addedToBoundP50: 15,
    },
    {
      title: 'an update without nodeName does not count as bound',
      steps: [['sent', 'a', 0], ['ADDED', 'a', 5], ['MODIFIED', 'a', 9]],
      bound: 0,
      endToEndP50: NaN,
      addedP50: 5,
      addedToBoundP50: NaN,
    },
    {
      title: 'pods the tracker did not send are ignored',
      steps: [['sent', 'a', 0], ['ADDED', 'other', 1], ['MODIFIED', 'other', 2, 'n1'], ['ADDED', 'a', 4], ['MODIFIED', 'a', 10, 'n2']],
      bound: 1,
      endToEndP50: 10,
      addedP50: 4,
      addedToBoundP50: 6,
    },
    {
      title: 'a DELETED event neither adds nor binds',
      steps: [['sent', 'a', 0], ['DELETED', 'a', 3, 'n1']],
      bound: 0,
      endToEndP50: NaN,
      addedP50: NaN,
      addedToBoundP50: NaN,
    },
  ])('$title', ({ steps, bound, endToEndP50, addedP50, addedToBoundP50 }) => {
    const summary = replay(steps).summary();
    expect(summary.bound).toBe(bound);
    expect(summary.endToEnd.p50Ms).toBe(endToEndP50);
    expect(summary.watchAdded.p50Ms).toBe(addedP50);
    expect(summary.addedToBound.p50Ms).toBe(addedToBoundP50);
  });

  it('computes throughput from the first send to the last bind, and the drain rate between binds', () => {
    const steps: Step[] = [];
    // Four pods sent at 0, 100, 200, 300 ms, acked 10 ms later, bound at 500, 600, 700, 800 ms.
    for (let index = 0; index < 4; index++) {
      steps.push(['sent', `p${index}`, index * 100], ['acked', `p${index}`, index * 100 + 10], ['ADDED', `p${index}`, index * 100 + 20], ['MODIFIED', `p${index}`, 500 + index * 100, 'n1']);
    }
    const summary = replay(steps).summary();
    expect(summary).toMatchObject({ created: 4, bound: 4, podsPerSecond: 5, bindRatePerSecond: 10, watchAddedRatePerSecond: 10 });
    expect(summary.createRatePerSecond).toBeCloseTo(4 / 0.31, 6);
    expect(summary.create).toEqual({ p50Ms: 10, p99Ms: 10 });
    expect(summary.endToEnd).toEqual({ p50Ms: 500, p99Ms: 500 });
  });

  it('resolves whenBound once enough pods are bound, and at once when they already are', async () => {
    const tracker = replay([['sent', 'a', 0], ['sent', 'b', 0]]);
    let resolved = false;
    const waiting = tracker.whenBound(2).then(() => (resolved = true));
    tracker.observe('MODIFIED', pod('a', 'n1'), 1);
    await Promise.resolve();
    expect(resolved).toBe(false);
    tracker.observe('MODIFIED', pod('b', 'n1'), 2);
    await waiting;
    expect(resolved).toBe(true);
    await expect(tracker.whenBound(1)).resolves.toBeUndefined();
  });

  it('refuses a name sent twice (a bug in the caller)', () => {
    expect(() => replay([['sent', 'a', 0], ['sent', 'a', 1]])).toThrow(/sent twice/);
  });
});
