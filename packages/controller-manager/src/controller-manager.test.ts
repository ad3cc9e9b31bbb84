// The manager end to end over FakeApiClient: leader election, HTTP endpoints,
// and the Deployment + ReplicaSet controllers running on real informers and
// workers through a rollout.
import { formatTime, isPodReady, podTemplateHash, type Deployment, type Lease, type Pod, type ReplicaSet } from '@kube-lite/api';
import { FakeApiClient, RESOURCES } from '@kube-lite/client';
import { ControllerManager } from './controller-manager';
import { deployment, sleep, template, waitFor } from './test-support';

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

describe('ControllerManager', () => {
  test('leads through the kube-system/kube-controller-manager Lease, serves /healthz and /metrics, releases the lease on stop', async () => {
    const client = new FakeApiClient();
    const manager = new ControllerManager({
      client,
      controllers: ['endpoint'],
      leaderElection: { enabled: true, namespace: 'kube-system', name: 'kube-controller-manager', identity: 'test-1', leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 },
      httpPort: 0,
      bindAddress: '127.0.0.1',
      defaultMetrics: false,
    });
    await manager.start();
    await waitFor(() => manager.controllers.length === 1, 'the endpoint controller to start');
    const lease = client.peek<Lease>(RESOURCES.leases, 'kube-system', 'kube-controller-manager');
    expect(lease?.spec?.holderIdentity).toBe('test-1');
    const port = manager.httpPort as number;
    expect(await get(port, '/healthz')).toEqual({ status: 200, body: 'ok' });
    const metrics = await get(port, '/metrics');
    expect(metrics.body).toContain('leader_election_master_status{name="kube-controller-manager"} 1');
    expect(metrics.body).toContain('workqueue_depth{name="endpoint"}');
    expect((await get(port, '/nope')).status).toBe(404);
    await manager.stop();
    expect(client.peek<Lease>(RESOURCES.leases, 'kube-system', 'kube-controller-manager')?.spec?.holderIdentity).toBe('');
    client.close();
  });

  test('a Deployment of 10 yields one ReplicaSet and 10 pods; a new image rolls out without dropping below replicas - maxUnavailable ready pods', async () => {
    const client = new FakeApiClient();
    const manager = new ControllerManager({ client, controllers: ['deployment', 'replicaset'], defaultMetrics: false });
    const replicas = 10;
    const minReady = replicas - 2; // maxUnavailable 25% of 10, rounded down
    let lowestReady = Infinity;
    const readyNow = (): number => client.peekAll<Pod>(RESOURCES.pods).filter((pod) => pod.metadata?.deletionTimestamp === undefined && isPodReady(pod)).length;
    let rolling = false;
    // Watch every pod deletion: how many ready pods remain right after it.
    client.addReactor((action) => {
      if (!rolling || action.verb !== 'delete' || action.resource !== 'pods') return;
      const victim = client.peek<Pod>(RESOURCES.pods, action.namespace, action.name ?? '');
      lowestReady = Math.min(lowestReady, readyNow() - (victim !== undefined && isPodReady(victim) ? 1 : 0));
    });
    /** Marks up to `count` not-ready pods (of `hash`, when given) ready, as kubelets would. */
    const makeReady = async (count: number, hash?: string): Promise<number> => {
      const pending = client.peekAll<Pod>(RESOURCES.pods).filter((pod) => !isPodReady(pod) && (hash === undefined || pod.metadata?.labels?.['pod-template-hash'] === hash));
      for (const pod of pending.slice(0, count)) {
        await client.pods('default').updateStatus({ ...pod, status: { phase: 'Running', podIP: '10.0.0.1', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: formatTime(Date.now()) }] } });
      }
      return Math.min(count, pending.length);
    };
    const d = (): Deployment => client.peek<Deployment>(RESOURCES.deployments, 'default', 'web') as Deployment;
    const replicaSets = (): ReplicaSet[] => client.peekAll<ReplicaSet>(RESOURCES.replicaSets);
    const rolledOut = (): boolean => {
      const status = d().status ?? {};
      return (status.observedGeneration ?? 0) >= (d().metadata?.generation ?? 0) && status.updatedReplicas === replicas && status.replicas === replicas && status.availableReplicas === replicas;
    };

    try {
      await manager.start();
      client.seed({ ...deployment('web', replicas), metadata: { name: 'web', namespace: 'default' } });
      await waitFor(() => client.peekAll(RESOURCES.pods).length === replicas, '10 pods');
      expect(replicaSets()).toHaveLength(1);
      expect(replicaSets()[0]?.metadata?.name).toBe(`web-${podTemplateHash(template({ app: 'web' }))}`);
      await makeReady(replicas);
      await waitFor(rolledOut, 'the first rollout to complete');
      expect(d().status).toMatchObject({ replicas: 10, updatedReplicas: 10, readyReplicas: 10, availableReplicas: 10, unavailableReplicas: 0 });

      // New image: roll, making at most 3 new pods ready at a time.
      rolling = true;
      const updated = d();
      const spec = updated.spec as NonNullable<Deployment['spec']>;
      spec.template = template({ app: 'web' }, 'nginx:1.26');
      await client.deployments('default').update(updated);
      const newHash = podTemplateHash(template({ app: 'web' }, 'nginx:1.26'));
      for (let round = 0; round < 400 && !rolledOut(); round += 1) {
        await sleep(10);
        await makeReady(3, newHash);
      }
      expect(rolledOut()).toBe(true);
      expect(lowestReady).toBeGreaterThanOrEqual(minReady);
      expect(Number.isFinite(lowestReady)).toBe(true);
      const pods = client.peekAll<Pod>(RESOURCES.pods);
      expect(pods).toHaveLength(replicas);
      expect(pods.every((pod) => pod.metadata?.labels?.['pod-template-hash'] === newHash)).toBe(true);
      expect(replicaSets().map((rs) => [rs.metadata?.annotations?.['deployment.kubernetes.io/revision'], rs.spec?.replicas])).toEqual(
        expect.arrayContaining([
          ['1', 0],
          ['2', 10],
        ]),
      );
    } finally {
      await manager.stop();
      client.close();
    }
  });
});
