import type { Lease } from '@kube-lite/api';
import { FakeApiClient } from '@kube-lite/client';
import { createHollowNodes, LeaseRenewer } from './hollow-nodes';
import { hollowNodeName, NODE_LEASE_NAMESPACE } from './workload';

describe('createHollowNodes', () => {
  it('creates Ready nodes with the issue’s allocatable and a lease each', async () => {
    const client = new FakeApiClient();
    const leases = await createHollowNodes(client, 5, 2);
    const nodes = (await client.nodes().list()).items;
    expect(nodes.map((node) => node.metadata?.name).sort()).toEqual([0, 1, 2, 3, 4].map(hollowNodeName).sort());
    for (const node of nodes) {
      expect(node.status?.allocatable).toEqual({ cpu: '4', memory: '16Gi', pods: '110' });
      expect(node.status?.conditions).toContainEqual(expect.objectContaining({ type: 'Ready', status: 'True' }));
    }
    expect(leases.map((lease) => lease.metadata?.name)).toEqual([0, 1, 2, 3, 4].map(hollowNodeName));
    expect((await client.leases(NODE_LEASE_NAMESPACE).list()).items).toHaveLength(5);
  });
});

describe('LeaseRenewer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  async function advance(ms: number): Promise<void> {
    await jest.advanceTimersByTimeAsync(ms);
  }

  it.each([
    { nodes: 10, intervalMs: 1000, elapsedMs: 1000, expected: 10 },
    { nodes: 10, intervalMs: 1000, elapsedMs: 3000, expected: 30 },
    { nodes: 3, intervalMs: 1000, elapsedMs: 2000, expected: 6 },
  ])('renews $nodes leases once per $intervalMs ms each: $expected renewals in $elapsedMs ms', async ({ nodes, intervalMs, elapsedMs, expected }) => {
    const client = new FakeApiClient();
    const leases = await createHollowNodes(client, nodes, 4);
    const renewer = new LeaseRenewer(client, leases, intervalMs);
    renewer.start();
    await advance(elapsedMs);
    await renewer.stop();
    // Each tick rounds down what it owes, so at most one renewal may be left for the next tick.
    expect(renewer.counters.renewed).toBeGreaterThanOrEqual(expected - 1);
    expect(renewer.counters.renewed).toBeLessThanOrEqual(expected);
    expect(renewer.counters.failed).toBe(0);
  });

  it('moves renewTime forward on every lease', async () => {
    const client = new FakeApiClient();
    const leases = await createHollowNodes(client, 4, 4);
    const renewer = new LeaseRenewer(client, leases, 400);
    const before = new Map(leases.map((lease) => [lease.metadata?.name, lease.spec?.renewTime]));
    renewer.start();
    await advance(1000);
    await renewer.stop();
    for (const lease of (await client.leases(NODE_LEASE_NAMESPACE).list()).items as Lease[]) {
      expect(lease.spec?.renewTime).not.toBe(before.get(lease.metadata?.name));
    }
  });

  it('recovers from a conflict by reading the stored lease and renewing it next round', async () => {
    const client = new FakeApiClient();
    const leases = await createHollowNodes(client, 1, 1);
    // Someone else writes the lease: the renewer's copy is now stale.
    const stored = await client.leases(NODE_LEASE_NAMESPACE).get(hollowNodeName(0));
    await client.leases(NODE_LEASE_NAMESPACE).update({ ...stored, spec: { ...stored.spec, holderIdentity: 'someone-else' } });
    const renewer = new LeaseRenewer(client, leases, 100);
    renewer.start();
    await advance(500);
    await renewer.stop();
    expect(renewer.counters.failed).toBe(1);
    expect(renewer.counters.renewed).toBeGreaterThanOrEqual(3);
  });
});
