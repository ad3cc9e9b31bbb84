// The cluster's membership as the state machine knows it: who the members
// are (id, peer URLs, learner or voter), what each published about itself
// (name, client URLs), which ids were removed for good, and the cluster id.
// It changes only through applied Raft entries, each written to the backend
// in the same batch as the consistent index, so every member holds the same
// list and a restart or a snapshot brings it back.

import type { Backend } from '../backend';
import { decodeMessage, encodeMessage } from '../etcdpb/load';
import type * as pb from '../etcdpb/types';
import type { WriteTxn } from '../mvcc';
import type { ConfChange } from '../raft';

export const membersBucket = 'members';
export const removedMembersBucket = 'members_removed';
export const clusterBucket = 'cluster';
const clusterIdKey = Buffer.from('cluster_id');

export interface MemberInfo {
  id: number;
  /** Empty until the member published its attributes after starting. */
  name: string;
  peerUrls: string[];
  /** Empty until the member published its attributes after starting. */
  clientUrls: string[];
  isLearner: boolean;
}

export function idBytes(id: number): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64BE(BigInt(id));
  return bytes;
}

export function encodeMember(member: MemberInfo): Uint8Array {
  return encodeMessage('etcdserverpb.Member', toMemberMessage(member));
}

export function decodeMember(bytes: Uint8Array): MemberInfo {
  const message = decodeMessage('etcdserverpb.Member', bytes);
  return {
    id: Number(message.ID),
    name: message.name,
    peerUrls: [...message.peerURLs],
    clientUrls: [...message.clientURLs],
    isLearner: message.isLearner,
  };
}

export function toMemberMessage(member: MemberInfo): pb.Member {
  return {
    ID: member.id,
    name: member.name,
    peerURLs: [...member.peerUrls],
    clientURLs: [...member.clientUrls],
    isLearner: member.isLearner,
  };
}

export class Membership {
  private members = new Map<number, MemberInfo>();
  private removed = new Set<number>();
  private storedClusterId = 0;

  private constructor() {}

  static async load(backend: Backend): Promise<Membership> {
    const membership = new Membership();
    await membership.reload(backend);
    return membership;
  }

  /** Rebuilds from the backend (after a restart or a restored snapshot). */
  async reload(backend: Backend): Promise<void> {
    const members = new Map<number, MemberInfo>();
    for await (const entry of backend.range(membersBucket)) {
      const member = decodeMember(entry.value);
      members.set(member.id, member);
    }
    const removed = new Set<number>();
    for await (const entry of backend.range(removedMembersBucket)) removed.add(Number(entry.key.readBigUInt64BE(0)));
    const clusterId = await backend.get(clusterBucket, clusterIdKey);
    this.members = members;
    this.removed = removed;
    this.storedClusterId = clusterId === undefined ? 0 : Number(clusterId.readBigUInt64BE(0));
  }

  /** The cluster id recorded by the first applied membership change; 0 before that. */
  get clusterId(): number {
    return this.storedClusterId;
  }

  /** Every member, by ascending id. */
  list(): MemberInfo[] {
    return [...this.members.values()].sort((a, b) => a.id - b.id).map(cloneMember);
  }

  get(id: number): MemberInfo | undefined {
    const member = this.members.get(id);
    return member === undefined ? undefined : cloneMember(member);
  }

  isRemoved(id: number): boolean {
    return this.removed.has(id);
  }

  /** The member already using one of `peerUrls`, if any. */
  findByPeerUrls(peerUrls: readonly string[]): MemberInfo | undefined {
    for (const member of this.members.values()) {
      if (member.peerUrls.some((url) => peerUrls.includes(url))) return cloneMember(member);
    }
    return undefined;
  }

  /**
   * Records an applied Raft membership change. `announced` is what the
   * proposer put in the change's context; bootstrap changes carry none and
   * `fallback` (the initial cluster) supplies name and peer URLs.
   */
  applyConfChange(change: ConfChange, announced: MemberInfo | undefined, fallback: MemberInfo | undefined, clusterId: number, txn: WriteTxn): void {
    const id = change.nodeId;
    if (this.storedClusterId === 0 && clusterId !== 0) {
      this.storedClusterId = clusterId;
      txn.putBackend(clusterBucket, clusterIdKey, idBytes(clusterId));
    }
    if (change.type === 'removeNode') {
      this.members.delete(id);
      this.removed.add(id);
      txn.deleteBackend(membersBucket, idBytes(id));
      txn.putBackend(removedMembersBucket, idBytes(id), Buffer.alloc(0));
      return;
    }
    const existing = this.members.get(id);
    const source = announced ?? fallback;
    const member: MemberInfo = {
      id,
      name: existing?.name || source?.name || '',
      peerUrls: existing?.peerUrls.length ? existing.peerUrls : [...(source?.peerUrls ?? [])],
      clientUrls: existing?.clientUrls ?? [],
      isLearner: change.type === 'addLearner',
    };
    this.put(member, txn);
  }

  /** A started member's published name and client URLs; unknown (removed) ids are ignored. */
  setAttributes(id: number, name: string, clientUrls: string[], txn: WriteTxn): boolean {
    const member = this.members.get(id);
    if (member === undefined) return false;
    this.put({ ...member, name, clientUrls: [...clientUrls] }, txn);
    return true;
  }

  setPeerUrls(id: number, peerUrls: string[], txn: WriteTxn): boolean {
    const member = this.members.get(id);
    if (member === undefined) return false;
    this.put({ ...member, peerUrls: [...peerUrls] }, txn);
    return true;
  }

  private put(member: MemberInfo, txn: WriteTxn): void {
    this.members.set(member.id, member);
    txn.putBackend(membersBucket, idBytes(member.id), encodeMember(member));
  }
}

function cloneMember(member: MemberInfo): MemberInfo {
  return { ...member, peerUrls: [...member.peerUrls], clientUrls: [...member.clientUrls] };
}
