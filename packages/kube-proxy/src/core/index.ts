// The pure proxy core: the forwarding table and endpoint selection.
export { AddressFormatError, cidrContains, formatIPv4, identityServiceAddress, isIPv4, loopbackServiceAddress, parseIPv4, type ServiceAddressMapper } from './addresses';
export {
  buildServiceTable,
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  diffTables,
  endpointString,
  hasClusterIP,
  readyEndpoints,
  servicePortKey,
  type BuildTableOptions,
  type ServiceEndpoint,
  type ServicePortEntry,
  type ServiceTable,
  type TableDiff,
} from './service-table';
export { clusterPoolKey, LoadBalancer, nodePortPoolKey, poolsFromTable, type LoadBalancerOptions, type PoolSpec } from './load-balancer';
