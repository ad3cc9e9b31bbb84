import type { Pod } from '@kube-lite/api';
import { SeededRandom } from '@kube-lite/testing';
import { defaultConfiguration, resolveConfiguration } from '../config';
import { CycleState, Framework } from '../framework';
import { inTreeRegistry } from '../plugins';
import { ClusterSnapshot, newPodInfo } from '../snapshot';
import { makeNode, makePod } from '../test-fixtures';
import { newSchedulerCore } from './build';
import { numFeasibleNodesToFind, PodPlacer } from './schedule-pod';

interface Harness {
  binds: [string, string][];
  failures: [string, string, string][];
  scheduledEvents: string[];
  clock: { now: number };
  bindError?: unknown;
}

function setup(seed = 1) {
  const harness: Harness = { binds: [], failures: [], scheduledEvents: [], clock: { now: 0 } };
  const random = SeededRandom.fromSeed(seed);
  const built = newSchedulerCore({
    binder: {
      bind: async (pod: Pod, node: string) => {
        if (harness.bindError) throw harness.bindError;
        harness.binds.push([pod.metadata?.name ?? '', node]);
      },
    },
    reporter: {
      scheduled: (_pod, _node, message) => harness.scheduledEvents.push(message),
      failed: (pod, reason, message) => harness.failures.push([pod.metadata?.name ?? '', reason, message]),
    },
    nowMs: () => harness.clock.now,
    random: () => random.float(),
  });
  /** Schedules everything active now and waits for the binds. */
  const drain = async () => {
    for (let info = built.queue.tryPop(); info; info = built.queue.tryPop()) built.core.scheduleOne(info);
    await built.core.settle();
  };
  return { ...built, harness, drain };
}

function countByNode(binds: [string, string][]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const [, node] of binds) counts[node] = (counts[node] ?? 0) + 1;
  return counts;
}

