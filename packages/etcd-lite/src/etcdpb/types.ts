// TypeScript shapes of the etcd v3 wire messages etcd-lite handles, as they
// look after decoding with the options in load.ts: field names exactly as in
// the .proto files (keepCase), bytes as Buffer, enums as their names, oneofs
// with a virtual field naming the member that is set.
//
// Direction matters for 64-bit integers. Decoded requests carry them as
// decimal strings (lossless); requests built in code may use numbers; the
// responses etcd-lite builds use numbers (revisions, lease ids and member ids
// all stay below 2^53), which the encoder accepts. Request fields are optional
// because a field left at its proto3 default is the same thing on the wire.

/** A 64-bit integer as decoded (decimal string) or as built in code. */
export type Int64 = string | number;

// ---- mvccpb ----

export interface KeyValue {
  key: Buffer;
  create_revision: number;
  mod_revision: number;
  version: number;
  value: Buffer;
  lease: number;
}

export type EventType = 'PUT' | 'DELETE';

export interface Event {
  type: EventType;
  kv: KeyValue;
  prev_kv?: KeyValue | null;
}

// ---- etcdserverpb: common ----

export interface ResponseHeader {
  cluster_id: number;
  member_id: number;
  revision: number;
  raft_term: number;
}

// ---- KV ----

export type SortOrder = 'NONE' | 'ASCEND' | 'DESCEND';
export type SortTarget = 'KEY' | 'VERSION' | 'CREATE' | 'MOD' | 'VALUE';

export interface RangeRequest {
  key?: Buffer;
  range_end?: Buffer;
  limit?: Int64;
  revision?: Int64;
  sort_order?: SortOrder;
  sort_target?: SortTarget;
  serializable?: boolean;
  keys_only?: boolean;
  count_only?: boolean;
  min_mod_revision?: Int64;
  max_mod_revision?: Int64;
  min_create_revision?: Int64;
  max_create_revision?: Int64;
}

export interface RangeResponse {
  header: ResponseHeader;
  kvs: KeyValue[];
  more: boolean;
  count: number;
}

export interface PutRequest {
  key?: Buffer;
  value?: Buffer;
  lease?: Int64;
  prev_kv?: boolean;
  ignore_value?: boolean;
  ignore_lease?: boolean;
}

export interface PutResponse {
  header: ResponseHeader;
  prev_kv?: KeyValue | null;
}

export interface DeleteRangeRequest {
  key?: Buffer;
  range_end?: Buffer;
  prev_kv?: boolean;
}

export interface DeleteRangeResponse {
  header: ResponseHeader;
  deleted: number;
  prev_kvs: KeyValue[];
}

/** Exactly one member is set; `request` names it after decoding. */
export type RequestOp =
  | { request?: 'request_range'; request_range: RangeRequest }
  | { request?: 'request_put'; request_put: PutRequest }
  | { request?: 'request_delete_range'; request_delete_range: DeleteRangeRequest }
  | { request?: 'request_txn'; request_txn: TxnRequest };

/** Empty only when answering an empty RequestOp. */
export type ResponseOp =
  | Record<string, never>
  | { response_range: RangeResponse }
  | { response_put: PutResponse }
  | { response_delete_range: DeleteRangeResponse }
  | { response_txn: TxnResponse };

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
export type CompareTarget = 'VERSION' | 'CREATE' | 'MOD' | 'VALUE' | 'LEASE';

export interface Compare {
  result?: CompareResult;
  target?: CompareTarget;
  key?: Buffer;
  /** Names the set member of the target_union oneof after decoding. */
  target_union?: 'version' | 'create_revision' | 'mod_revision' | 'value' | 'lease';
  version?: Int64;
  create_revision?: Int64;
  mod_revision?: Int64;
  value?: Buffer;
  lease?: Int64;
  range_end?: Buffer;
}

export interface TxnRequest {
  compare?: Compare[];
  success?: RequestOp[];
  failure?: RequestOp[];
}

export interface TxnResponse {
  header: ResponseHeader;
  succeeded: boolean;
  responses: ResponseOp[];
}

export interface CompactionRequest {
  revision?: Int64;
  physical?: boolean;
}

export interface CompactionResponse {
  header: ResponseHeader;
}

// ---- Watch ----

export type WatchFilterType = 'NOPUT' | 'NODELETE';

export interface WatchCreateRequest {
  key?: Buffer;
  range_end?: Buffer;
  start_revision?: Int64;
  progress_notify?: boolean;
  filters?: WatchFilterType[];
  prev_kv?: boolean;
  watch_id?: Int64;
  fragment?: boolean;
}

export interface WatchCancelRequest {
  watch_id?: Int64;
}

