import { formatTime, type Node, type Taint, type Toleration } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, node, nodeLease, pod, START_MS } from '../../test-support';
import { NodeLifecycleController } from './controller';
import { desiredTaints, evictionDeadlineMs, tolerates } from './taints';

const GRACE_MS = 40_000;

async function setup(objects: Parameters<typeof fixture>[0]) {
  const f = fixture(objects, { nodeMonitorGracePeriodMs: GRACE_MS });
  const controller = new NodeLifecycleController(f.context);
  await f.start();
  return { f, controller };
}

const stored = (f: ReturnType<typeof fixture>, name = 'n1') => f.client.peek<Node>(RESOURCES.nodes, undefined, name) as Node;
const taintKeys = (n: Node) => (n.spec?.taints ?? []).map((taint) => `${taint.key}:${taint.effect}`);
const tolerate = (key: string, seconds?: number): Toleration => ({ key, operator: 'Exists', effect: 'NoExecute', ...(seconds === undefined ? {} : { tolerationSeconds: seconds }) });

describe('taints and tolerations', () => {
  const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: formatTime(START_MS) };
  test.each<[string, Toleration, Taint, boolean]>([
    ['Exists with the key', tolerate('node.kubernetes.io/unreachable'), unreachable, true],
    ['Exists with another key', tolerate('node.kubernetes.io/not-ready'), unreachable, false],
    ['empty key Exists tolerates all', { operator: 'Exists' }, unreachable, true],
    ['other effect', { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoSchedule' }, unreachable, false],
    ['Equal with the same value', { key: 'k', operator: 'Equal', value: 'v' }, { key: 'k', value: 'v', effect: 'NoExecute' }, true],
    ['Equal with another value', { key: 'k', value: 'w' }, { key: 'k', value: 'v', effect: 'NoExecute' }, false],
  ])('%s', (_name, toleration, taint, expected) => {
    expect(tolerates(toleration, taint)).toBe(expected);
  });

  test.each<[string, Toleration[], number]>([
    ['no toleration: at once', [], START_MS + 5000],
    ['tolerated for 300 s: timeAdded + 300 s', [tolerate('node.kubernetes.io/unreachable', 300)], START_MS + 300_000],
    ['tolerated forever', [tolerate('node.kubernetes.io/unreachable')], Infinity],
    ['negative seconds count as 0', [tolerate('node.kubernetes.io/unreachable', -5)], START_MS],
  ])('eviction deadline: %s', (_name, tolerations, expected) => {
    expect(evictionDeadlineMs([unreachable], tolerations, START_MS + 5000, () => START_MS)).toBe(expected);
  });

  test.each<[string, Node, string[]]>([
    ['ready: none', node('n', 'True'), []],
    ['Ready=False: not-ready', node('n', 'False'), ['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']],
    ['Ready=Unknown: unreachable', node('n', 'Unknown'), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']],
    ['back to ready: ours removed, the user taint kept', node('n', 'True', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }, { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }), ['dedicated:NoSchedule']],
  ])('desired taints: %s', (_name, given, expected) => {
    expect(desiredTaints(given, formatTime(START_MS)).map((taint) => `${taint.key}:${taint.effect}`)).toEqual(expected);
  });
});

describe('node lifecycle controller', () => {
  test('a node whose lease stops being renewed goes Ready=Unknown and tainted; pods are evicted as their tolerations run out', async () => {
    const tolerant = pod('tolerant', { nodeName: 'n1', ready: true, tolerations: [tolerate('node.kubernetes.io/unreachable', 300), tolerate('node.kubernetes.io/not-ready', 300)] });
    const intolerant = pod('intolerant', { nodeName: 'n1', ready: true, tolerations: [] });
    const forever = pod('forever', { nodeName: 'n1', ready: true, tolerations: [{ operator: 'Exists' }] });
    const { f, controller } = await setup([node('n1', 'True'), nodeLease('n1', START_MS), tolerant, intolerant, forever]);
    await controller.sync('node:n1');
    expect(f.writeSummary()).toEqual([]);

    // Within the grace period nothing happens.
    f.clock.advanceBy(GRACE_MS);
    await controller.sync('node:n1');
    expect(f.writeSummary()).toEqual([]);

    f.clock.advanceBy(1000);
    await controller.sync('node:n1');
    expect(f.writeSummary()).toEqual(['update nodes/status n1', 'patch nodes n1']);
    const n1 = stored(f);
    expect(n1.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message])).toEqual([
      ['Ready', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
      ['MemoryPressure', 'Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.'],
    ]);
    expect(taintKeys(n1)).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    expect(n1.spec?.taints?.[0]?.timeAdded).toBe(formatTime(START_MS + GRACE_MS + 1000));

    await f.settle();
    f.client.clearActions();
    for (const name of ['tolerant', 'intolerant', 'forever']) await controller.sync(`pod:default/${name}`);
    expect(f.writeSummary()).toEqual(['delete pods default/intolerant']);
    expect(await f.eventReasons()).toEqual(['NodeNotReady', 'TaintManagerEviction']);

    f.clock.advanceBy(299_000);
    await controller.sync('pod:default/tolerant');
    expect(f.writeSummary()).toEqual(['delete pods default/intolerant']);
    f.clock.advanceBy(1000);
    await controller.sync('pod:default/tolerant');
    await controller.sync('pod:default/forever');
    expect(f.writeSummary()).toEqual(['delete pods default/intolerant', 'delete pods default/tolerant']);
    await f.stop();
  });

  test('the taints go when the node is back', async () => {
    const taints: Taint[] = [
      { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: formatTime(START_MS - 10_000) },
      { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    ];
    const { f, controller } = await setup([node('n1', 'True', { taints }), nodeLease('n1', START_MS)]);
    await controller.sync('node:n1');
    expect(f.writeSummary()).toEqual(['patch nodes n1']);
    expect(taintKeys(stored(f))).toEqual([]);
    await f.stop();
  });

  test('a kubelet reporting Ready=False gets the not-ready taints without the status being touched', async () => {
    const { f, controller } = await setup([node('n1', 'False'), nodeLease('n1', START_MS)]);
    await controller.sync('node:n1');
    expect(f.writeSummary()).toEqual(['patch nodes n1']);
    expect(taintKeys(stored(f))).toEqual(['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']);
    await f.stop();
  });

  test('a renewed lease keeps a node healthy past the grace period', async () => {
    const { f, controller } = await setup([node('n1', 'True'), nodeLease('n1', START_MS)]);
    await controller.sync('node:n1');
    f.clock.advanceBy(30_000);
    await f.client.leases('kube-node-lease').update(nodeLease('n1', START_MS + 30_000));
    await f.settle();
    await controller.sync('node:n1');
    f.clock.advanceBy(30_000);
    await controller.sync('node:n1');
    expect(f.writeSummary()).toEqual(['update leases kube-node-lease/n1']);
    await f.stop();
  });
});
