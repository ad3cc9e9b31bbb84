// Readiness probes, run repeatedly until one passes or the component gives up.
// Each probe answers with a short reason when it fails, which ends up in the
// timeout message so the user knows what was still missing.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ReadinessCheck } from './types';

export type ProbeResult = { ready: true } | { ready: false; problem: string };

const PROBE_TIMEOUT_MS = 2_000;

/** Runs `check` once. `startedAtMs` is when the process was started (for settle checks). */
export async function probe(check: ReadinessCheck, startedAtMs: number, nowMs: number = Date.now()): Promise<ProbeResult> {
  switch (check.kind) {
    case 'http':
      return probeHttp(check.url, check.caFile);
    case 'tcp':
      return probeTcp(check.host, check.port);
    case 'settle': {
      const upMs = nowMs - startedAtMs;
      return upMs >= check.durationMs ? { ready: true } : { ready: false, problem: `up ${upMs} ms of ${check.durationMs} ms` };
    }
  }
}

function probeHttp(url: string, caFile: string | undefined): Promise<ProbeResult> {
  const secure = url.startsWith('https:');
  let ca: string | undefined;
  if (secure && caFile !== undefined) {
    try {
      ca = fs.readFileSync(caFile, 'utf8');
    } catch {
      return Promise.resolve({ ready: false, problem: `CA file ${caFile} not written yet` });
    }
  }
  return new Promise((resolve) => {
    const options = { timeout: PROBE_TIMEOUT_MS, ...(ca === undefined ? {} : { ca }) };
    const request = (secure ? https : http).get(url, options, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      resolve(status >= 200 && status < 300 ? { ready: true } : { ready: false, problem: `GET ${url} answered ${status}` });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    request.on('error', (error) => resolve({ ready: false, problem: `GET ${url}: ${error.message}` }));
  });
}

function probeTcp(host: string, port: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const finish = (result: ProbeResult): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish({ ready: false, problem: `connect ${host}:${port}: timed out` }));
    socket.once('connect', () => finish({ ready: true }));
    socket.once('error', (error) => finish({ ready: false, problem: `connect ${host}:${port}: ${error.message}` }));
  });
}
