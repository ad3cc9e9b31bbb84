import type { Etcd3 } from 'etcd3';
import { LeaseManager } from './lease-manager';

function fakeClient(): { client: Etcd3; grants: number[] } {
  const grants: number[] = [];
  const client = {
    leaseClient: {
      leaseGrant: async (request: { TTL: number }) => {
        grants.push(request.TTL);
        return { ID: String(grants.length), TTL: String(request.TTL), error: '' };
      },
    },
  } as unknown as Etcd3;
  return { client, grants };
}

describe('LeaseManager', () => {
  it.each([
    // [first TTL, seconds later, second TTL, leases granted]
    ['same TTL right after: reused', 3600, 10, 3600, 1],
    ['same TTL once the lease would outlive it by more than the window: new lease', 3600, 0, 3000, 2],
    ['longer TTL than the lease has left: new lease', 3600, 100, 3600, 2],
    ['short TTL (no reuse window) asked again at once: exact fit, reused', 10, 0, 10, 1],
    ['short TTL asked again a second later: new lease', 10, 1, 10, 2],
  ])('%s', async (_case, firstSeconds, laterSeconds, secondSeconds, expectedGrants) => {
    let nowMs = 1_000_000;
    const { client, grants } = fakeClient();
    const leases = new LeaseManager(client, { nowMs: () => nowMs });
    const first = await leases.leaseFor(firstSeconds, nowMs + 1000);
    nowMs += laterSeconds * 1000;
    const second = await leases.leaseFor(secondSeconds, nowMs + 1000);
    expect(grants).toHaveLength(expectedGrants);
    expect(second === first).toBe(expectedGrants === 1);
  });
});
