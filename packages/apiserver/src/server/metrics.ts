// Prometheus metrics for the HTTP front end, named as upstream's so existing
// dashboards and queries work: apiserver_request_total,
// apiserver_request_duration_seconds and apiserver_longrunning_requests.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The labels of one finished request; verbs are upstream's upper-case forms (LIST, WATCH, APPLY, CONNECT, ...). */
export interface RequestLabels {
  verb: string;
  group: string;
  version: string;
  resource: string;
  subresource: string;
  /** `resource`, `namespace` or `cluster`; `` for non-resource requests. */
  scope: string;
}

/** Upstream's buckets for apiserver_request_duration_seconds. */
const durationBucketsSeconds = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60];

export class ApiServerMetrics {
  /** A registry of its own, so several servers in one process (tests) do not collide. */
  readonly registry = new Registry();
  private readonly requests: Counter<string>;
  private readonly durations: Histogram<string>;
  private readonly longRunning: Gauge<string>;

  constructor(options: { collectProcessMetrics?: boolean } = {}) {
    const labelNames = ['verb', 'group', 'version', 'resource', 'subresource', 'scope'];
    this.requests = new Counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out for each verb, group, version, resource, subresource, scope and HTTP response code.',
      labelNames: [...labelNames, 'code'],
      registers: [this.registry],
    });
    this.durations = new Histogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency distribution in seconds for each verb, group, version, resource, subresource and scope.',
      labelNames,
      buckets: durationBucketsSeconds,
      registers: [this.registry],
    });
    this.longRunning = new Gauge({
      name: 'apiserver_longrunning_requests',
      help: 'Gauge of all active long-running apiserver requests (watches, log follows, exec) broken out by verb, group, version and resource.',
      labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope'],
      registers: [this.registry],
    });
    if (options.collectProcessMetrics ?? false) collectDefaultMetrics({ register: this.registry });
  }

  observe(labels: RequestLabels, code: number, durationSeconds: number): void {
    this.requests.inc({ ...labels, code: String(code) });
    // Watches last as long as their timeout; upstream leaves them out of the latency histogram too.
    if (labels.verb !== 'WATCH' && labels.verb !== 'CONNECT') this.durations.observe({ ...labels }, durationSeconds);
  }

  /** Counts a long-running request until the returned function is called. */
  trackLongRunning(labels: RequestLabels): () => void {
    this.longRunning.inc({ ...labels });
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.longRunning.dec({ ...labels });
    };
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
