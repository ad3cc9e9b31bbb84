export { SeededRandom, RandomRangeError } from './random';
export { SimClock, ClockRegressionError } from './clock';
export { SimNetwork, NetworkConfigError } from './network';
export type { Envelope, LossReason, LostMessage, NetworkFaults, NetworkStats, SimNetworkConfig } from './network';
export { startEtcdCluster, EtcdCluster, etcdLiteAvailable, etcdLiteBinaryPath, etcdctlBinary, parseEtcdctlJson, etcdIdToHex, EtcdBinaryNotFoundError, EtcdClusterStartError, EtcdLeaderNotFoundError, UnknownEtcdMemberError, type EtcdImplementation, type EtcdClusterOptions, type EtcdMember, type EtcdctlOptions, type EtcdctlResult, type EtcdEndpointStatus } from './etcd-cluster';
export { startInProcessApiServer, type InProcessApiServer, type InProcessApiServerOptions } from './api-server';
export { pollUntil } from './poll';
