// Higher spec.priority first, then the pod that has waited longer (upstream PrioritySort).
import type { QueuedPodInfo, QueueSortPlugin } from '../../framework';

export const NAME = 'PrioritySort';

export function podPriority(info: QueuedPodInfo): number {
  return info.podInfo.pod.spec?.priority ?? 0;
}

export class PrioritySort implements QueueSortPlugin {
  readonly name = NAME;

  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean {
    const priorityA = podPriority(a);
    const priorityB = podPriority(b);
    return priorityA > priorityB || (priorityA === priorityB && a.timestampMs < b.timestampMs);
  }
}

export function newPrioritySort(): PrioritySort {
  return new PrioritySort();
}
