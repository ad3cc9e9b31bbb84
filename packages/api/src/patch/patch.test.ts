import { applyJsonPatch, applyMergePatch, applyPatch, applyStrategicMergePatch, createMergePatch, patchTypeOf } from './index';
import { PatchError } from '../errors';
import { schemaFor } from '../schema';

describe('JSON merge patch (RFC 7386 appendix A)', () => {
  test.each([
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ])('%j + %j = %j', (target, patch, expected) => {
    expect(applyMergePatch(target, patch)).toEqual(expected);
  });

  test('kubectl scale', () => {
    expect(applyMergePatch({ spec: { replicas: 1, selector: {} } }, { spec: { replicas: 3 } })).toEqual({ spec: { replicas: 3, selector: {} } });
  });

  test('createMergePatch round-trips', () => {
    const original = { a: 1, b: { c: 2, d: 3 }, e: [1] };
    const modified = { a: 1, b: { c: 5 }, e: [1, 2], f: 'x' };
    const patch = createMergePatch(original, modified);
    expect(patch).toEqual({ b: { c: 5, d: null }, e: [1, 2], f: 'x' });
    expect(applyMergePatch(original, patch)).toEqual(modified);
  });
});

describe('JSON patch (RFC 6902)', () => {
  const doc = { metadata: { annotations: { a: '1' } }, spec: { list: [1, 2, 3], template: { x: 1 } } };

  test.each([
    [[{ op: 'add', path: '/spec/y', value: 2 }], { y: 2 }],
    [[{ op: 'add', path: '/spec/list/1', value: 9 }], { list: [1, 9, 2, 3] }],
    [[{ op: 'add', path: '/spec/list/-', value: 4 }], { list: [1, 2, 3, 4] }],
    [[{ op: 'remove', path: '/spec/list/0' }], { list: [2, 3] }],
    [[{ op: 'replace', path: '/spec/template', value: { z: 2 } }], { template: { z: 2 } }],
    [[{ op: 'replace', path: '/spec/missing', value: 1 }], { missing: 1 }],
    [[{ op: 'move', from: '/spec/template', path: '/spec/moved' }], { moved: { x: 1 }, template: undefined }],
    [[{ op: 'copy', from: '/spec/template', path: '/spec/copied' }], { copied: { x: 1 }, template: { x: 1 } }],
    [[{ op: 'test', path: '/spec/list', value: [1, 2, 3] }], { list: [1, 2, 3] }],
  ])('%j', (operations, expectedSpec) => {
    const result = applyJsonPatch(doc, operations) as { spec: Record<string, unknown> };
    for (const [key, value] of Object.entries(expectedSpec)) expect(result.spec[key]).toEqual(value);
    expect(doc.spec.list).toEqual([1, 2, 3]);
  });

  test('kubectl rollout undo', () => {
    const deployment = { metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } }, spec: { template: { spec: { containers: [{ name: 'c', image: 'v2' }] } } } };
    const undo = [
      { op: 'replace', path: '/spec/template', value: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'c', image: 'v1', resources: {} }] } } },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '2' } },
    ];
    expect(applyJsonPatch(deployment, undo)).toEqual({
      metadata: { annotations: { 'deployment.kubernetes.io/revision': '2' } },
      spec: { template: { metadata: { creationTimestamp: null }, spec: { containers: [{ name: 'c', image: 'v1', resources: {} }] } } },
    });
  });

  test.each([
    [[{ op: 'add', path: '/nope/x', value: 1 }], 'add operation does not apply: doc is missing path: "/nope/x": missing value'],
    [[{ op: 'remove', path: '/spec/nope' }], "error in remove for path: '/spec/nope': Unable to remove nonexistent key: nope: missing value"],
    [[{ op: 'replace', path: '/spec/list/7', value: 1 }], 'replace operation does not apply: doc is missing key: /spec/list/7: missing value'],
    [[{ op: 'add', path: '/spec/list/9', value: 1 }], "error in add for path: '/spec/list/9': Unable to access invalid index: 9: invalid index referenced"],
    [[{ op: 'test', path: '/spec/template/x', value: 2 }], 'testing value /spec/template/x failed: test failed'],
    [[{ op: 'move', from: '/nope/a', path: '/b' }], 'move operation does not apply: doc is missing from path: /nope/a: missing value'],
    [[{ op: 'frobnicate', path: '/a' }], 'Unexpected kind: frobnicate'],
    [[{ op: 'add', value: 1 }], 'add operation failed to decode path: missing value'],
  ])('%j fails', (operations, message) => {
    expect(() => applyJsonPatch(doc, operations)).toThrow(PatchError);
    expect(() => applyJsonPatch(doc, operations)).toThrow(message);
  });

  test('~0 and ~1 escapes', () => {
    expect(applyJsonPatch({ a: {} }, [{ op: 'add', path: '/a/b~1c~0d', value: 1 }])).toEqual({ a: { 'b/c~d': 1 } });
  });
});

