import { checkFilterTable } from '../../test-fixtures';
import { NodeReady } from '.';

describe('NodeReady', () => {
  checkFilterTable(new NodeReady(), [
    { name: 'ready node', pod: {}, node: { ready: 'True' } },
    { name: 'not ready node', pod: {}, node: { ready: 'False' }, code: 'UnschedulableAndUnresolvable', reasons: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'] },
    { name: 'unknown (unreachable) node', pod: {}, node: { ready: 'Unknown' }, code: 'UnschedulableAndUnresolvable', reasons: ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }'] },
    { name: 'node that never reported', pod: {}, node: { ready: 'missing' }, code: 'UnschedulableAndUnresolvable', reasons: ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }'] },
    {
      name: 'default NoExecute tolerations do not admit a new pod',
      pod: { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
      node: { ready: 'False' },
      code: 'UnschedulableAndUnresolvable',
    },
    { name: 'DaemonSet-style toleration admits', pod: { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }] }, node: { ready: 'False' } },
  ]);
});
