// /healthz and /metrics over plain HTTP, on the address(es) the flags name
// (upstream serves them on --healthz-bind-address and --metrics-bind-address).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ListenError } from '../errors';

export interface HealthReport {
  healthy: boolean;
  /** Shown in the body: why not healthy, or the last sync time. */
  detail: string;
}

export class ObservabilityServer {
  private readonly server: http.Server;

  constructor(
    private readonly host: string,
    private readonly port: number,
    health: () => HealthReport,
    registry: Registry,
  ) {
    this.server = http.createServer((request, response) => {
      const path = (request.url ?? '/').split('?')[0];
      if (path === '/healthz' || path === '/livez') {
        const report = health();
        response.writeHead(report.healthy ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
        response.end(report.healthy ? 'ok' : `not healthy: ${report.detail}\n`);
      } else if (path === '/metrics') {
        registry.metrics().then(
          (text) => {
            response.writeHead(200, { 'content-type': registry.contentType });
            response.end(text);
          },
          (error: unknown) => {
            response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
            response.end(`metrics failed: ${String(error)}\n`);
          },
        );
      } else {
        response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
        response.end('404 page not found\n');
      }
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new ListenError(this.host, this.port, 'HTTP', { cause: error }));
      this.server.once('error', onError);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
  }

  boundPort(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
