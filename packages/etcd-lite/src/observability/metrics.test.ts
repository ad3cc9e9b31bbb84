import * as http from 'http';
import { Logger } from './logger';
import { Metrics } from './metrics';
import { MetricsUrlError, startMetricsServer, type MetricsServer } from './metrics-server';

function get(url: string): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, contentType: String(response.headers['content-type']), body }),
        );
      })
      .on('error', reject);
  });
}

const quietLogger = new Logger({ write: () => undefined });

describe('Metrics', () => {
  test('exposes etcd\'s metric names and the process metrics', async () => {
    const metrics = new Metrics();
    metrics.hasLeader.set(1);
    metrics.leaderChangesSeenTotal.inc();
    metrics.proposalsCommittedTotal.set(42);
    metrics.walFsyncDurationSeconds.observe(0.003);
    metrics.peerSentFailuresTotal.inc({ To: 'a1' });
    const text = await metrics.text();
    for (const name of [
      'etcd_server_has_leader 1',
      'etcd_server_leader_changes_seen_total 1',
      'etcd_server_proposals_committed_total 42',
      'etcd_server_proposals_applied_total 0',
      'etcd_server_proposals_pending 0',
      'etcd_server_proposals_failed_total 0',
      'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.004"} 1',
      'etcd_disk_wal_fsync_duration_seconds_bucket{le="0.002"} 0',
      'etcd_network_peer_sent_failures_total{To="a1"} 1',
      'etcd_mvcc_db_total_size_in_bytes 0',
      'process_resident_memory_bytes',
    ]) {
      expect(text).toContain(name);
    }
  });

  test('two instances do not share a registry', async () => {
    const first = new Metrics({ collectDefaultMetrics: false });
    const second = new Metrics({ collectDefaultMetrics: false });
    first.hasLeader.set(1);
    expect(await second.text()).toContain('etcd_server_has_leader 0');
  });
});

describe('startMetricsServer', () => {
  let server: MetricsServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  test.each([
    { hasLeader: true, status: 200, body: '{"health":"true"}' },
    { hasLeader: false, status: 503, body: '{"health":"false"}' },
  ])('/health reports $body when a leader is known: $hasLeader', async ({ hasLeader, status, body }) => {
    server = await startMetricsServer(['http://127.0.0.1:0'], { metrics: new Metrics({ collectDefaultMetrics: false }), hasLeader: () => hasLeader, logger: quietLogger });
    const response = await get(`${server.urls[0]}/health`);
    expect([response.status, response.body, response.contentType]).toEqual([status, body, 'application/json']);
  });

  test('/metrics serves Prometheus text; other paths 404', async () => {
    const metrics = new Metrics({ collectDefaultMetrics: false });
    metrics.mvccDbTotalSizeInBytes.set(4096);
    server = await startMetricsServer(['http://127.0.0.1:0', 'http://127.0.0.1:0'], { metrics, hasLeader: () => true, logger: quietLogger });
    expect(server.urls).toHaveLength(2);
    for (const url of server.urls) {
      const response = await get(`${url}/metrics`);
      expect(response.status).toBe(200);
      expect(response.contentType).toContain('text/plain');
      expect(response.body).toContain('etcd_mvcc_db_total_size_in_bytes 4096');
    }
    expect((await get(`${server.urls[0]}/nope`)).status).toBe(404);
  });

  test.each(['https://127.0.0.1:2381', 'http://127.0.0.1', 'nonsense'])('refuses the listen URL %s', async (url) => {
    await expect(
      startMetricsServer([url], { metrics: new Metrics({ collectDefaultMetrics: false }), hasLeader: () => true, logger: quietLogger }),
    ).rejects.toThrow(MetricsUrlError);
  });
});
