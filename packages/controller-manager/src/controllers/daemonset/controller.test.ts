import { formatTime, type DaemonSet, type KubeObject, type Node, type Pod, type PodTemplateSpec } from '@kube-lite/api';
import { RESOURCES, type FakeApiClient, type SharedInformerFactory } from '@kube-lite/client';
import { newRevision, revisionHash } from '../../controller-utils/history';
import { fixture, node, START_MS, template, waitFor, type Fixture } from '../../test-support';
import { DaemonSetController } from './controller';
import { newDaemonPod, nodeShouldRunDaemonPod } from './placement';
import { planRollingUpdate } from './rolling';

const KEY = 'default/agent';
const V1 = template({ app: 'agent' }, 'agent:1');
const V2 = template({ app: 'agent' }, 'agent:2');
const hash1 = revisionHash(V1, 0);
const hash2 = revisionHash(V2, 0);

interface DsOptions {
  template?: PodTemplateSpec;
  nodeSelector?: Record<string, string>;
  tolerations?: NonNullable<NonNullable<PodTemplateSpec['spec']>['tolerations']>;
  maxUnavailable?: number | string;
  maxSurge?: number | string;
  onDelete?: boolean;
  minReadySeconds?: number;
}

function daemonSet(options: DsOptions = {}): DaemonSet {
  const podTemplate = structuredClone(options.template ?? V1);
  const spec = podTemplate.spec as NonNullable<PodTemplateSpec['spec']>;
  if (options.nodeSelector !== undefined) spec.nodeSelector = options.nodeSelector;
  if (options.tolerations !== undefined) spec.tolerations = options.tolerations;
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'agent', namespace: 'default', uid: 'uid-ds', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: podTemplate,
      updateStrategy: options.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: options.maxUnavailable ?? 1, maxSurge: options.maxSurge ?? 0 } },
      revisionHistoryLimit: 10,
      ...(options.minReadySeconds === undefined ? {} : { minReadySeconds: options.minReadySeconds }),
    },
  };
}

function readyNode(name: string, options: { labels?: Record<string, string>; taints?: NonNullable<Node['spec']>['taints']; unschedulable?: boolean } = {}): Node {
  const result = node(name, 'True', options.taints === undefined ? {} : { taints: options.taints });
  (result.metadata as NonNullable<Node['metadata']>).labels = { 'kubernetes.io/hostname': name, ...(options.labels ?? {}) };
  if (options.unschedulable) (result.spec as NonNullable<Node['spec']>).unschedulable = true;
  return result;
}

let podCounter = 0;
/** A daemon pod as the controller makes it, bound to its node, in the given state. */
function daemonPod(ds: DaemonSet, nodeName: string, state: { hash?: string; ready?: boolean; readySinceMs?: number; phase?: NonNullable<Pod['status']>['phase']; createdMs?: number; bound?: boolean } = {}): Pod {
  const pod = newDaemonPod(ds, nodeName, state.hash ?? revisionHash(ds.spec?.template, 0));
  podCounter += 1;
  const metadata = pod.metadata as NonNullable<Pod['metadata']>;
  metadata.name = `agent-${nodeName}-${podCounter}`;
  delete metadata.generateName;
  metadata.creationTimestamp = formatTime(state.createdMs ?? START_MS - 60_000);
  if (state.bound !== false) (pod.spec as NonNullable<Pod['spec']>).nodeName = nodeName;
  pod.status = { phase: state.phase ?? 'Running', conditions: [{ type: 'Ready', status: state.ready === false ? 'False' : 'True', lastTransitionTime: formatTime(state.readySinceMs ?? START_MS - 30_000) }] };
  return pod;
}

/** Revision 1 of the DaemonSet: its own template unless told otherwise. */
const revision1 = (ds: DaemonSet, podTemplate: PodTemplateSpec | undefined = ds.spec?.template) => newRevision({ owner: ds, ownerApiVersion: 'apps/v1', ownerKind: 'DaemonSet', template: podTemplate, revision: 1, collisionCount: 0 });

const controllers: DaemonSetController[] = [];
afterEach(() => {
  // Drop delayed requeues (minReadySeconds, back-off) so no timer outlives the test.
  for (const controller of controllers.splice(0)) controller.queue.shutDown();
});

