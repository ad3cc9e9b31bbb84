// Loads etcd-lite's copy of the etcd v3 protos (proto/etcd) once per process,
// both as a grpc-js package definition (for the gRPC services) and as a
// protobufjs Root (for encoding messages outside gRPC, e.g. Raft entries).
// Both use the same conversion options so a message looks the same whichever
// path decoded it.

import * as path from 'node:path';
import * as protoLoader from '@grpc/proto-loader';
import * as protobuf from 'protobufjs';
import type * as pb from './types';

/** proto/etcd at the repository root; src/etcdpb and dist/etcdpb are both four levels below it. */
export const defaultEtcdProtoDir = path.resolve(__dirname, '../../../../proto/etcd');

const protoFiles = ['rpc.proto', 'kv.proto', 'raft_internal.proto'];

/**
 * How decoded messages look: proto field names unchanged, 64-bit integers as
 * decimal strings (never silently rounded), bytes as Buffer, enums by name,
 * scalar defaults and empty arrays filled in, and a virtual field naming the
 * member set in each oneof.
 */
export const etcdConversionOptions = {
  keepCase: true,
  longs: String,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
  oneofs: true,
} as const;

const packageDefinitions = new Map<string, protoLoader.PackageDefinition>();
const roots = new Map<string, protobuf.Root>();

/** For grpc.loadPackageDefinition: services etcdserverpb.KV, Watch, Lease, Cluster, Maintenance. */
export function loadEtcdPackageDefinition(protoDir: string = defaultEtcdProtoDir): protoLoader.PackageDefinition {
  let definition = packageDefinitions.get(protoDir);
  if (definition === undefined) {
    definition = protoLoader.loadSync(protoFiles, { ...etcdConversionOptions, includeDirs: [protoDir] });
    packageDefinitions.set(protoDir, definition);
  }
  return definition;
}

export function loadEtcdRoot(protoDir: string = defaultEtcdProtoDir): protobuf.Root {
  let root = roots.get(protoDir);
  if (root === undefined) {
    root = new protobuf.Root();
    // Imports name files relative to proto/etcd, as includeDirs does for proto-loader.
    root.resolvePath = (_origin, target) => (path.isAbsolute(target) ? target : path.join(protoDir, target));
    root.loadSync(protoFiles, { keepCase: true });
    root.resolveAll();
    roots.set(protoDir, root);
  }
  return root;
}

/** The messages encodeMessage/decodeMessage know by name, with their TS shapes. */
export interface EtcdMessageTypes {
  'mvccpb.KeyValue': pb.KeyValue;
  'mvccpb.Event': pb.Event;
  'etcdserverpb.RangeRequest': pb.RangeRequest;
  'etcdserverpb.RangeResponse': pb.RangeResponse;
  'etcdserverpb.PutRequest': pb.PutRequest;
  'etcdserverpb.PutResponse': pb.PutResponse;
  'etcdserverpb.DeleteRangeRequest': pb.DeleteRangeRequest;
  'etcdserverpb.DeleteRangeResponse': pb.DeleteRangeResponse;
  'etcdserverpb.TxnRequest': pb.TxnRequest;
  'etcdserverpb.TxnResponse': pb.TxnResponse;
  'etcdserverpb.CompactionRequest': pb.CompactionRequest;
  'etcdserverpb.WatchRequest': pb.WatchRequest;
  'etcdserverpb.WatchResponse': pb.WatchResponse;
  'etcdserverpb.LeaseGrantRequest': pb.LeaseGrantRequest;
  'etcdserverpb.LeaseRevokeRequest': pb.LeaseRevokeRequest;
  'etcdserverpb.StatusResponse': pb.StatusResponse;
  'etcdserverpb.Member': pb.Member;
  'etcdserverpb.InternalRaftRequest': pb.InternalRaftRequest;
}

export type EtcdMessageName = keyof EtcdMessageTypes;

const typesByRoot = new WeakMap<protobuf.Root, Map<string, protobuf.Type>>();
/** Looked up once per root and name: every Raft entry is encoded and decoded through here. */
function messageType(name: EtcdMessageName, protoDir?: string): protobuf.Type {
  const root = loadEtcdRoot(protoDir);
  let types = typesByRoot.get(root);
  if (types === undefined) {
    types = new Map();
    typesByRoot.set(root, types);
  }
  let type = types.get(name);
  if (type === undefined) {
    type = root.lookupType(name);
    types.set(name, type);
  }
  return type;
}

/** Encodes a plain object; int64 fields may be numbers or decimal strings. */
export function encodeMessage<N extends EtcdMessageName>(name: N, message: EtcdMessageTypes[N], protoDir?: string): Uint8Array {
  const type = messageType(name, protoDir);
  return type.encode(type.fromObject(message as unknown as Record<string, unknown>)).finish();
}

/** Decodes to the shape described in types.ts (int64 as decimal strings). Throws on malformed input. */
export function decodeMessage<N extends EtcdMessageName>(name: N, bytes: Uint8Array, protoDir?: string): EtcdMessageTypes[N] {
  const type = messageType(name, protoDir);
  return type.toObject(type.decode(bytes), etcdConversionOptions) as EtcdMessageTypes[N];
}
