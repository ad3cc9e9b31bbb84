// The Maintenance service: status, hashes, a backend snapshot, leadership
// transfer. etcd-lite raises no alarms and has nothing to defragment
// (RocksDB compacts itself), so Alarm lists none and Defragment succeeds.

import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type * as grpc from '@grpc/grpc-js';
import { int64ToNumber } from '../etcdpb/int64';
import type * as pb from '../etcdpb/types';
import type { EtcdServer } from './etcd-server';
import { toStatus, unary } from './grpc-common';
import { ETCD_API_VERSION } from './version';

const snapshotChunkBytes = 32 * 1024;

export function maintenanceService(server: EtcdServer): grpc.UntypedServiceImplementation {
  return {
    Alarm: unary(server, 'Alarm', (): pb.AlarmResponse => ({ header: server.header(), alarms: [] })),
    Status: unary(server, 'Status', async (): Promise<pb.StatusResponse> => {
      const status = server.raftNode.rawNode.status();
      const dbSize = await server.backendSizeBytes();
      return {
        header: server.header(),
        version: ETCD_API_VERSION,
        dbSize,
        leader: server.leaderId,
        raftIndex: status.hardState.commit,
        raftTerm: status.hardState.term,
        raftAppliedIndex: server.raftNode.applied,
        errors: [],
        dbSizeInUse: dbSize,
        isLearner: server.isLearner,
      };
    }),
    Defragment: unary(server, 'Defragment', (): pb.DefragmentResponse => ({ header: server.header() })),
    Hash: unary(server, 'Hash', async (): Promise<pb.HashResponse> => {
      const revision = server.store.revision;
      const snapshot = await server.backendSnapshot();
      return { header: server.header(revision), hash: crc32(snapshot) };
    }),
    HashKV: unary(server, 'HashKV', (request: pb.HashKVRequest): pb.HashKVResponse => {
      const result = server.store.hashKv(int64ToNumber(request.revision, 'revision'));
      return { header: server.header(result.revision), hash: result.hash, compact_revision: result.compactRevision };
    }),
    MoveLeader: unary(server, 'MoveLeader', async (request: pb.MoveLeaderRequest): Promise<pb.MoveLeaderResponse> => {
      await server.moveLeader(int64ToNumber(request.targetID, 'targetID'));
      return { header: server.header() };
    }),
    Snapshot: (call: grpc.ServerWritableStream<pb.SnapshotRequest, pb.SnapshotResponse>) => void sendSnapshot(server, call),
  };
}

/**
 * The backend as etcd streams its snapshot: the bytes, then their SHA-256.
 * etcdctl expects a database whose size is a multiple of 512 (bolt pages)
 * before the checksum, so the export is padded with zeros to one. The file
 * is etcd-lite's backend export, not a bolt database: etcdctl snapshot
 * restore cannot read it.
 */
async function sendSnapshot(server: EtcdServer, call: grpc.ServerWritableStream<pb.SnapshotRequest, pb.SnapshotResponse>): Promise<void> {
  try {
    const revision = server.store.revision;
    const exported = Buffer.from(await server.backendSnapshot());
    const data = Buffer.concat([exported, Buffer.alloc((512 - (exported.length % 512)) % 512)]);
    const blob = Buffer.concat([data, createHash('sha256').update(data).digest()]);
    for (let offset = 0; offset < blob.length && !call.cancelled; offset += snapshotChunkBytes) {
      const chunk = blob.subarray(offset, offset + snapshotChunkBytes);
      const more = call.write({ header: server.header(revision), remaining_bytes: blob.length - offset - chunk.length, blob: chunk });
      if (!more) await new Promise((resolve) => call.once('drain', resolve));
    }
    call.end();
  } catch (error) {
    call.emit('error', toStatus(error, server.logger, 'Snapshot'));
  }
}
