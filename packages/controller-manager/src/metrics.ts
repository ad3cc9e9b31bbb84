// Prometheus metrics of the controller-manager, on a registry of its own (not
// prom-client's global one) so several managers in one test process never
// collide.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly syncs: Counter<'controller' | 'result'>;
  private readonly syncSeconds: Histogram<'controller'>;
  /** 1 while this process holds the leader lease (or runs without election), as upstream's leader_election_master_status. */
  readonly leader: Gauge<'name'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.syncs = new Counter({ name: 'controller_sync_total', help: 'Syncs run by each controller, by result.', labelNames: ['controller', 'result'], registers: [this.registry] });
    this.syncSeconds = new Histogram({
      name: 'controller_sync_duration_seconds',
      help: 'How long one sync(key) of each controller took.',
      labelNames: ['controller'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers: [this.registry],
    });
    this.leader = new Gauge({ name: 'leader_election_master_status', help: '1 while this process leads.', labelNames: ['name'], registers: [this.registry] });
  }

  recordSync(controller: string, result: 'success' | 'error', durationMs: number): void {
    this.syncs.inc({ controller, result });
    this.syncSeconds.observe({ controller }, durationMs / 1000);
  }

  /** Adds a gauge of a work queue's depth, read at scrape time. */
  addQueueDepth(name: string, depth: () => number): void {
    const existing = this.registry.getSingleMetric('workqueue_depth') as Gauge<'name'> | undefined;
    const depths = (this.queueDepths ??= new Map());
    depths.set(name, depth);
    if (existing !== undefined) return;
    new Gauge({
      name: 'workqueue_depth',
      help: 'Keys waiting in each controller work queue.',
      labelNames: ['name'],
      registers: [this.registry],
      collect() {
        for (const [queue, read] of depths) this.set({ name: queue }, read());
      },
    });
  }

  private queueDepths: Map<string, () => number> | undefined;
}
