// The HTTP endpoint of --listen-metrics-urls: /metrics (Prometheus text) and
// /health (etcd's JSON health check; /healthz is the same, for the house
// convention every kube-lite component follows).

import * as http from 'http';
import type { AddressInfo } from 'net';
import type { Logger } from './logger';
import type { Metrics } from './metrics';

export interface MetricsServerDependencies {
  metrics: Metrics;
  /** Whether this member currently knows a leader: what /health reports. */
  hasLeader: () => boolean;
  logger: Logger;
}

export interface MetricsServer {
  /** The URLs actually served (port 0 in a requested URL is replaced by the bound port). */
  urls: string[];
  close(): Promise<void>;
}

/** A metrics URL is malformed or uses a scheme we cannot serve. */
export class MetricsUrlError extends Error {
  constructor(url: string, reason: string) {
    super(`metrics URL ${JSON.stringify(url)} ${reason}`);
    this.name = 'MetricsUrlError';
  }
}

export async function startMetricsServer(urls: string[], deps: MetricsServerDependencies): Promise<MetricsServer> {
  const targets = urls.map(parseListenUrl);
  const servers: http.Server[] = [];
  const served: string[] = [];
  try {
    for (const { host, port } of targets) {
      const server = http.createServer((request, response) => void handle(request, response, deps));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      const bound = server.address() as AddressInfo;
      const url = `http://${host.includes(':') ? `[${host}]` : host}:${bound.port}`;
      served.push(url);
      deps.logger.info('serving metrics', { url });
    }
  } catch (error) {
    await Promise.all(servers.map(closeServer));
    throw error;
  }
  return { urls: served, close: () => Promise.all(servers.map(closeServer)).then(() => undefined) };
}

function parseListenUrl(url: string): { host: string; port: number } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MetricsUrlError(url, 'is not a valid URL');
  }
  if (parsed.protocol !== 'http:') throw new MetricsUrlError(url, 'must use http:// (TLS metrics are not supported)');
  // Checked on the text: URL drops a port equal to the scheme's default (":80").
  if (!/^[a-z]+:\/\/[^/?#]*:\d+(?:[/?#]|$)/i.test(url)) throw new MetricsUrlError(url, 'must name a port');
  return { host: parsed.hostname.replace(/^\[|\]$/g, ''), port: Number(parsed.port || 80) };
}

async function handle(request: http.IncomingMessage, response: http.ServerResponse, deps: MetricsServerDependencies): Promise<void> {
  const path = (request.url ?? '/').split('?')[0];
  try {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      reply(response, 405, 'text/plain', 'method not allowed\n');
    } else if (path === '/metrics') {
      reply(response, 200, deps.metrics.contentType, await deps.metrics.text());
    } else if (path === '/health' || path === '/healthz') {
      const healthy = deps.hasLeader();
      reply(response, healthy ? 200 : 503, 'application/json', JSON.stringify({ health: String(healthy) }));
    } else {
      reply(response, 404, 'text/plain', '404 page not found\n');
    }
  } catch (error) {
    deps.logger.error('metrics request failed', { path, error });
    if (!response.headersSent) reply(response, 500, 'text/plain', 'internal error\n');
    else response.destroy();
  }
}

function reply(response: http.ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  response.end(body);
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
