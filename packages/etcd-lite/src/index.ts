// Public entry of etcd-lite: the server, its configuration, and what other
// packages need to run or inspect one.
export {
  ConfigError,
  HelpRequested,
  computeClusterId,
  computeMemberId,
  parseEtcdFlags,
  type EtcdLiteConfig,
  type InitialClusterMember,
} from './config';
export { EtcdServer, ETCD_API_VERSION, type EtcdServerOptions } from './server/etcd-server';
export { JoinClusterError, ListenUrlError, MemberRemovedError } from './server/lifecycle-errors';
export type { MemberInfo } from './server/members';
export { Logger, Metrics, startMetricsServer, type LogLevel, type MetricsServer } from './observability';
export { loadEtcdPackageDefinition } from './etcdpb';
