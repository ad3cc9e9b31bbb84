import type { Pod } from '@kube-lite/api';
import { defaultConfiguration } from '../config';
import { ActionType, Framework, nodeAddEvent, nodeUpdateEvent, assignedPodDeleteEvent, type QueuedPodInfo } from '../framework';
import { inTreeRegistry } from '../plugins';
import { ClusterSnapshot } from '../snapshot';
import { makeNode, makePod } from '../test-fixtures';
import { KeyedHeap } from './heap';
import { SchedulingQueue, type SchedulingQueueOptions } from './scheduling-queue';

const framework = new Framework(defaultConfiguration().profile, inTreeRegistry(), { snapshot: new ClusterSnapshot(), binder: { bind: async () => undefined } });

function setup(options: Partial<SchedulingQueueOptions> = {}) {
  const clock = { now: 1_000_000 };
  const queue = new SchedulingQueue({ less: (a, b) => framework.less(a, b), nowMs: () => clock.now, eventsByPlugin: framework.eventsByPlugin(), ...options });
  return { queue, clock };
}

const names = (infos: (QueuedPodInfo | undefined)[]) => infos.map((info) => info?.podInfo.name);

/** Pops the pod and puts it back as rejected by `plugins` (an empty list is an error). */
function failAttempt(queue: SchedulingQueue, plugins: string[]): QueuedPodInfo {
  const info = queue.tryPop();
  if (!info) throw new Error('nothing to pop');
  info.unschedulablePlugins = new Set(plugins);
  queue.addUnschedulableIfNotPresent(info);
  return info;
}

describe('KeyedHeap', () => {
  test('orders, updates and deletes by key', () => {
    const heap = new KeyedHeap<number>((a, b) => a < b);
    [5, 3, 8, 1, 9, 2].forEach((n) => heap.push(`k${n}`, n));
    heap.push('k8', 0);
    heap.delete('k3');
    const out: number[] = [];
    while (heap.size > 0) out.push(heap.pop() as number);
    expect(out).toEqual([0, 1, 2, 5, 9]);
  });
});

