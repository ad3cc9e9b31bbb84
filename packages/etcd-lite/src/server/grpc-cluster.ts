// The Cluster service: the member list and membership changes (see cluster-ops.ts).

import type * as grpc from '@grpc/grpc-js';
import { int64ToNumber } from '../etcdpb/int64';
import type * as pb from '../etcdpb/types';
import type { EtcdServer } from './etcd-server';
import { unary } from './grpc-common';
import { toMemberMessage } from './members';

export function clusterService(server: EtcdServer): grpc.UntypedServiceImplementation {
  const members = (): pb.Member[] => server.cluster.list().map(toMemberMessage);
  return {
    MemberList: unary(server, 'MemberList', (): pb.MemberListResponse => ({ header: server.header(), members: members() })),
    MemberAdd: unary(server, 'MemberAdd', async (request: pb.MemberAddRequest): Promise<pb.MemberAddResponse> => {
      const member = await server.cluster.add(request.peerURLs ?? [], request.isLearner === true);
      return { header: server.header(), member: toMemberMessage(member), members: members() };
    }),
    MemberRemove: unary(server, 'MemberRemove', async (request: pb.MemberRemoveRequest): Promise<pb.MemberRemoveResponse> => {
      await server.cluster.remove(int64ToNumber(request.ID, 'ID'));
      return { header: server.header(), members: members() };
    }),
    MemberUpdate: unary(server, 'MemberUpdate', async (request: pb.MemberUpdateRequest): Promise<pb.MemberUpdateResponse> => {
      await server.cluster.update(int64ToNumber(request.ID, 'ID'), request.peerURLs ?? []);
      return { header: server.header(), members: members() };
    }),
    MemberPromote: unary(server, 'MemberPromote', async (request: pb.MemberPromoteRequest): Promise<pb.MemberPromoteResponse> => {
      await server.cluster.promote(int64ToNumber(request.ID, 'ID'));
      return { header: server.header(), members: members() };
    }),
  };
}
