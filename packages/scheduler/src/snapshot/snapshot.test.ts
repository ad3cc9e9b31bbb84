import { makeNode, makePod } from '../test-fixtures';
import { newPodInfo } from './pod-info';
import { podNonZeroRequests, podRequests } from './resources';
import { ClusterSnapshot, SnapshotStateError } from './snapshot';

describe('pod requests', () => {
  test.each([
    ['explicit requests', makePod('p', { cpu: '250m', memory: '64Mi' }), { milliCpu: 250, memoryBytes: 64 * 1024 * 1024 }, { milliCpu: 250, memoryBytes: 64 * 1024 * 1024 }],
    ['no requests: zero, scoring defaults 100m/200Mi', makePod('p'), { milliCpu: 0, memoryBytes: 0 }, { milliCpu: 100, memoryBytes: 200 * 1024 * 1024 }],
    ['cpu only: memory default for scoring', makePod('p', { cpu: '1' }), { milliCpu: 1000, memoryBytes: 0 }, { milliCpu: 1000, memoryBytes: 200 * 1024 * 1024 }],
  ])('%s', (_name, pod, requests, nonZero) => {
    expect(podRequests(pod)).toMatchObject(requests);
    expect(podNonZeroRequests(pod)).toMatchObject(nonZero);
  });
});

describe('ClusterSnapshot', () => {
  test('sums requests and ports of the pods on a node', () => {
    const snapshot = new ClusterSnapshot();
    snapshot.setNode(makeNode('n1', { cpu: '4', memory: '8Gi', pods: 10 }));
    snapshot.setPod(makePod('a', { nodeName: 'n1', cpu: '1', hostPorts: [{ hostPort: 80 }] }));
    snapshot.setPod(makePod('b', { nodeName: 'n1', cpu: '500m', memory: '1Gi' }));
    const info = snapshot.nodeInfo('n1');
    expect(info?.allocatable).toMatchObject({ milliCpu: 4000, memoryBytes: 8 * 1024 ** 3, pods: 10 });
    expect(info?.requested).toMatchObject({ milliCpu: 1500, memoryBytes: 1024 ** 3 });
    expect(info?.pods.size).toBe(2);
    expect(info?.usedPorts.conflicts({ hostIP: '0.0.0.0', protocol: 'TCP', port: 80 })).toBe(true);
    snapshot.removePod(makePod('a', { nodeName: 'n1' }));
    expect(info?.requested.milliCpu).toBe(500);
    expect(info?.usedPorts.conflicts({ hostIP: '0.0.0.0', protocol: 'TCP', port: 80 })).toBe(false);
  });

  test('updates move a pod between nodes and terminal pods release their resources', () => {
    const snapshot = new ClusterSnapshot();
    snapshot.setNode(makeNode('n1'));
    snapshot.setNode(makeNode('n2'));
    snapshot.setPod(makePod('a', { nodeName: 'n1', cpu: '1' }));
    snapshot.setPod(makePod('a', { nodeName: 'n2', cpu: '1' }));
    expect([snapshot.nodeInfo('n1')?.requested.milliCpu, snapshot.nodeInfo('n2')?.requested.milliCpu]).toEqual([0, 1000]);
    snapshot.setPod(makePod('a', { nodeName: 'n2', cpu: '1', phase: 'Succeeded' }));
    expect(snapshot.nodeInfo('n2')?.pods.size).toBe(0);
    expect(snapshot.numPods).toBe(0);
  });

  test('assume, confirm through the informer, and forget', () => {
    const snapshot = new ClusterSnapshot();
    snapshot.setNode(makeNode('n1'));
    const pending = makePod('p', { cpu: '1' });
    const info = newPodInfo(pending);
    snapshot.assumePod(info, 'n1');
    expect(snapshot.isAssumed(info.key)).toBe(true);
    expect(snapshot.nodeInfo('n1')?.requested.milliCpu).toBe(1000);
    expect(() => snapshot.assumePod(info, 'n1')).toThrow(SnapshotStateError);
    snapshot.forgetPod(info.key);
    expect(snapshot.nodeInfo('n1')?.requested.milliCpu).toBe(0);
    snapshot.assumePod(info, 'n1');
    snapshot.finishBinding(info.key);
    snapshot.setPod({ ...pending, spec: { ...pending.spec, containers: pending.spec?.containers ?? [], nodeName: 'n1' } });
    expect(snapshot.isAssumed(info.key)).toBe(false);
    expect(snapshot.nodeInfo('n1')?.requested.milliCpu).toBe(1000);
    expect(() => snapshot.forgetPod(info.key)).toThrow(/bound, not assumed/);
  });

  test('removing a node keeps its pods accounted until they go', () => {
    const snapshot = new ClusterSnapshot();
    snapshot.setNode(makeNode('n1'));
    snapshot.setPod(makePod('a', { nodeName: 'n1', cpu: '1' }));
    snapshot.removeNode('n1');
    expect(snapshot.numNodes).toBe(0);
    expect(snapshot.nodeInfo('n1')).toBeUndefined();
    snapshot.setNode(makeNode('n1'));
    expect(snapshot.nodeInfo('n1')?.requested.milliCpu).toBe(1000);
  });

  test('a pod may arrive before its node', () => {
    const snapshot = new ClusterSnapshot();
    snapshot.setPod(makePod('a', { nodeName: 'later', cpu: '1' }));
    expect(snapshot.numNodes).toBe(0);
    snapshot.setNode(makeNode('later'));
    expect(snapshot.nodeInfos().map((n) => [n.name, n.requested.milliCpu])).toEqual([['later', 1000]]);
  });
});
