// The kubelet's own HTTP(S) API, which the API server proxies `kubectl logs`,
// `exec` and `attach` to, and metrics-server reads stats from:
//   GET /healthz
//   GET /pods
//   GET /containerLogs/<namespace>/<pod>/<container>?follow&tailLines&timestamps&previous&sinceSeconds&sinceTime&limitBytes
//   GET /exec/<namespace>/<pod>/[<uid>/]<container>?command=..&stdin&stdout&stderr&tty   (WebSocket)
//   GET /attach/<namespace>/<pod>/[<uid>/]<container>?stdin&stdout&stderr&tty          (WebSocket)
//   GET /portForward/<namespace>/<pod>[/<uid>]   (WebSocket SPDY/3.1+portforward.k8s.io, or an SPDY/3.1 upgrade)
//   GET /stats/summary
//   GET /metrics
// Every path but /healthz needs credentials once any are configured: a client
// certificate signed by the client CA (how the API server authenticates, as
// upstream's --client-ca-file), or `Authorization: Bearer <token>`. Anything
// else is 401.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { timingSafeEqual } from 'node:crypto';
import { PassThrough, type Duplex } from 'node:stream';
import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseTime, type Pod } from '@kube-lite/api';
import type { ContainerRuntime, ExecSession } from '../runtime/runtime';
import { bridgeExecSession, ChannelConnection, EarlyMessages, selectStreamProtocol, STREAM_PROTOCOLS, type StreamOptions } from './exec-stream';
import { SummaryProvider } from './stats-summary';
import type { ContainerLookup } from '../pod-workers/pod-workers';
import { POD_UID_LABEL } from '../runtime/labels';
import { StdinNotAvailableError } from '../runtime/errors';
import { PortForwardHandler, PORT_FORWARD_PROTOCOL, PORT_FORWARD_WEBSOCKET_PROTOCOL, type PortForwardOptions, type PortForwardTarget } from './port-forward';
import { SpdyConnection, type SpdyTransport } from './spdy/connection';

/** What the server needs from the pod workers. */
export interface ContainerLocator {
  findContainer(namespace: string, podName: string, containerName: string, previous?: boolean): Promise<ContainerLookup | undefined>;
  pods(): Pod[];
}

export interface KubeletServerOptions {
  nodeName: string;
  runtime: ContainerRuntime;
  locator: ContainerLocator;
  /** Address to listen on; 0.0.0.0 by default. */
  host?: string;
  /** Port to listen on (upstream 10250); 0 picks a free one. */
  port: number;
  /** Serve HTTPS with this PEM certificate and key; plain HTTP without. */
  tls?: { certificate: string | Buffer; key: string | Buffer };
  /**
   * PEM CA whose client certificates authenticate callers (the API server's
   * kubelet client certificate); needs tls. With neither this nor a token the
   * API is open (tests, trusted networks).
   */
  clientCaPem?: string | Buffer;
  /** Bearer token callers may present instead of a client certificate. */
  token?: string;
  /** Timeouts of `kubectl port-forward` connections; upstream's defaults when absent. */
  portForward?: Partial<PortForwardOptions>;
}

/** The options cannot work together (a client CA without TLS). */
export class KubeletServerConfigError extends Error {
  override readonly name = 'KubeletServerConfigError';
}

