import { isPodAvailable, isPodReady, podQOSClass, podResourceLimits, podResourceRequests } from './pods';
import { controllerOf, isControlledBy, newControllerRef } from './ownerrefs';
import { podTemplateHash, podTemplatesEqualIgnoringHash, semanticEqual } from './semantic';
import type { Container, Pod, PodTemplateSpec } from './types/core';

const withContainers = (containers: Partial<Container>[], initContainers: Partial<Container>[] = [], overhead?: Record<string, string>): Pod => ({
  spec: {
    containers: containers.map((c, i) => ({ name: `c${i}`, ...c })),
    initContainers: initContainers.map((c, i) => ({ name: `i${i}`, ...c })),
    overhead,
  },
});

function totals(record: Record<string, { toString(): string }>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v.toString()]));
}

describe('podResourceRequests', () => {
  test.each([
    [withContainers([{ resources: { requests: { cpu: '100m' } } }, { resources: { requests: { cpu: '200m', memory: '1Gi' } } }]), { cpu: '300m', memory: '1Gi' }],
    [withContainers([{ resources: { requests: { cpu: '100m' } } }], [{ resources: { requests: { cpu: '1' } } }]), { cpu: '1' }],
    [withContainers([{ resources: { requests: { cpu: '500m' } } }], [{ resources: { requests: { cpu: '200m' } } }]), { cpu: '500m' }],
    [withContainers([{ resources: { requests: { cpu: '500m' } } }], [{ restartPolicy: 'Always', resources: { requests: { cpu: '200m' } } }]), { cpu: '700m' }],
    [withContainers([{ resources: { requests: { cpu: '100m' } } }], [], { cpu: '50m' }), { cpu: '150m' }],
    [withContainers([{}]), {}],
  ])('%#', (pod, expected) => {
    expect(totals(podResourceRequests(pod))).toEqual(expected);
  });

  test('limits', () => {
    expect(totals(podResourceLimits(withContainers([{ resources: { limits: { memory: '1Gi' } } }, { resources: { limits: { memory: '512Mi' } } }])))).toEqual({ memory: '1536Mi' });
  });
});

describe('podQOSClass', () => {
  test.each([
    [withContainers([{}]), 'BestEffort'],
    [withContainers([{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }]), 'Guaranteed'],
    [withContainers([{ resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }]), 'Burstable'],
    [withContainers([{ resources: { requests: { cpu: '1' } } }]), 'Burstable'],
    [withContainers([{ resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }, {}]), 'Burstable'],
    [withContainers([{ resources: { requests: { cpu: '1000m', memory: '1024Mi' }, limits: { cpu: '1', memory: '1Gi' } } }]), 'Guaranteed'],
  ])('%#: %s', (pod, qos) => {
    expect(podQOSClass(pod)).toBe(qos);
  });
});

describe('readiness', () => {
  const ready = (status: 'True' | 'False', at = '2024-01-01T00:00:00Z'): Pod => ({ status: { conditions: [{ type: 'Ready', status, lastTransitionTime: at }] } });
  test.each([
    [ready('True'), 0, 0, true, true],
    [ready('False'), 0, 0, false, false],
    [ready('True'), 10, Date.parse('2024-01-01T00:00:05Z'), true, false],
    [ready('True'), 10, Date.parse('2024-01-01T00:00:10Z'), true, true],
    [{}, 0, 0, false, false],
  ])('%#', (pod, minReadySeconds, now, isReady, isAvailable) => {
    expect(isPodReady(pod)).toBe(isReady);
    expect(isPodAvailable(pod, minReadySeconds, now)).toBe(isAvailable);
  });
});

describe('owner references', () => {
  const owner = { metadata: { name: 'web', uid: 'u1' } };
  test('controller refs', () => {
    const ref = newControllerRef(owner, 'apps/v1', 'ReplicaSet');
    expect(ref).toEqual({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'u1', controller: true, blockOwnerDeletion: true });
    const pod = { metadata: { ownerReferences: [{ ...ref, controller: false, uid: 'other' }, ref] } };
    expect(controllerOf(pod)).toBe(ref);
    expect(isControlledBy(pod, owner)).toBe(true);
    expect(isControlledBy(pod, { metadata: { uid: 'u2' } })).toBe(false);
    expect(controllerOf({})).toBeUndefined();
  });
});

describe('semantic equality of templates', () => {
  const stored: PodTemplateSpec = {
    metadata: { labels: { app: 'web', 'pod-template-hash': 'abc' } },
    spec: { containers: [{ name: 'c', image: 'v1', resources: { limits: { cpu: '1' } } }] },
  };

  test.each([
    [{ metadata: { labels: { app: 'web' }, creationTimestamp: null }, spec: { containers: [{ name: 'c', image: 'v1', resources: { limits: { cpu: '1000m' } } }] } }, true],
    [{ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v1', resources: { limits: { cpu: '1' } }, env: [] }] } }, true],
    [{ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'v2', resources: { limits: { cpu: '1' } } }] } }, false],
    [{ metadata: { labels: { app: 'web', x: 'y' } }, spec: { containers: [{ name: 'c', image: 'v1', resources: { limits: { cpu: '1' } } }] } }, false],
  ])('%#', (candidate, equal) => {
    expect(podTemplatesEqualIgnoringHash(stored, candidate as PodTemplateSpec)).toBe(equal);
  });

  test('resources {} equals absent resources', () => {
    expect(semanticEqual({ containers: [{ name: 'c', resources: {} }] }, { containers: [{ name: 'c' }] })).toBe(true);
    expect(semanticEqual({ replicas: 0 }, {})).toBe(false);
  });

  test('podTemplateHash is stable, ignores the hash label and changes with content and collisions', () => {
    const a = podTemplateHash(stored);
    expect(a).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]+$/);
    expect(podTemplateHash({ ...stored, metadata: { labels: { app: 'web' } } })).toBe(a);
    expect(podTemplateHash({ ...stored, spec: { containers: [{ name: 'c', image: 'v2' }] } })).not.toBe(a);
    expect(podTemplateHash(stored, 1)).not.toBe(a);
  });
});
