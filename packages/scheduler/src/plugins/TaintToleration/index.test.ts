import { checkFilterTable } from '../../test-fixtures';
import { TaintToleration } from '.';

describe('TaintToleration filter', () => {
  checkFilterTable(new TaintToleration(), [
    { name: 'no taints', pod: {}, node: {} },
    {
      name: 'NoSchedule taint not tolerated',
      pod: {},
      node: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      code: 'UnschedulableAndUnresolvable',
      reasons: ['node(s) had untolerated taint {dedicated: gpu}'],
    },
    {
      name: 'NoExecute taint with empty value',
      pod: {},
      node: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] },
      code: 'UnschedulableAndUnresolvable',
      reasons: ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }'],
    },
    { name: 'PreferNoSchedule does not filter', pod: {}, node: { taints: [{ key: 'k', value: 'v', effect: 'PreferNoSchedule' }] } },
    {
      name: 'Equal toleration with the value',
      pod: { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] },
      node: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
    },
    {
      name: 'Equal toleration with another value',
      pod: { tolerations: [{ key: 'dedicated', value: 'cpu' }] },
      node: { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
      code: 'UnschedulableAndUnresolvable',
    },
    { name: 'empty key with Exists tolerates everything', pod: { tolerations: [{ operator: 'Exists' }] }, node: { taints: [{ key: 'a', value: 'b', effect: 'NoExecute' }] } },
    {
      name: 'first untolerated taint is reported',
      pod: { tolerations: [{ key: 'a', operator: 'Exists' }] },
      node: {
        taints: [
          { key: 'a', value: '1', effect: 'NoSchedule' },
          { key: 'b', value: '2', effect: 'NoSchedule' },
          { key: 'c', value: '3', effect: 'NoSchedule' },
        ],
      },
      code: 'UnschedulableAndUnresolvable',
      reasons: ['node(s) had untolerated taint {b: 2}'],
    },
  ]);
});
