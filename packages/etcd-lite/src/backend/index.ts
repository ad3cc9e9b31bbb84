export {
  BackendClosedError,
  BatchAlreadyCommittedError,
  InvalidBucketNameError,
  InvalidReplacementError,
  type Backend,
  type BackendEntry,
  type BackendImageReader,
  type BackendReplacement,
  type CommitOptions,
  type RangeOptions,
  type SnapshotEntry,
  type WriteBatch,
} from './backend';
export { MemoryBackend } from './memory-backend';
export { RocksDbBackend, type RocksDbBackendOptions } from './rocksdb-backend';
export { SnapshotDecoder, SnapshotEncoder, SnapshotFormatError } from './snapshot-format';
