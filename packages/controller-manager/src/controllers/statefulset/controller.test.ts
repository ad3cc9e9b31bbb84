import { formatTime, type ControllerRevision, type KubeObject, type PersistentVolumeClaim, type Pod, type PodTemplateSpec, type StatefulSet } from '@kube-lite/api';
import { RESOURCES, type FakeApiClient, type SharedInformerFactory } from '@kube-lite/client';
import { newRevision, revisionHash, revisionName } from '../../controller-utils/history';
import { fixture, START_MS, template, waitFor, type Fixture } from '../../test-support';
import { StatefulSetController } from './controller';
import { claimsFor, newStatefulSetPod } from './identity';

const KEY = 'default/web';
const V1 = template({ app: 'web' }, 'nginx:1.25');
const V2 = template({ app: 'web' }, 'nginx:1.26');
const name1 = revisionName('web', revisionHash(V1, 0));
const name2 = revisionName('web', revisionHash(V2, 0));

interface SetOptions {
  replicas?: number;
  template?: PodTemplateSpec;
  policy?: 'OrderedReady' | 'Parallel';
  partition?: number;
  maxUnavailable?: number;
  onDelete?: boolean;
  claims?: boolean;
  retention?: NonNullable<StatefulSet['spec']>['persistentVolumeClaimRetentionPolicy'];
  currentRevision?: string;
  revisionHistoryLimit?: number;
  start?: number;
}

function statefulSet(options: SetOptions = {}): StatefulSet {
  const set: StatefulSet = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-sts', generation: 1 },
    spec: {
      replicas: options.replicas ?? 3,
      selector: { matchLabels: { app: 'web' } },
      serviceName: 'web-svc',
      template: options.template ?? V1,
      podManagementPolicy: options.policy ?? 'OrderedReady',
      updateStrategy: options.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { partition: options.partition ?? 0, ...(options.maxUnavailable === undefined ? {} : { maxUnavailable: options.maxUnavailable }) } },
      revisionHistoryLimit: options.revisionHistoryLimit ?? 10,
      persistentVolumeClaimRetentionPolicy: options.retention ?? { whenDeleted: 'Retain', whenScaled: 'Retain' },
    },
  };
  const spec = set.spec as NonNullable<StatefulSet['spec']>;
  if (options.claims) spec.volumeClaimTemplates = [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }];
  if (options.start !== undefined) spec.ordinals = { start: options.start };
  if (options.currentRevision !== undefined) set.status = { replicas: 0, currentRevision: options.currentRevision, updateRevision: options.currentRevision, observedGeneration: 1 };
  return set;
}

function revision(set: StatefulSet, podTemplate: PodTemplateSpec, number: number): ControllerRevision {
  return newRevision({ owner: set, ownerApiVersion: 'apps/v1', ownerKind: 'StatefulSet', template: podTemplate, revision: number, collisionCount: 0 });
}

/** A pod as the controller makes it, in the given state. */
function member(set: StatefulSet, ordinal: number, state: { ready?: boolean; phase?: NonNullable<Pod['status']>['phase']; revision?: string; template?: PodTemplateSpec; deleting?: boolean } = {}): Pod {
  const pod = newStatefulSetPod(set, state.template ?? V1, ordinal, state.revision ?? name1);
  (pod.metadata as NonNullable<Pod['metadata']>).creationTimestamp = formatTime(START_MS - 60_000);
  pod.spec = { ...(pod.spec as NonNullable<Pod['spec']>), nodeName: 'n1' };
  pod.status = { phase: state.phase ?? 'Running', conditions: [{ type: 'Ready', status: state.ready === false ? 'False' : 'True', lastTransitionTime: formatTime(START_MS - 30_000) }] };
  if (state.deleting) {
    (pod.metadata as NonNullable<Pod['metadata']>).deletionTimestamp = formatTime(START_MS);
    (pod.metadata as NonNullable<Pod['metadata']>).finalizers = ['test/hold'];
  }
  return pod;
}

