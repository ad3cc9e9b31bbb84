// The ingress controller: an HTTP reverse proxy serving the IngressRouter.
// Backends are resolved straight to ready endpoints (it needs no ClusterIP,
// so it works the same under the userspace and the kernel proxy). A request
// whose connection to an endpoint fails is retried on another endpoint while
// nothing of it has been sent that cannot be sent again; bodies stream both
// ways with backpressure (pipe), and connections are bounded on both sides.
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Endpoints, Ingress, Service } from '@kube-lite/api';
import { silentLogger, type Logger } from '@kube-lite/client';
import { LoadBalancer } from '../core/load-balancer';
import { endpointString, readyEndpoints } from '../core/service-table';
import { ListenError } from '../errors';
import { ProxyMetrics } from '../server/metrics';
import { backendKey, IngressRouter, requestHostName, type BackendRef, type RouteProblem } from './routes';

export interface IngressControllerOptions {
  /** Address to listen on; 127.0.0.1 by default. */
  host?: string;
  /** Port to listen on; 8080 by default, 0 for any free port (tests). */
  port?: number;
  /** Serve only Ingresses of this class and those naming none; every Ingress when absent. */
  ingressClassName?: string;
  /** Client connections open at once; more are refused by the server. 4096 by default. */
  maxConnections?: number;
  /** Sockets per backend endpoint (kept alive and reused). 256 by default. */
  maxSocketsPerEndpoint?: number;
  /** Idle time on an upstream socket (connect or response) before the request fails with 504. 60 s by default, as nginx's proxy_read_timeout. */
  upstreamTimeoutMs?: number;
  /**
   * Endpoints tried for one request after failures that happened once connected
   * (reset, closed) before answering 502; 3 by default. Endpoints that refuse or
   * cannot be reached do not count: a pod that just exited is skipped and every
   * other endpoint is tried, so a rolling update loses no request.
   */
  maxAttempts?: number;
  logger?: Logger;
  metrics?: ProxyMetrics;
}

interface BackendState {
  /** Why the backend cannot be used (no such Service or port), for the 503 body. */
  error: string | undefined;
  serviceName: string;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Connection errors that mean the endpoint never saw the request (a pod that just exited, an address gone). */
const NOT_CONNECTED_CODES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function forwardHeaders(headers: IncomingHttpHeaders, remove: ReadonlySet<string>): Record<string, string | string[]> {
  const connectionTokens = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
  const result: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || remove.has(name) || connectionTokens.has(name)) continue;
    result[name] = value;
  }
  return result;
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

export class IngressController {
  private readonly server: http.Server;
  private readonly agent: http.Agent;
  private readonly balancer = new LoadBalancer();
  private readonly logger: Logger;
  private readonly metrics: ProxyMetrics;
  private router = new IngressRouter([]);
  private backends = new Map<string, BackendState>();
  private reportedProblems = new Set<string>();
  private readonly upstreamTimeoutMs: number;
  private readonly maxAttempts: number;

  constructor(private readonly options: IngressControllerOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new ProxyMetrics();
    this.upstreamTimeoutMs = options.upstreamTimeoutMs ?? 60_000;
    this.maxAttempts = options.maxAttempts ?? 3;
    this.agent = new http.Agent({ keepAlive: true, maxSockets: options.maxSocketsPerEndpoint ?? 256, maxFreeSockets: 64 });
    this.server = http.createServer((request, response) => this.handle(request, response));
    this.server.maxConnections = options.maxConnections ?? 4096;
  }

  /** Rebuilds routes and backend endpoints from the informers' current objects. */
  update(ingresses: readonly Ingress[], services: readonly Service[], endpoints: readonly Endpoints[]): void {
    const router = new IngressRouter(ingresses, this.options.ingressClassName === undefined ? {} : { ingressClassName: this.options.ingressClassName });
    this.reportProblems(router.problems);
    const servicesByKey = new Map(services.map((service) => [`${service.metadata?.namespace ?? 'default'}/${service.metadata?.name ?? ''}`, service]));
    const endpointsByKey = new Map(endpoints.map((object) => [`${object.metadata?.namespace ?? 'default'}/${object.metadata?.name ?? ''}`, object]));
    const backends = new Map<string, BackendState>();
    const pools = [];
    for (const backend of router.backends()) {
      const key = backendKey(backend);
      const serviceName = `${backend.namespace}/${backend.serviceName}`;
      const resolved = this.resolve(backend, servicesByKey.get(serviceName), endpointsByKey.get(serviceName));
      backends.set(key, { error: resolved.error, serviceName });
      pools.push({ key, endpoints: resolved.endpoints });
    }
    this.balancer.update(pools);
    this.router = router;
    this.backends = backends;
  }

