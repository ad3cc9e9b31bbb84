import type { PersistentVolume, PersistentVolumeClaim, Pod, StorageClass } from '@kube-lite/api';
import { CycleState, type VolumeAccess } from '../../framework';
import { ClusterSnapshot, newPodInfo } from '../../snapshot';
import { makeNode, makePod, nodeInfoOf } from '../../test-fixtures';
import { newVolumeBinding, REASON_NODE_CONFLICT, REASON_UNBOUND_IMMEDIATE, VolumeBinding } from '.';

function claim(name: string, options: { className?: string; volumeName?: string; bound?: boolean; deleting?: boolean; selectedNode?: string } = {}): PersistentVolumeClaim {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: {
      name,
      namespace: 'default',
      ...(options.deleting ? { deletionTimestamp: '2024-05-01T10:00:00Z' } : {}),
      ...(options.selectedNode ? { annotations: { 'volume.kubernetes.io/selected-node': options.selectedNode } } : {}),
    },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...(options.className === undefined ? {} : { storageClassName: options.className }), ...(options.volumeName ? { volumeName: options.volumeName } : {}) },
    status: { phase: options.bound ? 'Bound' : 'Pending' },
  };
}

function localVolume(name: string, hostname: string): PersistentVolume {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name },
    spec: { local: { path: `/data/${name}` }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [hostname] }] }] } } },
  };
}

function storageClass(name: string, mode: 'Immediate' | 'WaitForFirstConsumer', isDefault = false): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name, creationTimestamp: '2024-01-01T00:00:00Z', ...(isDefault ? { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } } : {}) },
    provisioner: 'kube-lite.io/local-path',
    volumeBindingMode: mode,
  };
}

/** An in-memory VolumeAccess; selectNode records the call and may bind the claim at once, as a fast volume binder would. */
class FakeVolumes implements VolumeAccess {
  readonly selected: string[] = [];
  constructor(
    private readonly claims: PersistentVolumeClaim[],
    private readonly volumes: PersistentVolume[] = [],
    private readonly classes: StorageClass[] = [storageClass('local-path', 'WaitForFirstConsumer', true), storageClass('fast', 'Immediate')],
    private readonly bindOnSelect = true,
  ) {}

  claim(namespace: string, name: string): PersistentVolumeClaim | undefined {
    return this.claims.find((c) => c.metadata?.namespace === namespace && c.metadata?.name === name);
  }
  volume(name: string): PersistentVolume | undefined {
    return this.volumes.find((v) => v.metadata?.name === name);
  }
  storageClass(name: string): StorageClass | undefined {
    return this.classes.find((c) => c.metadata?.name === name);
  }
  storageClasses(): readonly StorageClass[] {
    return this.classes;
  }
  async selectNode(namespace: string, claimName: string, nodeName: string): Promise<void> {
    this.selected.push(`${namespace}/${claimName}@${nodeName}`);
    const target = this.claim(namespace, claimName);
    if (target === undefined) throw new Error(`persistentvolumeclaims "${claimName}" not found`);
    target.metadata = { ...target.metadata, annotations: { ...target.metadata?.annotations, 'volume.kubernetes.io/selected-node': nodeName } };
    if (this.bindOnSelect) {
      target.spec = { ...target.spec, volumeName: `pvc-${claimName}` };
      target.status = { phase: 'Bound' };
    }
  }
}

function podWithClaims(...claimNames: string[]): Pod {
  const pod = makePod('web-0');
  (pod.spec as NonNullable<Pod['spec']>).volumes = [{ name: 'config', configMap: { name: 'cfg' } }, ...claimNames.map((claimName, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName } }))];
  return pod;
}

interface FilterCase {
  name: string;
  claims: PersistentVolumeClaim[];
  volumes?: PersistentVolume[];
  podClaims: string[];
  /** Node names checked, and the code each gets (undefined = fits); a PreFilter rejection applies to all. */
  expected: Record<string, string | undefined>;
  reasons?: string[];
}

