// The default profile: upstream 1.32's default plugins, minus those for
// features kube-lite does not have (volume limits and zones, pod affinity,
// topology spread, images), plus NodeReady and SelectorSpread (see their
// folders for why). VolumeBinding's PreBind work runs as the first bind
// plugin, ahead of DefaultBinder (see its folder).
import type { ExtensionPoint, ResolvedPlugin } from './types';

export const DEFAULT_POD_INITIAL_BACKOFF_SECONDS = 1;
export const DEFAULT_POD_MAX_BACKOFF_SECONDS = 10;

const plugin = (name: string, weight = 1): ResolvedPlugin => ({ name, weight });

export function defaultPlugins(): Record<ExtensionPoint, ResolvedPlugin[]> {
  return {
    queueSort: [plugin('PrioritySort')],
    preFilter: [plugin('NodeAffinity'), plugin('NodePorts'), plugin('VolumeBinding')],
    filter: [
      plugin('NodeUnschedulable'),
      plugin('NodeName'),
      plugin('TaintToleration'),
      plugin('NodeReady'),
      plugin('NodeAffinity'),
      plugin('NodePorts'),
      plugin('NodeResourcesFit'),
      plugin('VolumeBinding'),
    ],
    postFilter: [],
    preScore: [plugin('TaintToleration'), plugin('NodeAffinity'), plugin('NodeResourcesFit'), plugin('SelectorSpread'), plugin('NodeResourcesBalancedAllocation')],
    // Upstream weights; SelectorSpread takes PodTopologySpread's weight, whose default constraints it stands in for.
    score: [plugin('TaintToleration', 3), plugin('NodeAffinity', 2), plugin('NodeResourcesFit', 1), plugin('SelectorSpread', 2), plugin('NodeResourcesBalancedAllocation', 1)],
    reserve: [],
    bind: [plugin('VolumeBinding'), plugin('DefaultBinder')],
  };
}

export const DEFAULT_LEADER_ELECTION = {
  leaderElect: true,
  leaseDuration: '15s',
  renewDeadline: '10s',
  retryPeriod: '2s',
  resourceLock: 'leases',
  resourceName: 'kube-scheduler',
  resourceNamespace: 'kube-system',
};