class HttpError extends Error {
  constructor(readonly statusCode: number, readonly reason: string, message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Stands in for the port-forward sub-protocol while ws parses the upgrade (see portForwardSockets). */
const PORT_FORWARD_PROTOCOL_TOKEN = 'kube-lite.portforward';

function flag(query: URLSearchParams, name: string): boolean {
  const value = query.get(name);
  return value !== null && value !== 'false' && value !== '0';
}

function integer(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw new HttpError(400, 'BadRequest', `query parameter ${name}=${JSON.stringify(value)} is not an integer`);
  return Number(value);
}

function sendStatus(response: http.ServerResponse, error: HttpError): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(error.statusCode, { 'content-type': 'application/json' });
  response.end(`${JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: error.message, reason: error.reason, code: error.statusCode })}\n`);
}

export class KubeletServer {
  private readonly server: http.Server;
  private readonly sockets = new WebSocketServer({ noServer: true, handleProtocols: (offered) => selectStreamProtocol(offered) ?? false });
  // ws refuses "SPDY/3.1+portforward.k8s.io" as a sub-protocol (a "/" is no RFC 6455 token character) though kubectl
  // sends it: the header is swapped for this token before ws sees it, and ws answers with the real name.
  private readonly portForwardSockets = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has(PORT_FORWARD_PROTOCOL_TOKEN) ? PORT_FORWARD_WEBSOCKET_PROTOCOL : false) });
  /** Raw SPDY port-forward connections (no WebSocket), closed with the server. */
  private readonly spdySockets = new Set<Duplex>();
  private readonly registry = new Registry();
  private readonly summaries: SummaryProvider;

  constructor(private readonly options: KubeletServerOptions) {
    const handler = (request: http.IncomingMessage, response: http.ServerResponse): void => {
      void this.handle(request, response).catch((error: unknown) => sendStatus(response, error instanceof HttpError ? error : new HttpError(500, 'InternalError', (error as Error).message)));
    };
    if (options.clientCaPem !== undefined && options.tls === undefined) {
      throw new KubeletServerConfigError('client certificate authentication (a client CA) needs the kubelet API to serve TLS');
    }
    // Certificates are asked for but not required by the handshake: /healthz stays open, the rest answers 401.
    const clientAuthentication = options.clientCaPem === undefined ? {} : { ca: options.clientCaPem, requestCert: true, rejectUnauthorized: false };
    this.server = options.tls ? https.createServer({ cert: options.tls.certificate, key: options.tls.key, ...clientAuthentication }, handler) : http.createServer(handler);
    this.server.on('upgrade', (request, socket, head) => {
      void this.upgrade(request, socket, head);
    });
    this.summaries = new SummaryProvider(options.nodeName, options.runtime, () => options.locator.pods());
    collectDefaultMetrics({ register: this.registry, prefix: 'kubelet_process_' });
    const locator = options.locator;
    const runtime = options.runtime;
    new Gauge({ name: 'kubelet_running_pods', help: 'Pods with a running pod sandbox.', registers: [this.registry], collect: async function () {
      this.set((await runtime.listPodSandboxes({ state: 'ready' })).length);
    } });
    new Gauge({ name: 'kubelet_running_containers', help: 'Containers by state.', labelNames: ['container_state'], registers: [this.registry], collect: async function () {
      const containers = await runtime.listContainers();
      for (const state of ['created', 'running', 'exited', 'unknown']) this.set({ container_state: state }, containers.filter((container) => container.state === state).length);
    } });
    new Gauge({ name: 'kubelet_managed_pods', help: 'Pods this kubelet has a worker for.', registers: [this.registry], collect() {
      this.set(locator.pods().length);
    } });
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        resolve((this.server.address() as AddressInfo).port);
      });
    });
  }

  async close(): Promise<void> {
    for (const client of this.sockets.clients) client.terminate();
    for (const client of this.portForwardSockets.clients) client.terminate();
    for (const socket of this.spdySockets) socket.destroy();
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(request: http.IncomingMessage): boolean {
    const token = this.options.token;
    if (token === undefined && this.options.clientCaPem === undefined) return true;
    // authorized: the peer's certificate chains to the client CA (checked by the TLS handshake).
    if (this.options.clientCaPem !== undefined && request.socket instanceof TLSSocket && request.socket.authorized) return true;
    if (token === undefined) return false;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) return false;
    const given = Buffer.from(match[1] ?? '');
    const expected = Buffer.from(token);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  private async handle(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://kubelet');
    if (url.pathname === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end('ok');
      return;
    }
    if (!this.authorized(request)) throw new HttpError(401, 'Unauthorized', 'Unauthorized');
    if (request.method !== 'GET' && request.method !== 'HEAD') throw new HttpError(405, 'MethodNotAllowed', `${request.method} is not supported on ${url.pathname}`);
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'containerLogs' && parts.length === 4) return this.containerLogs(parts[1] ?? '', parts[2] ?? '', parts[3] ?? '', url.searchParams, request, response);
    if (url.pathname === '/stats/summary') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(await this.summaries.summary()));
      return;
    }
    if (url.pathname === '/pods') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: this.options.locator.pods() }));
      return;
    }
    if (url.pathname === '/metrics') {
      response.writeHead(200, { 'content-type': this.registry.contentType });
      response.end(await this.registry.metrics());
      return;
    }
    if (parts[0] === 'portForward') throw new HttpError(400, 'BadRequest', `portForward needs a WebSocket upgrade with the protocol ${PORT_FORWARD_WEBSOCKET_PROTOCOL}, or an SPDY/3.1 upgrade`);
    if (parts[0] === 'exec' || parts[0] === 'attach') throw new HttpError(400, 'BadRequest', `${parts[0]} needs a WebSocket upgrade with one of the protocols ${STREAM_PROTOCOLS.join(', ')}`);
    throw new HttpError(404, 'NotFound', `no handler for ${url.pathname}`);
  }

  private async lookup(namespace: string, pod: string, container: string, previous: boolean): Promise<ContainerLookup> {
    const found = await this.options.locator.findContainer(namespace, pod, container, previous);
    if (!found) {
      const what = previous ? `previous terminated container "${container}" in pod "${pod}"` : `container "${container}" in pod "${pod}"`;
      throw new HttpError(404, 'NotFound', `${what} not found in namespace "${namespace}"`);
    }
    return found;
  }

  private async containerLogs(namespace: string, pod: string, container: string, query: URLSearchParams, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const previous = flag(query, 'previous');
    const found = await this.lookup(namespace, pod, container, previous);
    const sinceSeconds = integer(query, 'sinceSeconds');
    const sinceTime = query.get('sinceTime');
    let sinceMs: number | undefined;
    if (sinceSeconds !== undefined) sinceMs = Date.now() - sinceSeconds * 1000;
    else if (sinceTime) {
      sinceMs = parseTime(sinceTime);
      if (sinceMs === undefined) throw new HttpError(400, 'BadRequest', `sinceTime=${JSON.stringify(sinceTime)} is not an RFC 3339 time`);
    }
    const stream = await this.options.runtime.containerLogs(found.container.id, {
      follow: flag(query, 'follow') && !previous,
      timestamps: flag(query, 'timestamps'),
      tailLines: integer(query, 'tailLines'),
      limitBytes: integer(query, 'limitBytes'),
      ...(sinceMs !== undefined ? { sinceMs } : {}),
    });
    response.writeHead(200, { 'content-type': 'text/plain' });
    request.on('close', () => stream.destroy());
    stream.pipe(response);
  }

  private async upgrade(request: http.IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://kubelet');
    const reject = (statusCode: number, message: string): void => {
      socket.end(`HTTP/1.1 ${statusCode} ${http.STATUS_CODES[statusCode]}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${message}\n`);
    };
    if (!this.authorized(request)) return reject(401, 'Unauthorized');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const kind = parts[0];
    if (kind === 'portForward' && (parts.length === 3 || parts.length === 4)) return this.portForward(request, socket, head, parts[1] ?? '', parts[2] ?? '', parts[3], reject);
    if ((kind !== 'exec' && kind !== 'attach') || (parts.length !== 4 && parts.length !== 5)) return reject(404, `no WebSocket handler for ${url.pathname}`);
    const [namespace = '', pod = '', ...rest] = parts.slice(1);
    const containerName = rest[rest.length - 1] ?? '';
    const query = url.searchParams;
    const command = query.getAll('command');
    const options: StreamOptions = { stdin: flag(query, 'stdin') || flag(query, 'input'), stdout: flag(query, 'stdout') || flag(query, 'output'), stderr: flag(query, 'stderr') || flag(query, 'error'), tty: flag(query, 'tty') };
    if (kind === 'exec' && command.length === 0) return reject(400, 'exec needs at least one command= parameter');
    let found: ContainerLookup;
    try {
      found = await this.lookup(namespace, pod, containerName, false);
    } catch (error) {
      return reject(404, (error as Error).message);
    }
    this.sockets.handleUpgrade(request, socket, head, (client: WebSocket) => {
      const connection = new ChannelConnection(client, client.protocol || 'channel.k8s.io');
      // From the first moment: stdin the client sends while the session is being created is kept, not lost.
      const early = new EarlyMessages(client);
      void this.stream(kind, client, connection, found, command, options, early).catch((error: unknown) => {
        early.release();
        connection.sendError((error as Error).message);
        client.close(1000);
      });
    });
  }

  private async stream(kind: 'exec' | 'attach', client: WebSocket, connection: ChannelConnection, found: ContainerLookup, command: string[], options: StreamOptions, early: EarlyMessages): Promise<void> {
    let session: ExecSession;
    if (kind === 'exec') {
      session = await this.options.runtime.exec(found.container.id, { command, stdin: options.stdin, tty: options.tty });
    } else {
      // Attach follows the container's output from now on; stdin goes to the container's own stdin where the runtime
      // has one for it (created with stdin: true), else it is dropped.
      const runtime = this.options.runtime;
      const stdin = options.stdin && runtime.attachStdin ? await runtime.attachStdin(found.container.id).catch((error: unknown) => {
        if (error instanceof StdinNotAvailableError) return undefined;
        throw error;
      }) : undefined;
      const output = await runtime.containerLogs(found.container.id, { follow: true, tailLines: 0 });
      const empty = new PassThrough();
      empty.end();
      session = {
        stdin,
        stdout: output,
        stderr: empty,
        resize: () => undefined,
        kill: () => output.destroy(),
        exited: new Promise((resolve) => output.on('close', () => resolve({ exitCode: 0 }))),
      };
    }
    await bridgeExecSession(client, connection, session, options, command, early);
  }

  /**
   * The pod's address for port-forwarding: the IP of its ready sandbox (the
   * runtime's answer is current even before the status reaches the API
   * server), else the pod IP in its status.
   */
  private async portForwardTarget(namespace: string, name: string, uid: string | undefined): Promise<PortForwardTarget> {
    const candidates = this.options.locator.pods().filter((pod) => pod.metadata?.name === name && (pod.metadata?.namespace ?? 'default') === namespace && (uid === undefined || pod.metadata?.uid === uid));
    const pod = candidates.find((candidate) => candidate.metadata?.deletionTimestamp === undefined) ?? candidates[0];
    if (!pod) throw new HttpError(404, 'NotFound', `pod "${name}" not found in namespace "${namespace}"`);
    const podUid = pod.metadata?.uid ?? '';
    const sandboxes = podUid === '' ? [] : await this.options.runtime.listPodSandboxes({ state: 'ready', labels: { [POD_UID_LABEL]: podUid } });
    const sandbox = sandboxes.sort((a, b) => b.createdAtMs - a.createdAtMs)[0];
    const address = sandbox?.ip || pod.status?.podIP;
    if (!address) throw new HttpError(400, 'BadRequest', `pod "${name}" in namespace "${namespace}" has no IP address yet (no ready sandbox)`);
    return { address, podDescription: sandbox?.id ?? `${namespace}/${name}` };
  }

  private async portForward(request: http.IncomingMessage, socket: Duplex, head: Buffer, namespace: string, name: string, uid: string | undefined, reject: (statusCode: number, message: string) => void): Promise<void> {
    let target: PortForwardTarget;
    try {
      target = await this.portForwardTarget(namespace, name, uid);
    } catch (error) {
      return reject(error instanceof HttpError ? error.statusCode : 500, (error as Error).message);
    }
    const upgrade = (request.headers.upgrade ?? '').toLowerCase();
    if (upgrade === 'websocket') {
      const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((protocol) => protocol.trim());
      if (!offered.includes(PORT_FORWARD_WEBSOCKET_PROTOCOL)) return reject(400, `port-forward over WebSocket needs the sub-protocol ${PORT_FORWARD_WEBSOCKET_PROTOCOL}`);
      request.headers['sec-websocket-protocol'] = PORT_FORWARD_PROTOCOL_TOKEN;
      this.portForwardSockets.handleUpgrade(request, socket, head, (client: WebSocket) => {
        const transport: SpdyTransport = {
          write: (bytes, done) => {
            if (client.readyState !== client.OPEN) return done(new Error('the WebSocket is closed'));
            client.send(bytes, { binary: true }, (error) => done(error ?? undefined));
          },
          pause: () => client.pause(),
          resume: () => client.resume(),
          close: () => client.close(1000),
        };
        const handler = new PortForwardHandler(target, this.options.portForward);
        const connection = new SpdyConnection(transport, handler.onStream, {}, () => handler.close());
        client.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => connection.receive(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data)));
        client.on('close', () => connection.transportClosed());
        client.on('error', () => connection.transportClosed());
      });
      return;
    }
    if (upgrade.startsWith('spdy/3.1')) {
      // kubectl's fallback when the WebSocket upgrade is refused: SPDY straight on the connection.
      const versions = String(request.headers['x-stream-protocol-version'] ?? '').split(',').map((version) => version.trim());
      if (!versions.includes(PORT_FORWARD_PROTOCOL)) return reject(403, `port-forward needs X-Stream-Protocol-Version ${PORT_FORWARD_PROTOCOL}`);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
      this.spdySockets.add(socket);
      const transport: SpdyTransport = {
        write: (bytes, done) => {
          if (socket.destroyed || socket.writableEnded) return done(new Error('the connection is closed'));
          socket.write(bytes, (error) => done(error ?? undefined));
        },
        pause: () => socket.pause(),
        resume: () => socket.resume(),
        close: () => socket.end(),
      };
      const handler = new PortForwardHandler(target, this.options.portForward);
      const connection = new SpdyConnection(transport, handler.onStream, {}, () => handler.close());
      socket.on('data', (bytes: Buffer) => connection.receive(bytes));
      socket.on('close', () => {
        this.spdySockets.delete(socket);
        connection.transportClosed();
      });
      socket.on('error', () => socket.destroy());
      if (head.length > 0) connection.receive(head);
      return;
    }
    reject(400, `port-forward needs a WebSocket (${PORT_FORWARD_WEBSOCKET_PROTOCOL}) or SPDY/3.1 upgrade`);
  }
}