describe('SchedulingQueue', () => {
  test('activeQ pops by priority, then by arrival', () => {
    const { queue, clock } = setup();
    queue.add(makePod('low-early', { priority: 0 }));
    clock.now += 1;
    queue.add(makePod('high', { priority: 100 }));
    clock.now += 1;
    queue.add(makePod('low-late', { priority: 0 }));
    expect(names([queue.tryPop(), queue.tryPop(), queue.tryPop(), queue.tryPop()])).toEqual(['high', 'low-early', 'low-late', undefined]);
  });

  test('a pod is queued once; adding it again updates it', () => {
    const { queue } = setup();
    queue.add(makePod('p', { cpu: '1' }));
    queue.add(makePod('p', { cpu: '2' }));
    expect(queue.counts().active).toBe(1);
    expect(queue.tryPop()?.podInfo.requests.milliCpu).toBe(2000);
  });

  test('pop() waits for a pod and resolves undefined once closed', async () => {
    const { queue } = setup();
    const waiting = queue.pop();
    queue.add(makePod('late'));
    expect((await waiting)?.podInfo.name).toBe('late');
    expect(queue.locate('default/late')).toBe('inFlight');
    const pending = queue.pop();
    queue.close();
    expect(await pending).toBeUndefined();
  });

  test.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [4, 8000],
    [5, 10_000],
    [9, 10_000],
  ])('backoff after attempt %i is %i ms', (attempts, expected) => {
    const { queue } = setup();
    expect(queue.backoffDurationMs({ attempts } as QueuedPodInfo)).toBe(expected);
  });

  test('an error sends the pod to backoffQ until its backoff ends', () => {
    const { queue, clock } = setup();
    queue.add(makePod('p'));
    failAttempt(queue, []);
    expect(queue.locate('default/p')).toBe('backoff');
    clock.now += 999;
    queue.flushBackoffCompleted();
    expect(queue.locate('default/p')).toBe('backoff');
    clock.now += 1;
    queue.flushBackoffCompleted();
    expect(queue.locate('default/p')).toBe('active');
    // Second failure: 2 s.
    failAttempt(queue, []);
    clock.now += 1999;
    queue.flushBackoffCompleted();
    expect(queue.locate('default/p')).toBe('backoff');
    clock.now += 1;
    queue.flushBackoffCompleted();
    expect(queue.tryPop()?.attempts).toBe(3);
  });

  test('an unschedulable pod waits for an event its rejecting plugin registered', () => {
    const { queue, clock } = setup();
    queue.add(makePod('p', { cpu: '8' }));
    failAttempt(queue, ['NodeResourcesFit']);
    expect(queue.locate('default/p')).toBe('unschedulable');
    // A label change does not concern NodeResourcesFit.
    queue.onClusterEvent({ resource: 'Node', actions: ActionType.UpdateNodeLabel }, makeNode('n'), makeNode('n'));
    expect(queue.locate('default/p')).toBe('unschedulable');
    // A pod leaving a node does; the pod still backs off first.
    queue.onClusterEvent(assignedPodDeleteEvent(), makePod('gone', { nodeName: 'n' }), undefined);
    expect(queue.locate('default/p')).toBe('backoff');
    clock.now += 1000;
    queue.flushBackoffCompleted();
    expect(queue.locate('default/p')).toBe('active');
  });

  test('queueing hints skip events that cannot help', () => {
    const { queue, clock } = setup();
    const taint = { key: 'dedicated', value: 'x', effect: 'NoSchedule' as const };
    queue.add(makePod('p'));
    failAttempt(queue, ['TaintToleration']);
    clock.now += 5000;
    queue.onClusterEvent(nodeAddEvent(), undefined, makeNode('tainted', { taints: [taint] }));
    expect(queue.locate('default/p')).toBe('unschedulable');
    const event = nodeUpdateEvent(makeNode('tainted', { taints: [taint] }), makeNode('tainted'));
    expect(event?.actions).toBe(ActionType.UpdateNodeTaint);
    queue.onClusterEvent(event as NonNullable<typeof event>, makeNode('tainted', { taints: [taint] }), makeNode('tainted'));
    expect(queue.locate('default/p')).toBe('active');
  });

  test('a node becoming Ready brings back pods NodeReady rejected', () => {
    const { queue, clock } = setup();
    queue.add(makePod('p'));
    failAttempt(queue, ['NodeReady']);
    clock.now += 5000;
    const event = nodeUpdateEvent(makeNode('n', { ready: 'False' }), makeNode('n', { ready: 'True' }));
    queue.onClusterEvent(event as NonNullable<typeof event>, makeNode('n', { ready: 'False' }), makeNode('n', { ready: 'True' }));
    expect(queue.locate('default/p')).toBe('active');
  });

  test('pods parked longer than podMaxInUnschedulablePodsDuration are retried', () => {
    const { queue, clock } = setup({ podMaxInUnschedulablePodsDurationMs: 60_000 });
    queue.add(makePod('p'));
    failAttempt(queue, ['NodeAffinity']);
    clock.now += 60_000;
    queue.flushUnschedulablePodsLeftover();
    expect(queue.locate('default/p')).toBe('unschedulable');
    clock.now += 1;
    queue.flushUnschedulablePodsLeftover();
    expect(queue.locate('default/p')).toBe('active');
  });

  test('an event during the attempt is not lost', () => {
    const { queue } = setup();
    queue.add(makePod('helped', { cpu: '8' }));
    queue.add(makePod('unhelped', { cpu: '8' }));
    const helped = queue.tryPop() as QueuedPodInfo;
    const unhelped = queue.tryPop() as QueuedPodInfo;
    // While both are being scheduled, a node is added (helps NodeResourcesFit, not NodeAffinity with a mismatching selector).
    queue.onClusterEvent(nodeAddEvent(), undefined, makeNode('new'));
    helped.unschedulablePlugins = new Set(['NodeResourcesFit']);
    queue.addUnschedulableIfNotPresent(helped);
    unhelped.podInfo = { ...unhelped.podInfo, pod: makePod('unhelped', { nodeSelector: { disk: 'ssd' } }) };
    unhelped.unschedulablePlugins = new Set(['NodeAffinity']);
    queue.addUnschedulableIfNotPresent(unhelped);
    expect(queue.locate('default/helped')).toBe('backoff');
    expect(queue.locate('default/unhelped')).toBe('unschedulable');
  });

  test('events older than the attempt do not count', () => {
    const { queue } = setup();
    queue.add(makePod('a'));
    queue.add(makePod('b'));
    const first = queue.tryPop() as QueuedPodInfo;
    queue.onClusterEvent(nodeAddEvent(), undefined, makeNode('n'));
    const second = queue.tryPop() as QueuedPodInfo;
    for (const info of [first, second]) {
      info.unschedulablePlugins = new Set(['NodeResourcesFit']);
      queue.addUnschedulableIfNotPresent(info);
    }
    expect([queue.locate('default/a'), queue.locate('default/b')]).toEqual(['backoff', 'unschedulable']);
  });

  test('an update during the attempt is kept and retried', () => {
    const { queue } = setup();
    const original = makePod('p', { nodeSelector: { disk: 'ssd' } });
    queue.add(original);
    const info = queue.tryPop() as QueuedPodInfo;
    const fixed: Pod = makePod('p', { nodeSelector: { disk: 'hdd' } });
    queue.update(original, fixed);
    info.unschedulablePlugins = new Set(['NodeAffinity']);
    queue.addUnschedulableIfNotPresent(info);
    expect(queue.locate('default/p')).toBe('backoff');
    expect(queue.pendingPods()[0]?.podInfo.pod.spec?.nodeSelector).toEqual({ disk: 'hdd' });
  });

  test('a resync of an unchanged pod during its attempt does not count as an update', () => {
    const { queue } = setup();
    const pod = makePod('p', { nodeSelector: { disk: 'ssd' } });
    queue.add(pod);
    const info = queue.tryPop() as QueuedPodInfo;
    queue.add(pod);
    info.unschedulablePlugins = new Set(['NodeAffinity']);
    queue.addUnschedulableIfNotPresent(info);
    expect(queue.locate('default/p')).toBe('unschedulable');
  });

  test('a pod deleted during its attempt is not requeued', () => {
    const { queue } = setup();
    queue.add(makePod('p'));
    const info = queue.tryPop() as QueuedPodInfo;
    queue.delete(makePod('p'));
    queue.addUnschedulableIfNotPresent(info);
    expect(queue.size()).toBe(0);
  });

  test('updating an unschedulable pod: spec changes move it, status changes do not', () => {
    const { queue, clock } = setup();
    const pod = makePod('p', { nodeSelector: { disk: 'ssd' } });
    queue.add(pod);
    failAttempt(queue, ['NodeAffinity']);
    clock.now += 5000;
    queue.update(pod, { ...pod, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } });
    expect(queue.locate('default/p')).toBe('unschedulable');
    queue.update(pod, makePod('p'));
    expect(queue.locate('default/p')).toBe('active');
  });

  test('the queue is bounded', () => {
    const { queue } = setup({ maxPods: 2 });
    expect([queue.add(makePod('a')), queue.add(makePod('b')), queue.add(makePod('c'))]).toEqual([true, true, false]);
    expect(queue.droppedPods).toBe(1);
  });

  test('overflowing the in-flight event log retries conservatively', () => {
    const { queue } = setup({ maxInFlightEvents: 2 });
    queue.add(makePod('p'));
    const info = queue.tryPop() as QueuedPodInfo;
    for (let i = 0; i < 3; i++) queue.onClusterEvent({ resource: 'Node', actions: ActionType.UpdateNodeAnnotation }, makeNode('n'), makeNode('n'));
    info.unschedulablePlugins = new Set(['NodeAffinity']);
    queue.addUnschedulableIfNotPresent(info);
    expect(queue.locate('default/p')).toBe('backoff');
  });

  test('done() ends tracking of a bound pod', () => {
    const { queue } = setup();
    queue.add(makePod('p'));
    queue.tryPop();
    queue.done(makePod('p'));
    expect(queue.counts()).toEqual({ active: 0, backoff: 0, unschedulable: 0, inFlight: 0 });
  });
});
