// Which etcd member leads: the Maintenance.Status call of etcd's v3 gRPC API
// (what `etcdctl endpoint status` shows), against each member. A member that
// does not answer is reported as such, not as an error.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import path from 'node:path';

export interface MemberStatus {
  /** The client URL asked. */
  endpoint: string;
  /** This member's id (decimal string; ids are 64-bit). */
  memberId?: string;
  /** The leader's id as this member sees it; "0" when it knows none. */
  leaderId?: string;
  raftTerm?: string;
  raftIndex?: string;
  /** Why the member could not be asked. */
  error?: string;
}

interface StatusResponse {
  header?: { member_id?: string; memberId?: string };
  leader?: string;
  raftTerm?: string;
  raftIndex?: string;
}

type StatusCall = (request: object, options: { deadline: Date }, callback: (error: grpc.ServiceError | null, response?: StatusResponse) => void) => void;
type MaintenanceClient = grpc.Client & { Status: StatusCall };
type MaintenanceConstructor = new (address: string, credentials: grpc.ChannelCredentials) => MaintenanceClient;

let maintenanceConstructor: MaintenanceConstructor | undefined;

function loadMaintenance(protoDirectory: string): MaintenanceConstructor {
  if (maintenanceConstructor !== undefined) return maintenanceConstructor;
  const definition = protoLoader.loadSync(path.join(protoDirectory, 'rpc.proto'), { includeDirs: [protoDirectory], longs: String, defaults: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { etcdserverpb: { Maintenance: MaintenanceConstructor } };
  maintenanceConstructor = loaded.etcdserverpb.Maintenance;
  return maintenanceConstructor;
}

/** Asks one member; `clientUrl` is http://host:port. */
export function memberStatus(protoDirectory: string, clientUrl: string, timeoutMs = 2_000): Promise<MemberStatus> {
  const Maintenance = loadMaintenance(protoDirectory);
  const client = new Maintenance(clientUrl.replace(/^https?:\/\//, ''), grpc.credentials.createInsecure());
  return new Promise((resolve) => {
    client.Status({}, { deadline: new Date(Date.now() + timeoutMs) }, (error, response) => {
      client.close();
      if (error !== null || response === undefined) {
        resolve({ endpoint: clientUrl, error: error?.details || error?.message || 'no answer' });
        return;
      }
      const memberId = response.header?.member_id ?? response.header?.memberId;
      resolve({
        endpoint: clientUrl,
        ...(memberId === undefined ? {} : { memberId: String(memberId) }),
        ...(response.leader === undefined ? {} : { leaderId: String(response.leader) }),
        ...(response.raftTerm === undefined ? {} : { raftTerm: String(response.raftTerm) }),
        ...(response.raftIndex === undefined ? {} : { raftIndex: String(response.raftIndex) }),
      });
    });
  });
}

/** The endpoint whose member id is the leader most members name, or undefined when there is none. */
export function leaderEndpoint(statuses: readonly MemberStatus[]): string | undefined {
  const votes = new Map<string, number>();
  for (const status of statuses) {
    if (status.leaderId !== undefined && status.leaderId !== '0') votes.set(status.leaderId, (votes.get(status.leaderId) ?? 0) + 1);
  }
  const [leaderId] = [...votes].sort((a, b) => b[1] - a[1])[0] ?? [];
  return statuses.find((status) => status.memberId !== undefined && status.memberId === leaderId)?.endpoint;
}
