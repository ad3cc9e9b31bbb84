import type { NodeSelectorRequirement, NodeSelectorTerm } from '@kube-lite/api';
import { checkFilterTable, makeNode, makePod, nodeInfoOf, scoreNodes } from '../../test-fixtures';
import { NodeAffinity, REASON_POD } from '.';

const required = (...terms: NodeSelectorTerm[]) => ({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } });
const term = (...matchExpressions: NodeSelectorRequirement[]): NodeSelectorTerm => ({ matchExpressions });
const REJECTED = { code: 'UnschedulableAndUnresolvable', reasons: [REASON_POD] };

describe('NodeAffinity filter', () => {
  checkFilterTable(new NodeAffinity(), [
    { name: 'no selector or affinity', pod: {}, node: {} },
    { name: 'nodeSelector matches', pod: { nodeSelector: { disk: 'ssd' } }, node: { labels: { disk: 'ssd' } } },
    { name: 'nodeSelector value differs', pod: { nodeSelector: { disk: 'ssd' } }, node: { labels: { disk: 'hdd' } }, ...REJECTED },
    { name: 'nodeSelector label missing', pod: { nodeSelector: { disk: 'ssd' } }, node: {}, ...REJECTED },
    { name: 'In matches', pod: { affinity: required(term({ key: 'zone', operator: 'In', values: ['a', 'b'] })) }, node: { labels: { zone: 'b' } } },
    { name: 'In does not match', pod: { affinity: required(term({ key: 'zone', operator: 'In', values: ['a'] })) }, node: { labels: { zone: 'b' } }, ...REJECTED },
    { name: 'NotIn with the label absent', pod: { affinity: required(term({ key: 'zone', operator: 'NotIn', values: ['a'] })) }, node: {} },
    { name: 'NotIn with a listed value', pod: { affinity: required(term({ key: 'zone', operator: 'NotIn', values: ['a'] })) }, node: { labels: { zone: 'a' } }, ...REJECTED },
    { name: 'Exists', pod: { affinity: required(term({ key: 'gpu', operator: 'Exists' })) }, node: { labels: { gpu: '' } } },
    { name: 'DoesNotExist', pod: { affinity: required(term({ key: 'gpu', operator: 'DoesNotExist' })) }, node: { labels: { gpu: 'x' } }, ...REJECTED },
    { name: 'Gt', pod: { affinity: required(term({ key: 'cores', operator: 'Gt', values: ['8'] })) }, node: { labels: { cores: '16' } } },
    { name: 'Gt compares numbers, not strings', pod: { affinity: required(term({ key: 'cores', operator: 'Gt', values: ['8'] })) }, node: { labels: { cores: '10' } } },
    { name: 'Lt fails when equal', pod: { affinity: required(term({ key: 'cores', operator: 'Lt', values: ['8'] })) }, node: { labels: { cores: '8' } }, ...REJECTED },
    { name: 'Gt on a non-numeric label', pod: { affinity: required(term({ key: 'cores', operator: 'Gt', values: ['8'] })) }, node: { labels: { cores: 'many' } }, ...REJECTED },
    { name: 'malformed requirement (In without values) matches nothing', pod: { affinity: required(term({ key: 'zone', operator: 'In', values: [] })) }, node: { labels: { zone: 'a' } }, ...REJECTED },
    {
      name: 'terms are ORed',
      pod: { affinity: required(term({ key: 'zone', operator: 'In', values: ['x'] }), term({ key: 'zone', operator: 'In', values: ['a'] })) },
      node: { labels: { zone: 'a' } },
    },
    {
      name: 'requirements of a term are ANDed',
      pod: { affinity: required(term({ key: 'zone', operator: 'In', values: ['a'] }, { key: 'disk', operator: 'In', values: ['ssd'] })) },
      node: { labels: { zone: 'a' } },
      ...REJECTED,
    },
    { name: 'an empty term matches nothing', pod: { affinity: required({}) }, node: {}, ...REJECTED },
    { name: 'no terms at all match nothing', pod: { affinity: required() }, node: {}, ...REJECTED },
    { name: 'matchFields metadata.name', pod: { affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }) }, node: {} },
    { name: 'matchFields other name', pod: { affinity: required({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }) }, node: {}, ...REJECTED },
    {
      name: 'nodeSelector and affinity must both match',
      pod: { nodeSelector: { disk: 'ssd' }, affinity: required(term({ key: 'zone', operator: 'In', values: ['a'] })) },
      node: { labels: { zone: 'a' } },
      ...REJECTED,
    },
  ]);
});

describe('NodeAffinity score', () => {
  const nodes = () => [
    nodeInfoOf(makeNode('ssd-a', { labels: { disk: 'ssd', zone: 'a' } })),
    nodeInfoOf(makeNode('ssd-b', { labels: { disk: 'ssd', zone: 'b' } })),
    nodeInfoOf(makeNode('hdd-b', { labels: { disk: 'hdd', zone: 'b' } })),
  ];

  test('weights of matching preferred terms, normalized to 100', () => {
    const pod = makePod('p', {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 3, preference: term({ key: 'disk', operator: 'In', values: ['ssd'] }) },
            { weight: 1, preference: term({ key: 'zone', operator: 'In', values: ['a'] }) },
          ],
        },
      },
    });
    // raw 4, 3, 0 -> 100, 75, 0.
    expect(scoreNodes(new NodeAffinity(), pod, nodes())).toEqual({ 'ssd-a': 100, 'ssd-b': 75, 'hdd-b': 0 });
  });

  test('no preferred terms: skipped', () => {
    expect(scoreNodes(new NodeAffinity(), makePod('p'), nodes())).toBe('skip');
  });
});
