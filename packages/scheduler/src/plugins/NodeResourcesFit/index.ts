// Whether the node has room for the pod's requests (cpu, memory,
// ephemeral-storage, extended resources, pod count), and how to score nodes
// by their allocation: LeastAllocated (default, spreads) or MostAllocated
// (packs). Upstream folded NodeResourcesLeastAllocated/MostAllocated into
// this plugin's scoringStrategy in 1.23; kube-lite follows 1.32.
import {
  ActionType,
  Status,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type MaybeStatus,
  type PreScorePlugin,
  type ScorePlugin,
} from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';
import { argsObject, PluginArgsError, resourceSpecs, type ResourceSpec } from '../helpers/args';
import { fillAllocation, podRequestList } from './resource-allocation';
import { leastAllocatedScorer, mostAllocatedScorer, type ResourceScorer } from './scorers';

export const NAME = 'NodeResourcesFit';
export const REASON_TOO_MANY_PODS = 'Too many pods';
const PRE_SCORE_KEY = `PreScore${NAME}`;

export type ScoringStrategyType = 'LeastAllocated' | 'MostAllocated';

export interface NodeResourcesFitArgs {
  /** Extended resources the filter ignores (a scheduler extender or device plugin handles them). */
  ignoredResources: string[];
  /** Resource name prefixes ("example.com" ignores "example.com/gpu") the filter ignores. */
  ignoredResourceGroups: string[];
  scoringStrategy: { type: ScoringStrategyType; resources: ResourceSpec[] };
}

export const DEFAULT_SCORING_RESOURCES: readonly ResourceSpec[] = [
  { name: 'cpu', weight: 1 },
  { name: 'memory', weight: 1 },
];

export function parseNodeResourcesFitArgs(args: unknown): NodeResourcesFitArgs {
  const object = argsObject(NAME, args, ['ignoredResources', 'ignoredResourceGroups', 'scoringStrategy']);
  const strings = (field: string): string[] => {
    const value = object[field];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new PluginArgsError(NAME, `${field} must be a list of strings`);
    return value as string[];
  };
  const strategy = argsObject(`${NAME} scoringStrategy`, object.scoringStrategy, ['type', 'resources', 'requestedToCapacityRatio']);
  const type = strategy.type ?? 'LeastAllocated';
  if (type !== 'LeastAllocated' && type !== 'MostAllocated') {
    throw new PluginArgsError(NAME, `scoringStrategy.type: Unsupported value: ${JSON.stringify(type)}: supported values: "LeastAllocated", "MostAllocated"`);
  }
  return {
    ignoredResources: strings('ignoredResources'),
    ignoredResourceGroups: strings('ignoredResourceGroups'),
    scoringStrategy: { type, resources: resourceSpecs(NAME, 'scoringStrategy.resources', strategy.resources, DEFAULT_SCORING_RESOURCES) },
  };
}

/** The reasons the node cannot hold the pod, in upstream's order and wording; empty when it fits. */
export function insufficientResources(pod: PodInfo, node: NodeInfo, args: Pick<NodeResourcesFitArgs, 'ignoredResources' | 'ignoredResourceGroups'>): string[] {
  const reasons: string[] = [];
  if (node.pods.size + 1 > node.allocatable.pods) reasons.push(REASON_TOO_MANY_PODS);
  const request = pod.requests;
  if (request.milliCpu === 0 && request.memoryBytes === 0 && request.ephemeralStorageBytes === 0 && !request.scalar?.size) return reasons;
  const allocatable = node.allocatable;
  const requested = node.requested;
  if (request.milliCpu > 0 && request.milliCpu > allocatable.milliCpu - requested.milliCpu) reasons.push('Insufficient cpu');
  if (request.memoryBytes > 0 && request.memoryBytes > allocatable.memoryBytes - requested.memoryBytes) reasons.push('Insufficient memory');
  if (request.ephemeralStorageBytes > 0 && request.ephemeralStorageBytes > allocatable.ephemeralStorageBytes - requested.ephemeralStorageBytes) {
    reasons.push('Insufficient ephemeral-storage');
  }
  for (const [name, amount] of request.scalar ?? []) {
    if (amount === 0) continue;
    if (args.ignoredResources.includes(name)) continue;
    const group = name.includes('/') ? name.slice(0, name.indexOf('/')) : '';
    if (group && args.ignoredResourceGroups.includes(group)) continue;
    if (amount > (allocatable.scalar?.get(name) ?? 0) - (requested.scalar?.get(name) ?? 0)) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

/** True when the pod fits by pod count, cpu, memory and ephemeral storage and asks for no extended resource; false means "ask insufficientResources". */
function fitsWithoutScalars(pod: PodInfo, node: NodeInfo): boolean {
  const request = pod.requests;
  if (request.scalar !== undefined && request.scalar.size > 0) return false;
  const allocatable = node.allocatable;
  const requested = node.requested;
  return (
    node.pods.size + 1 <= allocatable.pods &&
    request.milliCpu <= allocatable.milliCpu - requested.milliCpu &&
    request.memoryBytes <= allocatable.memoryBytes - requested.memoryBytes &&
    request.ephemeralStorageBytes <= allocatable.ephemeralStorageBytes - requested.ephemeralStorageBytes
  );
}

export class NodeResourcesFit implements FilterPlugin, PreScorePlugin, ScorePlugin, EnqueueExtensions {
  readonly name = NAME;
  private readonly scorer: ResourceScorer;
  private readonly resources: readonly ResourceSpec[];
  // Scratch arrays reused across nodes: Score runs synchronously, one node at a time.
  private readonly requested: number[];
  private readonly allocatable: number[];

  constructor(readonly args: NodeResourcesFitArgs) {
    this.resources = args.scoringStrategy.resources;
    this.scorer = args.scoringStrategy.type === 'MostAllocated' ? mostAllocatedScorer(this.resources) : leastAllocatedScorer(this.resources);
    this.requested = new Array<number>(this.resources.length).fill(0);
    this.allocatable = new Array<number>(this.resources.length).fill(0);
  }

  filter(_state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus {
    // Runs for hundreds of nodes per pod and most fit: answer those without building a reasons list.
    if (fitsWithoutScalars(pod, node)) return undefined;
    const reasons = insufficientResources(pod, node, this.args);
    return reasons.length === 0 ? undefined : new Status('Unschedulable', reasons);
  }

  preScore(state: CycleState, pod: PodInfo): MaybeStatus {
    state.write(PRE_SCORE_KEY, podRequestList(pod, this.resources, false));
    return undefined;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const podRequests = state.read<number[]>(PRE_SCORE_KEY) ?? podRequestList(pod, this.resources, false);
    fillAllocation(node, this.resources, podRequests, false, this.requested, this.allocatable);
    return this.scorer(this.requested, this.allocatable);
  }

  eventsToRegister(): ClusterEventWithHint[] {
    return [
      { event: { resource: 'AssignedPod', actions: ActionType.Delete | ActionType.UpdatePodScaleDown } },
      { event: { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeAllocatable } },
    ];
  }
}

export function newNodeResourcesFit(args: unknown): NodeResourcesFit {
  return new NodeResourcesFit(parseNodeResourcesFitArgs(args));
}