const deploymentSchema = schemaFor('apps/v1', 'Deployment');
const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web', tier: 'front' }, finalizers: ['a/x', 'b/y'] },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.25', ports: [{ containerPort: 80, protocol: 'TCP' }], env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
          { name: 'sidecar', image: 'envoy:1' },
        ],
        tolerations: [{ key: 'a', operator: 'Exists' }],
      },
    },
  },
};

type Spec = { spec: { template: { spec: { containers: { name: string; image: string; env?: unknown[]; ports?: unknown[] }[]; tolerations?: unknown[] }; metadata: Record<string, unknown> }; strategy: unknown; replicas: number } };

function smp(patch: unknown, original: unknown = deployment): Spec & { metadata: Record<string, unknown> } {
  return applyStrategicMergePatch(original, patch, deploymentSchema) as Spec & { metadata: Record<string, unknown> };
}

describe('strategic merge patch', () => {
  test('kubectl set image merges the container by name', () => {
    const result = smp({ spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } } });
    expect(result.spec.template.spec.containers.map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.26', 'sidecar=envoy:1']);
    expect(result.spec.template.spec.containers[0]!.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
  });

  test('kubectl rollout restart adds a template annotation', () => {
    const result = smp({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } } } } });
    expect(result.spec.template.metadata).toEqual({ labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2024-01-01T00:00:00Z' } });
  });

  test('kubectl cordon', () => {
    const node = { kind: 'Node', spec: { podCIDR: '10.0.1.0/24' } };
    expect(applyStrategicMergePatch(node, { spec: { unschedulable: true } }, schemaFor('v1', 'Node'))).toEqual({ kind: 'Node', spec: { podCIDR: '10.0.1.0/24', unschedulable: true } });
  });

  test('null deletes a field', () => {
    expect(smp({ metadata: { labels: { tier: null } } }).metadata.labels).toEqual({ app: 'web' });
  });

  test('new list elements are appended; existing ones merged', () => {
    const result = smp({ spec: { template: { spec: { containers: [{ name: 'web', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }, { name: 'new', image: 'busybox' }] } } } });
    expect(result.spec.template.spec.containers.map((c) => c.name)).toEqual(['web', 'sidecar', 'new']);
    expect(result.spec.template.spec.containers[0]!.env).toEqual([{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
  });

  test('kubectl apply three-way patch removing an env var keeps order', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
            containers: [{ name: 'web', '$setElementOrder/env': [{ name: 'B' }], env: [{ $patch: 'delete', name: 'A' }] }],
          },
        },
      },
    };
    const result = smp(patch);
    expect(result.spec.template.spec.containers[0]!.env).toEqual([{ name: 'B', value: '2' }]);
    expect(result.spec.template.spec.containers.map((c) => c.name)).toEqual(['web', 'sidecar']);
  });

  test('$setElementOrder reorders patch items and keeps server-only items', () => {
    const original = { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'injected' }] } } } };
    const result = smp({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }] } } } }, original);
    expect(result.spec.template.spec.containers.map((c) => c.name)).toEqual(['b', 'a', 'injected']);
  });

  test('$setElementOrder with a new element places it where the order says', () => {
    const original = { spec: { template: { spec: { containers: [{ name: 'a' }, { name: 'c' }] } } } };
    const result = smp({ spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }, { name: 'b' }, { name: 'c' }], containers: [{ name: 'b', image: 'x' }] } } } }, original);
    expect(result.spec.template.spec.containers.map((c) => c.name)).toEqual(['a', 'b', 'c']);
  });

  test('$retainKeys: switching the deployment strategy to Recreate', () => {
    const result = smp({ spec: { strategy: { $retainKeys: ['type'], rollingUpdate: null, type: 'Recreate' } } });
    expect(result.spec.strategy).toEqual({ type: 'Recreate' });
  });

  test('$patch: replace on a map and on a list', () => {
    expect(smp({ spec: { strategy: { $patch: 'replace', type: 'Recreate' } } }).spec.strategy).toEqual({ type: 'Recreate' });
    const result = smp({ spec: { template: { spec: { containers: [{ name: 'only', image: 'x' }, { $patch: 'replace' }] } } } });
    expect(result.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
  });

  test('$patch: delete on a map removes it', () => {
    expect(smp({ spec: { strategy: { $patch: 'delete' } } }).spec.strategy).toBeUndefined();
  });

  test('lists without a merge key are replaced (tolerations)', () => {
    expect(smp({ spec: { template: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } } } }).spec.template.spec.tolerations).toEqual([{ key: 'b', operator: 'Exists' }]);
  });

  test('finalizers merge as a set; $deleteFromPrimitiveList removes', () => {
    expect(smp({ metadata: { finalizers: ['b/y', 'c/z'] } }).metadata.finalizers).toEqual(['a/x', 'b/y', 'c/z']);
    expect(smp({ metadata: { '$deleteFromPrimitiveList/finalizers': ['a/x'] } }).metadata.finalizers).toEqual(['b/y']);
  });

  test('ports merge on containerPort', () => {
    const result = smp({ spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 443 }] }] } } } });
    expect(result.spec.template.spec.containers[0]!.ports).toEqual([{ containerPort: 80, protocol: 'TCP', name: 'http' }, { containerPort: 443 }]);
  });

  test('without a schema lists are replaced', () => {
    expect(applyStrategicMergePatch({ a: [1, 2], b: 1 }, { a: [3] }, undefined)).toEqual({ a: [3], b: 1 });
  });

  test('directives never leak into new fields', () => {
    const result = applyStrategicMergePatch({}, { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } }, deploymentSchema);
    expect(result).toEqual({ spec: { strategy: { type: 'Recreate' } } });
  });

  test.each([
    [{ spec: { template: { spec: { containers: [{ image: 'x' }] } } } }, 'does not contain declared merge key: name'],
    [{ spec: { strategy: { $patch: 'explode' } } }, 'unknown patch type: explode in map'],
    [{ spec: { template: { spec: { containers: [{ $patch: 'merge' }] } } } }, 'merging lists cannot yet be specified in the patch'],
    [[1, 2], 'strategic merge patch must be a JSON object'],
  ])('%j fails', (patch, message) => {
    expect(() => smp(patch)).toThrow(PatchError);
    expect(() => smp(patch)).toThrow(message);
  });
});

describe('patch dispatch', () => {
  test.each([
    ['application/json-patch+json', 'json'],
    ['application/merge-patch+json', 'merge'],
    ['application/strategic-merge-patch+json; charset=utf-8', 'strategic'],
    ['application/apply-patch+yaml', undefined],
    [undefined, undefined],
  ])('%p -> %p', (contentType, type) => {
    expect(patchTypeOf(contentType)).toBe(type);
  });

  test('applyPatch routes by type', () => {
    expect(applyPatch('merge', { a: 1 }, { b: 2 })).toEqual({ a: 1, b: 2 });
    expect(applyPatch('json', { a: 1 }, [{ op: 'remove', path: '/a' }])).toEqual({});
    expect(applyPatch('strategic', deployment, { spec: { replicas: 5 } }, deploymentSchema)).toMatchObject({ spec: { replicas: 5 } });
  });
});