async function setup(objects: KubeObject[]): Promise<{ f: Fixture; controller: DaemonSetController }> {
  const f = fixture(objects);
  const controller = new DaemonSetController(f.context);
  controllers.push(controller);
  await f.start();
  return { f, controller };
}

const WATCHED = [RESOURCES.pods, RESOURCES.daemonSets, RESOURCES.controllerRevisions, RESOURCES.nodes];
async function settle(client: FakeApiClient, informers: SharedInformerFactory): Promise<void> {
  const versions = (objects: KubeObject[]): string =>
    objects
      .map((object) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}@${object.metadata?.resourceVersion ?? ''}`)
      .sort()
      .join(',');
  await waitFor(() => WATCHED.every((resource) => versions(informers.forResource(resource).lister.list()) === versions(client.peekAll(resource))), 'informers to catch up');
}

const createdPods = (f: Fixture): Pod[] => f.client.writes.filter((write) => write.verb === 'create' && write.resource === 'pods').map((write) => write.object as Pod);
const deletedPods = (f: Fixture): string[] => f.writeSummary().filter((write) => write.startsWith('delete pods '));
const pinnedNode = (pod: Pod): string | undefined => pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms[0]?.matchFields?.[0]?.values?.[0];
const storedStatus = (f: Fixture) => f.client.peek<DaemonSet>(RESOURCES.daemonSets, 'default', 'agent')?.status;

describe('DaemonSet controller: placement', () => {
  test('one pod per node, pinned by a metadata.name affinity term, with the daemon tolerations and the revision hash', async () => {
    const ds = daemonSet();
    const { f, controller } = await setup([ds, readyNode('n1'), readyNode('n2'), readyNode('n3')]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([`create controllerrevisions default/agent-${hash1}`, 'create pods default/', 'create pods default/', 'create pods default/', 'update daemonsets/status default/agent']);
    const pods = createdPods(f);
    expect(pods.map(pinnedNode)).toEqual(['n1', 'n2', 'n3']);
    const first = pods[0] as Pod;
    expect(first.metadata).toEqual({
      generateName: 'agent-',
      namespace: 'default',
      labels: { app: 'agent', 'controller-revision-hash': hash1 },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'uid-ds', controller: true, blockOwnerDeletion: true }],
    });
    expect(first.spec?.nodeName).toBeUndefined();
    expect(first.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual({ nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] });
    expect(first.spec?.tolerations?.map((toleration) => `${toleration.key}:${toleration.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    expect(storedStatus(f)).toEqual({ desiredNumberScheduled: 3, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 3, updatedNumberScheduled: 0, observedGeneration: 1 });
    expect(await f.eventReasons()).toEqual(['SuccessfulCreate', 'SuccessfulCreate', 'SuccessfulCreate']);
    await f.stop();
  });

  test.each<[string, DsOptions, Node, boolean]>([
    ['nodeSelector matches', { nodeSelector: { disk: 'ssd' } }, readyNode('n1', { labels: { disk: 'ssd' } }), true],
    ['nodeSelector does not match', { nodeSelector: { disk: 'ssd' } }, readyNode('n1', { labels: { disk: 'hdd' } }), false],
    ['an untolerated NoSchedule taint', {}, readyNode('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), false],
    ['a tolerated NoSchedule taint', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }, readyNode('n1', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] }), true],
    ['a cordoned node (unschedulable taint is tolerated)', {}, readyNode('n1', { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }] }), true],
    ['a not-ready node tainted NoExecute (tolerated)', {}, readyNode('n1', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] }), true],
    ['a PreferNoSchedule taint does not matter', {}, readyNode('n1', { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] }), true],
  ])('%s: pod created = %s', async (_name, options, target, expected) => {
    const { f, controller } = await setup([daemonSet(options), target]);
    await controller.sync(KEY);
    expect(createdPods(f).length).toBe(expected ? 1 : 0);
    expect(storedStatus(f)?.desiredNumberScheduled).toBe(expected ? 1 : 0);
    await f.stop();
  });

  test.each<[string, Node, string[]]>([
    ['a node relabelled out of the selector loses its pod', readyNode('n1', { labels: { disk: 'hdd' } }), ['delete pods default/agent-n1']],
    ['an untolerated NoExecute taint evicts the pod', readyNode('n1', { labels: { disk: 'ssd' }, taints: [{ key: 'maintenance', effect: 'NoExecute' }] }), ['delete pods default/agent-n1']],
    ['an untolerated NoSchedule taint lets the pod stay', readyNode('n1', { labels: { disk: 'ssd' }, taints: [{ key: 'maintenance', effect: 'NoSchedule' }] }), []],
  ])('%s', async (_name, target, deletes) => {
    const ds = daemonSet({ nodeSelector: { disk: 'ssd' } });
    const existing = daemonPod(ds, 'n1');
    (existing.metadata as NonNullable<Pod['metadata']>).name = 'agent-n1';
    const { f, controller } = await setup([ds, revision1(ds), target, existing]);
    await controller.sync(KEY);
    expect(deletedPods(f)).toEqual(deletes);
    expect(createdPods(f)).toEqual([]);
    await f.stop();
  });

  test('a failed pod is deleted with an event, then again only after the back-off', async () => {
    const ds = daemonSet();
    const failed = daemonPod(ds, 'n1', { phase: 'Failed', ready: false });
    const { f, controller } = await setup([ds, revision1(ds), readyNode('n1'), failed]);
    await controller.sync(KEY);
    expect(deletedPods(f)).toEqual([`delete pods default/${failed.metadata?.name ?? ''}`]);
    expect(await f.eventReasons()).toEqual(['FailedDaemonPod', 'SuccessfulDelete']);
    await settle(f.client, f.informers);
    await controller.sync(KEY);
    expect(createdPods(f).map(pinnedNode)).toEqual(['n1']);
    // The replacement fails at once: within the back-off it stays.
    await settle(f.client, f.informers);
    const replacement = f.client.peekAll<Pod>(RESOURCES.pods)[0] as Pod;
    await f.client.pods('default').updateStatus({ ...replacement, status: { phase: 'Failed' } });
    await settle(f.client, f.informers);
    f.client.clearActions();
    await controller.sync(KEY);
    expect(deletedPods(f)).toEqual([]);
    f.clock.advanceBy(2_000);
    await controller.sync(KEY);
    expect(deletedPods(f)).toEqual([`delete pods default/${replacement.metadata?.name ?? ''}`]);
    await f.stop();
  });

  test('two pods on a node: the newer goes', async () => {
    const ds = daemonSet();
    const older = daemonPod(ds, 'n1', { createdMs: START_MS - 90_000 });
    const newer = daemonPod(ds, 'n1', { createdMs: START_MS - 10_000 });
    const { f, controller } = await setup([ds, revision1(ds), readyNode('n1'), older, newer]);
    await controller.sync(KEY);
    expect(deletedPods(f)).toEqual([`delete pods default/${newer.metadata?.name ?? ''}`]);
    await f.stop();
  });

  test('an unscheduled pod meant for a node that is gone is deleted', async () => {
    const ds = daemonSet();
    const stray = daemonPod(ds, 'gone', { bound: false, phase: 'Pending', ready: false });
    const { f, controller } = await setup([ds, revision1(ds), readyNode('n1'), daemonPod(ds, 'n1'), stray]);
    await controller.sync(KEY);
    expect(deletedPods(f)).toEqual([`delete pods default/${stray.metadata?.name ?? ''}`]);
    await f.stop();
  });

  test('expectations: a second sync before the informer shows the new pods creates nothing more', async () => {
    const { f, controller } = await setup([daemonSet(), readyNode('n1'), readyNode('n2')]);
    await f.informers.shutdown();
    await controller.sync(KEY);
    await controller.sync(KEY);
    expect(createdPods(f)).toHaveLength(2);
    await f.stop();
  });
});

