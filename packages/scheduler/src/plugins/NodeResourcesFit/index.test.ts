import { makeNode, makePod, nodeInfoOf, runFilter, scoreNodes, type FilterCase } from '../../test-fixtures';
import { newNodeResourcesFit, parseNodeResourcesFitArgs } from '.';

describe('NodeResourcesFit filter', () => {
  const plugin = newNodeResourcesFit(undefined);
  const cases: FilterCase[] = [
    { name: 'fits an empty node', pod: { cpu: '1', memory: '1Gi' }, node: { cpu: '2', memory: '2Gi' } },
    { name: 'fits exactly', pod: { cpu: '1', memory: '1Gi' }, node: { cpu: '2', memory: '2Gi' }, existing: [{ cpu: '1', memory: '1Gi' }] },
    { name: 'insufficient cpu', pod: { cpu: '1500m' }, node: { cpu: '2' }, existing: [{ cpu: '1' }], code: 'Unschedulable', reasons: ['Insufficient cpu'] },
    {
      name: 'insufficient cpu and memory, upstream order',
      pod: { cpu: '3', memory: '3Gi' },
      node: { cpu: '2', memory: '2Gi' },
      code: 'Unschedulable',
      reasons: ['Insufficient cpu', 'Insufficient memory'],
    },
    { name: 'too many pods, even with no requests', pod: {}, node: { pods: 1 }, existing: [{}], code: 'Unschedulable', reasons: ['Too many pods'] },
    { name: 'too many pods listed first', pod: { cpu: '5' }, node: { pods: 1, cpu: '4' }, existing: [{}], code: 'Unschedulable', reasons: ['Too many pods', 'Insufficient cpu'] },
    { name: 'a pod without requests fits a full node', pod: {}, node: { cpu: '1' }, existing: [{ cpu: '1' }] },
    { name: 'a pod without requests fits an overcommitted node', pod: {}, node: { cpu: '1', memory: '1Gi' }, existing: [{ cpu: '2', memory: '2Gi' }] },
    { name: 'a pod asking for memory only ignores overcommitted cpu', pod: { memory: '1Gi' }, node: { cpu: '1', memory: '2Gi' }, existing: [{ cpu: '2' }] },
    { name: 'extended resource missing on node', pod: { extra: { 'example.com/gpu': '1' } }, node: {}, code: 'Unschedulable', reasons: ['Insufficient example.com/gpu'] },
    { name: 'extended resource available', pod: { extra: { 'example.com/gpu': '1' } }, node: { extra: { 'example.com/gpu': '2' } } },
    { name: 'ephemeral storage', pod: { extra: { 'ephemeral-storage': '2Gi' } }, node: { extra: { 'ephemeral-storage': '1Gi' } }, code: 'Unschedulable', reasons: ['Insufficient ephemeral-storage'] },
  ];
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    const result = runFilter(plugin, testCase);
    expect(result.code).toBe(testCase.code);
    if (testCase.reasons) expect(result.reasons).toEqual(testCase.reasons);
  });

  test('ignoredResources and ignoredResourceGroups', () => {
    const ignoring = newNodeResourcesFit({ ignoredResources: ['example.com/gpu'], ignoredResourceGroups: ['vendor.io'] });
    expect(runFilter(ignoring, { name: '', pod: { extra: { 'example.com/gpu': '1', 'vendor.io/fpga': '1' } }, node: {} })).toEqual({});
    expect(runFilter(ignoring, { name: '', pod: { extra: { 'other.io/x': '1' } }, node: {} }).reasons).toEqual(['Insufficient other.io/x']);
  });
});

describe('NodeResourcesFit scoring', () => {
  // Upstream's least_allocated_test "differently sized nodes": pod 3000m/5000, nodes 4000m/10000 and 6000m/10000.
  const nodes = () => [nodeInfoOf(makeNode('node1', { cpu: '4000m', memory: '10000' })), nodeInfoOf(makeNode('node2', { cpu: '6000m', memory: '10000' }))];
  const pod = makePod('p', { cpu: '3000m', memory: '5000' });

  test.each([
    ['LeastAllocated (default)', undefined, { node1: 37, node2: 50 }],
    ['MostAllocated', { scoringStrategy: { type: 'MostAllocated' } }, { node1: 62, node2: 50 }],
    ['LeastAllocated, cpu weighted 3:1', { scoringStrategy: { type: 'LeastAllocated', resources: [{ name: 'cpu', weight: 3 }, { name: 'memory', weight: 1 }] } }, { node1: 31, node2: 50 }],
  ])('%s', (_name, args, expected) => {
    expect(scoreNodes(newNodeResourcesFit(args), pod, nodes())).toEqual(expected);
  });

  test('pods without requests count with the non-zero defaults (100m, 200Mi)', () => {
    const node = nodeInfoOf(makeNode('n', { cpu: '1', memory: '1Gi' }));
    // cpu (1000-100)*100/1000 = 90, memory (1024-200)*100/1024 = 80 -> 85.
    expect(scoreNodes(newNodeResourcesFit(undefined), makePod('p'), [node])).toEqual({ n: 85 });
  });

  test('existing pods lower the score', () => {
    const empty = nodeInfoOf(makeNode('empty', { cpu: '4', memory: '8Gi' }));
    const busy = nodeInfoOf(makeNode('busy', { cpu: '4', memory: '8Gi' }), [makePod('x', { cpu: '2', memory: '4Gi' })]);
    const scores = scoreNodes(newNodeResourcesFit(undefined), makePod('p', { cpu: '1', memory: '1Gi' }), [empty, busy]) as Record<string, number>;
    expect(scores.empty).toBeGreaterThan(scores.busy as number);
  });

  test.each([
    ['unknown field', { bogus: 1 }, /unknown field "bogus"/],
    ['unsupported strategy', { scoringStrategy: { type: 'RequestedToCapacityRatio' } }, /Unsupported value: "RequestedToCapacityRatio"/],
    ['weight out of range', { scoringStrategy: { resources: [{ name: 'cpu', weight: 0 }] } }, /should be in the range \[1, 100\]/],
  ])('args: %s', (_name, args, message) => {
    expect(() => parseNodeResourcesFitArgs(args)).toThrow(message);
  });
});
