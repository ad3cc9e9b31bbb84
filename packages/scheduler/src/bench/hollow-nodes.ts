// Hollow nodes: Node objects and their heartbeat Leases with no kubelet
// behind them, so a cluster of a thousand nodes fits on one machine. The
// renewer writes each lease every 10 s, spread evenly, which is the API
// load a thousand real kubelets put on the server.
import type { Lease } from '@kube-lite/api';
import type { ApiClient } from '@kube-lite/client';
import { inParallel } from './parallel';
import { hollowNode, hollowNodeLease, NODE_LEASE_NAMESPACE, NODE_LEASE_RENEW_INTERVAL_MS } from './workload';

/** Creates nodes 0..count-1 and their leases, `concurrency` requests in flight; returns the leases as stored. */
export async function createHollowNodes(client: ApiClient, count: number, concurrency: number): Promise<Lease[]> {
  const leases: Lease[] = new Array<Lease>(count);
  await inParallel(count, concurrency, async (index) => {
    const node = hollowNode(index);
    const created = await client.nodes().create(node);
    // Registration keeps the status a kubelet sends; set it explicitly when the server dropped it.
    if (created.status?.allocatable?.cpu === undefined) await client.nodes().updateStatus({ ...created, status: node.status });
    leases[index] = await client.leases(NODE_LEASE_NAMESPACE).create(hollowNodeLease(index, Date.now()));
  });
  return leases;
}

export interface LeaseRenewerCounters {
  renewed: number;
  failed: number;
}

/** How often the renewer wakes up; each tick renews its share of the leases. */
const TICK_MS = 100;
/** Renewals allowed in flight; ticks beyond it skip, so a slow server is not buried. */
const MAX_IN_FLIGHT = 64;

export class LeaseRenewer {
  readonly counters: LeaseRenewerCounters = { renewed: 0, failed: 0 };
  private readonly leases: Lease[];
  private cursor = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  /** Fractional leases owed from earlier ticks, so N/interval is kept exactly on average. */
  private owed = 0;

  constructor(
    private readonly client: ApiClient,
    leases: readonly Lease[],
    private readonly intervalMs = NODE_LEASE_RENEW_INTERVAL_MS,
  ) {
    this.leases = [...leases];
  }

  start(): void {
    if (this.timer !== undefined || this.leases.length === 0) return;
    this.timer = setInterval(() => this.tick(), TICK_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight]);
  }

  private tick(): void {
    this.owed += (this.leases.length * TICK_MS) / this.intervalMs;
    while (this.owed >= 1 && this.inFlight.size < MAX_IN_FLIGHT) {
      this.owed -= 1;
      const index = this.cursor;
      this.cursor = (this.cursor + 1) % this.leases.length;
      const renewal = this.renew(index).finally(() => this.inFlight.delete(renewal));
      this.inFlight.add(renewal);
    }
    // Skipped renewals are dropped, not saved up: a kubelet behind schedule does not burst either.
    this.owed = Math.min(this.owed, 1);
  }

  private async renew(index: number): Promise<void> {
    const lease = this.leases[index] as Lease;
    try {
      this.leases[index] = await this.client.leases(NODE_LEASE_NAMESPACE).update({ ...lease, spec: { ...lease.spec, renewTime: hollowNodeLease(index, Date.now()).spec?.renewTime } });
      this.counters.renewed++;
    } catch {
      this.counters.failed++;
      // A conflict means our copy is stale: take the stored one for the next round.
      try {
        this.leases[index] = await this.client.leases(NODE_LEASE_NAMESPACE).get(lease.metadata?.name ?? '');
      } catch {
        // The next round tries again.
      }
    }
  }
}