describe('scheduling cycle', () => {
  test.each([
    [0, 50, 50],
    [0, 100, 100],
    [0, 200, 100],
    [0, 1000, 420],
    [0, 5000, 500],
    [0, 6000, 300],
    [10, 1000, 100],
    [50, 1000, 500],
    [100, 1000, 1000],
  ])('numFeasibleNodesToFind(%i%%, %i nodes) = %i', (percentage, nodes, expected) => {
    expect(numFeasibleNodesToFind(percentage, nodes)).toBe(expected);
  });

  test('10 replicas of a Deployment over 3 nodes spread 4/3/3', async () => {
    for (const seed of [1, 2, 3]) {
      const { core, harness, drain } = setup(seed);
      for (const name of ['n1', 'n2', 'n3']) core.onNodeAdd(makeNode(name, { cpu: '4', memory: '8Gi' }));
      for (let i = 0; i < 10; i++) core.onPodAdd(makePod(`web-${i}`, { ownerUid: 'rs-web', cpu: '100m', memory: '128Mi', labels: { app: 'web' } }));
      await drain();
      expect(harness.binds).toHaveLength(10);
      expect(Object.values(countByNode(harness.binds)).sort()).toEqual([3, 3, 4]);
      expect(harness.scheduledEvents[0]).toMatch(/^Successfully assigned default\/web-\d to n\d$/);
      expect(core.counters.scheduled).toBe(10);
    }
  });

  test('spreading also holds for pods without requests (best effort)', async () => {
    const { core, harness, drain } = setup();
    for (const name of ['n1', 'n2', 'n3']) core.onNodeAdd(makeNode(name));
    for (let i = 0; i < 9; i++) core.onPodAdd(makePod(`be-${i}`, { ownerUid: 'rs-be' }));
    await drain();
    expect(Object.values(countByNode(harness.binds))).toEqual([3, 3, 3]);
  });

  test('no fit: upstream message, parked until a helpful node arrives', async () => {
    const { core, queue, harness, drain } = setup();
    core.onNodeAdd(makeNode('small-1', { cpu: '1' }));
    core.onNodeAdd(makeNode('small-2', { cpu: '1' }));
    core.onNodeAdd(makeNode('lost', { cpu: '8', taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }));
    core.onPodAdd(makePod('big', { cpu: '2' }));
    await drain();
    expect(harness.failures).toEqual([['big', 'Unschedulable', '0/3 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/unreachable: }, 2 Insufficient cpu.']]);
    expect(queue.locate('default/big')).toBe('unschedulable');
    expect(core.counters.unschedulable).toBe(1);
    core.onNodeAdd(makeNode('large', { cpu: '8' }));
    expect(queue.locate('default/big')).toBe('backoff');
    harness.clock.now += 1000;
    queue.flushBackoffCompleted();
    await drain();
    expect(harness.binds).toEqual([['big', 'large']]);
  });

  test('no nodes at all', async () => {
    const { core, harness, queue, drain } = setup();
    core.onPodAdd(makePod('p'));
    await drain();
    expect(harness.failures).toEqual([['p', 'Unschedulable', 'no nodes available to schedule pods']]);
    expect(queue.locate('default/p')).toBe('backoff');
  });

  test('a failed bind un-assumes the pod and retries it after a backoff', async () => {
    const { core, harness, queue, snapshot, drain } = setup();
    core.onNodeAdd(makeNode('n1'));
    harness.bindError = Object.assign(new Error('etcdserver: request timed out'), { code: 500 });
    core.onPodAdd(makePod('p', { cpu: '1' }));
    await drain();
    expect(snapshot.nodeInfo('n1')?.requested.milliCpu).toBe(0);
    expect(queue.locate('default/p')).toBe('backoff');
    expect(harness.failures).toEqual([['p', 'SchedulerError', 'binding rejected: etcdserver: request timed out']]);
    expect(core.counters.bindFailures).toBe(1);
    harness.bindError = undefined;
    harness.clock.now += 1000;
    queue.flushBackoffCompleted();
    await drain();
    expect(harness.binds).toEqual([['p', 'n1']]);
  });

  test.each([
    ['already bound (409)', 409],
    ['deleted (404)', 404],
  ])('a bind conflict, %s, drops the pod', async (_name, code) => {
    const { core, harness, queue, snapshot, drain } = setup();
    core.onNodeAdd(makeNode('n1'));
    harness.bindError = Object.assign(new Error('conflict'), { code });
    core.onPodAdd(makePod('p', { cpu: '1' }));
    await drain();
    expect(queue.size()).toBe(0);
    expect(snapshot.numPods).toBe(0);
    expect(core.counters.bindConflicts).toBe(1);
    expect(harness.failures).toEqual([]);
  });

  test('a burst is spread using assumed pods, before any informer confirmation', async () => {
    const { core, harness, drain } = setup();
    core.onNodeAdd(makeNode('n1', { cpu: '1' }));
    core.onNodeAdd(makeNode('n2', { cpu: '1' }));
    for (let i = 0; i < 3; i++) {
      harness.clock.now += 1;
      core.onPodAdd(makePod(`p${i}`, { cpu: '600m' }));
    }
    await drain();
    // Two fit (one per node); the third sees both nodes full through the assumed pods.
    expect(harness.binds.map(([, node]) => node).sort()).toEqual(['n1', 'n2']);
    expect(harness.failures.map(([name, , message]) => [name, message])).toEqual([['p2', '0/2 nodes are available: 2 Insufficient cpu.']]);
  });

  test('informer handlers: other schedulers, bound pods, deletions', async () => {
    const { core, queue, snapshot, harness, drain } = setup();
    core.onNodeAdd(makeNode('n1', { cpu: '1' }));
    core.onPodAdd(makePod('mine-elsewhere', { schedulerName: 'other-scheduler' }));
    expect(queue.size()).toBe(0);
    const running = makePod('running', { nodeName: 'n1', cpu: '1' });
    core.onPodAdd(running);
    expect(snapshot.nodeInfo('n1')?.requested.milliCpu).toBe(1000);
    core.onPodAdd(makePod('waiting', { cpu: '1' }));
    await drain();
    expect(queue.locate('default/waiting')).toBe('unschedulable');
    core.onPodDelete(running);
    expect(queue.locate('default/waiting')).toBe('backoff');
    harness.clock.now += 1000;
    queue.flushBackoffCompleted();
    await drain();
    expect(harness.binds).toEqual([['waiting', 'n1']]);
  });

  test('a running pod that terminates frees its node', async () => {
    const { core, queue, harness, drain } = setup();
    core.onNodeAdd(makeNode('n1', { cpu: '1' }));
    const running = makePod('job', { nodeName: 'n1', cpu: '1', phase: 'Running' });
    core.onPodAdd(running);
    core.onPodAdd(makePod('next', { cpu: '1' }));
    await drain();
    core.onPodUpdate(running, { ...running, status: { phase: 'Succeeded' } });
    expect(queue.locate('default/next')).toBe('backoff');
    harness.clock.now += 1000;
    queue.flushBackoffCompleted();
    await drain();
    expect(harness.binds).toEqual([['next', 'n1']]);
  });

  test('run() schedules until stop()', async () => {
    const { core, harness } = setup();
    core.onNodeAdd(makeNode('n1'));
    const loop = core.run();
    core.onPodAdd(makePod('a'));
    core.onPodAdd(makePod('b'));
    for (let i = 0; i < 50 && harness.binds.length < 2; i++) await new Promise((resolve) => setImmediate(resolve));
    core.stop();
    await loop;
    expect(harness.binds.map(([name]) => name).sort()).toEqual(['a', 'b']);
  });
});