const WATCHED = [RESOURCES.pods, RESOURCES.statefulSets, RESOURCES.controllerRevisions, RESOURCES.persistentVolumeClaims];

/** Waits until the informers this controller reads hold exactly what the fake stores. */
async function settle(client: FakeApiClient, informers: SharedInformerFactory): Promise<void> {
  const versions = (objects: KubeObject[]): string =>
    objects
      .map((object) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}@${object.metadata?.resourceVersion ?? ''}`)
      .sort()
      .join(',');
  await waitFor(() => WATCHED.every((resource) => versions(informers.forResource(resource).lister.list()) === versions(client.peekAll(resource))), 'informers to catch up');
}

async function setup(objects: KubeObject[]): Promise<{ f: Fixture; controller: StatefulSetController }> {
  const f = fixture(objects);
  const controller = new StatefulSetController(f.context);
  await f.start();
  return { f, controller };
}

const storedSet = (f: Fixture): StatefulSet | undefined => f.client.peek<StatefulSet>(RESOURCES.statefulSets, 'default', 'web');
const writesOf = (f: Fixture, verb: string, resource: string): string[] => f.writeSummary().filter((write) => write.startsWith(`${verb} ${resource} `));

describe('StatefulSet controller: creation', () => {
  test('OrderedReady creates only web-0, claims first, with its identity, storage and revision, then writes status', async () => {
    const set = statefulSet({ claims: true });
    const { f, controller } = await setup([set]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([
      `create controllerrevisions default/${name1}`,
      'create persistentvolumeclaims default/data-web-0',
      'create pods default/web-0',
      'update statefulsets/status default/web',
    ]);
    const created = f.client.writes[2]?.object as Pod;
    expect(created.metadata).toEqual({
      name: 'web-0',
      namespace: 'default',
      labels: { app: 'web', 'statefulset.kubernetes.io/pod-name': 'web-0', 'apps.kubernetes.io/pod-index': '0', 'controller-revision-hash': name1 },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-sts', controller: true, blockOwnerDeletion: true }],
    });
    expect(created.spec?.hostname).toBe('web-0');
    expect(created.spec?.subdomain).toBe('web-svc');
    expect(created.spec?.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'data-web-0' } }]);
    const claim = f.client.writes[1]?.object as PersistentVolumeClaim;
    expect(claim.metadata).toEqual({ name: 'data-web-0', namespace: 'default', labels: { app: 'web' } });
    expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
    const revisionWritten = f.client.writes[0]?.object as ControllerRevision;
    expect(revisionWritten.revision).toBe(1);
    expect(revisionWritten.metadata?.ownerReferences?.[0]?.uid).toBe('uid-sts');
    expect(revisionWritten.data).toEqual({ spec: { template: { ...V1, $patch: 'replace' } } });
    expect(storedSet(f)?.status).toEqual({ observedGeneration: 1, replicas: 0, readyReplicas: 0, currentReplicas: 0, updatedReplicas: 0, availableReplicas: 0, currentRevision: name1, updateRevision: name1, collisionCount: 0 });
    expect(await f.eventReasons()).toEqual(['SuccessfulCreate', 'SuccessfulCreate']);
    await f.stop();
  });

  test.each<[string, SetOptions, (set: StatefulSet) => Pod[], string[]]>([
    ['nothing more while web-0 is not ready', {}, (set) => [member(set, 0, { ready: false })], []],
    ['nothing more while web-0 is Pending', {}, (set) => [member(set, 0, { phase: 'Pending', ready: false })], []],
    ['web-1 once web-0 is Running and Ready', {}, (set) => [member(set, 0)], ['create pods default/web-1']],
    ['web-2 once web-0 and web-1 are ready', {}, (set) => [member(set, 0), member(set, 1)], ['create pods default/web-2']],
    ['a deleted web-1 is recreated under the same name', {}, (set) => [member(set, 0), member(set, 2)], ['create pods default/web-1']],
    ['nothing while a pod is terminating', {}, (set) => [member(set, 0, { deleting: true })], []],
    ['Parallel creates every missing ordinal at once', { policy: 'Parallel' }, () => [], ['create pods default/web-0', 'create pods default/web-1', 'create pods default/web-2']],
    ['Parallel does not wait for an unready pod', { policy: 'Parallel' }, (set) => [member(set, 0, { ready: false })], ['create pods default/web-1', 'create pods default/web-2']],
    ['ordinals.start shifts the names', { start: 5, replicas: 2 }, (set) => [member(set, 5)], ['create pods default/web-6']],
  ])('%s', async (_name, options, pods, creates) => {
    const set = statefulSet({ ...options, currentRevision: name1 });
    const { f, controller } = await setup([set, revision(set, V1, 1), ...pods(set)]);
    await controller.sync(KEY);
    expect(writesOf(f, 'create', 'pods').sort()).toEqual(creates);
    await f.stop();
  });

  test('a failed pod is deleted, with an event, and recreated under the same name once gone', async () => {
    const set = statefulSet({ currentRevision: name1 });
    const { f, controller } = await setup([set, revision(set, V1, 1), member(set, 0), member(set, 1, { phase: 'Failed', ready: false })]);
    await controller.sync(KEY);
    expect(writesOf(f, 'delete', 'pods')).toEqual(['delete pods default/web-1']);
    expect(await f.eventReasons()).toEqual(['RecreatingFailedPod', 'SuccessfulDelete']);
    await settle(f.client, f.informers);
    f.client.clearActions();
    await controller.sync(KEY);
    expect(writesOf(f, 'create', 'pods')).toEqual(['create pods default/web-1']);
    await f.stop();
  });

  test('a second sync before the informer shows the new pod creates nothing', async () => {
    const set = statefulSet({ currentRevision: name1 });
    const { f, controller } = await setup([set, revision(set, V1, 1)]);
    await f.informers.shutdown(); // freeze the cache: it never shows web-0
    await controller.sync(KEY);
    await controller.sync(KEY);
    expect(writesOf(f, 'create', 'pods')).toEqual(['create pods default/web-0']);
    expect(controller.pending.count(KEY)).toBe(1);
    await f.stop();
  });

  test('an orphan named like a member is adopted; one named otherwise is not', async () => {
    const set = statefulSet({ replicas: 1, currentRevision: name1 });
    const orphan = member(set, 0);
    const stranger = member(set, 0);
    (orphan.metadata as NonNullable<Pod['metadata']>).ownerReferences = [];
    (stranger.metadata as NonNullable<Pod['metadata']>).ownerReferences = [];
    (stranger.metadata as NonNullable<Pod['metadata']>).name = 'other-0';
    const { f, controller } = await setup([set, revision(set, V1, 1), orphan, stranger]);
    await controller.sync(KEY);
    expect(writesOf(f, 'patch', 'pods')).toEqual(['patch pods default/web-0']);
    await f.stop();
  });
});

describe('StatefulSet controller: scale down', () => {
  test.each<[string, SetOptions, (set: StatefulSet) => Pod[], string[]]>([
    ['the highest ordinal goes first, one at a time', { replicas: 1 }, (set) => [member(set, 0), member(set, 1), member(set, 2)], ['delete pods default/web-2']],
    ['nothing while a remaining pod is unready', { replicas: 1 }, (set) => [member(set, 0, { ready: false }), member(set, 1), member(set, 2)], []],
    ['a condemned pod behind an unready one waits', { replicas: 1 }, (set) => [member(set, 0), member(set, 1, { ready: false }), member(set, 2, { ready: false })], []],
    ['the first unhealthy condemned pod may go', { replicas: 1 }, (set) => [member(set, 0), member(set, 1, { ready: false })], ['delete pods default/web-1']],
    ['waits for a terminating condemned pod', { replicas: 1 }, (set) => [member(set, 0), member(set, 1), member(set, 2, { deleting: true })], []],
    ['Parallel deletes every condemned pod', { replicas: 1, policy: 'Parallel' }, (set) => [member(set, 0), member(set, 1), member(set, 2)], ['delete pods default/web-1', 'delete pods default/web-2']],
  ])('%s', async (_name, options, pods, deletes) => {
    const set = statefulSet({ ...options, currentRevision: name1 });
    const { f, controller } = await setup([set, revision(set, V1, 1), ...pods(set)]);
    await controller.sync(KEY);
    expect(writesOf(f, 'delete', 'pods').sort()).toEqual(deletes);
    await f.stop();
  });
});

describe('StatefulSet controller: rolling update', () => {
  /** A set whose template moved from V1 to V2, with its pods in the given revisions (index = ordinal). */
  async function rolling(options: SetOptions, states: { revision: 1 | 2; ready?: boolean }[]) {
    const set = statefulSet({ ...options, template: V2, currentRevision: name1, replicas: states.length });
    const pods = states.map((state, ordinal) => member(set, ordinal, { revision: state.revision === 1 ? name1 : name2, template: state.revision === 1 ? V1 : V2, ...(state.ready === undefined ? {} : { ready: state.ready }) }));
    return setup([set, revision(set, V1, 1), ...pods]);
  }

  test.each<[string, SetOptions, { revision: 1 | 2; ready?: boolean }[], string[]]>([
    ['starts at the highest ordinal', {}, [{ revision: 1 }, { revision: 1 }, { revision: 1 }], ['delete pods default/web-2']],
    ['then the next one down once the updated pod is ready', {}, [{ revision: 1 }, { revision: 1 }, { revision: 2 }], ['delete pods default/web-1']],
    ['waits while the updated pod is not ready', {}, [{ revision: 1 }, { revision: 1 }, { revision: 2, ready: false }], []],
    ['stops at the partition', { partition: 1 }, [{ revision: 1 }, { revision: 2 }, { revision: 2 }], []],
    ['OnDelete never deletes', { onDelete: true }, [{ revision: 1 }, { revision: 1 }, { revision: 1 }], []],
    ['maxUnavailable 2 deletes two at once', { maxUnavailable: 2 }, [{ revision: 1 }, { revision: 1 }, { revision: 1 }], ['delete pods default/web-1', 'delete pods default/web-2']],
    ['maxUnavailable counts pods already unavailable', { maxUnavailable: 2, policy: 'Parallel' }, [{ revision: 1 }, { revision: 1 }, { revision: 2, ready: false }], ['delete pods default/web-1']],
  ])('%s', async (_name, options, states, deletes) => {
    const { f, controller } = await rolling(options, states);
    await controller.sync(KEY);
    expect(f.writeSummary()[0]).toBe(`create controllerrevisions default/${name2}`);
    expect(writesOf(f, 'delete', 'pods').sort()).toEqual(deletes);
    await f.stop();
  });

  test('status under a partition: current and updated counted apart, currentRevision kept', async () => {
    const { f, controller } = await rolling({ partition: 1 }, [{ revision: 1 }, { revision: 2 }, { revision: 2 }]);
    await controller.sync(KEY);
    expect(storedSet(f)?.status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 1, updatedReplicas: 2, currentRevision: name1, updateRevision: name2 });
    await f.stop();
  });

  test('a pod below the partition is recreated at the current revision, one above at the update revision', async () => {
    const set = statefulSet({ template: V2, currentRevision: name1, partition: 2, policy: 'Parallel' });
    const { f, controller } = await setup([set, revision(set, V1, 1), member(set, 2, { revision: name2, template: V2 })]);
    await controller.sync(KEY);
    const created = f.client.writes.filter((write) => write.verb === 'create' && write.resource === 'pods').map((write) => write.object as Pod);
    expect(created.map((pod) => [pod.metadata?.name, pod.metadata?.labels?.['controller-revision-hash'], pod.spec?.containers[0]?.image])).toEqual([
      ['web-0', name1, 'nginx:1.25'],
      ['web-1', name1, 'nginx:1.25'],
    ]);
    await f.stop();
  });

  test('once every pod is updated and ready the update revision becomes current; a second sync writes nothing', async () => {
    const { f, controller } = await rolling({}, [{ revision: 2 }, { revision: 2 }, { revision: 2 }]);
    await controller.sync(KEY);
    expect(storedSet(f)?.status).toEqual({ observedGeneration: 1, replicas: 3, readyReplicas: 3, availableReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: name2, updateRevision: name2, collisionCount: 0 });
    await settle(f.client, f.informers);
    f.client.clearActions();
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test('going back to an older template renumbers its revision instead of creating one', async () => {
    const set = statefulSet({ template: V1, currentRevision: name2 });
    const { f, controller } = await setup([set, revision(set, V1, 1), revision(set, V2, 2), member(set, 0, { revision: name2, template: V2 })]);
    await controller.sync(KEY);
    expect(f.writeSummary()[0]).toBe(`update controllerrevisions default/${name1}`);
    expect(f.client.peek<ControllerRevision>(RESOURCES.controllerRevisions, 'default', name1)?.revision).toBe(3);
    await f.stop();
  });

  test('history beyond revisionHistoryLimit is deleted oldest first, never a revision in use', async () => {
    const old = [template({ app: 'web' }, 'nginx:1.1'), template({ app: 'web' }, 'nginx:1.2'), template({ app: 'web' }, 'nginx:1.3')];
    const set = statefulSet({ template: V2, currentRevision: name2, revisionHistoryLimit: 1, replicas: 1 });
    const revisions = [...old.map((t, index) => revision(set, t, index + 1)), revision(set, V2, 4)];
    const pinned = revisions[0] as ControllerRevision;
    const { f, controller } = await setup([set, ...revisions, member(set, 0, { revision: pinned.metadata?.name ?? '', template: old[0] })]);
    await controller.sync(KEY);
    // Revision 1 is in use by web-0; of 2 and 3 one may stay: 2 goes.
    expect(writesOf(f, 'delete', 'controllerrevisions')).toEqual([`delete controllerrevisions default/${revisions[1]?.metadata?.name ?? ''}`]);
    await f.stop();
  });
});

describe('StatefulSet controller: claim retention', () => {
  test('whenDeleted Delete: new claims are owned by the set', async () => {
    const set = statefulSet({ claims: true, retention: { whenDeleted: 'Delete', whenScaled: 'Retain' } });
    const { f, controller } = await setup([set]);
    await controller.sync(KEY);
    const claim = f.client.writes.find((write) => write.resource === 'persistentvolumeclaims')?.object as PersistentVolumeClaim;
    expect(claim.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-sts' }]);
    await f.stop();
  });

  test('Retain: claims carry no owner and survive pod deletion', async () => {
    const set = statefulSet({ claims: true, replicas: 1, currentRevision: name1 });
    const claims = [0, 1].flatMap((ordinal) => claimsFor(set, ordinal));
    const { f, controller } = await setup([set, revision(set, V1, 1), ...claims, member(set, 0), member(set, 1)]);
    await controller.sync(KEY);
    expect(f.writeSummary().filter((write) => !write.startsWith('update statefulsets/status'))).toEqual(['delete pods default/web-1']);
    await f.stop();
  });

  test('whenScaled Delete: the claim of a condemned pod is handed to that pod before it is deleted', async () => {
    const set = statefulSet({ claims: true, replicas: 1, currentRevision: name1, retention: { whenDeleted: 'Retain', whenScaled: 'Delete' } });
    const claims = [0, 1].flatMap((ordinal) => claimsFor(set, ordinal));
    const { f, controller } = await setup([set, revision(set, V1, 1), ...claims, member(set, 0), member(set, 1)]);
    await controller.sync(KEY);
    expect(f.writeSummary().filter((write) => !write.startsWith('update statefulsets/status'))).toEqual(['update persistentvolumeclaims default/data-web-1', 'delete pods default/web-1']);
    const podUid = f.client.writes[0] && (f.client.writes[0].object as PersistentVolumeClaim).metadata?.ownerReferences;
    expect(podUid).toEqual([{ apiVersion: 'v1', kind: 'Pod', name: 'web-1', uid: expect.any(String) }]);
    await f.stop();
  });

  test('whenDeleted Delete on existing claims: an in-range pod\'s claim gains the set as owner', async () => {
    const set = statefulSet({ claims: true, replicas: 1, currentRevision: name1, retention: { whenDeleted: 'Delete', whenScaled: 'Retain' } });
    const { f, controller } = await setup([set, revision(set, V1, 1), ...claimsFor(set, 0), member(set, 0)]);
    await controller.sync(KEY);
    expect(writesOf(f, 'update', 'persistentvolumeclaims')).toEqual(['update persistentvolumeclaims default/data-web-0']);
    expect(f.client.peek<PersistentVolumeClaim>(RESOURCES.persistentVolumeClaims, 'default', 'data-web-0')?.metadata?.ownerReferences).toEqual([{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'uid-sts' }]);
    await f.stop();
  });

  test('a pod waits while its claim is still being deleted', async () => {
    const set = statefulSet({ claims: true, replicas: 1, currentRevision: name1 });
    const claim = claimsFor(set, 0)[0] as PersistentVolumeClaim;
    (claim.metadata as NonNullable<PersistentVolumeClaim['metadata']>).deletionTimestamp = formatTime(START_MS);
    (claim.metadata as NonNullable<PersistentVolumeClaim['metadata']>).finalizers = ['kubernetes.io/pvc-protection'];
    const { f, controller } = await setup([set, revision(set, V1, 1), claim]);
    await expect(controller.sync(KEY)).rejects.toThrow('is being deleted');
    expect(writesOf(f, 'create', 'pods')).toEqual([]);
    await f.stop();
  });
});

describe('StatefulSet controller with running informers', () => {
  test('a set of 3 comes up in order as its pods turn ready, and rollout status would finish', async () => {
    const set = statefulSet({ claims: true });
    const { f, controller } = await setup([set]);
    const running = controller.run(2);
    const pods = (): string[] => f.client.peekAll<Pod>(RESOURCES.pods).map((pod) => pod.metadata?.name ?? '').sort();
    const markReady = async (podName: string): Promise<void> => {
      const stored = f.client.peek<Pod>(RESOURCES.pods, 'default', podName) as Pod;
      await f.client.pods('default').updateStatus({ ...stored, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(START_MS) }] } });
    };
    try {
      for (const [ordinal, expected] of [[0, ['web-0']], [1, ['web-0', 'web-1']], [2, ['web-0', 'web-1', 'web-2']]] as const) {
        await waitFor(() => pods().length === expected.length, `pod web-${ordinal} to be created`);
        await settle(f.client, f.informers);
        // Nothing more appears until it is ready.
        expect(pods()).toEqual(expected);
        expect(f.client.peek(RESOURCES.persistentVolumeClaims, 'default', `data-web-${ordinal}`)).toBeDefined();
        await markReady(`web-${ordinal}`);
      }
      await waitFor(() => storedSet(f)?.status?.readyReplicas === 3, 'all three ready in status');
      const status = storedSet(f)?.status;
      // kubectl rollout status: generation observed, all ready, updated >= replicas - partition.
      expect(status).toMatchObject({ observedGeneration: 1, replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentRevision: name1, updateRevision: name1 });
    } finally {
      await controller.shutdown();
      await running;
      await f.stop();
    }
  });
});
