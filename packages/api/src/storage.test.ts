import { claimHasNoStorageClass, claimStorageClassName, isClaimBound, pickDefaultStorageClass, volumeBindingModeOf, volumeNodeAffinityAllows } from './storage';
import type { NodeSelectorTerm, PersistentVolume, PersistentVolumeClaim } from './types/core';
import type { StorageClass } from './types/storage';

const storageClass = (name: string, isDefault: string | undefined, created: string, beta = false): StorageClass => ({
  apiVersion: 'storage.k8s.io/v1',
  kind: 'StorageClass',
  metadata: {
    name,
    creationTimestamp: created,
    ...(isDefault === undefined ? {} : { annotations: { [beta ? 'storageclass.beta.kubernetes.io/is-default-class' : 'storageclass.kubernetes.io/is-default-class']: isDefault } }),
  },
  provisioner: 'kube-lite.io/local-path',
});

describe('default storage class', () => {
  test.each<[string, StorageClass[], string | undefined]>([
    ['none annotated', [storageClass('a', undefined, '2024-01-01T00:00:00Z')], undefined],
    ['"false" is not default', [storageClass('a', 'false', '2024-01-01T00:00:00Z')], undefined],
    ['the annotated one', [storageClass('a', undefined, '2024-01-01T00:00:00Z'), storageClass('b', 'true', '2024-01-01T00:00:00Z')], 'b'],
    ['the beta annotation counts', [storageClass('a', 'true', '2024-01-01T00:00:00Z', true)], 'a'],
    ['the newest of several defaults', [storageClass('old', 'true', '2024-01-01T00:00:00Z'), storageClass('new', 'true', '2024-02-01T00:00:00Z')], 'new'],
    ['same age: the first by name', [storageClass('y', 'true', '2024-01-01T00:00:00Z'), storageClass('x', 'true', '2024-01-01T00:00:00Z')], 'x'],
  ])('%s', (_name, classes, expected) => {
    expect(pickDefaultStorageClass(classes)?.metadata?.name).toBe(expected);
  });
});

describe('claims', () => {
  const claim = (spec: PersistentVolumeClaim['spec'], annotations?: Record<string, string>, phase?: 'Pending' | 'Bound'): PersistentVolumeClaim => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'data', namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec,
    ...(phase ? { status: { phase } } : {}),
  });

  test('class: the beta annotation wins over the field; unset and "" differ', () => {
    expect(claimStorageClassName(claim({ storageClassName: 'fast' }, { 'volume.beta.kubernetes.io/storage-class': 'slow' }))).toBe('slow');
    expect(claimStorageClassName(claim({}))).toBe('');
    expect(claimHasNoStorageClass(claim({}))).toBe(true);
    expect(claimHasNoStorageClass(claim({ storageClassName: '' }))).toBe(false);
  });

  test('bound needs both the volume name and the Bound phase', () => {
    expect(isClaimBound(claim({ volumeName: 'pv1' }, undefined, 'Bound'))).toBe(true);
    expect(isClaimBound(claim({ volumeName: 'pv1' }, undefined, 'Pending'))).toBe(false);
    expect(isClaimBound(claim({}, undefined, 'Bound'))).toBe(false);
  });

  test('binding mode is Immediate without a class', () => {
    expect(volumeBindingModeOf(undefined)).toBe('Immediate');
    expect(volumeBindingModeOf({ ...storageClass('a', undefined, ''), volumeBindingMode: 'WaitForFirstConsumer' })).toBe('WaitForFirstConsumer');
  });
});

describe('volume node affinity', () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1', cores: '8' } } };
  const volume = (nodeSelectorTerms?: NodeSelectorTerm[]): PersistentVolume => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'pv' },
    spec: nodeSelectorTerms === undefined ? {} : { nodeAffinity: { required: { nodeSelectorTerms } } },
  });
  test.each<[string, NodeSelectorTerm[] | undefined, boolean]>([
    ['no affinity', undefined, true],
    ['hostname In', [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }], true],
    ['other hostname', [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }], false],
    ['terms are ORed', [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }], true],
    ['requirements are ANDed', [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }, { key: 'cores', operator: 'Gt', values: ['8'] }] }], false],
    ['Lt compares numbers', [{ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['10'] }] }], true],
    ['an empty term matches nothing', [{}], false],
    ['DoesNotExist', [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }], true],
  ])('%s', (_name, terms, expected) => {
    expect(volumeNodeAffinityAllows(volume(terms), node)).toBe(expected);
  });
});