describe('PodPlacer', () => {
  function placerOver(nodeCount: number, seed = 7) {
    const snapshot = new ClusterSnapshot();
    for (let i = 0; i < nodeCount; i++) snapshot.setNode(makeNode(`n${i}`));
    const framework = new Framework(defaultConfiguration().profile, inTreeRegistry(), { snapshot, binder: { bind: async () => undefined } });
    const random = SeededRandom.fromSeed(seed);
    return { placer: new PodPlacer(framework, snapshot, 0, () => random.float()), snapshot };
  }

  test('stops filtering once enough feasible nodes are found, and rotates the start', () => {
    const { placer } = placerOver(1000);
    const first = placer.schedulePod(new CycleState(), newPodInfo(makePod('a')));
    expect([first.evaluatedNodes, first.feasibleNodes]).toEqual([420, 420]);
    const second = placer.schedulePod(new CycleState(), newPodInfo(makePod('b')));
    expect(second.evaluatedNodes).toBe(420);
    // The second pod looked at n420..n839, so its choice comes from there.
    expect(Number(second.suggestedHost.slice(1))).toBeGreaterThanOrEqual(420);
    expect(Number(second.suggestedHost.slice(1))).toBeLessThan(840);
  });

  test('a profile percentageOfNodesToScore overrides the adaptive value', () => {
    const snapshot = new ClusterSnapshot();
    for (let i = 0; i < 1000; i++) snapshot.setNode(makeNode(`n${i}`));
    const profile = resolveConfiguration({ profiles: [{ percentageOfNodesToScore: 20 }] }).profile;
    const placer = new PodPlacer(new Framework(profile, inTreeRegistry(), { snapshot, binder: { bind: async () => undefined } }), snapshot, 0);
    expect(placer.schedulePod(new CycleState(), newPodInfo(makePod('a'))).evaluatedNodes).toBe(200);
  });

  test('ties are broken evenly', () => {
    const { placer } = placerOver(3);
    const counts: Record<string, number> = {};
    const scores = ['a', 'b', 'c'].map((name) => ({ name, totalScore: 10, scores: [] }));
    for (let i = 0; i < 300; i++) {
      const host = placer.selectHost([...scores, { name: 'low', totalScore: 9, scores: [] }]);
      counts[host] = (counts[host] ?? 0) + 1;
    }
    expect(counts.low).toBeUndefined();
    for (const name of ['a', 'b', 'c']) expect(counts[name]).toBeGreaterThan(70);
  });
});
