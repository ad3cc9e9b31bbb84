export {
  BackendClosedError,
  BatchAlreadyCommittedError,
  InvalidBucketNameError,
  type Backend,
  type BackendEntry,
  type CommitOptions,
  type RangeOptions,
  type WriteBatch,
} from './backend';
export { MemoryBackend } from './memory-backend';
export { RocksDbBackend, type RocksDbBackendOptions } from './rocksdb-backend';
export { SnapshotFormatError } from './snapshot-format';
