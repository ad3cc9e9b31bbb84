// TEST-ONLY support, not exported from index.ts: an in-memory ConfigMap
// handler and a helper that starts the HTTPS server on 127.0.0.1 with a fresh
// PKI and token file in a temp dir. The real REST handlers live elsewhere;
// this exists so the frame can be driven end to end (also by the real kubectl).

import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientCertificateAuthenticator,
  FixedPolicyAuthorizer,
  TokenAuthenticator,
  UnionAuthenticator,
  ensureCertificates,
  writeKubeconfig,
  type ClusterCertificates,
  type PodNodeLookup,
  type TokenEntry,
} from '../auth';
import { ApiServer, type ApiServerOptions } from './api-server';
import type { RequestContext, ResourceHandler, ServedResource, WatchSink } from './handler';
import { Logger } from './log';
import { OBJECT_MODIFIED_MESSAGE, alreadyExists, badRequest, conflict, expired, invalid, notFound } from './status-error';

type ConfigMap = {
  apiVersion: 'v1';
  kind: 'ConfigMap';
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string; creationTimestamp: string; [key: string]: unknown };
  data?: Record<string, string>;
  [key: string]: unknown;
};

const configMapResource = { group: '', resource: 'configmaps' };
const allowedTopLevel = new Set(['apiVersion', 'kind', 'metadata', 'data', 'binaryData', 'immutable']);

/** ConfigMaps in a Map; revisions below `compactedRevision` answer 410 to watches, as a compacted etcd would. */
export class MemoryConfigMaps implements ResourceHandler {
  readonly objects = new Map<string, ConfigMap>();
  private revision = 10;
  compactedRevision = 5;
  private readonly watchers = new Set<{ context: RequestContext; sink: WatchSink }>();
  /** Every context the handler was called with, so tests can assert what the frame parsed. */
  readonly calls: Array<{ method: string; context: RequestContext; body?: unknown }> = [];

  private key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }

  private notify(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: ConfigMap): void {
    for (const watcher of this.watchers) {
      if (watcher.context.namespace !== '' && watcher.context.namespace !== object.metadata.namespace) continue;
      watcher.sink.send({ type, object });
    }
  }

  private validate(body: unknown, context: RequestContext): ConfigMap {
    const object = body as ConfigMap;
    if (context.write.fieldValidation === 'Strict') {
      const unknown = Object.keys(object).filter((key) => !allowedTopLevel.has(key));
      if (unknown.length > 0) {
        throw badRequest(`strict decoding error: ${unknown.map((key) => `unknown field "${key}"`).join(', ')}`);
      }
    }
    const name = object.metadata?.name ?? context.name;
    if (typeof name !== 'string' || name === '') {
      throw invalid({ group: '', kind: 'ConfigMap' }, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name)) {
      throw invalid({ group: '', kind: 'ConfigMap' }, name, [
        { reason: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'` },
      ]);
    }
    return object;
  }

  async get(context: RequestContext): Promise<unknown> {
    this.calls.push({ method: 'get', context });
    const object = this.objects.get(this.key(context.namespace, context.name));
    if (object === undefined) throw notFound(configMapResource, context.name);
    return object;
  }

  async list(context: RequestContext): Promise<unknown> {
    this.calls.push({ method: 'list', context });
    const items = [...this.objects.values()].filter(
      (object) => context.namespace === '' || object.metadata.namespace === context.namespace,
    );
    if (context.output.table !== undefined) {
      return {
        kind: 'Table',
        apiVersion: `meta.k8s.io/${context.output.table.version}`,
        metadata: { resourceVersion: String(this.revision) },
        columnDefinitions: [
          { name: 'Name', type: 'string', format: 'name', description: 'Name', priority: 0 },
          { name: 'Data', type: 'integer', format: '', description: 'Number of keys', priority: 0 },
        ],
        rows: items.map((object) => ({
          cells: [object.metadata.name, Object.keys(object.data ?? {}).length],
          object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
        })),
      };
    }
    return { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: String(this.revision) }, items };
  }

  async create(context: RequestContext, body: unknown): Promise<unknown> {
    this.calls.push({ method: 'create', context, body });
    const object = this.validate(body, context);
    const name = object.metadata.name;
    const key = this.key(context.namespace, name);
    if (this.objects.has(key)) throw alreadyExists(configMapResource, name);
    this.revision += 1;
    const stored: ConfigMap = {
      ...object,
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        ...object.metadata,
        namespace: context.namespace,
        resourceVersion: String(this.revision),
        uid: `uid-${this.revision}`,
        creationTimestamp: '2024-01-01T00:00:00Z',
      },
    };
    if (context.write.dryRun) return stored;
    this.objects.set(key, stored);
    this.notify('ADDED', stored);
    return stored;
  }

  async update(context: RequestContext, body: unknown): Promise<{ object: unknown; created: boolean }> {
    this.calls.push({ method: 'update', context, body });
    const object = this.validate(body, context);
    const key = this.key(context.namespace, context.name);
    const current = this.objects.get(key);
    if (current === undefined) throw notFound(configMapResource, context.name);
    if (object.metadata.resourceVersion !== undefined && object.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict(configMapResource, context.name, OBJECT_MODIFIED_MESSAGE);
    }
    this.revision += 1;
    const stored: ConfigMap = { ...object, apiVersion: 'v1', kind: 'ConfigMap', metadata: { ...current.metadata, resourceVersion: String(this.revision) } };
    this.objects.set(key, stored);
    this.notify('MODIFIED', stored);
    return { object: stored, created: false };
  }

  async patch(context: RequestContext, request: { type: string; patch: unknown }): Promise<{ object: unknown; created: boolean }> {
    this.calls.push({ method: 'patch', context, body: request });
    const key = this.key(context.namespace, context.name);
    const current = this.objects.get(key);
    const patch = request.patch as Partial<ConfigMap>;
    if (current === undefined) {
      if (request.type !== 'apply') throw notFound(configMapResource, context.name);
      return { object: await this.create(context, { ...patch, metadata: { ...(patch.metadata ?? {}), name: context.name } }), created: true };
    }
    this.revision += 1;
    const stored: ConfigMap = { ...current, data: { ...(current.data ?? {}), ...(patch.data ?? {}) }, metadata: { ...current.metadata, resourceVersion: String(this.revision) } };
    this.objects.set(key, stored);
    this.notify('MODIFIED', stored);
    return { object: stored, created: false };
  }

  async delete(context: RequestContext): Promise<{ object: unknown }> {
    this.calls.push({ method: 'delete', context });
    const key = this.key(context.namespace, context.name);
    const current = this.objects.get(key);
    if (current === undefined) throw notFound(configMapResource, context.name);
    this.objects.delete(key);
    this.notify('DELETED', current);
    return { object: current };
  }

  async watch(context: RequestContext, sink: WatchSink): Promise<{ stop(): void }> {
    this.calls.push({ method: 'watch', context });
    const from = context.list.resourceVersion;
    if (from !== '' && from !== '0' && Number(from) < this.compactedRevision) {
      throw expired(`too old resource version: ${from} (${this.compactedRevision})`);
    }
    const watcher = { context, sink };
    this.watchers.add(watcher);
    sink.send({ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: String(this.revision) } } });
    return { stop: () => this.watchers.delete(watcher) };
  }

  /** Number of watches still registered (the frame must stop them all). */
  get watcherCount(): number {
    return this.watchers.size;
  }

  /** Breaks every open watch with 410 Expired, as a compaction would. */
  expireWatches(): void {
    for (const watcher of [...this.watchers]) watcher.sink.fail(expired(`too old resource version: ${this.compactedRevision}`));
  }
}

