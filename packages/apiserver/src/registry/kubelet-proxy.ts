// pods/log, exec, attach and portforward: the API server finds the pod's node,
// reads the kubelet's address from the Node (InternalIP and
// status.daemonEndpoints.kubeletEndpoint.Port) and relays the request to the
// kubelet's own API (/containerLogs, /exec, /attach, /portForward). Plain
// requests are streamed through; upgraded connections (WebSocket, SPDY) are
// relayed byte for byte after the kubelet accepts the upgrade. An unreachable
// kubelet is a 503 naming the node, never a crash.
//
// The caller's credentials are never passed on: the API server authenticates
// itself to the kubelet with its own client certificate (as upstream's
// --kubelet-client-certificate), which kubelets verify against the cluster CA.

import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { StatusError, badRequest, serviceUnavailable, type Connection, type RequestContext, type ResourceHandler } from '../server';
import type { ApiObject } from './object';
import type { RegistryStore } from './store';

export type KubeletSubresource = 'log' | 'exec' | 'attach' | 'portforward';

export interface KubeletProxyOptions {
  /** How the kubelet is reached: https as upstream (port 10250), or http (tests, local clusters). */
  scheme: 'http' | 'https';
  /** Port used when the Node does not report one. */
  defaultPort: number;
  /** How long connecting to the kubelet may take. */
  connectTimeoutMs: number;
  /** PEM certificate and key presented to kubelets over https; without it kubelets that require one answer 401. */
  clientCertificate?: { certificatePem: string; privateKeyPem: string };
}

export const DEFAULT_KUBELET_PROXY_OPTIONS: KubeletProxyOptions = { scheme: 'https', defaultPort: 10250, connectTimeoutMs: 5000 };

/** Headers that describe the hop to us, not the request: never forwarded. */
const HOP_HEADERS = new Set(['host', 'authorization', 'connection', 'keep-alive', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'content-length']);

interface KubeletTarget {
  nodeName: string;
  host: string;
  port: number;
  path: string;
}

function defaultContainer(pod: ApiObject): string | undefined {
  const annotated = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
  const containers: Array<{ name?: string }> = pod.spec?.containers ?? [];
  if (annotated !== undefined && containers.some((container) => container.name === annotated)) return annotated;
  return containers[0]?.name;
}

function containerNames(pod: ApiObject): string[] {
  const groups: Array<Array<{ name?: string }> | undefined> = [pod.spec?.containers, pod.spec?.initContainers, pod.spec?.ephemeralContainers];
  return groups.flatMap((group) => (group ?? []).map((container) => container.name ?? ''));
}

export class KubeletProxySubresource implements ResourceHandler {
  constructor(
    private readonly subresource: KubeletSubresource,
    private readonly pods: RegistryStore,
    private readonly nodes: RegistryStore,
    private readonly options: KubeletProxyOptions = DEFAULT_KUBELET_PROXY_OPTIONS,
  ) {}

  async connect(context: RequestContext, connection: Connection): Promise<void> {
    const target = await this.resolve(context);
    if (connection.kind === 'http') await this.relayHttp(context, connection, target);
    else await this.relayUpgrade(connection, target);
  }

  /** Finds the kubelet serving the pod and the path on it. */
  private async resolve(context: RequestContext): Promise<KubeletTarget> {
    const pod = await this.pods.read(context.namespace, context.name);
    const nodeName: string = pod.spec?.nodeName ?? '';
    if (nodeName === '') throw badRequest(`pod ${context.name} does not have a host assigned`);
    const query = new URLSearchParams(context.query);
    // The request deadline is the API server's business, not the kubelet's.
    query.delete('timeout');
    let path: string;
    if (this.subresource === 'portforward') {
      path = `/portForward/${encodeURIComponent(context.namespace)}/${encodeURIComponent(context.name)}`;
    } else {
      const container = query.get('container') || defaultContainer(pod);
      if (container === undefined) throw badRequest(`a container name must be specified for pod ${context.name}`);
      if (!containerNames(pod).includes(container)) throw badRequest(`container ${container} is not valid for pod ${context.name}`);
      query.delete('container');
      const base = { log: 'containerLogs', exec: 'exec', attach: 'attach' }[this.subresource];
      path = `/${base}/${encodeURIComponent(context.namespace)}/${encodeURIComponent(context.name)}/${encodeURIComponent(container)}`;
    }
    const text = query.toString();
    if (text !== '') path = `${path}?${text}`;
    const node = await this.nodes.read('', nodeName);
    const addresses: Array<{ type?: string; address?: string }> = node.status?.addresses ?? [];
    const host = addresses.find((address) => address.type === 'InternalIP')?.address ?? addresses.find((address) => address.type === 'Hostname')?.address ?? nodeName;
    const reported = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
    const port = typeof reported === 'number' && reported > 0 ? reported : this.options.defaultPort;
    return { nodeName, host, port, path };
  }