describe('DaemonSet controller: status', () => {
  test('counts desired, current, ready, available, updated and misscheduled pods; a second sync writes nothing', async () => {
    const ds = daemonSet({ nodeSelector: { role: 'agent' }, minReadySeconds: 60 });
    const labels = { role: 'agent' };
    const { f, controller } = await setup([
      { ...ds, spec: { ...ds.spec, template: { ...(ds.spec?.template ?? {}) } } } as DaemonSet,
      revision1(ds),
      readyNode('n1', { labels }),
      readyNode('n2', { labels }),
      readyNode('n3', { labels }),
      readyNode('other'),
      daemonPod(ds, 'n1'),
      daemonPod(ds, 'n2', { ready: false }),
      daemonPod(ds, 'n3', { hash: 'old', readySinceMs: START_MS - 3_600_000 }),
      daemonPod(ds, 'other'),
    ]);
    // n1 ready for 30 s only: not yet available with minReadySeconds 60; n3's old pod is, and stays while n1 and n2 are unavailable.
    await controller.sync(KEY);
    expect(deletedPods(f)).toEqual([expect.stringMatching(/^delete pods default\/agent-other-/)]);
    expect(storedStatus(f)).toMatchObject({ desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 2, numberAvailable: 1, numberUnavailable: 2, updatedNumberScheduled: 2, numberMisscheduled: 1, observedGeneration: 1 });
    f.clock.advanceBy(30_000);
    await settle(f.client, f.informers);
    f.client.clearActions();
    await controller.sync(KEY);
    expect(storedStatus(f)).toMatchObject({ numberAvailable: 2, numberUnavailable: 1 });
    await settle(f.client, f.informers);
    f.client.clearActions();
    await controller.sync(KEY);
    expect(f.writeSummary().filter((write) => write.includes('status'))).toEqual([]);
    await f.stop();
  });
});

