import type { Taint } from '@kube-lite/api';
import { makeNode, makePod, nodeInfoOf, scoreNodes } from '../../test-fixtures';
import { TaintToleration } from '.';

describe('TaintToleration score', () => {
  const prefer = (key: string): Taint => ({ key, value: 'v', effect: 'PreferNoSchedule' });
  const nodes = () => [
    nodeInfoOf(makeNode('clean')),
    nodeInfoOf(makeNode('one', { taints: [prefer('a')] })),
    nodeInfoOf(makeNode('two', { taints: [prefer('a'), prefer('b'), { key: 'c', value: 'v', effect: 'NoSchedule' }] })),
  ];

  test.each([
    ['fewer intolerable PreferNoSchedule taints score higher', makePod('p'), { clean: 100, one: 50, two: 0 }],
    ['a tolerated taint does not count', makePod('p', { tolerations: [{ key: 'b', operator: 'Exists', effect: 'PreferNoSchedule' }] }), { clean: 100, one: 0, two: 0 }],
    ['tolerations with another effect do not count', makePod('p', { tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule' }] }), { clean: 100, one: 50, two: 0 }],
    ['everything tolerated: all nodes 100', makePod('p', { tolerations: [{ operator: 'Exists' }] }), { clean: 100, one: 100, two: 100 }],
  ])('%s', (_name, pod, expected) => {
    expect(scoreNodes(new TaintToleration(), pod, nodes())).toEqual(expected);
  });
});
