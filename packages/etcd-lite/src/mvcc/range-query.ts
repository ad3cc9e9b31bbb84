// The full semantics of an etcd RangeRequest over a ReadView: sorting,
// revision filters, keys_only, count_only, limit with `more`. As in etcd,
// sorting or filtering reads the whole range first and truncates afterwards,
// and `count` is the number of keys in the range before filters and limit.

import type { KeyValue, SortOrder, SortTarget } from '../etcdpb/types';
import type { ReadView } from './kv-store';

export interface RangeQuery {
  key: Uint8Array;
  rangeEnd?: Uint8Array | null;
  /** 0 or less reads the newest revision. */
  revision?: number;
  /** 0 or less means no limit. */
  limit?: number;
  sortOrder?: SortOrder;
  sortTarget?: SortTarget;
  keysOnly?: boolean;
  countOnly?: boolean;
  /** Each 0 means no bound. */
  minModRevision?: number;
  maxModRevision?: number;
  minCreateRevision?: number;
  maxCreateRevision?: number;
}

export interface RangeQueryResult {
  kvs: KeyValue[];
  more: boolean;
  count: number;
  /** The view's current revision, for the response header. */
  revision: number;
}

const emptyValue = Buffer.alloc(0);

const sortKeys: Record<SortTarget, (kv: KeyValue) => number | Buffer> = {
  KEY: (kv) => kv.key,
  VERSION: (kv) => kv.version,
  CREATE: (kv) => kv.create_revision,
  MOD: (kv) => kv.mod_revision,
  VALUE: (kv) => kv.value,
};

export function rangeQuery(view: ReadView, query: RangeQuery): RangeQueryResult {
  const limit = query.limit !== undefined && query.limit > 0 ? query.limit : 0;
  const sortTarget = query.sortTarget ?? 'KEY';
  // Results come back in ascending key order; any other target sorts
  // ascending unless told otherwise, as etcd does.
  let sortOrder = query.sortOrder ?? 'NONE';
  if (sortOrder === 'NONE' && sortTarget !== 'KEY') sortOrder = 'ASCEND';
  const needsAll =
    sortOrder !== 'NONE' ||
    (query.minModRevision ?? 0) !== 0 ||
    (query.maxModRevision ?? 0) !== 0 ||
    (query.minCreateRevision ?? 0) !== 0 ||
    (query.maxCreateRevision ?? 0) !== 0;
  const result = view.range(query.key, query.rangeEnd, {
    revision: query.revision ?? 0,
    // One extra tells whether there are more.
    limit: needsAll || limit === 0 ? 0 : limit + 1,
    countOnly: query.countOnly === true,
  });
  let kvs = result.kvs.filter(
    (kv) =>
      (query.maxModRevision === undefined || query.maxModRevision === 0 || kv.mod_revision <= query.maxModRevision) &&
      (query.minModRevision === undefined || query.minModRevision === 0 || kv.mod_revision >= query.minModRevision) &&
      (query.maxCreateRevision === undefined || query.maxCreateRevision === 0 || kv.create_revision <= query.maxCreateRevision) &&
      (query.minCreateRevision === undefined || query.minCreateRevision === 0 || kv.create_revision >= query.minCreateRevision),
  );
  if (sortOrder !== 'NONE') {
    const sortKey = sortKeys[sortTarget];
    const direction = sortOrder === 'DESCEND' ? -1 : 1;
    // Array.prototype.sort is stable, so equal targets stay in key order.
    kvs = [...kvs].sort((a, b) => direction * compareSortKeys(sortKey(a), sortKey(b)));
  }
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  if (query.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: emptyValue }));
  return { kvs, more, count: result.count, revision: result.revision };
}

function compareSortKeys(a: number | Buffer, b: number | Buffer): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return Buffer.compare(a as Buffer, b as Buffer);
}
