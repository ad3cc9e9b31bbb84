// Three EtcdServers in one process, talking real gRPC on 127.0.0.1: writes
// through any member, linearizable reads from any other, membership
// (publish, a learner joining an existing cluster, promotion, removal), a
// leader stopping, and a member restarting from its data dir.

import { mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { parseEtcdFlags } from '../config';
import { loadEtcdPackageDefinition } from '../etcdpb/load';
import { Logger, silentLogger } from '../observability';
import { EtcdServer } from './etcd-server';

type Unary = (request: object, callback: (error: grpc.ServiceError | null, response: any) => void) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
type ServiceClient = grpc.Client & Record<string, Unary>;

interface Node {
  name: string;
  clientPort: number;
  peerPort: number;
  dataDir: string;
  server: EtcdServer | undefined;
}

const HEARTBEAT_MS = 20;
const ELECTION_MS = 200;
const services = grpc.loadPackageDefinition(loadEtcdPackageDefinition()) as unknown as {
  etcdserverpb: Record<string, new (target: string, credentials: grpc.ChannelCredentials) => ServiceClient>;
};

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function call<T>(client: ServiceClient, method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => client[method]!(request, (error, response) => (error ? reject(error) : resolve(response as T))));
}

async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 10000): Promise<T> {
  const started = Date.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('EtcdServer: three members in one process over gRPC', () => {
  const baseDir = mkdtempSync(path.join(tmpdir(), 'etcd-server-test-'));
  const nodes: Node[] = [];
  const clients: grpc.Client[] = [];
  const initialCluster = (): string => nodes.slice(0, 3).map((node) => `${node.name}=http://127.0.0.1:${node.peerPort}`).join(',');

  const flags = (node: Node, state: 'new' | 'existing', cluster: string): string[] => [
    `--name=${node.name}`,
    `--data-dir=${node.dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${node.clientPort}`,
    `--advertise-client-urls=http://127.0.0.1:${node.clientPort}`,
    `--listen-peer-urls=http://127.0.0.1:${node.peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${node.peerPort}`,
    `--initial-cluster=${cluster}`,
    `--initial-cluster-state=${state}`,
    '--initial-cluster-token=unit',
    `--heartbeat-interval=${HEARTBEAT_MS}`,
    `--election-timeout=${ELECTION_MS}`,
    '--snapshot-count=50',
  ];
  const start = async (node: Node, state: 'new' | 'existing' = 'new', cluster = initialCluster(), logger = silentLogger()): Promise<EtcdServer> => {
    node.server = await EtcdServer.start({ config: parseEtcdFlags(flags(node, state, cluster), {}), logger, snapshotCatchUpEntries: 10 });
    return node.server;
  };
  const client = (node: Node, service: string): ServiceClient => {
    const created = new services.etcdserverpb[service]!(`127.0.0.1:${node.clientPort}`, grpc.credentials.createInsecure());
    clients.push(created);
    return created;
  };
  const running = (): EtcdServer[] => nodes.flatMap((node) => (node.server ? [node.server] : []));
  const leader = (): Promise<EtcdServer> =>
    waitFor('one leader agreed by every running member', () => {
      const servers = running();
      const leaders = new Set(servers.map((server) => server.leaderId));
      const [leaderId] = [...leaders];
      return leaders.size === 1 && leaderId !== 0 ? servers.find((server) => server.memberId === leaderId) : undefined;
    });
  const nodeOf = (server: EtcdServer): Node => nodes.find((node) => node.server === server)!;

  beforeAll(async () => {
    for (const name of ['one', 'two', 'three', 'four']) {
      nodes.push({ name, clientPort: await freePort(), peerPort: await freePort(), dataDir: path.join(baseDir, name), server: undefined });
    }
    await Promise.all(nodes.slice(0, 3).map((node) => start(node)));
    await leader();
  }, 30000);

  afterAll(async () => {
    for (const created of clients) created.close();
    await Promise.all(running().map((server) => server.stop()));
    rmSync(baseDir, { recursive: true, force: true });
  }, 30000);

  it('writes through a follower and reads linearizably from every member', async () => {
    const current = await leader();
    const follower = running().find((server) => server !== current)!;
    const put = await call<{ header: { revision: string } }>(client(nodeOf(follower), 'KV'), 'Put', { key: Buffer.from('k'), value: Buffer.from('v1') });
    // etcd's first write is revision 2.
    expect(Number(put.header.revision)).toBe(2);
    for (const node of nodes.slice(0, 3)) {
      const range = await call<{ kvs: Array<{ value: Buffer }>; header: { member_id: string } }>(client(node, 'KV'), 'Range', { key: Buffer.from('k') });
      expect(range.kvs.map((kv) => kv.value.toString())).toEqual(['v1']);
      expect(Number(range.header.member_id)).toBe(node.server!.memberId);
    }
  });

  it('lists every member with the name and client URL it published', async () => {
    const list = await waitFor('three published members', async () => {
      const response = await call<{ members: Array<{ name: string; clientURLs: string[] }> }>(client(nodes[0]!, 'Cluster'), 'MemberList', {});
      return response.members.every((member) => member.name !== '') ? response : undefined;
    });
    expect(list.members.map((member) => `${member.name} ${member.clientURLs.join(',')}`).sort()).toEqual(
      nodes.slice(0, 3).map((node) => `${node.name} http://127.0.0.1:${node.clientPort}`).sort(),
    );
  });

  const errorCases: Array<{ name: string; service: string; method: string; request: object; code: grpc.status; message: string }> = [
    { name: 'an empty key', service: 'KV', method: 'Put', request: { key: Buffer.alloc(0), value: Buffer.from('v') }, code: grpc.status.INVALID_ARGUMENT, message: 'etcdserver: key is not provided' },
    { name: 'a request over --max-request-bytes', service: 'KV', method: 'Put', request: { key: Buffer.from('big'), value: Buffer.alloc(1.6 * 1024 * 1024) }, code: grpc.status.INVALID_ARGUMENT, message: 'etcdserver: request is too large' },
    { name: 'a lease that does not exist', service: 'Lease', method: 'LeaseRevoke', request: { ID: 12345 }, code: grpc.status.NOT_FOUND, message: 'etcdserver: requested lease not found' },
    { name: 'promoting an unknown member', service: 'Cluster', method: 'MemberPromote', request: { ID: 1 }, code: grpc.status.NOT_FOUND, message: 'etcdserver: member not found' },
  ];
  it.each(errorCases)('answers $name with etcd\'s error', async ({ service, method, request, code, message }) => {
    await expect(call(client(nodes[1]!, service), method, request)).rejects.toMatchObject({ code, details: message });
  });

  it('answers time-to-live on a follower (asked of the leader) and expires a lease nobody keeps alive', async () => {
    const current = await leader();
    const follower = nodeOf(running().find((server) => server !== current)!);
    const lease = client(follower, 'Lease');
    const granted = await call<{ ID: string; TTL: string }>(lease, 'LeaseGrant', { TTL: 1 });
    await call(client(follower, 'KV'), 'Put', { key: Buffer.from('leased'), value: Buffer.from('x'), lease: granted.ID });
    const live = await call<{ TTL: string }>(lease, 'LeaseTimeToLive', { ID: granted.ID });
    expect(Number(live.TTL)).toBeGreaterThanOrEqual(0);
    await waitFor('the lease to expire', async () => {
      const answer = await call<{ TTL: string }>(lease, 'LeaseTimeToLive', { ID: granted.ID });
      return answer.TTL === '-1' ? true : undefined;
    });
    const range = await call<{ kvs: unknown[] }>(client(follower, 'KV'), 'Range', { key: Buffer.from('leased') });
    expect(range.kvs).toEqual([]);
  });

  it('renews a lease kept alive through a follower (forwarded to the leader) past its TTL', async () => {
    const current = await leader();
    const follower = nodeOf(running().find((server) => server !== current)!);
    const lease = client(follower, 'Lease');
    const granted = await call<{ ID: string }>(lease, 'LeaseGrant', { TTL: 1 });
    const stream = (lease as unknown as { LeaseKeepAlive(): grpc.ClientDuplexStream<object, { ID: string; TTL: string }> }).LeaseKeepAlive();
    const answers: string[] = [];
    stream.on('data', (answer: { TTL: string }) => answers.push(answer.TTL));
    try {
      for (let round = 0; round < 6; round++) {
        stream.write({ ID: granted.ID });
        await new Promise((resolve) => setTimeout(resolve, 400));
      }
      // 2.4 s of keep-alives on a 1 s lease (raised to etcd's minimum TTL): still alive, every answer a full TTL.
      expect(answers.length).toBe(6);
      expect(new Set(answers).size).toBe(1);
      expect(Number(answers[0])).toBeGreaterThan(0);
      const live = await call<{ TTL: string }>(lease, 'LeaseTimeToLive', { ID: granted.ID });
      expect(Number(live.TTL)).toBeGreaterThanOrEqual(0);
    } finally {
      stream.end();
    }
    await call(lease, 'LeaseRevoke', { ID: granted.ID });
  });

  it('lets a learner join with --initial-cluster-state existing, catch up and be promoted', async () => {
    const newcomer = nodes[3]!;
    const cluster = client(nodes[0]!, 'Cluster');
    const added = await call<{ member: { ID: string; isLearner: boolean } }>(cluster, 'MemberAdd', {
      peerURLs: [`http://127.0.0.1:${newcomer.peerPort}`],
      isLearner: true,
    });
    expect(added.member.isLearner).toBe(true);
    // Enough writes that the newcomer needs a snapshot (--snapshot-count 50, 10 entries kept).
    const kv = client(nodes[1]!, 'KV');
    for (let index = 0; index < 80; index++) await call(kv, 'Put', { key: Buffer.from(`join/${index}`), value: Buffer.from(String(index)) });
    const joined = await start(newcomer, 'existing', `${initialCluster()},${newcomer.name}=http://127.0.0.1:${newcomer.peerPort}`);
    expect(joined.memberId).toBe(Number(added.member.ID));
    await waitFor('the learner to catch up', async () => {
      const range = await call<{ count: string }>(client(newcomer, 'KV'), 'Range', { key: Buffer.from('join/'), range_end: Buffer.from('join0'), serializable: true, count_only: true });
      return range.count === '80' ? true : undefined;
    });
    await waitFor('the promotion to be accepted', async () => {
      try {
        await call(cluster, 'MemberPromote', { ID: added.member.ID });
        return true;
      } catch (error) {
        if ((error as grpc.ServiceError).details !== 'etcdserver: can only promote a learner member which is in sync with leader') throw error;
        return undefined;
      }
    });
    const list = await call<{ members: Array<{ ID: string; isLearner: boolean; name: string }> }>(cluster, 'MemberList', {});
    expect(list.members.find((member) => member.ID === added.member.ID)).toMatchObject({ isLearner: false });
    // A voter now: it answers linearizable reads.
    const range = await call<{ count: string }>(client(newcomer, 'KV'), 'Range', { key: Buffer.from('join/'), range_end: Buffer.from('join0'), count_only: true });
    expect(range.count).toBe('80');
    await call(cluster, 'MemberRemove', { ID: added.member.ID });
    await waitFor('the removed member to stop', () => joined.done.then(() => false, () => true));
    newcomer.server = undefined;
  }, 30000);

  it('catches up a member that missed more than --snapshot-count entries by a snapshot; it then holds the same data', async () => {
    const current = await leader();
    const behindNode = nodeOf(running().find((server) => server !== current)!);
    await behindNode.server!.stop();
    behindNode.server = undefined;
    // 50 entries per snapshot and 10 kept behind it: 120 writes compact the log past where the stopped member is.
    const kv = client(nodeOf(current), 'KV');
    const granted = await call<{ ID: string }>(client(nodeOf(current), 'Lease'), 'LeaseGrant', { TTL: 600 });
    for (let index = 0; index < 120; index++) {
      await call(kv, 'Put', { key: Buffer.from(`behind/${index}`), value: Buffer.from(`v${index}`), lease: index % 10 === 0 ? granted.ID : 0 });
    }
    await call(kv, 'DeleteRange', { key: Buffer.from('behind/7') });
    const { header } = await call<{ header: { revision: string } }>(kv, 'Range', { key: Buffer.from('behind/0') });

    const lines: string[] = [];
    await start(behindNode, 'new', initialCluster(), new Logger({ write: (line) => lines.push(line) }));
    const behindKv = client(behindNode, 'KV');
    const restoredLines = (): string[] => lines.filter((line) => line.includes('restored the state machine from a snapshot'));
    // The log line comes once leases and members are reloaded too, a moment after the keys show.
    await waitFor('the restarted member to catch up by a snapshot', async () => {
      const range = await call<{ header: { revision: string } }>(behindKv, 'Range', { key: Buffer.from('behind/0'), serializable: true });
      return Number(range.header.revision) >= Number(header.revision) && restoredLines().length > 0 ? true : undefined;
    });
    expect(restoredLines()).toHaveLength(1);

    const prefix = { key: Buffer.from('behind/'), range_end: Buffer.from('behind0'), serializable: true };
    const leaderRange = await call<{ kvs: unknown[]; count: string }>(kv, 'Range', prefix);
    const behindRange = await call<{ kvs: unknown[]; count: string }>(behindKv, 'Range', prefix);
    expect(behindRange.count).toBe('119');
    expect(behindRange.kvs).toEqual(leaderRange.kvs);
    const hashAt = { revision: header.revision };
    const leaderHash = await call<{ hash: number }>(client(nodeOf(current), 'Maintenance'), 'HashKV', hashAt);
    const behindHash = await call<{ hash: number }>(client(behindNode, 'Maintenance'), 'HashKV', hashAt);
    expect(behindHash.hash).toBe(leaderHash.hash);
    // Leases came with the image: the restarted member knows the lease and its keys.
    const leases = await call<{ leases: Array<{ ID: string }> }>(client(behindNode, 'Lease'), 'LeaseLeases', {});
    expect(leases.leases.map((lease) => lease.ID)).toContain(granted.ID);
    await call(client(behindNode, 'Lease'), 'LeaseRevoke', { ID: granted.ID });
    const afterRevoke = await call<{ count: string }>(behindKv, 'Range', { ...prefix, serializable: false, count_only: true });
    expect(afterRevoke.count).toBe('107');
  }, 30000);

  it('elects a new leader when the leader stops, and the stopped member recovers its data on restart', async () => {
    const old = await leader();
    const oldNode = nodeOf(old);
    await old.stop();
    oldNode.server = undefined;
    const next = await leader();
    expect(next.memberId).not.toBe(old.memberId);
    await call(client(nodeOf(next), 'KV'), 'Put', { key: Buffer.from('k'), value: Buffer.from('v2') });
    const restarted = await start(oldNode);
    expect(restarted.memberId).toBe(old.memberId);
    const range = await call<{ kvs: Array<{ value: Buffer }> }>(client(oldNode, 'KV'), 'Range', { key: Buffer.from('k') });
    expect(range.kvs.map((kv) => kv.value.toString())).toEqual(['v2']);
  }, 30000);
});