describe('VolumeBinding PreFilter/Filter', () => {
  const cases: FilterCase[] = [
    { name: 'no claims: skipped', claims: [], podClaims: [], expected: { n1: undefined, n2: undefined } },
    {
      name: 'claim missing',
      claims: [],
      podClaims: ['data-web-0'],
      expected: { n1: 'UnschedulableAndUnresolvable', n2: 'UnschedulableAndUnresolvable' },
      reasons: ['persistentvolumeclaim "data-web-0" not found'],
    },
    {
      name: 'claim being deleted',
      claims: [claim('data-web-0', { deleting: true })],
      podClaims: ['data-web-0'],
      expected: { n1: 'UnschedulableAndUnresolvable' },
      reasons: ['persistentvolumeclaim "data-web-0" is being deleted'],
    },
    {
      name: 'bound claim: only the node holding the volume',
      claims: [claim('data-web-0', { className: 'local-path', volumeName: 'pv-a', bound: true })],
      volumes: [localVolume('pv-a', 'n2')],
      podClaims: ['data-web-0'],
      expected: { n1: 'UnschedulableAndUnresolvable', n2: undefined },
      reasons: [REASON_NODE_CONFLICT],
    },
    {
      name: 'bound claim whose volume is not known yet',
      claims: [claim('data-web-0', { volumeName: 'pv-gone', bound: true })],
      podClaims: ['data-web-0'],
      expected: { n1: 'UnschedulableAndUnresolvable' },
      reasons: ['persistentvolume "pv-gone" not found'],
    },
    { name: 'unbound WaitForFirstConsumer claim: any node', claims: [claim('data-web-0', { className: 'local-path' })], podClaims: ['data-web-0'], expected: { n1: undefined, n2: undefined } },
    { name: 'no class named: the default (WaitForFirstConsumer) class applies', claims: [claim('data-web-0')], podClaims: ['data-web-0'], expected: { n1: undefined } },
    {
      name: 'unbound Immediate claim',
      claims: [claim('data-web-0', { className: 'fast' })],
      podClaims: ['data-web-0'],
      expected: { n1: 'UnschedulableAndUnresolvable' },
      reasons: [REASON_UNBOUND_IMMEDIATE],
    },
    {
      name: 'unbound claim without any class ("")',
      claims: [claim('data-web-0', { className: '' })],
      podClaims: ['data-web-0'],
      expected: { n1: 'UnschedulableAndUnresolvable' },
      reasons: [REASON_UNBOUND_IMMEDIATE],
    },
    {
      name: 'one bound, one waiting: the bound one decides the node',
      claims: [claim('data-web-0', { volumeName: 'pv-a', bound: true }), claim('logs-web-0', { className: 'local-path' })],
      volumes: [localVolume('pv-a', 'n1')],
      podClaims: ['data-web-0', 'logs-web-0'],
      expected: { n1: undefined, n2: 'UnschedulableAndUnresolvable' },
    },
  ];

  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    const plugin = new VolumeBinding(new FakeVolumes(testCase.claims, testCase.volumes ?? []));
    const pod = newPodInfo(podWithClaims(...testCase.podClaims));
    for (const [nodeName, code] of Object.entries(testCase.expected)) {
      const state = new CycleState();
      const pre = plugin.preFilter(state, pod);
      const status = pre?.code === 'Skip' ? undefined : (pre ?? plugin.filter(state, pod, nodeInfoOf(makeNode(nodeName))));
      expect([nodeName, status?.code]).toEqual([nodeName, code]);
      if (status && testCase.reasons) expect(status.reasons).toEqual(testCase.reasons);
    }
  });

  test('a pod with claims but no volume informers is an error, not a silent pass', () => {
    const plugin = newVolumeBinding(undefined, { snapshot: new ClusterSnapshot() });
    expect(plugin.preFilter(new CycleState(), newPodInfo(podWithClaims('data')))?.code).toBe('Error');
    expect(plugin.preFilter(new CycleState(), newPodInfo(podWithClaims()))?.code).toBe('Skip');
  });
});

