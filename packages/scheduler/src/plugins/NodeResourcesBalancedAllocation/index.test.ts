import { makeNode, makePod, nodeInfoOf, scoreNodes } from '../../test-fixtures';
import { balancedResourceScorer } from '../NodeResourcesFit/scorers';
import { newNodeResourcesBalancedAllocation } from '.';

describe('NodeResourcesBalancedAllocation', () => {
  const plugin = newNodeResourcesBalancedAllocation(undefined);

  test('upstream example: pod 3000m/5000 on 4000m/10000 and 6000m/10000', () => {
    const nodes = [nodeInfoOf(makeNode('node1', { cpu: '4000m', memory: '10000' })), nodeInfoOf(makeNode('node2', { cpu: '6000m', memory: '10000' }))];
    // node1: fractions 0.75 and 0.5, std 0.125 -> 87; node2: 0.5 and 0.5 -> 100.
    expect(scoreNodes(plugin, makePod('p', { cpu: '3000m', memory: '5000' }), nodes)).toEqual({ node1: 87, node2: 100 });
  });

  test('counts what is already on the node', () => {
    const node = nodeInfoOf(makeNode('n', { cpu: '4', memory: '4Gi' }), [makePod('x', { cpu: '2' })]);
    // cpu (2+1)/4 = 0.75, memory 1/4 = 0.25: std 0.25 -> 75.
    expect(scoreNodes(plugin, makePod('p', { cpu: '1', memory: '1Gi' }), [node])).toEqual({ n: 75 });
  });

  test('best-effort pods skip the plugin', () => {
    expect(scoreNodes(plugin, makePod('p'), [nodeInfoOf(makeNode('n'))])).toBe('skip');
  });

  test.each([
    ['two resources', [1, 1], [2, 4], 87],
    ['fractions capped at 1', [8, 1], [4, 4], 62],
    ['three resources use the standard deviation', [1, 2, 3], [4, 4, 4], 79],
    ['a resource the node lacks is ignored', [1, 5], [2, 0], 100],
  ])('scorer: %s', (_name, requested, allocatable, expected) => {
    expect(balancedResourceScorer(requested, allocatable)).toBe(expected);
  });
});
