// Reading the resource metrics API (metrics.k8s.io/v1beta1 PodMetrics) for
// the pods of a selector: per pod, the sum over its containers (or one
// container) in milli-units. A pod missing a figure for any container is left
// out, so it counts as "missing" in the replica calculator, not as idle.

import type { PodMetrics } from '@kube-lite/api';
import { parseTime } from '@kube-lite/api';
import type { ApiClient, ResourceRef } from '@kube-lite/client';
import { milliValue, ReplicaCalculationError, type PodMetricsInfo } from './replica-calculator';

export const POD_METRICS: ResourceRef = Object.freeze({ group: 'metrics.k8s.io', version: 'v1beta1', resource: 'pods' });

/** Parses a Go duration as metrics-server writes windows ("15s", "1m0.5s", "250ms"); 0 when unreadable. */
export function parseWindowMs(text: string | undefined): number {
  if (text === undefined) return 0;
  const pattern = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    total += Number(match[1]) * (unitMs[match[2] ?? 's'] ?? 1000);
    consumed = pattern.lastIndex;
  }
  return consumed === text.length ? Math.round(total) : 0;
}

/** Fetches every PodMetrics of the selector once; answers per resource and container from that list. */
export class ResourceMetricsReader {
  private fetched: Promise<PodMetrics[]> | undefined;

  constructor(
    private readonly client: ApiClient,
    private readonly namespace: string,
    private readonly selector: string,
  ) {}

  private list(): Promise<PodMetrics[]> {
    this.fetched ??= this.client.list<PodMetrics>(POD_METRICS, this.namespace, { labelSelector: this.selector }).then((list) => list.items);
    return this.fetched;
  }

  /** Usage of `resource` per pod; throws ReplicaCalculationError with upstream's wording when the API has nothing. */
  async podMetrics(resource: string, container = ''): Promise<{ metrics: PodMetricsInfo; timestampMs: number }> {
    let items: PodMetrics[];
    try {
      items = await this.list();
    } catch (error) {
      throw new ReplicaCalculationError(`unable to get metrics for resource ${resource}: unable to fetch metrics from resource metrics API: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    if (items.length === 0) throw new ReplicaCalculationError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const metrics: PodMetricsInfo = new Map();
    for (const item of items) {
      const containers = (item.containers ?? []).filter((candidate) => container === '' || candidate.name === container);
      if (containers.length === 0) continue;
      let sum = 0;
      let complete = true;
      for (const entry of containers) {
        const value = entry.usage?.[resource];
        if (value === undefined) {
          complete = false;
          break;
        }
        sum += milliValue(value);
      }
      if (!complete) continue;
      metrics.set(item.metadata?.name ?? '', { valueMilli: sum, timestampMs: parseTime(item.timestamp) ?? 0, windowMs: parseWindowMs(item.window) });
    }
    if (container !== '' && metrics.size === 0) throw new ReplicaCalculationError(`unable to get metrics for resource ${resource}: container ${container} not present in metrics`);
    return { metrics, timestampMs: parseTime(items[0]?.timestamp) ?? 0 };
  }
}
