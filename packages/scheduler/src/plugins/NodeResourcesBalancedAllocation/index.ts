// Favours nodes whose cpu and memory would be used in equal proportion with
// the pod on them (upstream NodeResourcesBalancedAllocation). Pods that
// request nothing skip it, as upstream does since 1.33 (issue 129138): their
// zero requests would otherwise score the same busy node best again and again.
import { Status, type CycleState, type MaybeStatus, type PreScorePlugin, type ScorePlugin } from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';
import { argsObject, resourceSpecs, type ResourceSpec } from '../helpers/args';
import { DEFAULT_SCORING_RESOURCES } from '../NodeResourcesFit';
import { fillAllocation, podRequestList } from '../NodeResourcesFit/resource-allocation';
import { balancedResourceScorer } from '../NodeResourcesFit/scorers';

export const NAME = 'NodeResourcesBalancedAllocation';
const PRE_SCORE_KEY = `PreScore${NAME}`;

export class NodeResourcesBalancedAllocation implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;
  private readonly requested: number[];
  private readonly allocatable: number[];

  constructor(readonly resources: readonly ResourceSpec[]) {
    this.requested = new Array<number>(resources.length).fill(0);
    this.allocatable = new Array<number>(resources.length).fill(0);
  }

  preScore(state: CycleState, pod: PodInfo): MaybeStatus {
    const requests = podRequestList(pod, this.resources, true);
    if (requests.every((amount) => amount === 0)) return Status.skip();
    state.write(PRE_SCORE_KEY, requests);
    return undefined;
  }

  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const podRequests = state.read<number[]>(PRE_SCORE_KEY) ?? podRequestList(pod, this.resources, true);
    fillAllocation(node, this.resources, podRequests, true, this.requested, this.allocatable);
    return balancedResourceScorer(this.requested, this.allocatable);
  }
}

export function newNodeResourcesBalancedAllocation(args: unknown): NodeResourcesBalancedAllocation {
  const object = argsObject(NAME, args, ['resources']);
  return new NodeResourcesBalancedAllocation(resourceSpecs(NAME, 'resources', object.resources, DEFAULT_SCORING_RESOURCES));
}
