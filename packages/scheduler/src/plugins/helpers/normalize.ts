import { MAX_NODE_SCORE, type NodeScore } from '../../framework';

/**
 * Upstream helper.DefaultNormalizeScore: scales scores so the highest becomes
 * 100 (integer division), and with `reverse` flips them so the lowest raw
 * score wins. All-zero scores stay 0, or become 100 when reversed.
 */
export function defaultNormalizeScore(scores: NodeScore[], reverse: boolean, maxScore = MAX_NODE_SCORE): void {
  let highest = 0;
  for (const entry of scores) if (entry.score > highest) highest = entry.score;
  if (highest === 0) {
    if (reverse) for (const entry of scores) entry.score = maxScore;
    return;
  }
  for (const entry of scores) {
    let score = Math.trunc((maxScore * entry.score) / highest);
    if (reverse) score = maxScore - score;
    entry.score = score;
  }
}
