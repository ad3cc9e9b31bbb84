// Opening a member's data dir and working out who the member is, before it
// talks to anyone: the raft log, the backend (which must reach the raft
// snapshot's index, a snapshot being metadata only), the store, leases and
// member list on top of it, and the member and cluster ids (derived from the
// flags for a new cluster, asked of the cluster when joining one, read back
// on a restart).

import * as path from 'node:path';
import { RocksDbBackend } from '../backend';
import type { EtcdLiteConfig } from '../config';
import { Lessor } from '../lease';
import { Logger, type Metrics } from '../observability';
import { MvccStore } from '../mvcc';
import { readIdentity, writeIdentity, type MemberIdentity } from './identity';
import { JoinClusterError, MemberRemovedError } from './lifecycle-errors';
import { MemberPeerClient, type ClusterInfo } from './member-peer';
import { Membership, type MemberInfo } from './members';
import { DurableRaftStorage, RaftStorageCorruptError } from './raft-storage';
import { formatId } from './transport-service';

export interface OpenOptions {
  config: EtcdLiteConfig;
  logger?: Logger;
  /** Optional so tests may omit it; the CLI passes the one its metrics server exports. */
  metrics?: Metrics;
  /** How long a member joining an existing cluster keeps asking the other members for the cluster's identity. */
  joinTimeoutMs?: number;
}

/** Everything EtcdServer is built from. */
export interface Parts {
  config: EtcdLiteConfig;
  logger: Logger;
  metrics: Metrics | undefined;
  identity: MemberIdentity;
  storage: DurableRaftStorage;
  backend: RocksDbBackend;
  store: MvccStore;
  lessor: Lessor;
  membership: Membership;
  /** Members the cluster told a joining member about, for bootstrap entries that name none. */
  knownMembers: Map<number, MemberInfo>;
  peers: MemberPeerClient;
}

/** Opens the data dir and works out who this member is, before anything talks to the cluster. */
export async function openParts(options: OpenOptions): Promise<Parts> {
  const { config } = options;
  const logger = options.logger ?? new Logger({ component: 'etcd-lite', level: config.logLevel === 'debug' ? 'debug' : 'info' });
  const peers = new MemberPeerClient();
  const opened: Array<{ close(): Promise<void> }> = [];
  try {
    const storage = await DurableRaftStorage.open(config.dataDir, options.metrics ? { walFsyncDurationSeconds: options.metrics.walFsyncDurationSeconds } : {});
    opened.push(storage);
    const backend = await RocksDbBackend.open({ directory: path.join(config.dataDir, 'member', 'snap', 'db') });
    opened.push(backend);
    const store = await MvccStore.open(backend, { emptyRevision: 1 });
    const snapshot = storage.snapshot();
    if (store.consistentIndex < snapshot.metadata.index) {
      // A snapshot is recorded only once the backend is durable up to its
      // index, so the backend lost synced writes, unless the data dir is
      // from before snapshots were metadata only and the file has the state.
      if (snapshot.data.length === 0) {
        throw new RaftStorageCorruptError(
          config.dataDir,
          `the backend reaches raft index ${store.consistentIndex}, short of the snapshot at ${snapshot.metadata.index}`,
        );
      }
      logger.info('backend is behind the raft snapshot; restoring it from the snapshot file', {
        consistentIndex: store.consistentIndex,
        snapshotIndex: snapshot.metadata.index,
      });
      await backend.restoreSnapshot(snapshot.data);
      await store.reload();
    }
    const minTtlSeconds = Math.ceil((3 * config.electionTimeoutMs) / 2 / 1000);
    const lessor = await Lessor.open(store, { minTtlSeconds });
    const membership = await Membership.load(backend);
    const knownMembers = new Map<number, MemberInfo>();
    for (const member of config.initialCluster) {
      knownMembers.set(member.id, { id: member.id, name: member.name, peerUrls: member.peerUrls, clientUrls: [], isLearner: false });
    }
    let identity = await readIdentity(config.dataDir);
    if (identity === undefined) {
      if (config.initialClusterState === 'existing' && storage.lastIndex() === 0) {
        const info = await joinCluster(config, peers, options.joinTimeoutMs ?? 30_000, logger);
        const self = info.members.find((member) => member.peerUrls.some((url) => config.initialAdvertisePeerUrls.includes(url)));
        if (self === undefined) {
          throw new JoinClusterError(
            `no member of cluster ${formatId(info.clusterId)} has the peer URLs ${config.initialAdvertisePeerUrls.join(',')}; add it first with "etcdctl member add"`,
          );
        }
        // Ids in --initial-cluster are derived from URLs; the cluster's own list has the ids it assigned.
        knownMembers.clear();
        for (const member of info.members) knownMembers.set(member.id, member);
        identity = { memberId: self.id, clusterId: info.clusterId };
      } else {
        identity = { memberId: config.memberId, clusterId: membership.clusterId || config.clusterId };
      }
      await writeIdentity(config.dataDir, identity);
    }
    if (membership.isRemoved(identity.memberId)) throw new MemberRemovedError(formatId(identity.memberId));
    return { config, logger, metrics: options.metrics, identity, storage, backend, store, lessor, membership, knownMembers, peers };
  } catch (error) {
    peers.close();
    for (const resource of opened.reverse()) await resource.close().catch(() => undefined);
    throw error;
  }
}

/** Asks the members in --initial-cluster (other than this one) for the cluster's identity. */
async function joinCluster(config: EtcdLiteConfig, peers: MemberPeerClient, timeoutMs: number, logger: Logger): Promise<ClusterInfo> {
  const urls = config.initialCluster
    .filter((member) => member.name !== config.name)
    .flatMap((member) => member.peerUrls);
  if (urls.length === 0) throw new JoinClusterError('--initial-cluster names no other member to join');
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    for (const url of urls) {
      try {
        const info = await peers.clusterInfo(url, 2000);
        logger.info('fetched the cluster to join', { clusterId: formatId(info.clusterId), from: url, members: info.members.length });
        return info;
      } catch (error) {
        lastError = error;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new JoinClusterError(`no member of --initial-cluster answered at ${urls.join(', ')} within ${timeoutMs} ms`, { cause: lastError });
}
