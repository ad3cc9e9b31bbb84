export { ClusterSnapshot, SnapshotStateError } from './snapshot';
export { NodeInfo, HostPortUsage } from './node-info';
export { DEFAULT_HOST_IP, newPodInfo, podKey, podName, type HostPort, type PodInfo } from './pod-info';
export {
  DEFAULT_MEMORY_REQUEST_BYTES,
  DEFAULT_MILLI_CPU_REQUEST,
  emptyResources,
  isScalarResourceName,
  nodeAllocatable,
  podNonZeroRequests,
  podRequests,
  type Allocatable,
  type Resources,
} from './resources';
