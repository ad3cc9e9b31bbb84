// The error a user reads when a pod fits nowhere, in upstream's exact form:
//   0/3 nodes are available: 1 node(s) had untolerated taint {k: v}, 2 Insufficient cpu.
// Reasons are counted across nodes, printed "<count> <reason>", sorted as
// strings (so "10 ..." sorts before "2 ..." exactly as upstream's sort.Strings
// does) and joined with ", ". A PreFilter rejection replaces the histogram.
// PostFilter (preemption) messages are appended only when a PostFilter plugin
// produced one: upstream's "preemption: ..." tail comes from DefaultPreemption,
// which kube-lite does not have, so without it no tail is printed.
import type { Pod } from '@kube-lite/api';
import type { Diagnosis } from './types';

export const NO_NODE_AVAILABLE_FORMAT = (numAllNodes: number) => `0/${numAllNodes} nodes are available`;

export function emptyDiagnosis(): Diagnosis {
  return { nodeToStatus: new Map(), unschedulablePlugins: new Set(), preFilterMessage: '', postFilterMessage: '' };
}

/** Upstream FitError.Error(). */
export function fitErrorMessage(numAllNodes: number, diagnosis: Diagnosis): string {
  let message = `${NO_NODE_AVAILABLE_FORMAT(numAllNodes)}:`;
  if (diagnosis.preFilterMessage !== '') {
    message += ` ${diagnosis.preFilterMessage}.`;
  } else {
    const counts = new Map<string, number>();
    for (const status of diagnosis.nodeToStatus.values()) {
      for (const reason of status.reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
    }
    // Plain code-unit order, as Go's sort.Strings (not localeCompare).
    const histogram = [...counts].map(([reason, count]) => `${count} ${reason}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (histogram.length > 0) message += ` ${histogram.join(', ')}.`;
  }
  if (diagnosis.postFilterMessage !== '') message += ` ${diagnosis.postFilterMessage}`;
  return message;
}

/** No node fits the pod; the message is what goes into the FailedScheduling event and the PodScheduled condition. */
export class FitError extends Error {
  constructor(
    readonly pod: Pod,
    readonly numAllNodes: number,
    readonly diagnosis: Diagnosis,
  ) {
    super(fitErrorMessage(numAllNodes, diagnosis));
    this.name = 'FitError';
  }

  /** Recomputes the message after PostFilter added to the diagnosis. */
  refreshMessage(): void {
    this.message = fitErrorMessage(this.numAllNodes, this.diagnosis);
  }
}

/** The cluster has no nodes at all (upstream ErrNoNodesAvailable). */
export class NoNodesAvailableError extends Error {
  constructor() {
    super('no nodes available to schedule pods');
    this.name = 'NoNodesAvailableError';
  }
}
