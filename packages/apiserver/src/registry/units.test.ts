// Pure parts of the registry: finalizers by propagation policy, strategies,
// and the managed-fields model.

import { resourceFor } from '@kube-lite/api';
import { changedFieldSet, fieldSetOf, recordManagedFields, removeDroppedFields } from './managed-fields';
import type { ApiObject } from './object';
import { finalizersForPolicy } from './store';
import { strategyFor } from './strategy';

test.each([
  [[], undefined, []],
  [['a'], 'Background', ['a']],
  [['a'], 'Orphan', ['a', 'orphan']],
  [['orphan'], 'Foreground', ['foregroundDeletion']],
  [['orphan', 'b'], 'Background', ['b']],
  [['orphan'], undefined, ['orphan']],
] as const)('finalizers %j with %s -> %j', (before, policy, after) => {
  expect(finalizersForPolicy(before, policy)).toEqual(after);
});

test.each([
  ['apps', 'deployments', { tracksGeneration: true, hasStatusSubresource: true, keepsStatusOnCreate: false }],
  ['', 'configmaps', { tracksGeneration: false, hasStatusSubresource: false, keepsStatusOnCreate: false }],
  ['', 'nodes', { tracksGeneration: false, hasStatusSubresource: true, keepsStatusOnCreate: true }],
  ['networking.k8s.io', 'ingresses', { tracksGeneration: true, hasStatusSubresource: true, keepsStatusOnCreate: false }],
])('strategy of %s/%s', (group, resource, expected) => {
  const info = resourceFor(group, resource);
  if (info === undefined) throw new Error('unknown resource');
  expect(strategyFor(info, { eventTtlSeconds: 3600 })).toMatchObject(expected);
});

test.each([
  [{ nodeName: '' }, undefined, 0],
  [{ nodeName: 'n' }, undefined, 30],
  [{ nodeName: 'n', terminationGracePeriodSeconds: 5 }, undefined, 5],
  [{ nodeName: 'n' }, 0, 0],
  [{ nodeName: 'n' }, -3, 1],
])('pod grace period for spec %j, requested %s -> %i', (spec, requested, expected) => {
  const info = resourceFor('', 'pods');
  if (info === undefined) throw new Error('unknown resource');
  const pod = { metadata: {}, spec: { containers: [], ...spec }, status: { phase: 'Running' } } as unknown as ApiObject;
  expect(strategyFor(info, { eventTtlSeconds: 3600 }).gracePeriodSeconds?.(pod, requested)).toBe(expected);
});

test('field sets: what a create touches, what an update changes, what an apply drops', () => {
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: '1' } }, data: { k: 'v', l: 'w' } };
  expect(fieldSetOf(object)).toEqual({ 'f:metadata': { 'f:labels': { 'f:a': {} } }, 'f:data': { 'f:k': {}, 'f:l': {} } });
  expect(changedFieldSet(object, { ...object, data: { k: 'v', l: 'changed' } })).toEqual({ 'f:data': { 'f:l': {} } });
  const live = structuredClone(object) as Record<string, unknown>;
  removeDroppedFields(live, fieldSetOf(object), { 'f:data': { 'f:k': {} } });
  expect(live).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' }, data: { k: 'v' } });
  const withEntries = structuredClone(object) as ApiObject;
  recordManagedFields(withEntries, { manager: 'm', operation: 'Update', apiVersion: 'v1', subresource: '' }, { 'f:data': { 'f:k': {} } }, 0);
  recordManagedFields(withEntries, { manager: 'm', operation: 'Update', apiVersion: 'v1', subresource: '' }, { 'f:data': { 'f:l': {} } }, 0);
  expect(withEntries.metadata.managedFields).toEqual([
    { manager: 'm', operation: 'Update', apiVersion: 'v1', time: '1970-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:k': {}, 'f:l': {} } } },
  ]);
});
