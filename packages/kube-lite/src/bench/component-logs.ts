// Where a pod's startup time went, read back from the components' own JSON
// log lines ({"ts": ISO time, "msg": ...}): the API server logs every request
// when it completes (so the scheduler's Bind and the kubelet's status writes
// are there, by path), and the kubelet logs ContainerStarted per container.
// All processes share this machine's clock, so their times line up with the
// benchmark's own to the millisecond the logs carry.

/** Per pod, the moments the logs show, in epoch milliseconds. */
export interface PodLogTimes {
  /** The scheduler's Bind request completed at the API server. */
  boundMs?: number;
  /** When the kubelet logged the pod's last container as started (each container's first start; restarts are ignored). */
  containerStartedMs?: number;
  /** Every successful status write (PUT or PATCH .../status) for the pod, ascending. */
  statusWritesMs: number[];
}

interface LogLine {
  ts?: unknown;
  msg?: unknown;
  path?: unknown;
  verb?: unknown;
  code?: unknown;
  pod?: unknown;
  container?: unknown;
}

function parseLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(line);
    return typeof parsed === 'object' && parsed !== null ? (parsed as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

function timeOf(line: LogLine): number | undefined {
  if (typeof line.ts !== 'string') return undefined;
  const ms = Date.parse(line.ts);
  return Number.isNaN(ms) ? undefined : ms;
}

const POD_SUBRESOURCE_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/?]+)\/(binding|status)(?:\?.*)?$/;

/**
 * Collects the times for the pods of `namespace` named in `podNames` from
 * the API server's and the kubelet's log text. Lines that are not JSON, or
 * about other pods, are skipped.
 */
export function podLogTimes(namespace: string, podNames: ReadonlySet<string>, apiserverLog: string, kubeletLog: string): Map<string, PodLogTimes> {
  const times = new Map<string, PodLogTimes>();
  const entry = (name: string): PodLogTimes => {
    let found = times.get(name);
    if (found === undefined) {
      found = { statusWritesMs: [] };
      times.set(name, found);
    }
    return found;
  };

  for (const text of apiserverLog.split('\n')) {
    const line = parseLine(text);
    if (line === undefined || line.msg !== 'request' || typeof line.path !== 'string') continue;
    const match = POD_SUBRESOURCE_PATH.exec(line.path);
    if (match === null || match[1] !== namespace || !podNames.has(match[2] as string)) continue;
    const code = Number(line.code);
    const ms = timeOf(line);
    if (ms === undefined || !(code >= 200 && code < 300)) continue;
    if (match[3] === 'binding' && line.verb === 'POST') entry(match[2] as string).boundMs ??= ms;
    else if (match[3] === 'status' && (line.verb === 'PUT' || line.verb === 'PATCH')) entry(match[2] as string).statusWritesMs.push(ms);
  }

  // Pod name -> container name -> first start: a pod is ready only once its last container runs.
  const firstStarts = new Map<string, Map<string, number>>();
  for (const text of kubeletLog.split('\n')) {
    const line = parseLine(text);
    if (line === undefined || line.msg !== 'ContainerStarted' || typeof line.pod !== 'string') continue;
    const slash = line.pod.indexOf('/');
    const name = line.pod.slice(slash + 1);
    const ms = timeOf(line);
    if (line.pod.slice(0, slash) !== namespace || !podNames.has(name) || ms === undefined) continue;
    const containers = firstStarts.get(name) ?? new Map<string, number>();
    firstStarts.set(name, containers);
    const container = String(line.container ?? '');
    if (!containers.has(container)) containers.set(container, ms);
  }
  for (const [name, containers] of firstStarts) entry(name).containerStartedMs = Math.max(...containers.values());
  for (const value of times.values()) value.statusWritesMs.sort((a, b) => a - b);
  return times;
}
