// The HTTPS front end: TLS, then per request authenticate -> authorize ->
// route -> decode -> call the resource handler -> encode, with one log line and
// metrics per request. Non-resource endpoints (version, health, metrics,
// discovery, OpenAPI) are answered here; resource requests go to the
// ResourceHandler registered for group/version/resource.

import { randomInt } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  ANONYMOUS_USER,
  forbiddenMessage,
  type AuthorizationAttributes,
  type Authenticator,
  type Authorizer,
  type UserInfo,
} from '../auth';
import { Discovery } from './discovery';
import type { Connection, RequestContext, ResourceHandler, ServedResource } from './handler';
import { answerHealth, type HealthCheck } from './health';
import { Logger } from './log';
import {
  DEFAULT_MAX_REQUEST_BODY_BYTES,
  acceptsJson,
  aggregatedDiscoveryContentType,
  aggregatedDiscoveryVersion,
  decodeDeleteBody,
  decodeObjectBody,
  decodePatchBody,
  duplicateFields,
  mediaType,
  negotiateOutput,
  readBody,
} from './media';
import { ApiServerMetrics, type RequestLabels } from './metrics';
import { OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_CONTENT_TYPE, OpenApi, type OpenApiDocument } from './openapi';
import { parseDeleteOptions, parseListOptions, parseWriteOptions } from './options';
import { parseRequestInfo, type RequestInfo, type RequestUrl, type ResourceRequestInfo } from './request-info';
import {
  StatusError,
  forbidden,
  methodNotAllowed,
  notAcceptable,
  pathNotFound,
  timeout,
  toStatusError,
  unauthorized,
} from './status-error';
import { serveWatch, type ActiveWatch } from './watch';

/** What /version reports. kubectl v1.32's dispatcher picks its own version from `minor`. */
export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

const goArchitectures: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386' };

export function defaultVersionInfo(): VersionInfo {
  return {
    major: '1',
    minor: '32',
    gitVersion: 'v1.32.0-kube-lite',
    gitCommit: '',
    gitTreeState: 'clean',
    buildDate: '1970-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    platform: `${process.platform}/${goArchitectures[process.arch] ?? process.arch}`,
  };
}

export interface ApiServerOptions {
  /** The resources to serve; their order is the discovery preference order. */
  resources: readonly ServedResource[];
  /** The serving certificate chain and key (PEM). */
  tls: {
    certificatePem: string;
    privateKeyPem: string;
    /** When set, clients may authenticate with certificates signed by this CA. */
    clientCaPem?: string;
  };
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** Address to listen on; default 0.0.0.0 (upstream --bind-address). */
  bindAddress?: string;
  /** Port to listen on; 0 picks a free one (tests). Default 6443. */
  port?: number;
  /** Host or IP advertised to clients in /api (with the listening port); defaults to the bind address, or 127.0.0.1. */
  advertiseAddress?: string;
  logger?: Logger;
  metrics?: ApiServerMetrics;
  /** Checks behind /healthz and /livez (ping is built in). */
  healthChecks?: readonly HealthCheck[];
  /** Extra checks behind /readyz only (e.g. "storage initialized"). */
  readyChecks?: readonly HealthCheck[];
  /** Largest accepted request body; default 3 MiB as upstream. */
  maxRequestBodyBytes?: number;
  /** Watches without timeoutSeconds last a random time in [min, 2*min) seconds; default 1800 (upstream --min-request-timeout). */
  minRequestTimeoutSeconds?: number;
  /** Deadline for ordinary (not long-running) requests when the client gives no `timeout`; default 60 s. */
  requestTimeoutSeconds?: number;
  /** A watch whose client leaves this much output unread is closed; default 16 MiB. */
  maxWatchBufferedBytes?: number;
  version?: VersionInfo;
}

interface RequestState {
  method: string;
  path: string;
  user: UserInfo;
  labels: RequestLabels;
  longRunning: boolean;
  error?: StatusError;
}

const mutatingMethods = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Subresources that stream or upgrade rather than return an object. */
const connectSubresources = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

