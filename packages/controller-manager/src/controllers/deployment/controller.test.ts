import { podTemplateHash, type Deployment, type ReplicaSet } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { deployment, fixture, pod, replicaSet, START_MS, template } from '../../test-support';
import { DeploymentController } from './controller';
import { maxSurge, maxUnavailable } from './util';

const KEY = 'default/web';

async function setup(objects: Parameters<typeof fixture>[0]) {
  const f = fixture(objects);
  const controller = new DeploymentController(f.context);
  await f.start();
  return { f, controller };
}

const rsOf = (f: ReturnType<typeof fixture>, name: string) => f.client.peek<ReplicaSet>(RESOURCES.replicaSets, 'default', name);
const deployOf = (f: ReturnType<typeof fixture>) => f.client.peek<Deployment>(RESOURCES.deployments, 'default', 'web') as Deployment;
const hashOf = (image: string) => podTemplateHash(template({ app: 'web' }, image));

/** A ReplicaSet of deployment `d` with the template of `image`, as the controller names it. */
function ownedRS(d: Deployment, image: string, replicas: number, available: number, revision: number, createdMs: number): ReplicaSet {
  const hash = hashOf(image);
  const rs = replicaSet(`web-${hash}`, `uid-rs-${image}`, replicas, { labels: { app: 'web' }, hash, owner: d, revision, image, available, createdMs });
  return rs;
}

describe('Deployment fence posts (surge rounds up, unavailable down)', () => {
  test.each([
    // replicas, maxSurge, maxUnavailable -> surge, unavailable
    [10, '25%', '25%', 3, 2],
    [3, '25%', '25%', 1, 0],
    [4, '50%', '50%', 2, 2],
    [5, 0, 0, 0, 1],
    [5, 1, '10%', 1, 0],
    [1, '25%', '100%', 1, 1],
  ])('replicas %s, maxSurge %s, maxUnavailable %s -> surge %s, unavailable %s', (replicas, surge, unavailable, wantSurge, wantUnavailable) => {
    const d = deployment('web', replicas, { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } });
    expect([maxSurge(d), maxUnavailable(d)]).toEqual([wantSurge, wantUnavailable]);
  });
});

