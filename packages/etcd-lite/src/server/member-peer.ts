// Requests between members that do not go through the Raft log, served on
// the peer URLs next to the Raft transport (etcd serves the same things as
// HTTP endpoints on its peer port):
//   ClusterInfo      a member joining with --initial-cluster-state existing
//                    learns the cluster id and its own member id;
//   LeaseRenew,
//   LeaseTimeToLive  lease deadlines live on the leader only, so followers
//                    forward keep-alives and TTL questions to it;
//   MemberPromote    only the leader knows whether a learner caught up.
// The messages are small and internal to etcd-lite, so they travel as JSON
// in gRPC frames rather than through a .proto of their own.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../observability';
import { dialTarget } from './transport-peer';
import { EtcdServerError, GrpcStatus, toEtcdServerError, type GrpcStatusCode } from './errors';
import type { MemberInfo } from './members';

const serviceName = 'etcdlite.memberpeer.MemberPeer';

export interface ClusterInfo {
  clusterId: number;
  members: MemberInfo[];
}

export interface LeaseTimeToLiveAnswer {
  /** False when the lease does not exist (revoked or expired). */
  found: boolean;
  remainingSeconds: number;
  grantedTtlSeconds: number;
  /** Attached keys, base64. */
  keys: string[];
}

interface Methods {
  ClusterInfo: { request: Record<string, never>; response: ClusterInfo };
  LeaseRenew: { request: { id: number }; response: { ttlSeconds: number } };
  LeaseTimeToLive: { request: { id: number; keys: boolean }; response: LeaseTimeToLiveAnswer };
  MemberPromote: { request: { id: number }; response: Record<string, never> };
}
type MethodName = keyof Methods;

function jsonMethod<N extends MethodName>(name: N): grpc.MethodDefinition<Methods[N]['request'], Methods[N]['response']> {
  const serialize = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const deserialize = (bytes: Buffer): never => JSON.parse(bytes.toString('utf8')) as never;
  return {
    path: `/${serviceName}/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: serialize,
    requestDeserialize: deserialize,
    responseSerialize: serialize,
    responseDeserialize: deserialize,
  };
}

const methods: { [N in MethodName]: grpc.MethodDefinition<Methods[N]['request'], Methods[N]['response']> } = {
  ClusterInfo: jsonMethod('ClusterInfo'),
  LeaseRenew: jsonMethod('LeaseRenew'),
  LeaseTimeToLive: jsonMethod('LeaseTimeToLive'),
  MemberPromote: jsonMethod('MemberPromote'),
};

/** What this member answers; called on whichever member the peer dialed. */
export interface MemberPeerHandlers {
  clusterInfo(): ClusterInfo;
  leaseRenew(id: number): Promise<number>;
  leaseTimeToLive(id: number, keys: boolean): Promise<LeaseTimeToLiveAnswer>;
  memberPromote(id: number): Promise<void>;
}

/** An etcd error that another member returned; it keeps the gRPC code and etcd's message. */
export class PeerAnsweredError extends EtcdServerError {
  constructor(
    readonly code: GrpcStatusCode,
    message: string,
  ) {
    super(message);
  }
}

/** The peer could not be asked (unreachable, timed out). */
export class PeerRequestError extends Error {
  constructor(url: string, method: string, options?: ErrorOptions) {
    super(`${method} to peer ${url} failed`, options);
    this.name = 'PeerRequestError';
  }
}

export function registerMemberPeerService(server: grpc.Server, handlers: MemberPeerHandlers, logger: Logger): void {
  const unary =
    <N extends MethodName>(run: (request: Methods[N]['request']) => Methods[N]['response'] | Promise<Methods[N]['response']>) =>
    (call: grpc.ServerUnaryCall<Methods[N]['request'], Methods[N]['response']>, callback: grpc.sendUnaryData<Methods[N]['response']>): void => {
      Promise.resolve()
        .then(() => run(call.request))
        .then(
          (response) => callback(null, response),
          (error: unknown) => {
            const etcdError = toEtcdServerError(error);
            if (etcdError !== undefined) {
              callback({ code: etcdError.code, details: etcdError.details });
            } else {
              logger.error('peer request failed', { path: call.getPath(), error });
              callback({ code: GrpcStatus.INTERNAL, details: error instanceof Error ? error.message : String(error) });
            }
          },
        );
    };
  server.addService(methods, {
    ClusterInfo: unary<'ClusterInfo'>(() => handlers.clusterInfo()),
    LeaseRenew: unary<'LeaseRenew'>(async ({ id }) => ({ ttlSeconds: await handlers.leaseRenew(id) })),
    LeaseTimeToLive: unary<'LeaseTimeToLive'>(({ id, keys }) => handlers.leaseTimeToLive(id, keys)),
    MemberPromote: unary<'MemberPromote'>(async ({ id }) => {
      await handlers.memberPromote(id);
      return {};
    }),
  });
}

/** Calls other members' MemberPeer service; one channel per peer URL, kept until close(). */
export class MemberPeerClient {
  private readonly clients = new Map<string, grpc.Client>();

  clusterInfo(url: string, timeoutMs: number): Promise<ClusterInfo> {
    return this.call(url, 'ClusterInfo', {}, timeoutMs);
  }

  async leaseRenew(url: string, id: number, timeoutMs: number): Promise<number> {
    return (await this.call(url, 'LeaseRenew', { id }, timeoutMs)).ttlSeconds;
  }

  leaseTimeToLive(url: string, id: number, keys: boolean, timeoutMs: number): Promise<LeaseTimeToLiveAnswer> {
    return this.call(url, 'LeaseTimeToLive', { id, keys }, timeoutMs);
  }

  async memberPromote(url: string, id: number, timeoutMs: number): Promise<void> {
    await this.call(url, 'MemberPromote', { id }, timeoutMs);
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private call<N extends MethodName>(url: string, name: N, request: Methods[N]['request'], timeoutMs: number): Promise<Methods[N]['response']> {
    const method = methods[name];
    const client = this.client(url);
    return new Promise((resolve, reject) => {
      client.makeUnaryRequest(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          if (error) {
            // A status etcd-lite set itself carries etcd's message; anything else is a transport failure.
            const answered = error.details.startsWith('etcdserver: ');
            reject(answered ? new PeerAnsweredError(error.code as GrpcStatusCode, error.details) : new PeerRequestError(url, name, { cause: error }));
          } else {
            resolve(response as Methods[N]['response']);
          }
        },
      );
    });
  }

  private client(url: string): grpc.Client {
    let client = this.clients.get(url);
    if (client === undefined) {
      const { target, credentials } = dialTarget(url);
      client = new grpc.Client(target, credentials, {
        'grpc.initial_reconnect_backoff_ms': 100,
        'grpc.max_reconnect_backoff_ms': 1000,
        'grpc.min_reconnect_backoff_ms': 100,
      });
      this.clients.set(url, client);
    }
    return client;
  }
}