  private clientTlsOptions(): { cert?: string; key?: string } {
    const pair = this.options.clientCertificate;
    return pair === undefined ? {} : { cert: pair.certificatePem, key: pair.privateKeyPem };
  }

  private unreachable(target: KubeletTarget, cause: unknown): StatusError {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const error = serviceUnavailable(`unable to reach the kubelet of node "${target.nodeName}" at ${target.host}:${target.port}: ${detail}`);
    return new StatusError(error.code, error.reason, error.message, error.details, { cause });
  }

  private forwardedHeaders(headers: IncomingHttpHeaders, target: KubeletTarget): Record<string, string | string[]> {
    const result: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value === undefined || HOP_HEADERS.has(name)) continue;
      result[name] = value;
    }
    result.host = `${target.host}:${target.port}`;
    return result;
  }

  private relayHttp(context: RequestContext, connection: Extract<Connection, { kind: 'http' }>, target: KubeletTarget): Promise<void> {
    const { request, response } = connection;
    const send = this.options.scheme === 'https' ? httpsRequest : httpRequest;
    return new Promise<void>((resolve, reject) => {
      let answered = false;
      const upstream = send(
        {
          host: target.host,
          port: target.port,
          method: request.method ?? 'GET',
          path: target.path,
          headers: this.forwardedHeaders(request.headers, target),
          timeout: this.options.connectTimeoutMs,
          // Upstream does not verify kubelet serving certificates unless given a kubelet CA.
          rejectUnauthorized: false,
          ...this.clientTlsOptions(),
        },
        (kubeletResponse) => {
          answered = true;
          const headers: Record<string, string | string[]> = {};
          for (const [name, value] of Object.entries(kubeletResponse.headers)) {
            if (value !== undefined && !HOP_HEADERS.has(name)) headers[name] = value;
          }
          response.writeHead(kubeletResponse.statusCode ?? 502, headers);
          response.flushHeaders();
          kubeletResponse.pipe(response);
          kubeletResponse.on('end', () => resolve());
          kubeletResponse.on('error', () => {
            response.destroy();
            resolve();
          });
        },
      );
      upstream.on('timeout', () => upstream.destroy(new Error(`no answer within ${this.options.connectTimeoutMs} ms`)));
      upstream.on('error', (error) => {
        if (answered) {
          response.destroy();
          resolve();
        } else reject(this.unreachable(target, error));
      });
      // Following logs never ends by itself: stop the kubelet request when the client goes away.
      context.signal.addEventListener('abort', () => upstream.destroy(), { once: true });
      request.pipe(upstream);
    });
  }

  private relayUpgrade(connection: Extract<Connection, { kind: 'upgrade' }>, target: KubeletTarget): Promise<void> {
    const { request, socket: client, head } = connection;
    return new Promise<void>((resolve, reject) => {
      const options = { host: target.host, port: target.port };
      const kubelet: Socket = this.options.scheme === 'https' ? tlsConnect({ ...options, rejectUnauthorized: false, ...this.clientTlsOptions() }) : netConnect(options);
      let connected = false;
      const timer = setTimeout(() => kubelet.destroy(new Error(`no connection within ${this.options.connectTimeoutMs} ms`)), this.options.connectTimeoutMs);
      const onConnected = (): void => {
        connected = true;
        clearTimeout(timer);
        const headers = this.forwardedHeaders(request.headers, target);
        // Keep the upgrade itself: it is what the kubelet must answer.
        headers.connection = request.headers.connection ?? 'Upgrade';
        const lines = [`${request.method ?? 'GET'} ${target.path} HTTP/1.1`];
        for (const [name, value] of Object.entries(headers)) {
          for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
        }
        kubelet.write(`${lines.join('\r\n')}\r\n\r\n`);
        if (head.length > 0) kubelet.write(head);
        kubelet.pipe(client);
        client.pipe(kubelet);
        resolve();
      };
      kubelet.once(this.options.scheme === 'https' ? 'secureConnect' : 'connect', onConnected);
      kubelet.on('error', (error) => {
        clearTimeout(timer);
        if (!connected) {
          reject(this.unreachable(target, error));
          return;
        }
        client.destroy();
      });
      kubelet.on('close', () => {
        // The pipe into the kubelet is gone, leaving the client paused: read (and drop) what it still sends so its
        // FIN arrives and the half-open socket closes instead of holding up server shutdown.
        client.resume();
        client.end();
      });
      client.on('close', () => kubelet.destroy());
      client.on('error', () => kubelet.destroy());
    });
  }
}
