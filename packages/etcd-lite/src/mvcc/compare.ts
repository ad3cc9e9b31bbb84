// Evaluation of an etcd Txn compare against a ReadView, with etcd's rules:
// with a range end every key in the range must satisfy it; a missing key
// compares as a zero KeyValue, except that a VALUE compare on a missing key
// is always false (an empty value and no value look alike on the wire).

import type { CompareResult, CompareTarget, KeyValue } from '../etcdpb/types';
import type { ReadView } from './kv-store';

export interface CompareQuery {
  key: Uint8Array;
  rangeEnd?: Uint8Array | null;
  target: CompareTarget;
  result: CompareResult;
  /** A Buffer for VALUE, a number for every other target. */
  operand: number | Buffer;
}

const zeroKeyValue: KeyValue = {
  key: Buffer.alloc(0),
  create_revision: 0,
  mod_revision: 0,
  version: 0,
  value: Buffer.alloc(0),
  lease: 0,
};

export function compareHolds(view: ReadView, compare: CompareQuery): boolean {
  const { kvs } = view.range(compare.key, compare.rangeEnd);
  if (kvs.length === 0) return compare.target === 'VALUE' ? false : compareKeyValue(zeroKeyValue, compare);
  return kvs.every((kv) => compareKeyValue(kv, compare));
}

function compareKeyValue(kv: KeyValue, compare: CompareQuery): boolean {
  const ordering = compareTarget(kv, compare.target, compare.operand);
  switch (compare.result) {
    case 'EQUAL':
      return ordering === 0;
    case 'NOT_EQUAL':
      return ordering !== 0;
    case 'GREATER':
      return ordering > 0;
    case 'LESS':
      return ordering < 0;
  }
}

function compareTarget(kv: KeyValue, target: CompareTarget, operand: number | Buffer): number {
  const asNumber = typeof operand === 'number' ? operand : 0;
  switch (target) {
    case 'VALUE':
      return Buffer.compare(kv.value, typeof operand === 'number' ? Buffer.alloc(0) : operand);
    case 'VERSION':
      return Math.sign(kv.version - asNumber);
    case 'CREATE':
      return Math.sign(kv.create_revision - asNumber);
    case 'MOD':
      return Math.sign(kv.mod_revision - asNumber);
    case 'LEASE':
      return Math.sign(kv.lease - asNumber);
  }
}