export type WatchProgressRequest = Record<string, never>;

export type WatchRequest =
  | { request_union?: 'create_request'; create_request: WatchCreateRequest }
  | { request_union?: 'cancel_request'; cancel_request: WatchCancelRequest }
  | { request_union?: 'progress_request'; progress_request: WatchProgressRequest };

export interface WatchResponse {
  header: ResponseHeader;
  watch_id: number;
  created?: boolean;
  canceled?: boolean;
  compact_revision?: number;
  cancel_reason?: string;
  fragment?: boolean;
  events: Event[];
}

// ---- Lease ----

export interface LeaseGrantRequest {
  TTL?: Int64;
  ID?: Int64;
}

export interface LeaseGrantResponse {
  header: ResponseHeader;
  ID: number;
  TTL: number;
  error: string;
}

export interface LeaseRevokeRequest {
  ID?: Int64;
}

export interface LeaseRevokeResponse {
  header: ResponseHeader;
}

export interface LeaseKeepAliveRequest {
  ID?: Int64;
}

export interface LeaseKeepAliveResponse {
  header: ResponseHeader;
  ID: number;
  TTL: number;
}

export interface LeaseTimeToLiveRequest {
  ID?: Int64;
  keys?: boolean;
}

export interface LeaseTimeToLiveResponse {
  header: ResponseHeader;
  ID: number;
  TTL: number;
  grantedTTL: number;
  keys: Buffer[];
}

export type LeaseLeasesRequest = Record<string, never>;

export interface LeaseStatus {
  ID: number;
}

export interface LeaseLeasesResponse {
  header: ResponseHeader;
  leases: LeaseStatus[];
}

// ---- Cluster ----

export interface Member {
  ID: number;
  name: string;
  peerURLs: string[];
  clientURLs: string[];
  isLearner: boolean;
}

export interface MemberAddRequest {
  peerURLs?: string[];
  isLearner?: boolean;
}

export interface MemberAddResponse {
  header: ResponseHeader;
  member: Member;
  members: Member[];
}

export interface MemberRemoveRequest {
  ID?: Int64;
}

export interface MemberRemoveResponse {
  header: ResponseHeader;
  members: Member[];
}

export interface MemberUpdateRequest {
  ID?: Int64;
  peerURLs?: string[];
}

export interface MemberUpdateResponse {
  header: ResponseHeader;
  members: Member[];
}

export type MemberListRequest = Record<string, never>;

export interface MemberListResponse {
  header: ResponseHeader;
  members: Member[];
}

export interface MemberPromoteRequest {
  ID?: Int64;
}

export interface MemberPromoteResponse {
  header: ResponseHeader;
  members: Member[];
}

// ---- Maintenance ----

export type AlarmType = 'NONE' | 'NOSPACE' | 'CORRUPT';
export type AlarmAction = 'GET' | 'ACTIVATE' | 'DEACTIVATE';

export interface AlarmRequest {
  action?: AlarmAction;
  memberID?: Int64;
  alarm?: AlarmType;
}

export interface AlarmMember {
  memberID: number;
  alarm: AlarmType;
}

export interface AlarmResponse {
  header: ResponseHeader;
  alarms: AlarmMember[];
}

export type StatusRequest = Record<string, never>;

export interface StatusResponse {
  header: ResponseHeader;
  version: string;
  dbSize: number;
  leader: number;
  raftIndex: number;
  raftTerm: number;
  raftAppliedIndex: number;
  errors: string[];
  dbSizeInUse: number;
  isLearner: boolean;
}

export type DefragmentRequest = Record<string, never>;

export interface DefragmentResponse {
  header: ResponseHeader;
}

export type HashRequest = Record<string, never>;

export interface HashResponse {
  header: ResponseHeader;
  hash: number;
}

export interface HashKVRequest {
  revision?: Int64;
}

export interface HashKVResponse {
  header: ResponseHeader;
  hash: number;
  compact_revision: number;
}

export type SnapshotRequest = Record<string, never>;

export interface SnapshotResponse {
  header: ResponseHeader;
  remaining_bytes: number;
  blob: Buffer;
}

export interface MoveLeaderRequest {
  targetID?: Int64;
}

export interface MoveLeaderResponse {
  header: ResponseHeader;
}

// ---- Raft entry payload (raft_internal.proto) ----

export interface InternalRaftRequest {
  ID?: Int64;
  range?: RangeRequest | null;
  put?: PutRequest | null;
  delete_range?: DeleteRangeRequest | null;
  txn?: TxnRequest | null;
  compaction?: CompactionRequest | null;
  lease_grant?: LeaseGrantRequest | null;
  lease_revoke?: LeaseRevokeRequest | null;
}
