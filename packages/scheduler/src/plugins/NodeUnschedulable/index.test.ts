import { checkFilterTable } from '../../test-fixtures';
import { NodeUnschedulable } from '.';

describe('NodeUnschedulable', () => {
  checkFilterTable(new NodeUnschedulable(), [
    { name: 'schedulable node', pod: {}, node: {} },
    { name: 'cordoned node', pod: {}, node: { unschedulable: true }, code: 'UnschedulableAndUnresolvable', reasons: ['node(s) were unschedulable'] },
    {
      name: 'cordoned node, pod tolerates the unschedulable taint',
      pod: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] },
      node: { unschedulable: true },
    },
    {
      name: 'cordoned node, toleration with another effect',
      pod: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }] },
      node: { unschedulable: true },
      code: 'UnschedulableAndUnresolvable',
    },
  ]);
});
