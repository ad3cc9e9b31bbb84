import { applyConfChangeTo, decodeConfChange, encodeConfChange } from './conf-change';
import { ConfChangeError } from './errors';
import type { ConfChange, ConfState } from './types';

describe('conf change encoding', () => {
  test.each<ConfChange>([
    { type: 'addNode', nodeId: 1, context: new Uint8Array() },
    { type: 'addLearner', nodeId: 2 ** 53 - 1, context: new Uint8Array([1, 2, 3]) },
    { type: 'removeNode', nodeId: 0x1234_5678_9abc, context: new TextEncoder().encode('http://10.0.0.1:2380') },
  ])('round trip of $type $nodeId', (change) => {
    expect(decodeConfChange(encodeConfChange(change))).toEqual(change);
  });

  test('decodes from a view inside a larger buffer', () => {
    const encoded = encodeConfChange({ type: 'addNode', nodeId: 7, context: new Uint8Array([9]) });
    const buffer = new Uint8Array(encoded.byteLength + 5);
    buffer.set(encoded, 5);
    expect(decodeConfChange(buffer.subarray(5)).nodeId).toBe(7);
  });

  test.each([
    { name: 'too short', data: new Uint8Array(3) },
    { name: 'unknown version', data: new Uint8Array([9, 1, 0, 0, 0, 0, 0, 0, 0, 1]) },
    { name: 'unknown type', data: new Uint8Array([1, 9, 0, 0, 0, 0, 0, 0, 0, 1]) },
    { name: 'id beyond 2^53', data: new Uint8Array([1, 1, 255, 255, 255, 255, 255, 255, 255, 255]) },
  ])('decode rejects $name', ({ data }) => {
    expect(() => decodeConfChange(data)).toThrow(ConfChangeError);
  });

  test('encode rejects a non-integer id', () => {
    expect(() => encodeConfChange({ type: 'addNode', nodeId: 1.5, context: new Uint8Array() })).toThrow(ConfChangeError);
  });
});

describe('applyConfChangeTo', () => {
  const base: ConfState = { voters: [1, 2, 3], learners: [4] };
  const context = new Uint8Array();
  test.each<{ name: string; change: ConfChange; expected: ConfState }>([
    { name: 'add a voter', change: { type: 'addNode', nodeId: 5, context }, expected: { voters: [1, 2, 3, 5], learners: [4] } },
    { name: 'add an existing voter', change: { type: 'addNode', nodeId: 2, context }, expected: base },
    { name: 'promote a learner', change: { type: 'addNode', nodeId: 4, context }, expected: { voters: [1, 2, 3, 4], learners: [] } },
    { name: 'add a learner', change: { type: 'addLearner', nodeId: 6, context }, expected: { voters: [1, 2, 3], learners: [4, 6] } },
    { name: 'demote a voter', change: { type: 'addLearner', nodeId: 3, context }, expected: { voters: [1, 2], learners: [3, 4] } },
    { name: 'remove a voter', change: { type: 'removeNode', nodeId: 1, context }, expected: { voters: [2, 3], learners: [4] } },
    { name: 'remove a learner', change: { type: 'removeNode', nodeId: 4, context }, expected: { voters: [1, 2, 3], learners: [] } },
    { name: 'remove an absent node', change: { type: 'removeNode', nodeId: 9, context }, expected: base },
  ])('$name', ({ change, expected }) => {
    expect(applyConfChangeTo(base, change)).toEqual(expected);
  });

  test.each<ConfChange>([
    { type: 'removeNode', nodeId: 1, context },
    { type: 'addLearner', nodeId: 1, context },
    { type: 'addNode', nodeId: 0, context },
  ])('refuses $type of $nodeId on a single voter', (change) => {
    expect(() => applyConfChangeTo({ voters: [1], learners: [] }, change)).toThrow(ConfChangeError);
  });
});
