// Resource amounts as plain numbers (millicores, bytes, counts), converted
// once per pod or node so that Filter and Score never parse a Quantity.
import { podResourceRequests, Quantity, type Container, type Pod, type ResourceTotals } from '@kube-lite/api';

/** What a pod asks for, or what pods on a node add up to. */
export interface Resources {
  milliCpu: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  /** Extended and hugepages resources, by name; undefined when there are none. */
  scalar: Map<string, number> | undefined;
}

/** What a node offers to pods (its status.allocatable). */
export interface Allocatable extends Resources {
  /** status.allocatable.pods: the most pods the kubelet accepts. */
  pods: number;
}

/** CPU the scheduler assumes for a container without a cpu request, when scoring (upstream DefaultMilliCPURequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** Memory assumed for a container without a memory request, when scoring (upstream DefaultMemoryRequest, 200 MiB). */
export const DEFAULT_MEMORY_REQUEST_BYTES = 200 * 1024 * 1024;

export function emptyResources(): Resources {
  return { milliCpu: 0, memoryBytes: 0, ephemeralStorageBytes: 0, scalar: undefined };
}

/** Scalar resources the scheduler accounts for: extended (domain-prefixed) and hugepages. */
export function isScalarResourceName(name: string): boolean {
  return name.startsWith('hugepages-') || name.includes('/');
}

function fromTotals(totals: ResourceTotals): Resources {
  const resources = emptyResources();
  for (const [name, quantity] of Object.entries(totals)) {
    switch (name) {
      case 'cpu':
        resources.milliCpu = quantity.milliValue();
        break;
      case 'memory':
        resources.memoryBytes = quantity.value();
        break;
      case 'ephemeral-storage':
        resources.ephemeralStorageBytes = quantity.value();
        break;
      default:
        if (isScalarResourceName(name)) {
          resources.scalar ??= new Map();
          resources.scalar.set(name, quantity.value());
        }
    }
  }
  return resources;
}

/** The pod's effective requests (init containers, sidecars and overhead included). */
export function podRequests(pod: Pod): Resources {
  return fromTotals(podResourceRequests(pod));
}

function withDefaultRequests(container: Container): Container {
  const requests = container.resources?.requests ?? {};
  if ('cpu' in requests && 'memory' in requests) return container;
  const filled = { ...requests };
  if (!('cpu' in filled)) filled.cpu = `${DEFAULT_MILLI_CPU_REQUEST}m`;
  if (!('memory' in filled)) filled.memory = DEFAULT_MEMORY_REQUEST_BYTES;
  return { ...container, resources: { ...container.resources, requests: filled } };
}

/**
 * Requests with upstream's non-zero defaults for containers that set none, so
 * that scoring does not pile request-less pods onto one node. Only cpu and
 * memory are meaningful in the result.
 */
export function podNonZeroRequests(pod: Pod): Resources {
  const spec = pod.spec;
  if (!spec) return { ...emptyResources(), milliCpu: DEFAULT_MILLI_CPU_REQUEST, memoryBytes: DEFAULT_MEMORY_REQUEST_BYTES };
  const filled: Pod = {
    ...pod,
    spec: { ...spec, containers: spec.containers.map(withDefaultRequests), initContainers: spec.initContainers?.map(withDefaultRequests) },
  };
  return fromTotals(podResourceRequests(filled));
}

/** Parses a node's status.allocatable. */
export function nodeAllocatable(allocatable: Record<string, string | number> | undefined): Allocatable {
  const totals: ResourceTotals = {};
  let pods = 0;
  for (const [name, value] of Object.entries(allocatable ?? {})) {
    const quantity = Quantity.tryParse(value);
    if (!quantity) continue;
    if (name === 'pods') pods = quantity.value();
    else totals[name] = quantity;
  }
  return { ...fromTotals(totals), pods };
}

export function addResources(into: Resources, delta: Resources, sign: 1 | -1): void {
  into.milliCpu += sign * delta.milliCpu;
  into.memoryBytes += sign * delta.memoryBytes;
  into.ephemeralStorageBytes += sign * delta.ephemeralStorageBytes;
  if (delta.scalar) {
    into.scalar ??= new Map();
    for (const [name, amount] of delta.scalar) into.scalar.set(name, (into.scalar.get(name) ?? 0) + sign * amount);
  }
}
