export { compareHolds, type CompareQuery } from './compare';
export { CompactedError, EmptyWatchRangeError, FutureRevisionError, StoreFailedError, WatchIdInUseError } from './errors';
export { keyRange, rangeContains, toLatin1, type KeyRange } from './key-range';
export {
  consistentIndexOfEntry,
  keyBucket,
  metaBucket,
  MvccStore,
  WriteTxn,
  type CommitListener,
  type MvccStoreOptions,
  type RangeOptions,
  type RangeResult,
  type ReadView,
} from './kv-store';
export { rangeQuery, type RangeQuery, type RangeQueryResult } from './range-query';
export { compareRevisions, type Revision } from './revision';
export {
  WatchableStore,
  WatchStream,
  type WatchableStoreOptions,
  type WatchOptions,
  type WatchStreamOptions,
  type WatchUpdate,
} from './watchable-store';
