// One scheduling decision over the snapshot (upstream schedulePod):
// PreFilter, Filter over nodes from a rotating start until enough feasible
// nodes are found, PreScore and Score over those, then the best node with
// ties broken at random.
import { CycleState, emptyDiagnosis, FitError, NoNodesAvailableError, Status, type Framework, type NodePluginScores } from '../framework';
import type { ClusterSnapshot, NodeInfo, PodInfo } from '../snapshot';

/** Below this many nodes every node is filtered; above, at least this many feasible nodes are looked for. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** The adaptive percentage never drops below this. */
export const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/**
 * How many feasible nodes to find before scoring (upstream numFeasibleNodesToFind):
 * all of a cluster under 100 nodes; otherwise `percentage` of the nodes, where
 * 0 means adaptive (50% minus 1% per 125 nodes, at least 5%), and never fewer than 100.
 */
export function numFeasibleNodesToFind(percentageOfNodesToScore: number, numAllNodes: number): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND) return numAllNodes;
  let percentage = percentageOfNodesToScore;
  if (percentage === 0) {
    percentage = 50 - Math.trunc(numAllNodes / 125);
    if (percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND) percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND;
  }
  const numNodes = Math.trunc((numAllNodes * percentage) / 100);
  return numNodes < MIN_FEASIBLE_NODES_TO_FIND ? MIN_FEASIBLE_NODES_TO_FIND : numNodes;
}

/** A plugin failed (Error status): the attempt is aborted and retried after a backoff. */
export class SchedulingError extends Error {
  constructor(readonly status: Status) {
    super(status.plugin ? `running "${status.plugin}": ${status.message()}` : status.message(), { cause: status.cause });
    this.name = 'SchedulingError';
  }
}

export interface ScheduleResult {
  suggestedHost: string;
  /** Nodes the filters ran on (plus those rejected by PreFilter). */
  evaluatedNodes: number;
  feasibleNodes: number;
}

export class PodPlacer {
  private nextStartNodeIndex = 0;

  constructor(
    private readonly framework: Framework,
    private readonly snapshot: ClusterSnapshot,
    /** Global percentageOfNodesToScore; the profile's own value wins when set. */
    private readonly percentageOfNodesToScore: number,
    /** A float in [0, 1); seeded in tests so tie-breaking is reproducible. */
    private readonly random: () => number = Math.random,
  ) {}

  /** Throws FitError (no node fits), NoNodesAvailableError or SchedulingError. */
  schedulePod(state: CycleState, pod: PodInfo): ScheduleResult {
    const nodes = this.snapshot.nodeInfos();
    if (nodes.length === 0) throw new NoNodesAvailableError();
    const feasible = this.findNodesThatFitPod(state, pod, nodes);
    if (feasible.length === 1) return { suggestedHost: (feasible[0] as NodeInfo).name, evaluatedNodes: this.lastEvaluated, feasibleNodes: 1 };
    const scores = this.prioritizeNodes(state, pod, feasible);
    return { suggestedHost: this.selectHost(scores), evaluatedNodes: this.lastEvaluated, feasibleNodes: feasible.length };
  }

  private lastEvaluated = 0;

  private findNodesThatFitPod(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): NodeInfo[] {
    const diagnosis = emptyDiagnosis();
    const preFilter = this.framework.runPreFilterPlugins(state, pod);
    if (!preFilter.isSuccess()) {
      if (!preFilter.isRejected()) throw new SchedulingError(preFilter);
      for (const node of nodes) diagnosis.nodeToStatus.set(node.name, preFilter);
      diagnosis.preFilterMessage = preFilter.message();
      if (preFilter.plugin) diagnosis.unschedulablePlugins.add(preFilter.plugin);
      this.lastEvaluated = nodes.length;
      throw new FitError(pod.pod, nodes.length, diagnosis);
    }
    const filters = this.framework.activeFilterPlugins(state);
    const percentage = this.framework.percentageOfNodesToScore ?? this.percentageOfNodesToScore;
    const wanted = numFeasibleNodesToFind(percentage, nodes.length);
    const feasible: NodeInfo[] = [];
    const count = nodes.length;
    let processed = 0;
    for (let i = 0; i < count && feasible.length < wanted; i++) {
      const node = nodes[(this.nextStartNodeIndex + i) % count] as NodeInfo;
      processed++;
      const status = filters.length === 0 ? undefined : this.framework.runFilterPlugins(state, pod, node, filters);
      if (status === undefined) {
        feasible.push(node);
      } else if (status.isRejected()) {
        diagnosis.nodeToStatus.set(node.name, status);
        diagnosis.unschedulablePlugins.add(status.plugin);
      } else {
        throw new SchedulingError(status);
      }
    }
    // Start the next pod where this one stopped, so every node gets looked at over time.
    this.nextStartNodeIndex = (this.nextStartNodeIndex + processed) % count;
    this.lastEvaluated = processed;
    if (feasible.length === 0) throw new FitError(pod.pod, count, diagnosis);
    return feasible;
  }

  private prioritizeNodes(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): NodePluginScores[] {
    const preScore = this.framework.runPreScorePlugins(state, pod, nodes);
    if (!preScore.isSuccess()) throw new SchedulingError(preScore);
    const scores = this.framework.runScorePlugins(state, pod, nodes);
    if (scores instanceof Status) throw new SchedulingError(scores);
    return scores;
  }

  /** The highest total; among equals, each has the same chance (reservoir sampling, as upstream). */
  selectHost(scores: readonly NodePluginScores[]): string {
    let selected = scores[0];
    if (!selected) throw new Error('selectHost called with no nodes');
    let best = selected.totalScore;
    let ties = 1;
    for (let i = 1; i < scores.length; i++) {
      const entry = scores[i] as NodePluginScores;
      if (entry.totalScore > best) {
        best = entry.totalScore;
        selected = entry;
        ties = 1;
      } else if (entry.totalScore === best) {
        ties++;
        if (Math.floor(this.random() * ties) === 0) selected = entry;
      }
    }
    return selected.name;
  }
}