describe('Deployment controller', () => {
  test('a new Deployment gets one ReplicaSet <name>-<hash> with the hash label, revision 1 and all replicas', async () => {
    const d = deployment('web', 10);
    const { f, controller } = await setup([d]);
    await controller.sync(KEY);
    const hash = hashOf('nginx:1.25');
    expect(f.writeSummary()).toEqual([`create replicasets default/web-${hash}`, 'patch deployments default/web', 'update deployments/status default/web', 'update deployments/status default/web']);
    const created = f.client.writes[0]?.object as ReplicaSet;
    expect(created.metadata).toEqual({
      name: `web-${hash}`,
      namespace: 'default',
      labels: { app: 'web', 'pod-template-hash': hash },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'uid-deploy-web', controller: true, blockOwnerDeletion: true }],
      annotations: { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' },
    });
    expect(created.spec?.replicas).toBe(10);
    expect(created.spec?.selector).toEqual({ matchLabels: { app: 'web', 'pod-template-hash': hash } });
    expect(created.spec?.template?.metadata?.labels).toEqual({ app: 'web', 'pod-template-hash': hash });
    const stored = deployOf(f);
    expect(stored.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    expect(stored.status).toMatchObject({ observedGeneration: 1, replicas: 0, updatedReplicas: 0, availableReplicas: 0, unavailableReplicas: 10 });
    expect(stored.status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Progressing', 'True', 'NewReplicaSetCreated'],
      ['Available', 'False', 'MinimumReplicasUnavailable'],
    ]);
    expect(await f.eventReasons()).toEqual(['ScalingReplicaSet']);
    await f.stop();
  });

  // One rolling-update step from the given ReplicaSet sizes: [old spec, old available], [new spec, new available] -> [old, new] after.
  test.each([
    ['creates the new set within maxSurge and scales old down to replicas - maxUnavailable', 10, '25%', '25%', [10, 10], undefined, [8, 3]],
    ['no room to surge: scales old down to keep replicas - maxUnavailable available', 10, '25%', '25%', [10, 10], [3, 0], [8, 3]],
    ['surges again as old pods go', 10, '25%', '25%', [8, 8], [3, 3], [8, 5]],
    ['new pods available: old shrinks to keep 8 available', 10, '25%', '25%', [8, 8], [5, 5], [3, 5]],
    ['unhealthy old replicas are removed first, then healthy ones down to 8 available', 10, '25%', '25%', [8, 4], [5, 5], [3, 5]],
    ['3 replicas, 25%: surge 1, unavailable 0 waits for the new pod', 3, '25%', '25%', [3, 3], [1, 0], [3, 1]],
    ['3 replicas, 25%: new pod available, one old goes', 3, '25%', '25%', [3, 3], [1, 1], [2, 1]],
    ['maxSurge 0 and maxUnavailable 0 still progress (unavailable 1)', 4, 0, 0, [4, 4], [0, 0], [3, 0]],
    ['completes: new set takes all replicas', 4, 1, 0, [0, 0], [3, 3], [0, 4]],
  ])('rolling update: %s', async (_name, replicas, surge, unavailable, oldSizes, newSizes, expected) => {
    const d = deployment('web', replicas, { image: 'nginx:1.26', strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: surge, maxUnavailable: unavailable } } });
    const objects: Parameters<typeof fixture>[0] = [d, ownedRS(d, 'nginx:1.25', oldSizes[0] as number, oldSizes[1] as number, 1, START_MS - 600_000)];
    if (newSizes !== undefined) objects.push(ownedRS(d, 'nginx:1.26', newSizes[0] as number, newSizes[1] as number, 2, START_MS - 60_000));
    const { f, controller } = await setup(objects);
    await controller.sync(KEY);
    const after = [rsOf(f, `web-${hashOf('nginx:1.25')}`)?.spec?.replicas, rsOf(f, `web-${hashOf('nginx:1.26')}`)?.spec?.replicas];
    expect(after).toEqual(expected);
    await f.stop();
  });

  test('rollback (rollout undo): the old ReplicaSet whose template matches becomes new again with the next revision', async () => {
    const d = deployment('web', 3, { image: 'nginx:1.25', status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3, availableReplicas: 3, readyReplicas: 3 } });
    const old = ownedRS(d, 'nginx:1.25', 0, 0, 1, START_MS - 600_000);
    const current = ownedRS(d, 'nginx:1.26', 3, 3, 2, START_MS - 60_000);
    const { f, controller } = await setup([d, old, current]);
    await controller.sync(KEY);
    expect(f.writeSummary()[0]).toBe(`update replicasets default/${old.metadata?.name}`);
    expect(rsOf(f, old.metadata?.name ?? '')?.metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    expect(f.writeSummary().filter((write) => write.startsWith('create'))).toEqual([]);
    // It is the new set: the rollout grows it within maxSurge (3 replicas, 25%: surge 1).
    expect(rsOf(f, old.metadata?.name ?? '')?.spec?.replicas).toBe(1);
    expect(deployOf(f).metadata?.annotations?.['deployment.kubernetes.io/revision']).toBe('3');
    await f.stop();
  });

  test('Recreate: scales old to zero, waits for its pods to be gone, then creates the new set at full size', async () => {
    const strategy = { type: 'Recreate' as const };
    const d = deployment('web', 3, { image: 'nginx:1.26', strategy });
    const old = ownedRS(d, 'nginx:1.25', 3, 3, 1, START_MS - 600_000);
    const oldPod = pod('web-old-1', { owner: old, labels: { app: 'web', 'pod-template-hash': hashOf('nginx:1.25') }, nodeName: 'n1', ready: true });
    const { f, controller } = await setup([d, old, oldPod]);
    await controller.sync(KEY);
    expect(rsOf(f, old.metadata?.name ?? '')?.spec?.replicas).toBe(0);
    expect(f.writeSummary().filter((write) => write.startsWith('create'))).toEqual([]);
    // The old set shows 0 replicas but its pod still runs: still no new set.
    await f.client.replicaSets('default').updateStatus({ ...(rsOf(f, old.metadata?.name ?? '') as ReplicaSet), status: { replicas: 0, availableReplicas: 0, readyReplicas: 0, observedGeneration: 2 } });
    await f.settle();
    await controller.sync(KEY);
    expect(f.writeSummary().filter((write) => write.startsWith('create'))).toEqual([]);
    await f.client.pods('default').delete('web-old-1');
    await f.settle();
    await controller.sync(KEY);
    const newName = `web-${hashOf('nginx:1.26')}`;
    expect(f.writeSummary().filter((write) => write.startsWith('create'))).toEqual([`create replicasets default/${newName}`]);
    expect(rsOf(f, newName)?.spec?.replicas).toBe(3);
    await f.stop();
  });

  test('paused: a template change rolls nothing out and shows Progressing Unknown DeploymentPaused', async () => {
    const d = deployment('web', 3, { image: 'nginx:1.26', paused: true });
    const old = ownedRS(d, 'nginx:1.25', 3, 3, 1, START_MS - 600_000);
    const { f, controller } = await setup([d, old]);
    await controller.sync(KEY);
    expect(f.writeSummary().filter((write) => write.includes('replicasets'))).toEqual([]);
    expect(deployOf(f).status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'DeploymentPaused' });
    await f.stop();
  });

  test('a replicas change while paused scales the current set', async () => {
    const d = deployment('web', 5, { image: 'nginx:1.25', paused: true });
    const current = ownedRS(d, 'nginx:1.25', 3, 3, 1, START_MS - 600_000);
    const { f, controller } = await setup([d, current]);
    await controller.sync(KEY);
    expect(rsOf(f, current.metadata?.name ?? '')?.spec?.replicas).toBe(5);
    expect(await f.eventReasons()).toEqual(['ScalingReplicaSet']);
    await f.stop();
  });

  test('proportional scaling mid-rollout splits new replicas by set size', async () => {
    // Was 10 (max 13) mid-rollout with 8 old + 5 new; scaled to 20 (max 25): 12 more, split 8:5 -> 7 and 5, remainder to the largest.
    const d = deployment('web', 20, { image: 'nginx:1.26', status: { replicas: 13 } });
    const old = ownedRS(d, 'nginx:1.25', 8, 8, 1, START_MS - 600_000);
    const fresh = ownedRS(d, 'nginx:1.26', 5, 0, 2, START_MS - 60_000);
    for (const rs of [old, fresh]) Object.assign(rs.metadata?.annotations ?? {}, { 'deployment.kubernetes.io/desired-replicas': '10', 'deployment.kubernetes.io/max-replicas': '13' });
    const { f, controller } = await setup([d, old, fresh]);
    await controller.sync(KEY);
    expect([rsOf(f, old.metadata?.name ?? '')?.spec?.replicas, rsOf(f, fresh.metadata?.name ?? '')?.spec?.replicas]).toEqual([15, 10]);
    await f.stop();
  });

  test('a complete rollout: status as kubectl rollout status wants it, and history beyond revisionHistoryLimit deleted', async () => {
    const d = deployment('web', 2, { image: 'nginx:1.27', revisionHistoryLimit: 1, status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 } });
    const objects: Parameters<typeof fixture>[0] = [d];
    ['nginx:1.24', 'nginx:1.25', 'nginx:1.26'].forEach((image, index) => objects.push(ownedRS(d, image, 0, 0, index + 1, START_MS - 900_000 + index * 1000)));
    objects.push(ownedRS(d, 'nginx:1.27', 2, 2, 4, START_MS - 60_000));
    const { f, controller } = await setup(objects);
    await controller.sync(KEY);
    expect(f.writeSummary().filter((write) => write.startsWith('delete'))).toEqual([`delete replicasets default/web-${hashOf('nginx:1.24')}`, `delete replicasets default/web-${hashOf('nginx:1.25')}`]);
    const status = deployOf(f).status;
    expect(status).toMatchObject({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2, unavailableReplicas: 0 });
    expect(status?.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Available', 'True', 'MinimumReplicasAvailable'],
      ['Progressing', 'True', 'NewReplicaSetAvailable'],
    ]);
    await f.settle();
    f.client.clearActions();
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test('no progress within progressDeadlineSeconds: Progressing False ProgressDeadlineExceeded', async () => {
    const stale = new Date(START_MS - 700_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const d = deployment('web', 2, {
      image: 'nginx:1.26',
      status: {
        observedGeneration: 1,
        replicas: 3,
        updatedReplicas: 1,
        readyReplicas: 2,
        availableReplicas: 2,
        unavailableReplicas: 1,
        conditions: [
          { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: stale, lastTransitionTime: stale },
          { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated', message: 'x', lastUpdateTime: stale, lastTransitionTime: stale },
        ],
      },
    });
    const old = ownedRS(d, 'nginx:1.25', 2, 2, 1, START_MS - 900_000);
    const fresh = ownedRS(d, 'nginx:1.26', 1, 0, 2, START_MS - 800_000);
    const { f, controller } = await setup([d, old, fresh]);
    await controller.sync(KEY);
    expect(deployOf(f).status?.conditions?.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${fresh.metadata?.name}" has timed out progressing.` });
    await f.stop();
  });

  test('adopts an orphan ReplicaSet its selector matches', async () => {
    const d = deployment('web', 1);
    const orphan = replicaSet(`web-${hashOf('nginx:1.25')}`, 'uid-orphan', 1, { labels: { app: 'web' }, hash: hashOf('nginx:1.25'), revision: 1 });
    const { f, controller } = await setup([d, orphan]);
    await controller.sync(KEY);
    expect(f.writeSummary()[0]).toBe(`patch replicasets default/${orphan.metadata?.name}`);
    expect(rsOf(f, orphan.metadata?.name ?? '')?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Deployment', uid: 'uid-deploy-web', controller: true });
    expect(f.writeSummary().filter((write) => write.startsWith('create'))).toEqual([]);
    await f.stop();
  });
});