describe('DaemonSet rolling update arithmetic', () => {
  type NodeState = 'old' | 'old-unavailable' | 'new' | 'new-unavailable' | 'none' | 'both' | 'both-new-unavailable';
  function world(states: NodeState[], options: DsOptions) {
    const ds = daemonSet({ ...options, template: V2 });
    const nodes = states.map((_state, index) => readyNode(`n${index + 1}`));
    const podsByNode = new Map<string, Pod[]>();
    states.forEach((state, index) => {
      const nodeName = `n${index + 1}`;
      const pods: Pod[] = [];
      if (state.startsWith('old') || state.startsWith('both')) pods.push(daemonPod(ds, nodeName, { hash: hash1, ready: state !== 'old-unavailable' }));
      if (state.startsWith('new') || state.startsWith('both')) pods.push(daemonPod(ds, nodeName, { hash: hash2, ready: state !== 'new-unavailable' && state !== 'both-new-unavailable' }));
      podsByNode.set(nodeName, pods);
    });
    return planRollingUpdate(ds, nodes, podsByNode, hash2, START_MS);
  }
  const nodeOf = (pod: Pod): string => pod.spec?.nodeName ?? '';

  test.each<[string, NodeState[], DsOptions, string[], string[]]>([
    ['maxUnavailable 1: one old pod at a time', ['old', 'old', 'old'], {}, ['n1'], []],
    ['maxUnavailable 1: waits while a new pod is unavailable', ['new-unavailable', 'old', 'old'], {}, [], []],
    ['maxUnavailable 1: a node without its pod counts as unavailable', ['none', 'old', 'old'], {}, [], []],
    ['maxUnavailable 2', ['old', 'old', 'old'], { maxUnavailable: 2 }, ['n1', 'n2'], []],
    ['maxUnavailable 50% of 3 rounds up to 2', ['old', 'old', 'old'], { maxUnavailable: '50%' }, ['n1', 'n2'], []],
    ['an unavailable old pod is replaced regardless of the budget', ['new-unavailable', 'old-unavailable', 'old'], {}, ['n2'], []],
    ['done: nothing to do', ['new', 'new', 'new'], {}, [], []],
    ['maxSurge 1: a new pod next to one old pod', ['old', 'old', 'old'], { maxSurge: 1, maxUnavailable: 0 }, [], ['n1']],
    ['maxSurge 1: the old pod goes once the new one is available', ['both', 'old', 'old'], { maxSurge: 1, maxUnavailable: 0 }, ['n1'], ['n2']],
    ['maxSurge 1: no second surge while one is not available', ['both-new-unavailable', 'old', 'old'], { maxSurge: 1, maxUnavailable: 0 }, [], []],
  ])('%s', (_name, states, options, deletedOn, createdOn) => {
    const plan = world(states, options);
    expect(plan.deletePods.map(nodeOf)).toEqual(deletedOn);
    expect(plan.createOnNodes).toEqual(createdOn);
  });

  test('a sync deletes the chosen old pod and the manage pass recreates it at the new revision later', async () => {
    const ds = daemonSet({ template: V2 });
    const pods = ['n1', 'n2'].map((nodeName) => daemonPod(ds, nodeName, { hash: hash1 }));
    const { f, controller } = await setup([ds, revision1(ds, V1), readyNode('n1'), readyNode('n2'), ...pods]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([`create controllerrevisions default/agent-${hash2}`, `delete pods default/${pods[0]?.metadata?.name ?? ''}`, 'update daemonsets/status default/agent']);
    await settle(f.client, f.informers);
    f.client.clearActions();
    await controller.sync(KEY);
    expect(createdPods(f).map((pod) => [pinnedNode(pod), pod.metadata?.labels?.['controller-revision-hash'], pod.spec?.containers[0]?.image])).toEqual([['n1', hash2, 'agent:2']]);
    await f.stop();
  });

  test('OnDelete replaces nothing by itself', async () => {
    const ds = daemonSet({ template: V2, onDelete: true });
    const { f, controller } = await setup([ds, revision1(ds, V1), readyNode('n1'), daemonPod(ds, 'n1', { hash: hash1 })]);
    await controller.sync(KEY);
    expect(deletedPods(f)).toEqual([]);
    expect(storedStatus(f)?.updatedNumberScheduled).toBe(0);
    await f.stop();
  });

  test('nodeShouldRunDaemonPod honours the template nodeName', () => {
    const ds = daemonSet();
    (ds.spec?.template.spec as NonNullable<PodTemplateSpec['spec']>).nodeName = 'n2';
    expect(nodeShouldRunDaemonPod(readyNode('n1'), ds)).toEqual({ shouldRun: false, shouldContinueRunning: false });
    expect(nodeShouldRunDaemonPod(readyNode('n2'), ds)).toEqual({ shouldRun: true, shouldContinueRunning: true });
  });
});

describe('DaemonSet controller with running informers', () => {
  test('pods appear on every node, then on a node added later; rollout status would finish', async () => {
    const { f, controller } = await setup([daemonSet(), readyNode('n1'), readyNode('n2')]);
    const running = controller.run(2);
    const pods = (): Pod[] => f.client.peekAll<Pod>(RESOURCES.pods);
    const markAllReady = async (): Promise<void> => {
      for (const pod of pods()) {
        if (pod.status?.phase === 'Running') continue;
        const nodeName = pinnedNode(pod) ?? '';
        await f.client.pods('default').updateStatus({ ...pod, spec: { ...(pod.spec as NonNullable<Pod['spec']>), nodeName }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(START_MS) }] } });
      }
    };
    try {
      await waitFor(() => pods().length === 2, 'a pod on each of two nodes');
      await markAllReady();
      await f.client.nodes().create(readyNode('n3'));
      await waitFor(() => pods().length === 3, 'a pod on the new node');
      expect(pods().map(pinnedNode).sort()).toEqual(['n1', 'n2', 'n3']);
      await markAllReady();
      await waitFor(() => storedStatus(f)?.numberAvailable === 3, 'all three available in status');
      // kubectl rollout status: observed generation, updated == desired, available == desired.
      expect(storedStatus(f)).toMatchObject({ observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3, numberReady: 3 });
    } finally {
      await controller.shutdown();
      await running;
      await f.stop();
    }
  });

  test('relabelling a node out of the nodeSelector removes its pod; labelling it back brings one', async () => {
    const { f, controller } = await setup([daemonSet({ nodeSelector: { role: 'agent' } }), readyNode('n1', { labels: { role: 'agent' } }), readyNode('n2', { labels: { role: 'agent' } })]);
    const running = controller.run(2);
    const podNodes = (): string[] => f.client.peekAll<Pod>(RESOURCES.pods).map((pod) => pinnedNode(pod) ?? '').sort();
    const relabel = async (role: string): Promise<void> => {
      await f.client.nodes().patch('n2', 'merge', { metadata: { labels: { role } } });
    };
    try {
      await waitFor(() => podNodes().join() === 'n1,n2', 'pods on n1 and n2');
      await relabel('storage');
      await waitFor(() => podNodes().join() === 'n1', 'the pod on n2 to go');
      await relabel('agent');
      await waitFor(() => podNodes().join() === 'n1,n2', 'a pod on n2 again');
    } finally {
      await controller.shutdown();
      await running;
      await f.stop();
    }
  });
});