describe('VolumeBinding bind (the PreBind step)', () => {
  async function bindOn(volumes: FakeVolumes, pod: Pod, nodeName: string, bindTimeoutMs = 1000) {
    const plugin = new VolumeBinding(volumes, { bindTimeoutMs, pollIntervalMs: 5 });
    const state = new CycleState();
    const podInfo = newPodInfo(pod);
    expect(plugin.preFilter(state, podInfo)?.code).not.toBe('UnschedulableAndUnresolvable');
    return plugin.bind(state, podInfo, nodeName);
  }

  test('selects the node on each waiting claim, waits for them to be bound, then hands over to the next binder', async () => {
    const volumes = new FakeVolumes([claim('data-web-0', { className: 'local-path' }), claim('logs-web-0'), claim('ready', { volumeName: 'pv-a', bound: true })], [localVolume('pv-a', 'n1')]);
    const status = await bindOn(volumes, podWithClaims('data-web-0', 'logs-web-0', 'ready'), 'n1');
    expect(status?.code).toBe('Skip');
    expect(volumes.selected).toEqual(['default/data-web-0@n1', 'default/logs-web-0@n1']);
  });

  test('a claim already pointed at this node is not written again', async () => {
    const waiting = claim('data-web-0', { className: 'local-path', selectedNode: 'n1' });
    const volumes = new FakeVolumes([waiting], [], undefined, false);
    setTimeout(() => {
      waiting.spec = { ...waiting.spec, volumeName: 'pvc-x' };
      waiting.status = { phase: 'Bound' };
    }, 20);
    const status = await bindOn(volumes, podWithClaims('data-web-0'), 'n1');
    expect(status?.code).toBe('Skip');
    expect(volumes.selected).toEqual([]);
  });

  test('no waiting claims: nothing written, straight to the next binder', async () => {
    const volumes = new FakeVolumes([claim('ready', { volumeName: 'pv-a', bound: true })], [localVolume('pv-a', 'n1')]);
    expect((await bindOn(volumes, podWithClaims('ready'), 'n1'))?.code).toBe('Skip');
    expect((await bindOn(volumes, makePod('plain'), 'n1'))?.code).toBe('Skip');
    expect(volumes.selected).toEqual([]);
  });

  test('a claim the volume binder never binds fails the attempt after bindTimeoutSeconds', async () => {
    const volumes = new FakeVolumes([claim('data-web-0', { className: 'local-path' })], [], undefined, false);
    const status = await bindOn(volumes, podWithClaims('data-web-0'), 'n2', 30);
    expect(status?.code).toBe('Error');
    expect(status?.message()).toBe('binding volumes: timed out waiting for PersistentVolumeClaims default/data-web-0 to be bound');
    expect(volumes.selected).toEqual(['default/data-web-0@n2']);
  });

  test('a failed annotation write is an Error status naming the cause', async () => {
    const volumes = new FakeVolumes([claim('data-web-0', { className: 'local-path' })]);
    volumes.selectNode = async () => Promise.reject(new Error('persistentvolumeclaims "data-web-0" is forbidden'));
    const status = await bindOn(volumes, podWithClaims('data-web-0'), 'n1');
    expect(status?.code).toBe('Error');
    expect(status?.message()).toBe('binding volumes: persistentvolumeclaims "data-web-0" is forbidden');
  });
});

describe('VolumeBinding args and events', () => {
  test('bindTimeoutSeconds must be a non-negative integer; other fields are refused', () => {
    const handle = { snapshot: new ClusterSnapshot() };
    expect(() => newVolumeBinding({ bindTimeoutSeconds: 30 }, handle)).not.toThrow();
    expect(() => newVolumeBinding({ bindTimeoutSeconds: -1 }, handle)).toThrow('VolumeBinding args: bindTimeoutSeconds must be a non-negative integer, got -1');
    expect(() => newVolumeBinding({ shape: 'x' }, handle)).toThrow('VolumeBinding args: unknown field "shape"');
  });

  test("a claim event requeues only pods that use that claim", () => {
    const registration = new VolumeBinding(undefined).eventsToRegister().find((entry) => entry.event.resource === 'PersistentVolumeClaim');
    const pod = podWithClaims('data-web-0');
    expect(registration?.hint?.(pod, undefined, claim('data-web-0'))).toBe('Queue');
    expect(registration?.hint?.(pod, undefined, claim('data-web-1'))).toBe('QueueSkip');
  });
});
