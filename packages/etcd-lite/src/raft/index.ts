// Public entry of the Raft core: what the etcd-lite server and the simulator use.
export { RawNode, type RaftStatus, type PeerProgress } from './raw-node';
export { MemoryStorage } from './memory-storage';
export { encodeConfChange, decodeConfChange } from './conf-change';
export type { ProgressState } from './progress';
export {
  RaftInvariantError,
  RaftConfigError,
  RaftUsageError,
  ReadIndexDroppedError,
  ConfChangeError,
  SnapshotOutOfDateError,
} from './errors';
export * from './types';
