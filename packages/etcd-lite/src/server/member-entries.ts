// How membership travels through Raft.
//
// Membership changes (add, remove, promote) are Raft conf changes; their
// context is the proposer's request id (8 bytes, so the proposer can be told
// when it is applied) followed by the member as an etcdserverpb.Member.
// Bootstrap changes carry an empty context.
//
// A member's published attributes (name, client URLs) and peer URL updates
// are normal entries. A client request entry is an InternalRaftRequest, whose
// encoding never starts with a 0x00 byte (field number 0 does not exist), so
// member entries start with 0x00, then the kind, the request id and the member.

import { decodeMember, encodeMember, type MemberInfo } from './members';

const memberEntryMarker = 0x00;
const requestIdBytes = 8;

export type MemberEntryKind = 'attributes' | 'peerUrls';
const kindCodes: Record<MemberEntryKind, number> = { attributes: 1, peerUrls: 2 };

export interface MemberEntry {
  kind: MemberEntryKind;
  requestId: number;
  member: MemberInfo;
}

export class MalformedMemberEntryError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(`malformed membership entry: ${reason}`, options);
    this.name = 'MalformedMemberEntryError';
  }
}

export function isMemberEntry(data: Uint8Array): boolean {
  return data.length > 0 && data[0] === memberEntryMarker;
}

export function encodeMemberEntry(entry: MemberEntry): Uint8Array {
  const member = encodeMember(entry.member);
  const bytes = Buffer.alloc(2 + requestIdBytes + member.length);
  bytes[0] = memberEntryMarker;
  bytes[1] = kindCodes[entry.kind];
  bytes.writeBigUInt64BE(BigInt(entry.requestId), 2);
  bytes.set(member, 2 + requestIdBytes);
  return bytes;
}

export function decodeMemberEntry(data: Uint8Array): MemberEntry {
  if (!isMemberEntry(data) || data.length < 2 + requestIdBytes) throw new MalformedMemberEntryError(`${data.length} bytes without a header`);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const kind = (Object.keys(kindCodes) as MemberEntryKind[]).find((name) => kindCodes[name] === bytes[1]);
  if (kind === undefined) throw new MalformedMemberEntryError(`unknown kind ${bytes[1]}`);
  try {
    return { kind, requestId: Number(bytes.readBigUInt64BE(2)), member: decodeMember(bytes.subarray(2 + requestIdBytes)) };
  } catch (error) {
    throw new MalformedMemberEntryError('the member does not decode', { cause: error });
  }
}

export interface ConfChangeContext {
  requestId: number;
  member: MemberInfo;
}

export function encodeConfChangeContext(context: ConfChangeContext): Uint8Array {
  const member = encodeMember(context.member);
  const bytes = Buffer.alloc(requestIdBytes + member.length);
  bytes.writeBigUInt64BE(BigInt(context.requestId), 0);
  bytes.set(member, requestIdBytes);
  return bytes;
}

/** Undefined for the empty context of bootstrap changes. */
export function decodeConfChangeContext(data: Uint8Array): ConfChangeContext | undefined {
  if (data.length === 0) return undefined;
  if (data.length < requestIdBytes) throw new MalformedMemberEntryError(`conf change context of ${data.length} bytes`);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  try {
    return { requestId: Number(bytes.readBigUInt64BE(0)), member: decodeMember(bytes.subarray(requestIdBytes)) };
  } catch (error) {
    throw new MalformedMemberEntryError('the conf change member does not decode', { cause: error });
  }
}
