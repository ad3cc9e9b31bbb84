// The Lease service. Grant and Revoke go through Raft; keep-alives and
// time-to-live are answered by the leader, where deadlines live (see
// leases.ts); the list of leases is this member's.

import type * as grpc from '@grpc/grpc-js';
import { int64ToNumber } from '../etcdpb/int64';
import type * as pb from '../etcdpb/types';
import { NotSupportedForLearnerError } from './errors';
import type { EtcdServer } from './etcd-server';
import { checkRequireLeader, toStatus, unary } from './grpc-common';

export function leaseService(server: EtcdServer): grpc.UntypedServiceImplementation {
  const notOnLearner = (): void => {
    if (server.isLearner) throw new NotSupportedForLearnerError();
  };
  return {
    LeaseGrant: unary(server, 'LeaseGrant', (request: pb.LeaseGrantRequest, signal) => {
      notOnLearner();
      return server.propose({ type: 'leaseGrant', request }, signal);
    }),
    LeaseRevoke: unary(server, 'LeaseRevoke', (request: pb.LeaseRevokeRequest, signal) => {
      notOnLearner();
      return server.propose({ type: 'leaseRevoke', request }, signal);
    }),
    LeaseTimeToLive: unary(server, 'LeaseTimeToLive', async (request: pb.LeaseTimeToLiveRequest): Promise<pb.LeaseTimeToLiveResponse> => {
      const id = int64ToNumber(request.ID, 'ID');
      const answer = await server.leases.timeToLive(id, request.keys === true);
      // etcd answers a lease that does not exist with TTL -1 rather than an error.
      if (!answer.found) return { header: server.header(), ID: id, TTL: -1, grantedTTL: 0, keys: [] };
      return {
        header: server.header(),
        ID: id,
        TTL: answer.remainingSeconds,
        grantedTTL: answer.grantedTtlSeconds,
        keys: answer.keys.map((key) => Buffer.from(key, 'base64')),
      };
    }),
    LeaseLeases: unary(server, 'LeaseLeases', (): pb.LeaseLeasesResponse => ({
      header: server.header(),
      leases: server.lessor.leaseIds().map((ID) => ({ ID })),
    })),
    LeaseKeepAlive: (call: grpc.ServerDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>) => keepAlive(server, call),
  };
}

/** Answers each keep-alive in order; TTL 0 means the lease does not exist. An error ends the stream, as in etcd. */
function keepAlive(server: EtcdServer, call: grpc.ServerDuplexStream<pb.LeaseKeepAliveRequest, pb.LeaseKeepAliveResponse>): void {
  let ended = false;
  let previous: Promise<void> = Promise.resolve();
  const fail = (error: unknown): void => {
    if (ended) return;
    ended = true;
    call.emit('error', toStatus(error, server.logger, 'LeaseKeepAlive'));
  };
  try {
    checkRequireLeader(server, call.metadata);
  } catch (error) {
    fail(error);
    return;
  }
  call.on('data', (request: pb.LeaseKeepAliveRequest) => {
    previous = previous.then(async () => {
      if (ended) return;
      try {
        const id = int64ToNumber(request.ID, 'ID');
        const ttlSeconds = await server.leases.renew(id);
        if (!ended) call.write({ header: server.header(), ID: id, TTL: ttlSeconds });
      } catch (error) {
        fail(error);
      }
    });
  });
  const finish = (): void => {
    if (ended) return;
    ended = true;
    void previous.then(() => call.end());
  };
  call.on('end', finish);
  call.on('cancelled', () => (ended = true));
  call.on('error', () => (ended = true));
}
