// Spreads the replicas of one workload over nodes and zones: a node with
// fewer pods of the same controller (ReplicaSet, StatefulSet, Job ...) or of
// a Service selecting the pod scores higher. This is upstream's
// SelectorSpread (removed in 1.26, where PodTopologySpread's default
// constraints took over) with its formula: 100 * (max - count) / max per
// node, blended 1/3 node + 2/3 zone when nodes carry zone labels. Pods of
// the same controller stand in for "pods matching the ReplicaSet selector",
// which is what a ReplicaSet's pods are.
import type { Service } from '@kube-lite/api';
import { selectorFromSet, type Selector } from '@kube-lite/api';
import { MAX_NODE_SCORE, Status, type CycleState, type FrameworkHandle, type MaybeStatus, type NodeScore, type PreScorePlugin, type ScorePlugin } from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';

export const NAME = 'SelectorSpread';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** How much the zone spread counts against the node spread (upstream zoneWeighting). */
const ZONE_WEIGHTING = 2 / 3;
const PRE_SCORE_KEY = `PreScore${NAME}`;

interface SpreadState {
  controllerUid: string | undefined;
  serviceSelectors: Selector[];
}

function serviceSelectors(services: readonly Service[], pod: PodInfo): Selector[] {
  const labels = pod.pod.metadata?.labels ?? {};
  const selectors: Selector[] = [];
  for (const service of services) {
    const selector = service.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) continue;
    const parsed = selectorFromSet(selector);
    if (parsed.matches(labels)) selectors.push(parsed);
  }
  return selectors;
}

export class SelectorSpread implements PreScorePlugin, ScorePlugin {
  readonly name = NAME;

  constructor(private readonly handle: Pick<FrameworkHandle, 'services' | 'snapshot'>) {}

  preScore(state: CycleState, pod: PodInfo): MaybeStatus {
    const selectors = this.handle.services ? serviceSelectors(this.handle.services.list(pod.namespace), pod) : [];
    if (!pod.controllerUid && selectors.length === 0) return Status.skip();
    state.write(PRE_SCORE_KEY, { controllerUid: pod.controllerUid, serviceSelectors: selectors } satisfies SpreadState);
    return undefined;
  }

  /** The number of pods on the node of the same workload (raw; normalizeScore turns it into a score). */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number {
    const spread = state.read<SpreadState>(PRE_SCORE_KEY) ?? { controllerUid: pod.controllerUid, serviceSelectors: [] };
    let count = 0;
    for (const other of node.pods.values()) {
      if (other.namespace !== pod.namespace || other.pod.metadata?.deletionTimestamp) continue;
      if (spread.controllerUid !== undefined && other.controllerUid === spread.controllerUid) {
        count++;
        continue;
      }
      const labels = other.pod.metadata?.labels;
      if (labels && spread.serviceSelectors.some((selector) => selector.matches(labels))) count++;
    }
    return count;
  }

  normalizeScore(_state: CycleState, _pod: PodInfo, scores: NodeScore[]): MaybeStatus {
    let maxCountByNode = 0;
    const countsByZone = new Map<string, number>();
    const zones: (string | undefined)[] = scores.map((entry) => {
      const zone = this.handle.snapshot.nodeInfo(entry.name)?.node?.metadata?.labels?.[ZONE_LABEL] || undefined;
      if (zone !== undefined) countsByZone.set(zone, (countsByZone.get(zone) ?? 0) + entry.score);
      if (entry.score > maxCountByNode) maxCountByNode = entry.score;
      return zone;
    });
    let maxCountByZone = 0;
    for (const count of countsByZone.values()) if (count > maxCountByZone) maxCountByZone = count;
    const haveZones = countsByZone.size > 0;
    scores.forEach((entry, i) => {
      let score = MAX_NODE_SCORE;
      if (maxCountByNode > 0) score = MAX_NODE_SCORE * ((maxCountByNode - entry.score) / maxCountByNode);
      const zone = zones[i];
      if (haveZones && zone !== undefined) {
        let zoneScore = MAX_NODE_SCORE;
        if (maxCountByZone > 0) zoneScore = MAX_NODE_SCORE * ((maxCountByZone - (countsByZone.get(zone) ?? 0)) / maxCountByZone);
        score = score * (1 - ZONE_WEIGHTING) + ZONE_WEIGHTING * zoneScore;
      }
      entry.score = Math.trunc(score);
    });
    return undefined;
  }
}

export function newSelectorSpread(_args: unknown, handle: FrameworkHandle): SelectorSpread {
  return new SelectorSpread(handle);
}

