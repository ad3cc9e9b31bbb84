// The Prometheus metrics etcd-lite exposes, named and typed as etcd names them
// so existing etcd dashboards and alerts work unchanged. Each Metrics owns its
// registry (not prom-client's global one) so several members can live in one
// test process.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface MetricsOptions {
  /** Also export process_* and nodejs_* metrics (process_resident_memory_bytes, CPU, fds...); on by default. */
  collectDefaultMetrics?: boolean;
}

export class Metrics {
  readonly registry = new Registry();

  /** 1 while this member knows a leader, 0 otherwise. */
  readonly hasLeader: Gauge;
  readonly leaderChangesSeenTotal: Counter;
  /** The index of the last committed entry (a gauge in etcd despite the name). */
  readonly proposalsCommittedTotal: Gauge;
  /** The index of the last applied entry (a gauge in etcd despite the name). */
  readonly proposalsAppliedTotal: Gauge;
  readonly proposalsPending: Gauge;
  readonly proposalsFailedTotal: Counter;
  readonly walFsyncDurationSeconds: Histogram;
  /** Messages to a peer that could not be sent (queue full, peer unreachable); label To = peer id in hex. */
  readonly peerSentFailuresTotal: Counter<'To'>;
  readonly peerSentBytesTotal: Counter<'To'>;
  readonly peerReceivedBytesTotal: Counter<'From'>;
  readonly mvccDbTotalSizeInBytes: Gauge;

  constructor(options: MetricsOptions = {}) {
    const registers = [this.registry];
    this.hasLeader = new Gauge({ name: 'etcd_server_has_leader', help: 'Whether or not a leader exists. 1 is existence, 0 is not.', registers });
    this.leaderChangesSeenTotal = new Counter({
      name: 'etcd_server_leader_changes_seen_total',
      help: 'The number of leader changes seen.',
      registers,
    });
    this.proposalsCommittedTotal = new Gauge({
      name: 'etcd_server_proposals_committed_total',
      help: 'The total number of consensus proposals committed.',
      registers,
    });
    this.proposalsAppliedTotal = new Gauge({
      name: 'etcd_server_proposals_applied_total',
      help: 'The total number of consensus proposals applied.',
      registers,
    });
    this.proposalsPending = new Gauge({
      name: 'etcd_server_proposals_pending',
      help: 'The current number of pending proposals to commit.',
      registers,
    });
    this.proposalsFailedTotal = new Counter({
      name: 'etcd_server_proposals_failed_total',
      help: 'The total number of failed proposals seen.',
      registers,
    });
    this.walFsyncDurationSeconds = new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds',
      help: 'The latency distributions of fsync called by WAL.',
      // 1 ms doubling to about 8 s, the buckets etcd uses.
      buckets: Array.from({ length: 14 }, (_, i) => 0.001 * 2 ** i),
      registers,
    });
    this.peerSentFailuresTotal = new Counter({
      name: 'etcd_network_peer_sent_failures_total',
      help: 'The total number of send failures from peers.',
      labelNames: ['To'],
      registers,
    });
    this.peerSentBytesTotal = new Counter({
      name: 'etcd_network_peer_sent_bytes_total',
      help: 'The total number of bytes sent to peers.',
      labelNames: ['To'],
      registers,
    });
    this.peerReceivedBytesTotal = new Counter({
      name: 'etcd_network_peer_received_bytes_total',
      help: 'The total number of bytes received from peers.',
      labelNames: ['From'],
      registers,
    });
    this.mvccDbTotalSizeInBytes = new Gauge({
      name: 'etcd_mvcc_db_total_size_in_bytes',
      help: 'Total size of the underlying database physically allocated in bytes.',
      registers,
    });
    if (options.collectDefaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
