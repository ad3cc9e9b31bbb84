// Shared by NodeResourcesFit's scoring strategies and
// NodeResourcesBalancedAllocation (upstream resourceAllocationScorer): for
// each configured resource, what the node would have requested with the pod
// on it, and what it can give.
import type { NodeInfo, PodInfo, Resources } from '../../snapshot';
import { isScalarResourceName } from '../../snapshot';
import type { ResourceSpec } from '../helpers/args';

export function resourceAmount(resources: Resources, name: string): number {
  switch (name) {
    case 'cpu':
      return resources.milliCpu;
    case 'memory':
      return resources.memoryBytes;
    case 'ephemeral-storage':
      return resources.ephemeralStorageBytes;
    default:
      return resources.scalar?.get(name) ?? 0;
  }
}

/**
 * The pod's request per configured resource. Without `useRequested` cpu and
 * memory use the non-zero defaults, so request-less pods still count.
 */
export function podRequestList(pod: PodInfo, resources: readonly ResourceSpec[], useRequested: boolean): number[] {
  return resources.map((spec) => {
    if (!useRequested && (spec.name === 'cpu' || spec.name === 'memory')) return resourceAmount(pod.nonZeroRequests, spec.name);
    return resourceAmount(pod.requests, spec.name);
  });
}

/**
 * Fills `requested` and `allocatable` for one node (upstream
 * calculateResourceAllocatableRequest). A resource the node does not offer
 * stays 0/0, which the scorers skip; so does an extended resource the pod
 * does not ask for.
 */
export function fillAllocation(node: NodeInfo, resources: readonly ResourceSpec[], podRequests: readonly number[], useRequested: boolean, requested: number[], allocatable: number[]): void {
  for (let i = 0; i < resources.length; i++) {
    const name = (resources[i] as ResourceSpec).name;
    const podRequest = podRequests[i] ?? 0;
    requested[i] = 0;
    allocatable[i] = 0;
    if (podRequest === 0 && isScalarResourceName(name)) continue;
    const alloc = resourceAmount(node.allocatable, name);
    if (alloc === 0) continue;
    const onNode = (name === 'cpu' || name === 'memory') && !useRequested ? node.nonZeroRequested : node.requested;
    allocatable[i] = alloc;
    requested[i] = resourceAmount(onNode, name) + podRequest;
  }
}