function labelsFor(info: RequestInfo | undefined, method: string, contentType: string | undefined): RequestLabels {
  if (info === undefined || !info.isResourceRequest) {
    return { verb: method.toUpperCase(), group: '', version: '', resource: '', subresource: '', scope: '' };
  }
  let verb: string;
  if (connectSubresources.has(info.subresource)) verb = 'CONNECT';
  else if (info.verb === 'patch' && mediaType(contentType) === 'application/apply-patch+yaml') verb = 'APPLY';
  else if (info.verb === 'create') verb = 'POST';
  else if (info.verb === 'update') verb = 'PUT';
  else verb = (info.verb ?? method).toUpperCase();
  const scope = info.name !== '' ? 'resource' : info.namespace !== '' ? 'namespace' : 'cluster';
  return { verb, group: info.apiGroup, version: info.apiVersion, resource: info.resource, subresource: info.subresource, scope };
}

function attributesFor(info: RequestInfo, user: UserInfo, query: URLSearchParams): AuthorizationAttributes {
  if (!info.isResourceRequest) {
    return { user, verb: info.verb, isResourceRequest: false, path: info.path, apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', fieldSelector: '' };
  }
  return {
    user,
    verb: info.verb ?? '',
    isResourceRequest: true,
    path: info.path,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    namespace: info.namespace,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name !== '' ? info.name : info.selectedName,
    fieldSelector: query.get('fieldSelector') ?? '',
  };
}

function warningHeader(message: string): string {
  return `299 - "${message.replace(/[\\"]/g, (character) => `\\${character}`).replace(/[\r\n]+/g, ' ')}"`;
}

interface SendOptions {
  warnings?: readonly string[];
  headOnly?: boolean;
  /** Replaces the default `no-cache, private` (immutable OpenAPI documents). */
  cacheControl?: string;
  /** Replaces `application/json` (aggregated discovery); the answer then also varies by Accept. */
  contentType?: string;
}

/** Sends a JSON body; `body` may already be serialized. */
function sendJson(response: ServerResponse, code: number, body: unknown, options: SendOptions = {}): void {
  if (response.headersSent || response.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Cache-Control': options.cacheControl ?? 'no-cache, private',
    'Content-Length': String(Buffer.byteLength(text)),
  };
  if (options.contentType !== undefined) {
    headers['Content-Type'] = options.contentType;
    headers.Vary = 'Accept';
  }
  const warnings = options.warnings ?? [];
  if (warnings.length > 0) headers.Warning = warnings.map(warningHeader);
  response.writeHead(code, headers);
  response.end(options.headOnly === true ? undefined : text);
}

function sendText(response: ServerResponse, code: number, body: string, contentType = 'text/plain; charset=utf-8', headOnly = false): void {
  if (response.headersSent || response.destroyed) return;
  response.writeHead(code, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'X-Content-Type-Options': 'nosniff', 'Content-Length': String(Buffer.byteLength(body)) });
  response.end(headOnly ? undefined : body);
}

function sendStatusError(response: ServerResponse, error: StatusError): void {
  if (response.headersSent) {
    // Too late for a status line: cut the stream so the client sees a failure rather than a truncated success.
    response.destroy();
    return;
  }
  if (error.retryAfterSeconds !== undefined && error.retryAfterSeconds > 0) response.setHeader('Retry-After', String(error.retryAfterSeconds));
  sendJson(response, error.code, error.toStatus());
}

