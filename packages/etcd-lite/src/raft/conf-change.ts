// Single-server membership changes: their wire encoding inside log entries and
// the pure function that applies one to a configuration.
import { ConfChangeError } from './errors';
import type { ConfChange, ConfChangeType, ConfState, NodeId } from './types';

// Encoding: [format version u8][type u8][node id u64 big-endian][context bytes].
const FORMAT_VERSION = 1;
const HEADER_BYTES = 10;
const TYPE_CODES: Record<ConfChangeType, number> = { addNode: 1, addLearner: 2, removeNode: 3 };
const TYPES_BY_CODE = new Map<number, ConfChangeType>(
  Object.entries(TYPE_CODES).map(([type, code]) => [code, type as ConfChangeType]),
);

export function encodeConfChange(change: ConfChange): Uint8Array {
  if (!Number.isSafeInteger(change.nodeId) || change.nodeId < 0) {
    throw new ConfChangeError(`node id ${change.nodeId} is not a non-negative safe integer`);
  }
  const code = TYPE_CODES[change.type];
  if (code === undefined) throw new ConfChangeError(`unknown change type ${String(change.type)}`);
  const bytes = new Uint8Array(HEADER_BYTES + change.context.byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, FORMAT_VERSION);
  view.setUint8(1, code);
  view.setBigUint64(2, BigInt(change.nodeId));
  bytes.set(change.context, HEADER_BYTES);
  return bytes;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.byteLength < HEADER_BYTES) {
    throw new ConfChangeError(`encoded change is ${data.byteLength} bytes, shorter than its ${HEADER_BYTES}-byte header`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = view.getUint8(0);
  if (version !== FORMAT_VERSION) throw new ConfChangeError(`unknown encoding version ${version}`);
  const type = TYPES_BY_CODE.get(view.getUint8(1));
  if (type === undefined) throw new ConfChangeError(`unknown change type code ${view.getUint8(1)}`);
  const nodeId = view.getBigUint64(2);
  if (nodeId > BigInt(Number.MAX_SAFE_INTEGER)) throw new ConfChangeError(`node id ${nodeId} exceeds 2^53`);
  return { type, nodeId: Number(nodeId), context: data.slice(HEADER_BYTES) };
}

/**
 * The configuration after `change`. addNode on a learner promotes it,
 * addLearner on a voter demotes it, removing an absent node is a no-op (a
 * replayed entry must be idempotent). Throws ConfChangeError when no voter
 * would remain.
 */
export function applyConfChangeTo(confState: ConfState, change: ConfChange): ConfState {
  const voters = new Set<NodeId>(confState.voters);
  const learners = new Set<NodeId>(confState.learners);
  const id = change.nodeId;
  if (id === 0) throw new ConfChangeError('node id 0 is reserved for "no node"');
  switch (change.type) {
    case 'addNode':
      learners.delete(id);
      voters.add(id);
      break;
    case 'addLearner':
      voters.delete(id);
      learners.add(id);
      break;
    case 'removeNode':
      voters.delete(id);
      learners.delete(id);
      break;
  }
  if (voters.size === 0) throw new ConfChangeError(`${change.type} of node ${id} would leave no voters`);
  const sorted = (ids: Set<NodeId>): NodeId[] => [...ids].sort((a, b) => a - b);
  return { voters: sorted(voters), learners: sorted(learners) };
}