export const configMapDescription = {
  group: '',
  version: 'v1',
  kind: 'ConfigMap',
  name: 'configmaps',
  singularName: 'configmap',
  namespaced: true,
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  shortNames: ['cm'],
};

export const testTokens: Record<'admin' | 'alice' | 'node', TokenEntry> = {
  admin: { token: 'admin-token-0123456789', user: { name: 'admin', uid: 'admin', groups: ['system:masters'] } },
  alice: { token: 'alice-token-0123456789', user: { name: 'alice', uid: 'alice', groups: [] } },
  node: { token: 'node-token-0123456789', user: { name: 'system:node:worker-1', uid: 'worker-1', groups: ['system:nodes'] } },
};

export interface TestServer {
  server: ApiServer;
  port: number;
  directory: string;
  certificates: ClusterCertificates;
  configMaps: MemoryConfigMaps;
  logLines: string[];
  /** Writes a kubeconfig for one of the test identities and returns its path. */
  kubeconfig(identity: keyof typeof testTokens): string;
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  stop(): Promise<void>;
}

export interface RequestOptions {
  token?: string | null;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): unknown;
}

/** Starts a server on 127.0.0.1:<free port> with configmaps plus any extra resources. */
export async function startTestServer(extra: Partial<ApiServerOptions> & { podNodeName?: PodNodeLookup } = {}): Promise<TestServer> {
  const directory = mkdtempSync(join(tmpdir(), 'kube-lite-apiserver-test-'));
  const certificates = ensureCertificates({ certDir: join(directory, 'pki'), subjectAltNames: ['10.96.0.1'] });
  const configMaps = new MemoryConfigMaps();
  const logLines: string[] = [];
  const resources: ServedResource[] = [{ description: configMapDescription, handler: configMaps }, ...(extra.resources ?? [])];
  const authorizerOptions = extra.podNodeName === undefined ? {} : { podNodeName: extra.podNodeName };
  const server = new ApiServer({
    tls: { certificatePem: certificates.serving.certificatePem, privateKeyPem: certificates.serving.privateKeyPem, clientCaPem: certificates.ca.certificatePem },
    authenticator: new UnionAuthenticator([new ClientCertificateAuthenticator(), new TokenAuthenticator(Object.values(testTokens))]),
    authorizer: new FixedPolicyAuthorizer(authorizerOptions),
    bindAddress: '127.0.0.1',
    port: 0,
    logger: new Logger({ level: 'debug', write: (line) => logLines.push(line) }),
    ...extra,
    resources,
  });
  const port = await server.start();
  const ca = certificates.ca.certificatePem;
  return {
    server,
    port,
    directory,
    certificates,
    configMaps,
    logLines,
    kubeconfig(identity) {
      const path = join(directory, `kubeconfig-${identity}`);
      writeKubeconfig(path, { server: `https://127.0.0.1:${port}`, caPem: ca, user: identity, token: testTokens[identity].token });
      return path;
    },
    request(method, path, options = {}) {
      return new Promise<TestResponse>((resolve, reject) => {
        const headers: Record<string, string> = { ...(options.headers ?? {}) };
        const token = options.token === undefined ? testTokens.admin.token : options.token;
        if (token !== null) headers.Authorization = `Bearer ${token}`;
        // Node sends DELETE bodies without framing unless told the length.
        if (options.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(options.body));
        const request = httpsRequest({ host: '127.0.0.1', port, method, path, headers, ca, agent: false }, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: () => JSON.parse(text) });
          });
          response.on('error', reject);
        });
        request.on('error', reject);
        request.end(options.body);
      });
    },
    async stop() {
      await server.stop(500);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
