// Upstream's scoring strategy formulas, integer arithmetic as upstream's int64.
import { MAX_NODE_SCORE } from '../../framework';
import type { ResourceSpec } from '../helpers/args';

export type ResourceScorer = (requested: readonly number[], allocatable: readonly number[]) => number;

/** (capacity - requested) * 100 / capacity; 0 once requested exceeds capacity. */
export function leastRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0 || requested > capacity) return 0;
  return Math.floor(((capacity - requested) * MAX_NODE_SCORE) / capacity);
}

/** requested * 100 / capacity, requested capped at capacity. */
export function mostRequestedScore(requested: number, capacity: number): number {
  if (capacity === 0) return 0;
  return Math.floor((Math.min(requested, capacity) * MAX_NODE_SCORE) / capacity);
}

function weightedScorer(resources: readonly ResourceSpec[], perResource: (requested: number, capacity: number) => number): ResourceScorer {
  return (requested, allocatable) => {
    let nodeScore = 0;
    let weightSum = 0;
    for (let i = 0; i < resources.length; i++) {
      const capacity = allocatable[i] ?? 0;
      if (capacity === 0) continue;
      const weight = (resources[i] as ResourceSpec).weight;
      nodeScore += perResource(requested[i] ?? 0, capacity) * weight;
      weightSum += weight;
    }
    return weightSum === 0 ? 0 : Math.floor(nodeScore / weightSum);
  };
}

/** Favours the emptiest nodes: spreads load (the default strategy). */
export function leastAllocatedScorer(resources: readonly ResourceSpec[]): ResourceScorer {
  return weightedScorer(resources, leastRequestedScore);
}

/** Favours the fullest nodes: bin packing. */
export function mostAllocatedScorer(resources: readonly ResourceSpec[]): ResourceScorer {
  return weightedScorer(resources, mostRequestedScore);
}

/**
 * 100 * (1 - std) of the requested/allocatable fractions (capped at 1): a
 * node whose cpu and memory would be used alike scores highest. With two
 * resources std is |f1 - f2| / 2, as upstream.
 */
export function balancedResourceScorer(requested: readonly number[], allocatable: readonly number[]): number {
  const fractions: number[] = [];
  let total = 0;
  for (let i = 0; i < requested.length; i++) {
    const capacity = allocatable[i] ?? 0;
    if (capacity === 0) continue;
    const fraction = Math.min((requested[i] ?? 0) / capacity, 1);
    total += fraction;
    fractions.push(fraction);
  }
  let std = 0;
  if (fractions.length === 2) {
    std = Math.abs(((fractions[0] as number) - (fractions[1] as number)) / 2);
  } else if (fractions.length > 2) {
    const mean = total / fractions.length;
    let sum = 0;
    for (const fraction of fractions) sum += (fraction - mean) * (fraction - mean);
    std = Math.sqrt(sum / fractions.length);
  }
  return Math.trunc((1 - std) * MAX_NODE_SCORE);
}
