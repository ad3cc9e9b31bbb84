// Reads the API server's request latency histogram (its /metrics text) so a
// run can say where the server's time went: how many creates, binds, event
// writes and lease renewals it served during the run and their mean latency.
// Only the _sum and _count series are read; buckets are not needed for means.

/** Requests of one kind, e.g. "create pods/binding". */
export interface RequestTotals {
  count: number;
  sumSeconds: number;
}

const SERIES = 'apiserver_request_duration_seconds';
const SAMPLE_LINE = /^(\w+)\{([^}]*)\}\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** The kind of a request: verb, then resource with "/subresource" when there is one. */
function kindOf(labels: ReadonlyMap<string, string>): string {
  const subresource = labels.get('subresource') ?? '';
  return `${labels.get('verb') ?? '?'} ${labels.get('resource') ?? '?'}${subresource === '' ? '' : `/${subresource}`}`;
}

/** Sums the latency histogram per request kind over every scope and group. */
export function parseRequestTotals(metricsText: string): Map<string, RequestTotals> {
  const totals = new Map<string, RequestTotals>();
  for (const line of metricsText.split('\n')) {
    const match = SAMPLE_LINE.exec(line);
    if (match === null) continue;
    const [, name, labelText, valueText] = match as unknown as [string, string, string, string];
    const isSum = name === `${SERIES}_sum`;
    if (!isSum && name !== `${SERIES}_count`) continue;
    const value = Number(valueText);
    if (!Number.isFinite(value)) continue;
    const labels = new Map<string, string>();
    for (const label of labelText.matchAll(LABEL)) labels.set(label[1] as string, label[2] as string);
    const kind = kindOf(labels);
    const entry = totals.get(kind) ?? { count: 0, sumSeconds: 0 };
    if (isSum) entry.sumSeconds += value;
    else entry.count += value;
    totals.set(kind, entry);
  }
  return totals;
}

/** What was served between two readings, per kind; kinds with no new requests are left out. */
export function requestTotalsBetween(before: ReadonlyMap<string, RequestTotals>, after: ReadonlyMap<string, RequestTotals>): Map<string, RequestTotals> {
  const delta = new Map<string, RequestTotals>();
  for (const [kind, now] of after) {
    const earlier = before.get(kind) ?? { count: 0, sumSeconds: 0 };
    const count = now.count - earlier.count;
    if (count > 0) delta.set(kind, { count, sumSeconds: now.sumSeconds - earlier.sumSeconds });
  }
  return delta;
}
