import type { Service } from '@kube-lite/api';
import { ClusterSnapshot } from '../../snapshot';
import { makeNode, makePod, scoreNodes, type NodeOptions } from '../../test-fixtures';
import { SelectorSpread } from '.';

function snapshotWith(nodes: [string, NodeOptions][], podsPerNode: Record<string, { owner?: string; labels?: Record<string, string>; namespace?: string }[]>): ClusterSnapshot {
  const snapshot = new ClusterSnapshot();
  for (const [name, options] of nodes) snapshot.setNode(makeNode(name, options));
  let i = 0;
  for (const [node, pods] of Object.entries(podsPerNode)) {
    for (const pod of pods) snapshot.setPod(makePod(`existing-${i++}`, { nodeName: node, ownerUid: pod.owner, labels: pod.labels, namespace: pod.namespace }));
  }
  return snapshot;
}

describe('SelectorSpread', () => {
  test('fewer pods of the same owner score higher', () => {
    const snapshot = snapshotWith([['n1', {}], ['n2', {}], ['n3', {}]], { n1: [{ owner: 'rs1' }, { owner: 'rs1' }, { owner: 'other' }], n2: [{ owner: 'rs1' }] });
    const plugin = new SelectorSpread({ snapshot });
    // counts 2, 1, 0 -> 100*(2-c)/2.
    expect(scoreNodes(plugin, makePod('p', { ownerUid: 'rs1' }), [...snapshot.nodeInfos()])).toEqual({ n1: 0, n2: 50, n3: 100 });
  });

  test('zones weigh two thirds', () => {
    const snapshot = snapshotWith(
      [
        ['n1', { labels: { 'topology.kubernetes.io/zone': 'a' } }],
        ['n2', { labels: { 'topology.kubernetes.io/zone': 'a' } }],
        ['n3', { labels: { 'topology.kubernetes.io/zone': 'b' } }],
      ],
      { n1: [{ owner: 'rs1' }, { owner: 'rs1' }], n2: [{ owner: 'rs1' }] },
    );
    // node scores 0, 50, 100; zone a holds 3 of max 3 -> 0, zone b -> 100.
    expect(scoreNodes(new SelectorSpread({ snapshot }), makePod('p', { ownerUid: 'rs1' }), [...snapshot.nodeInfos()])).toEqual({ n1: 0, n2: 16, n3: 100 });
  });

  test('pods of a Service selecting the pod count, in the same namespace only', () => {
    const snapshot = snapshotWith([['n1', {}], ['n2', {}]], {
      n1: [{ labels: { app: 'web' } }, { labels: { app: 'web' }, namespace: 'other' }],
      n2: [{ labels: { app: 'db' } }],
    });
    const service: Service = { metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' } } };
    const plugin = new SelectorSpread({ snapshot, services: { list: (ns) => (ns === 'default' ? [service] : []) } });
    expect(scoreNodes(plugin, makePod('p', { labels: { app: 'web' } }), [...snapshot.nodeInfos()])).toEqual({ n1: 0, n2: 100 });
  });

  test('a pod with no owner and no Service is skipped', () => {
    const snapshot = snapshotWith([['n1', {}]], {});
    expect(scoreNodes(new SelectorSpread({ snapshot }), makePod('p'), [...snapshot.nodeInfos()])).toBe('skip');
  });
});
