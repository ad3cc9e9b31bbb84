// The in-tree plugins by name, as the configuration file names them.
import type { PluginFactory, Registry } from '../framework';
import { newDefaultBinder } from './DefaultBinder';
import { newNodeAffinity } from './NodeAffinity';
import { newNodeName } from './NodeName';
import { newNodePorts } from './NodePorts';
import { newNodeReady } from './NodeReady';
import { newNodeResourcesBalancedAllocation } from './NodeResourcesBalancedAllocation';
import { newNodeResourcesFit } from './NodeResourcesFit';
import { newNodeUnschedulable } from './NodeUnschedulable';
import { newPrioritySort } from './PrioritySort';
import { newSelectorSpread } from './SelectorSpread';
import { newTaintToleration } from './TaintToleration';
import { newVolumeBinding } from './VolumeBinding';

export function inTreeRegistry(): Map<string, PluginFactory> {
  return new Map<string, PluginFactory>([
    ['PrioritySort', newPrioritySort],
    ['NodeUnschedulable', newNodeUnschedulable],
    ['NodeName', newNodeName],
    ['TaintToleration', newTaintToleration],
    ['NodeReady', newNodeReady],
    ['NodeAffinity', newNodeAffinity],
    ['NodePorts', newNodePorts],
    ['NodeResourcesFit', newNodeResourcesFit],
    ['NodeResourcesBalancedAllocation', newNodeResourcesBalancedAllocation],
    ['SelectorSpread', newSelectorSpread],
    ['VolumeBinding', newVolumeBinding],
    ['DefaultBinder', newDefaultBinder],
  ]);
}

/** The in-tree registry plus out-of-tree plugins; a name clash is an error. */
export function mergeRegistries(base: Registry, extra: Registry): Map<string, PluginFactory> {
  const merged = new Map(base);
  for (const [name, factory] of extra) {
    if (merged.has(name)) throw new Error(`a plugin named "${name}" already exists in the registry`);
    merged.set(name, factory);
  }
  return merged;
}