  async start(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const port = this.options.port ?? 8080;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new ListenError(host, port, 'HTTP', { cause: error }));
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.server.on('error', (error) => this.logger.error('ingress server error', { err: String(error) }));
    this.logger.info('ingress controller listening', { address: `${host}:${this.port()}` });
  }

  /** The bound port (useful with port 0). */
  port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? 0;
  }

  /** Stops accepting, ends idle keep-alive connections and waits for open requests to finish (bounded by `graceMs`). */
  async stop(graceMs = 5000): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    this.agent.destroy();
  }

  private resolve(backend: BackendRef, service: Service | undefined, endpoints: Endpoints | undefined): { error: string | undefined; endpoints: ReturnType<typeof readyEndpoints> } {
    const name = `${backend.namespace}/${backend.serviceName}`;
    if (!service) return { error: `service ${name} not found`, endpoints: [] };
    if (service.spec?.type === 'ExternalName') return { error: `service ${name} is an ExternalName service, which the ingress controller does not proxy`, endpoints: [] };
    const servicePort = (service.spec?.ports ?? []).find((candidate) =>
      backend.port.name !== undefined && backend.port.name !== '' ? candidate.name === backend.port.name : candidate.port === backend.port.number,
    );
    if (!servicePort) return { error: `service ${name} has no port ${backend.port.name || backend.port.number}`, endpoints: [] };
    return { error: undefined, endpoints: readyEndpoints(endpoints, servicePort.name ?? '', servicePort.protocol ?? 'TCP') };
  }

  private reportProblems(problems: readonly RouteProblem[]): void {
    const current = new Set(problems.map((problem) => `${problem.ingress}: ${problem.message}`));
    for (const line of current) if (!this.reportedProblems.has(line)) this.logger.warn('ingress rule ignored', { problem: line });
    this.reportedProblems = current;
  }

  private reply(response: ServerResponse, started: number, status: number, body: string): void {
    this.finish(started, status);
    if (response.headersSent) {
      response.destroy();
      return;
    }
    response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    response.end(body);
  }

  private finish(started: number, status: number): void {
    this.metrics.ingressRequestsTotal.inc({ status: String(status) });
    this.metrics.ingressRequestDurationSeconds.observe((performance.now() - started) / 1000);
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const started = performance.now();
    const target = request.url ?? '/';
    const match = this.router.match(request.headers.host, target);
    if (!match) {
      this.reply(response, started, 404, `404 not found: no Ingress rule matches host "${requestHostName(request.headers.host)}" and path "${target.split('?')[0]}"\n`);
      return;
    }
    const key = backendKey(match.route.backend);
    const state = this.backends.get(key);
    if (!state || state.error !== undefined) {
      this.reply(response, started, 503, `503 service unavailable: ${state?.error ?? `backend ${key} unknown`}\n`);
      return;
    }
    if (this.balancer.endpointCount(key) === 0) {
      this.reply(response, started, 503, `503 service unavailable: no ready endpoints for service ${state.serviceName}\n`);
      return;
    }
    this.forward(request, response, started, key, state.serviceName, match.upstreamPath, new Set(), 0);
  }

  private forward(request: IncomingMessage, response: ServerResponse, started: number, key: string, serviceName: string, path: string, tried: Set<string>, connectedFailures: number): void {
    const endpoint = this.balancer.next(key, undefined, tried);
    if (!endpoint || connectedFailures >= this.maxAttempts) {
      this.reply(response, started, 502, `502 bad gateway: could not connect to service ${serviceName} (tried ${[...tried].join(', ')})\n`);
      return;
    }
    const id = endpointString(endpoint);
    tried.add(id);
    const clientAddress = request.socket.remoteAddress ?? '';
    const headers = forwardHeaders(request.headers, HOP_BY_HOP);
    const forwardedFor = request.headers['x-forwarded-for'];
    headers['x-forwarded-for'] = forwardedFor ? `${String(forwardedFor)}, ${clientAddress}` : clientAddress;
    headers['x-forwarded-host'] = request.headers.host ?? '';
    headers['x-forwarded-proto'] = 'http';
    headers['x-forwarded-port'] = String(request.socket.localPort ?? '');
    headers['x-real-ip'] = clientAddress;
    const upstream = http.request({ host: endpoint.ip, port: endpoint.port, method: request.method, path, headers, agent: this.agent, timeout: this.upstreamTimeoutMs });
    let bodySent = false;
    let responded = false;
    const sendBody = () => {
      if (upstream.destroyed) return;
      bodySent = true;
      if (request.readableEnded) upstream.end();
      else request.pipe(upstream);
    };
    upstream.on('socket', (socket) => {
      if (socket.connecting) socket.once('connect', sendBody);
      else sendBody();
    });
    upstream.on('timeout', () => upstream.destroy(Object.assign(new Error(`no answer from ${id} within ${this.upstreamTimeoutMs} ms`), { code: 'ETIMEDOUT' })));
    upstream.on('response', (upstreamResponse) => {
      responded = true;
      const status = upstreamResponse.statusCode ?? 502;
      response.writeHead(status, forwardHeaders(upstreamResponse.headers, HOP_BY_HOP));
      upstreamResponse.pipe(response);
      upstreamResponse.on('error', () => response.destroy());
      this.finish(started, status);
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      request.unpipe(upstream);
      if (responded) {
        response.destroy();
        return;
      }
      if (response.destroyed) return;
      if (error.code === 'ETIMEDOUT') {
        this.reply(response, started, 504, `504 gateway timeout: ${error.message}\n`);
        return;
      }
      // Safe to send again: the body was never touched, or there is none and the method may repeat.
      const canRetry = !bodySent || (!hasBody(request) && IDEMPOTENT.has(request.method ?? ''));
      this.logger.warn('ingress backend connection failed', { service: serviceName, endpoint: id, err: error.message, retry: canRetry });
      if (!canRetry) {
        this.reply(response, started, 502, `502 bad gateway: connection to ${id} of service ${serviceName} failed: ${error.message}\n`);
        return;
      }
      this.metrics.ingressUpstreamRetriesTotal.inc();
      const neverConnected = error.code !== undefined && NOT_CONNECTED_CODES.has(error.code);
      this.forward(request, response, started, key, serviceName, path, tried, connectedFailures + (neverConnected ? 0 : 1));
    });
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
  }
}
