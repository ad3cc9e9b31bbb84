// /healthz, /livez and /readyz in upstream's format: `ok`, or with ?verbose a
// line per check (`[+]ping ok`, `[-]etcd failed: reason withheld`) and a
// verdict line; /<endpoint>/<check> runs one check; ?exclude=<check> skips one.

/** One named check; it fails by throwing (or by not finishing within the check timeout). */
export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

export interface HealthAnswer {
  code: number;
  body: string;
}

const checkTimeoutMs = 5000;

async function runCheck(check: HealthCheck): Promise<Error | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`check did not finish within ${checkTimeoutMs} ms`)), checkTimeoutMs);
  });
  try {
    return await Promise.race([check.check().then(() => undefined, (error: unknown) => (error instanceof Error ? error : new Error(String(error)))), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Answers one health endpoint. `endpoint` is `healthz`, `livez` or `readyz`; `rest` is the path after it
 * (`` or a check name).
 */
export async function answerHealth(endpoint: string, rest: string, query: URLSearchParams, checks: readonly HealthCheck[]): Promise<HealthAnswer> {
  const all: HealthCheck[] = [{ name: 'ping', check: async () => {} }, ...checks];
  if (rest !== '') {
    const check = all.find((candidate) => candidate.name === rest);
    if (check === undefined) return { code: 404, body: '404 page not found\n' };
    const failure = await runCheck(check);
    return failure === undefined ? { code: 200, body: 'ok' } : { code: 500, body: `internal server error: ${failure.message}\n` };
  }
  const excluded = new Set(query.getAll('exclude'));
  const lines: string[] = [];
  let failed = false;
  for (const check of all) {
    if (excluded.has(check.name)) {
      lines.push(`[+]${check.name} excluded: ok`);
      continue;
    }
    const failure = await runCheck(check);
    if (failure === undefined) {
      lines.push(`[+]${check.name} ok`);
    } else {
      failed = true;
      // Upstream withholds failure details from this aggregate page; the single-check URL shows them.
      lines.push(`[-]${check.name} failed: reason withheld`);
    }
  }
  for (const name of excluded) {
    if (!all.some((check) => check.name === name)) lines.push(`warn: some health checks cannot be excluded: no matches for "${name}"`);
  }
  if (failed) return { code: 500, body: `${lines.join('\n')}\n${endpoint} check failed\n` };
  if (!query.has('verbose')) return { code: 200, body: 'ok' };
  return { code: 200, body: `${lines.join('\n')}\n${endpoint} check passed\n` };
}