/** Writes an error as a raw HTTP/1.1 response on an upgrade socket (no ServerResponse exists there). */
function rejectUpgrade(socket: Duplex, error: StatusError): void {
  const body = JSON.stringify(error.toStatus());
  socket.end(
    `HTTP/1.1 ${error.code} ${STATUS_CODES[error.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** The Kubernetes-compatible HTTPS API server front end. */
export class ApiServer {
  private readonly server: Server;
  private readonly upgradedSockets = new Set<Duplex>();
  private readonly logger: Logger;
  readonly metrics: ApiServerMetrics;
  private readonly handlers = new Map<string, ServedResource>();
  private discovery: Discovery;
  private openApi: OpenApi;
  private readonly version: VersionInfo;
  private readonly activeWatches = new Set<ActiveWatch>();
  private readonly maxRequestBodyBytes: number;
  private readonly minRequestTimeoutSeconds: number;
  private readonly requestTimeoutSeconds: number;
  private readonly maxWatchBufferedBytes: number;
  private listeningPort = 0;

  constructor(private readonly options: ApiServerOptions) {
    this.logger = options.logger ?? new Logger();
    this.metrics = options.metrics ?? new ApiServerMetrics();
    this.version = options.version ?? defaultVersionInfo();
    this.maxRequestBodyBytes = options.maxRequestBodyBytes ?? DEFAULT_MAX_REQUEST_BODY_BYTES;
    this.minRequestTimeoutSeconds = options.minRequestTimeoutSeconds ?? 1800;
    this.requestTimeoutSeconds = options.requestTimeoutSeconds ?? 60;
    this.maxWatchBufferedBytes = options.maxWatchBufferedBytes ?? 16 * 1024 * 1024;
    for (const served of options.resources) {
      const { group, version, name } = served.description;
      const key = `${group}/${version}/${name}`;
      if (this.handlers.has(key)) throw new Error(`resource ${key} is registered twice`);
      this.handlers.set(key, served);
    }
    this.discovery = new Discovery(options.resources.map((served) => served.description), '');
    this.openApi = new OpenApi(this.discovery, this.version.gitVersion);
    this.server = createServer(
      {
        cert: options.tls.certificatePem,
        key: options.tls.privateKeyPem,
        minVersion: 'TLSv1.2',
        ...(options.tls.clientCaPem !== undefined ? { ca: options.tls.clientCaPem, requestCert: true, rejectUnauthorized: false } : {}),
      },
      (request, response) => {
        void this.handle(request, response);
      },
    );
    this.server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      // Upgraded connections (exec, attach, port-forward) leave the HTTP
      // server's bookkeeping: stop() must end them itself.
      this.upgradedSockets.add(socket);
      socket.once('close', () => this.upgradedSockets.delete(socket));
      void this.handleUpgrade(request, socket, head);
    });
    // A TLS handshake from a port scanner or a client with the wrong CA is not the server's problem.
    this.server.on('tlsClientError', (error) => this.logger.debug('TLS handshake failed', { error }));
    this.server.on('clientError', (error, socket) => {
      this.logger.debug('malformed HTTP request', { error });
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
  }

  /** Starts listening; resolves with the bound port. */
  async start(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 6443, this.options.bindAddress ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.listeningPort = (this.server.address() as AddressInfo).port;
    // Discovery advertises host:port, and the port is only known now (port 0 picks one).
    const bind = this.options.bindAddress ?? '0.0.0.0';
    const host = this.options.advertiseAddress ?? (bind === '0.0.0.0' || bind === '::' ? '127.0.0.1' : bind);
    const hostPort = host.includes(':') ? `[${host}]:${this.listeningPort}` : `${host}:${this.listeningPort}`;
    this.discovery = new Discovery(this.options.resources.map((served) => served.description), hostPort);
    this.openApi = new OpenApi(this.discovery, this.version.gitVersion);
    this.logger.info('serving securely', { address: this.options.bindAddress ?? '0.0.0.0', port: this.listeningPort });
    return this.listeningPort;
  }

  get port(): number {
    return this.listeningPort;
  }

  /** Ends every watch, stops accepting connections, and closes the rest after `graceMs`. */
  async stop(graceMs = 2000): Promise<void> {
    for (const watch of this.activeWatches) watch.finish('server-stopping');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    const timer = setTimeout(() => {
      this.server.closeAllConnections();
      for (const socket of this.upgradedSockets) socket.destroy();
    }, graceMs);
    await closed;
    clearTimeout(timer);
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = process.hrtime.bigint();
    const method = (request.method ?? 'GET').toUpperCase();
    const state: RequestState = {
      method,
      path: request.url ?? '',
      user: ANONYMOUS_USER,
      labels: labelsFor(undefined, method, undefined),
      longRunning: false,
    };
    response.on('close', () => this.finishRequest(state, response, startedAt));
    try {
      const url = this.parseUrl(request);
      state.path = url.pathname;
      const info = parseRequestInfo(method, url);
      state.labels = labelsFor(info, method, request.headers['content-type']);
      state.user = await this.authenticateAndAuthorize(request, info, url.searchParams);
      if (info.isResourceRequest) await this.handleResource(request, response, info, url, state);
      else await this.handleNonResource(request, response, url);
    } catch (error) {
      const statusError = toStatusError(error);
      state.error = statusError;
      if (statusError.code >= 500) this.logger.error('request failed', { method, path: state.path, error: statusError.cause ?? statusError });
      sendStatusError(response, statusError);
    }
  }

  /**
   * Splits the request target into path and query without normalizing it: `..` and `%2e%2e` segments must reach
   * request parsing (which rejects them) rather than be resolved into a different path.
   */
  private parseUrl(request: IncomingMessage): RequestUrl {
    const raw = request.url ?? '/';
    if (!raw.startsWith('/')) throw new StatusError(400, 'BadRequest', `the request target must be an absolute path, got "${raw.slice(0, 100)}"`);
    const question = raw.indexOf('?');
    const pathname = question < 0 ? raw : raw.slice(0, question);
    const searchParams = new URLSearchParams(question < 0 ? '' : raw.slice(question + 1));
    return { pathname, searchParams };
  }

  private async authenticateAndAuthorize(request: IncomingMessage, info: RequestInfo, query: URLSearchParams): Promise<UserInfo> {
    const result = this.options.authenticator.authenticate(request);
    if (result.kind === 'rejected') {
      this.logger.debug('authentication failed', { reason: result.reason });
      throw unauthorized();
    }
    const user = result.kind === 'authenticated' ? result.user : ANONYMOUS_USER;
    const attributes = attributesFor(info, user, query);
    const decision = await this.options.authorizer.authorize(attributes);
    if (decision.allowed) return user;
    // Anonymous callers are told to authenticate rather than that they lack permission.
    if (result.kind === 'anonymous') throw unauthorized();
    const detail = decision.reason === '' ? forbiddenMessage(attributes) : `${forbiddenMessage(attributes)}: ${decision.reason}`;
    throw info.isResourceRequest
      ? forbidden({ group: info.apiGroup, resource: info.resource }, info.name, detail)
      : forbidden(undefined, '', detail);
  }

  private async handleNonResource(request: IncomingMessage, response: ServerResponse, url: RequestUrl): Promise<void> {
    const method = (request.method ?? 'GET').toUpperCase();
    const headOnly = method === 'HEAD';
    if (method !== 'GET' && method !== 'HEAD') {
      throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
    }
    const parts = url.pathname.split('/').filter((part) => part !== '');
    const [first, second, third] = parts;
    if (first === 'version' && parts.length === 1) return sendJson(response, 200, this.version, { headOnly });
    if (first === 'healthz' || first === 'livez' || first === 'readyz') {
      const checks = first === 'readyz' ? [...(this.options.healthChecks ?? []), ...(this.options.readyChecks ?? [])] : (this.options.healthChecks ?? []);
      // Check names may hold slashes, as upstream's `poststarthook/<name>`.
      const answer = await answerHealth(first, parts.slice(1).join('/'), url.searchParams, checks);
      return sendText(response, answer.code, answer.body, 'text/plain; charset=utf-8', headOnly);
    }
    if (first === 'metrics' && parts.length === 1) {
      const exposition = await this.metrics.exposition();
      return sendText(response, 200, exposition.body, exposition.contentType, headOnly);
    }
    if (first === 'openapi') return this.handleOpenApi(request, response, parts.slice(1), url, headOnly);
    if (first === 'api' || first === 'apis') {
      if (!acceptsJson(request.headers.accept)) throw notAcceptable(['application/json']);
      const aggregated = parts.length === 1 ? aggregatedDiscoveryVersion(request.headers.accept) : undefined;
      if (aggregated !== undefined) {
        const body = this.discovery.aggregated(first, aggregated);
        return sendJson(response, 200, body, { headOnly, contentType: aggregatedDiscoveryContentType(aggregated) });
      }
      let document: object | undefined;
      if (first === 'api' && parts.length === 1) document = this.discovery.apiVersions();
      else if (first === 'api' && parts.length === 2) document = this.discovery.apiResourceList('', second as string);
      else if (first === 'apis' && parts.length === 1) document = this.discovery.apiGroupList();
      else if (first === 'apis' && parts.length === 2) document = this.discovery.apiGroup(second as string);
      else if (first === 'apis' && parts.length === 3) document = this.discovery.apiResourceList(second as string, third as string);
      if (document !== undefined) return sendJson(response, 200, document, { headOnly });
    }
    throw pathNotFound();
  }

  private handleOpenApi(request: IncomingMessage, response: ServerResponse, parts: string[], url: RequestUrl, headOnly: boolean): void {
    if (parts.length === 1 && parts[0] === 'v3') return sendJson(response, 200, this.openApi.v3Index(), { headOnly });
    let document: OpenApiDocument | undefined;
    let contentType: string | undefined;
    if (parts[0] === 'v3' && parts.length > 1) document = this.openApi.v3Document(parts.slice(1).join('/'));
    if (parts.length === 1 && parts[0] === 'v2') {
      const protobuf = (request.headers.accept ?? '').includes(OPENAPI_V2_PROTOBUF);
      document = this.openApi.v2Document(protobuf ? 'protobuf' : 'json');
      if (protobuf) contentType = OPENAPI_V2_PROTOBUF_CONTENT_TYPE;
    }
    if (document === undefined) throw pathNotFound();
    // A URL carrying the current hash never changes, so clients may cache it for good (as upstream).
    const cacheControl = url.searchParams.get('hash') === document.hash ? 'public, immutable' : undefined;
    response.setHeader('ETag', `"${document.hash}"`);
    if (contentType === undefined) return sendJson(response, 200, document.body, cacheControl === undefined ? { headOnly } : { headOnly, cacheControl });
    response.writeHead(200, { 'Content-Type': contentType, 'Cache-Control': 'no-cache, private', 'Content-Length': String(document.body.length), Vary: 'Accept' });
    response.end(headOnly ? undefined : document.body);
  }

  /** Finds the handler for a resource request, enforcing scope and subresource rules. */
  private route(info: ResourceRequestInfo): { served: ServedResource; handler: ResourceHandler } {
    const served = this.handlers.get(`${info.apiGroup}/${info.apiVersion}/${info.resource}`);
    if (served === undefined) throw pathNotFound();
    const { namespaced } = served.description;
    if (!namespaced && info.namespace !== '') throw pathNotFound();
    if (namespaced && info.namespace === '' && info.verb !== 'list' && info.verb !== 'watch') throw pathNotFound();
    if (info.subresource === '') {
      if (info.extraPath.length > 0) throw pathNotFound();
      return { served, handler: served.handler };
    }
    if (info.name === '') throw pathNotFound();
    const handler = served.handler.subresources?.[info.subresource];
    if (handler === undefined) throw pathNotFound();
    if (info.extraPath.length > 0 && handler.connect === undefined) throw pathNotFound();
    return { served, handler };
  }

  private buildContext(info: ResourceRequestInfo, url: RequestUrl, request: IncomingMessage, user: UserInfo, controller: AbortController, warnings: string[]): RequestContext {
    const list = parseListOptions(url.searchParams);
    if (info.legacyWatchPath && info.selectedName !== '') {
      const nameTerm = `metadata.name=${info.selectedName}`;
      list.fieldSelector = list.fieldSelector === '' ? nameTerm : `${list.fieldSelector},${nameTerm}`;
    }
    const output = negotiateOutput(request.headers.accept, url.searchParams.get('includeObject'));
    return {
      user,
      verb: info.verb as RequestContext['verb'],
      group: info.apiGroup,
      version: info.apiVersion,
      resource: info.resource,
      subresource: info.subresource,
      namespace: info.namespace,
      name: info.name,
      list,
      write: parseWriteOptions(url.searchParams),
      output: info.verb === 'get' || info.verb === 'list' || info.verb === 'watch' ? output : {},
      query: url.searchParams,
      signal: controller.signal,
      addWarning: (message) => {
        if (warnings.length < 50) warnings.push(message);
      },
    };
  }

  /** Deadline for an ordinary request: the client's `timeout` parameter (e.g. `32s`) capped by the server's default. */
  private requestDeadlineMs(query: URLSearchParams): number {
    const defaultMs = this.requestTimeoutSeconds * 1000;
    const raw = query.get('timeout');
    if (raw === null || raw === '') return defaultMs;
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(raw);
    if (match === null) throw new StatusError(400, 'BadRequest', `invalid timeout "${raw}": expected a duration like 30s, 500ms or 1m`);
    const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
    const requested = Number(match[1]) * factor;
    return requested > 0 ? Math.min(requested, defaultMs) : defaultMs;
  }

  private watchTimeoutMs(timeoutSeconds: number | undefined): number {
    if (timeoutSeconds !== undefined && timeoutSeconds > 0) return timeoutSeconds * 1000;
    // Spread reconnects of many clients over [min, 2*min), as upstream does.
    const minimumMs = this.minRequestTimeoutSeconds * 1000;
    return minimumMs + randomInt(0, Math.max(1, minimumMs));
  }

  private async handleResource(request: IncomingMessage, response: ServerResponse, info: ResourceRequestInfo, url: RequestUrl, state: RequestState): Promise<void> {
    const method = (request.method ?? 'GET').toUpperCase();
    const { handler } = this.route(info);
    const groupResource = { group: info.apiGroup, resource: info.resource };
    if (info.verb === undefined) throw methodNotAllowed(groupResource, method.toLowerCase());
    const controller = new AbortController();
    response.on('close', () => controller.abort());
    const warnings: string[] = [];
    const context = this.buildContext(info, url, request, state.user, controller, warnings);

    if (handler.connect !== undefined) {
      state.longRunning = true;
      const untrack = this.metrics.trackLongRunning(state.labels);
      response.on('close', untrack);
      await handler.connect(context, { kind: 'http', request, response });
      return;
    }

    if (info.verb === 'watch') {
      if (handler.watch === undefined) throw methodNotAllowed(groupResource, 'watch');
      state.longRunning = true;
      const untrack = this.metrics.trackLongRunning(state.labels);
      let watch: ActiveWatch;
      try {
        watch = await serveWatch(response, { watch: handler.watch.bind(handler) }, context, {
          timeoutMs: this.watchTimeoutMs(context.list.timeoutSeconds),
          maxBufferedBytes: this.maxWatchBufferedBytes,
          controller,
        });
      } catch (error) {
        untrack();
        throw error;
      }
      this.activeWatches.add(watch);
      void watch.done.then((reason) => {
        this.activeWatches.delete(watch);
        untrack();
        this.logger.debug('watch ended', { path: info.path, user: state.user.name, reason });
      });
      return;
    }

    const deadlineMs = this.requestDeadlineMs(url.searchParams);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(timeout('request did not complete within requested timeout - context deadline exceeded', 0));
      }, deadlineMs);
    });
    try {
      const answer = await Promise.race([this.invoke(request, handler, info, context, groupResource), deadline]);
      sendJson(response, answer.code, answer.body, { warnings, headOnly: method === 'HEAD' });
    } finally {
      clearTimeout(timer);
    }
  }

  /** Decodes the body for the verb and calls the handler; returns the HTTP code and body to send. */
  private async invoke(
    request: IncomingMessage,
    handler: ResourceHandler,
    info: ResourceRequestInfo,
    context: RequestContext,
    groupResource: { group: string; resource: string },
  ): Promise<{ code: number; body: unknown }> {
    const contentType = request.headers['content-type'];
    switch (info.verb) {
      case 'get':
        if (handler.get === undefined) throw methodNotAllowed(groupResource, 'get');
        return { code: 200, body: await handler.get(context) };
      case 'list':
        if (handler.list === undefined) throw methodNotAllowed(groupResource, 'list');
        return { code: 200, body: await handler.list(context) };
      case 'create': {
        if (handler.create === undefined) throw methodNotAllowed(groupResource, 'create');
        const body = this.decodeWriteBody(context, contentType, await readBody(request, this.maxRequestBodyBytes));
        return { code: 201, body: await handler.create(context, body) };
      }
      case 'update': {
        if (handler.update === undefined) throw methodNotAllowed(groupResource, 'update');
        const body = this.decodeWriteBody(context, contentType, await readBody(request, this.maxRequestBodyBytes));
        const result = await handler.update(context, body);
        return { code: result.created ? 201 : 200, body: result.object };
      }
      case 'patch': {
        if (handler.patch === undefined) throw methodNotAllowed(groupResource, 'patch');
        const patch = decodePatchBody(contentType, await readBody(request, this.maxRequestBodyBytes));
        const result = await handler.patch(context, patch);
        return { code: result.created ? 201 : 200, body: result.object };
      }
      case 'delete': {
        if (handler.delete === undefined) throw methodNotAllowed(groupResource, 'delete');
        const options = parseDeleteOptions(context.query, decodeDeleteBody(contentType, await readBody(request, this.maxRequestBodyBytes)));
        const result = await handler.delete(context, options);
        return { code: result.accepted === true ? 202 : 200, body: result.object };
      }
      case 'deletecollection': {
        if (handler.deleteCollection === undefined) throw methodNotAllowed(groupResource, 'deletecollection');
        const options = parseDeleteOptions(context.query, decodeDeleteBody(contentType, await readBody(request, this.maxRequestBodyBytes)));
        return { code: 200, body: await handler.deleteCollection(context, options) };
      }
      default:
        throw methodNotAllowed(groupResource, String(info.verb));
    }
  }

  /** Decodes a POST/PUT body and notes its duplicate keys for fieldValidation (JSON.parse would drop them silently). */
  private decodeWriteBody(context: RequestContext, contentType: string | undefined, raw: Buffer): unknown {
    const body = decodeObjectBody(contentType, raw);
    if (context.write.fieldValidation !== 'Ignore') {
      const duplicates = duplicateFields(contentType, raw);
      if (duplicates.length > 0) context.write.duplicateFields = duplicates;
    }
    return body;
  }

  private async handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const startedAt = process.hrtime.bigint();
    const method = (request.method ?? 'GET').toUpperCase();
    let user: UserInfo = ANONYMOUS_USER;
    let path = request.url ?? '';
    let code = 101;
    socket.on('error', (error) => this.logger.debug('upgrade socket error', { error }));
    try {
      const url = this.parseUrl(request);
      path = url.pathname;
      const info = parseRequestInfo(method, url);
      user = await this.authenticateAndAuthorize(request, info, url.searchParams);
      if (!info.isResourceRequest) throw pathNotFound();
      const { handler } = this.route(info);
      if (handler.connect === undefined) throw methodNotAllowed({ group: info.apiGroup, resource: info.resource }, 'upgrade');
      const controller = new AbortController();
      socket.on('close', () => controller.abort());
      const context = this.buildContext(info, url, request, user, controller, []);
      const connection: Connection = { kind: 'upgrade', request, socket, head };
      await handler.connect(context, connection);
    } catch (error) {
      const statusError = toStatusError(error);
      code = statusError.code;
      if (!socket.destroyed) rejectUpgrade(socket, statusError);
    } finally {
      const latencyMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      this.logger.info('upgrade', { method, path, user: user.name, code, latencyMs: Math.round(latencyMs * 1000) / 1000 });
    }
  }

  private finishRequest(state: RequestState, response: ServerResponse, startedAt: bigint): void {
    const code = response.headersSent ? response.statusCode : 499;
    const latencySeconds = Number(process.hrtime.bigint() - startedAt) / 1e9;
    this.metrics.observe(state.labels, code, latencySeconds);
    const fields = {
      method: state.method,
      path: state.path,
      verb: state.labels.verb,
      user: state.user.name,
      code,
      latencyMs: Math.round(latencySeconds * 1e6) / 1000,
    };
    if (code >= 500) this.logger.warn('request', { ...fields, reason: state.error?.reason });
    else if (mutatingMethods.has(state.method) || state.longRunning) this.logger.info('request', fields);
    else this.logger.debug('request', fields);
  }
}
