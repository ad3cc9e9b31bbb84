// Hands computed statuses to the StatusSink, but only when something changed
// (compared semantically), and keeps each condition's lastTransitionTime
// unless its status flipped, as upstream's status manager does.
import { semanticEqual, type Pod, type PodStatus } from '@kube-lite/api';
import type { StatusSink } from '../sources';

export class StatusManager {
  private readonly lastWritten = new Map<string, PodStatus>();

  constructor(private readonly sink: StatusSink) {}

  /** The last status written (or, before any write, what the pod object carried). */
  current(pod: Pod): PodStatus | undefined {
    return this.lastWritten.get(pod.metadata?.uid ?? '') ?? pod.status;
  }

  /** Writes the status if it differs from the last one; returns whether it wrote. */
  async update(pod: Pod, computed: PodStatus): Promise<boolean> {
    const uid = pod.metadata?.uid ?? '';
    const previous = this.current(pod);
    const status = structuredClone(computed);
    for (const condition of status.conditions ?? []) {
      const before = previous?.conditions?.find((entry) => entry.type === condition.type);
      if (before && before.status === condition.status && before.lastTransitionTime) condition.lastTransitionTime = before.lastTransitionTime;
    }
    if (previous?.startTime) status.startTime = previous.startTime;
    if (previous && semanticEqual(previous, status)) {
      this.lastWritten.set(uid, previous);
      return false;
    }
    await this.sink.writeStatus(pod, status);
    this.lastWritten.set(uid, status);
    return true;
  }

  forget(uid: string): void {
    this.lastWritten.delete(uid);
  }
}
