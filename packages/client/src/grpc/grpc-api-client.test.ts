// GrpcApiClient against a tiny ApiServer implementation in this file that
// serves proto/apiserver.proto from a FakeApiClient, the way the real API
// server's gRPC front end serves it from its registry.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { Deployment, KubeObject, Pod, PodDisruptionBudget, Status } from '@kube-lite/api';
import type { BindItem, ResourceRef, WatchEvent } from '../api-client';
import { ApiError, ClientClosedError, goneError, isAlreadyExists, isConflict, isGone, isInvalid, isNotFound, isServiceUnavailable, isTimeout, isUnauthorized } from '../errors';
import { FakeApiClient } from '../fake/fake-api-client';
import { sleep } from '../test-support';
import { GrpcApiClient, decodeJson, encodeJson, type GrpcApiClientOptions } from './grpc-api-client';
import { API_SERVER_SERVICE_NAME, loadApiServerPackageDefinition } from './load';
import { apiErrorFromGrpc, KUBE_STATUS_METADATA_KEY, statusToServiceError } from './status-mapping';
import type * as pb from './types';

const TOKEN = 'secret-token';
/** Events per Watch message the test server sent, in order. */
const watchMessageSizes: number[] = [];

function toRef(message: pb.ResourceRefMessage): ResourceRef {
  return { group: message.group, version: message.version, resource: message.resource };
}

function ns(message: pb.ResourceRefMessage): string | undefined {
  return message.namespace === '' ? undefined : message.namespace;
}

function failure(error: unknown): grpc.ServerErrorResponse {
  const apiError = error instanceof ApiError ? error : new ApiError(500, 'InternalError', String(error));
  return statusToServiceError(apiError.toStatus());
}

function authorized(metadata: grpc.Metadata): boolean {
  return metadata.get('authorization')[0] === `Bearer ${TOKEN}`;
}

const UNAUTHORIZED: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

const PATCH_TYPES: Record<pb.PatchTypeName, 'json' | 'merge' | 'strategic' | undefined> = {
  PATCH_TYPE_UNSPECIFIED: undefined,
  JSON_PATCH: 'json',
  MERGE_PATCH: 'merge',
  STRATEGIC_MERGE_PATCH: 'strategic',
};

function optional<T>(bytes: Buffer): T | undefined {
  return bytes.length === 0 ? undefined : decodeJson<T>(bytes);
}

/** One unary handler: authenticate, run, encode the answer or the Status. */
function unary<Request>(run: (request: Request) => Promise<unknown>): grpc.handleUnaryCall<Request, unknown> {
  return (call, callback) => {
    if (!authorized(call.metadata)) {
      callback(statusToServiceError(UNAUTHORIZED));
      return;
    }
    run(call.request).then(
      (response) => callback(null, response),
      (error: unknown) => callback(failure(error)),
    );
  };
}

function objectResponse(object: unknown): pb.ObjectResponse {
  return { object: encodeJson(object ?? { kind: 'Status', apiVersion: 'v1', status: 'Success', code: 200 }) };
}

function implementation(fake: FakeApiClient): grpc.UntypedServiceImplementation {
  return {
    Get: unary<pb.GetRequest>(async (request) => {
      if (request.ref.name === 'slow') await sleep(1000);
      return objectResponse(await fake.get(toRef(request.ref), ns(request.ref), request.ref.name, { resourceVersion: request.resource_version }));
    }),
    List: unary<pb.ListRequest>(async (request) => {
      const list = await fake.list(toRef(request.ref), ns(request.ref), {
        labelSelector: request.label_selector,
        fieldSelector: request.field_selector,
        limit: Number(request.limit),
        continue: request.continue_token,
      });
      const response: pb.ListResponse = {
        items: list.items.map((item) => encodeJson(item)),
        resource_version: list.metadata?.resourceVersion ?? '',
        continue_token: list.metadata?.continue ?? '',
        kind: list.kind ?? '',
        api_version: list.apiVersion ?? '',
      };
      if (list.metadata?.remainingItemCount !== undefined) response.remaining_item_count = list.metadata.remainingItemCount;
      return response;
    }),
    Watch: (call: grpc.ServerWritableStream<pb.WatchRequest, pb.WatchEventBatchMessage>) => {
      if (!authorized(call.metadata)) {
        call.emit('error', statusToServiceError(UNAUTHORIZED));
        return;
      }
      const request = call.request;
      const watch = fake.watch(toRef(request.ref), ns(request.ref), {
        labelSelector: request.label_selector,
        fieldSelector: request.field_selector,
        resourceVersion: request.resource_version,
        allowWatchBookmarks: request.allow_watch_bookmarks,
      });
      call.on('cancelled', () => watch.stop());
      // As the real server: events ready in the same turn share one message.
      let batch: pb.WatchEventMessage[] = [];
      const flush = (): void => {
        if (batch.length > 0) {
          watchMessageSizes.push(batch.length);
          call.write({ events: batch });
        }
        batch = [];
      };
      void (async () => {
        try {
          for await (const event of watch) {
            if (batch.length === 0) setImmediate(flush);
            batch.push({ type: event.type, object: encodeJson(event.object) });
          }
          flush();
          call.end();
        } catch (error) {
          // Expired versions travel as an ERROR event, as in the REST watch; other failures as the call's status.
          if (isGone(error)) {
            batch.push({ type: 'ERROR', object: encodeJson((error as ApiError).toStatus()) });
            flush();
            call.end();
          } else {
            call.emit('error', failure(error));
          }
        }
      })();
    },
    Create: unary<pb.CreateRequest>(async (request) =>
      objectResponse(await fake.create(toRef(request.ref), ns(request.ref), decodeJson<KubeObject>(request.object), { dryRun: request.options.dry_run })),
    ),
    Update: unary<pb.UpdateRequest>(async (request) => objectResponse(await fake.update(toRef(request.ref), ns(request.ref), decodeJson<KubeObject>(request.object)))),
    UpdateStatus: unary<pb.UpdateRequest>(async (request) => objectResponse(await fake.updateStatus(toRef(request.ref), ns(request.ref), decodeJson<KubeObject>(request.object)))),
    Patch: unary<pb.PatchRequest>(async (request) => {
      const type = PATCH_TYPES[request.patch_type];
      if (type === undefined) throw new ApiError(415, 'UnsupportedMediaType', 'patch type is required');
      const subresource = request.subresource === '' ? {} : { subresource: request.subresource as 'status' | 'scale' };
      return objectResponse(await fake.patch(toRef(request.ref), ns(request.ref), request.ref.name, type, decodeJson(request.patch), subresource));
    }),
    Delete: unary<pb.DeleteRequest>(async (request) => objectResponse(await fake.delete(toRef(request.ref), ns(request.ref), request.ref.name, optional(request.options) ?? {}))),
    Bind: unary<pb.BindRequest>(async (request) => objectResponse(await fake.bind(request.ref.namespace, request.ref.name, decodeJson(request.binding)))),
    BindMany: unary<pb.BindManyRequest>(async (request): Promise<pb.BindManyResponse> => ({
      results: await Promise.all(
        request.items.map((item) =>
          fake.bind(item.ref.namespace, item.ref.name, decodeJson(item.binding)).then(
            () => ({ object: objectResponse(undefined).object }),
            (error: unknown) => ({ error: encodeJson((error as ApiError).toStatus()) }),
          ),
        ),
      ),
    })),
    Evict: unary<pb.EvictRequest>(async (request) => objectResponse(await fake.evict(request.ref.namespace, request.ref.name, optional(request.eviction)))),
    GetScale: unary<pb.GetScaleRequest>(async (request) => objectResponse(await fake.getScale(toRef(request.ref), request.ref.namespace, request.ref.name))),
    UpdateScale: unary<pb.UpdateScaleRequest>(async (request) =>
      objectResponse(await fake.updateScale(toRef(request.ref), request.ref.namespace, request.ref.name, decodeJson(request.scale))),
    ),
  };
}

async function startServer(fake: FakeApiClient, port = 0, credentials = grpc.ServerCredentials.createInsecure()): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  server.addService(loadApiServerPackageDefinition()[API_SERVER_SERVICE_NAME] as grpc.ServiceDefinition, implementation(fake));
  const boundPort = await new Promise<number>((resolve, reject) => server.bindAsync(`127.0.0.1:${port}`, credentials, (error, bound) => (error ? reject(error) : resolve(bound))));
  return { server, port: boundPort };
}

function pod(name: string, labels: Record<string, string> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
}

const deployment: Deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'default' },
  spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } },
};

async function firstEvents<T>(iterable: AsyncIterable<WatchEvent<T>>, count: number): Promise<WatchEvent<T>[]> {
  const events: WatchEvent<T>[] = [];
  for await (const event of iterable) {
    events.push(event);
    if (events.length === count) break;
  }
  return events;
}

async function failureOf(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

describe('GrpcApiClient', () => {
  let fake: FakeApiClient;
  let server: grpc.Server;
  let client: GrpcApiClient;
  let port: number;
  const options = (port: number): GrpcApiClientOptions => ({ address: `127.0.0.1:${port}`, insecure: true, token: TOKEN, defaultTimeoutMs: 5000 });

  beforeEach(async () => {
    fake = new FakeApiClient({ objects: [pod('a', { app: 'web' }), pod('b', { app: 'db' }), deployment] });
    const started = await startServer(fake);
    server = started.server;
    port = started.port;
    client = new GrpcApiClient(options(port));
  });

  afterEach(() => {
    client.close();
    fake.close();
    server.forceShutdown();
  });

  it('round-trips get, list (selectors and pages), create, update, updateStatus and delete', async () => {
    const pods = client.pods('default');
    expect(await pods.get('a')).toEqual(fake.peek({ group: '', version: 'v1', resource: 'pods' }, 'default', 'a'));
    const web = await pods.list({ labelSelector: 'app=web' });
    expect(web).toMatchObject({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(fake.currentRevision) } });
    expect(web.items.map((item) => item.metadata?.name)).toEqual(['a']);
    const page = await pods.list({ limit: 1 });
    expect(page.metadata).toMatchObject({ remainingItemCount: 1 });
    expect((await pods.list({ limit: 1, continue: page.metadata?.continue })).items.map((item) => item.metadata?.name)).toEqual(['b']);

    const created = await pods.create(pod('c'));
    expect(created.metadata?.uid).toBeDefined();
    const updated = await pods.update({ ...created, metadata: { ...created.metadata, labels: { v: '2' } } });
    expect(updated.metadata?.labels).toEqual({ v: '2' });
    const withStatus = await pods.updateStatus({ ...updated, status: { phase: 'Running' } });
    expect(withStatus.status?.phase).toBe('Running');
    const deleted = await pods.delete('c');
    expect((deleted as KubeObject).metadata?.name).toBe('c');
    expect(fake.peek({ group: '', version: 'v1', resource: 'pods' }, 'default', 'c')).toBeUndefined();
  });

  it.each([
    ['merge', { metadata: { labels: { tier: 'front' } } }],
    ['strategic', { metadata: { labels: { tier: 'front' } } }],
    ['json', [{ op: 'add', path: '/metadata/labels/tier', value: 'front' }]],
  ] as const)('round-trips a %s patch', async (type, patch) => {
    const patched = await client.pods('default').patch('a', type, patch);
    expect(patched.metadata?.labels).toEqual({ app: 'web', tier: 'front' });
    expect(fake.writes.at(-1)).toMatchObject({ verb: 'patch', patchType: type, object: patch });
  });

  it('patches the status subresource', async () => {
    const patched = await client.deployments('default').patch('web', 'merge', { status: { readyReplicas: 2 } }, { subresource: 'status' });
    expect(patched.status).toEqual({ readyReplicas: 2 });
  });

  it('binds and evicts pods, and reads and writes scale', async () => {
    await client.pods('default').bind('a', 'node-1');
    expect((await client.pods('default').get('a')).spec?.nodeName).toBe('node-1');
    await client.pods('default').evict('a');
    expect(isNotFound(await failureOf(client.pods('default').get('a')))).toBe(true);
    const scale = await client.deployments('default').getScale('web');
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 } });
    const scaled = await client.deployments('default').updateScale('web', { ...scale, spec: { replicas: 5 } });
    expect(scaled.spec?.replicas).toBe(5);
  });

  it('binds many pods in one call, each succeeding or failing on its own, answers in request order', async () => {
    await fake.pods('default').create(pod('c'));
    await client.pods('default').bind('b', 'node-0');
    const binding = (name: string, node: string): BindItem => ({
      namespace: 'default',
      podName: name,
      binding: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: 'default' }, target: { apiVersion: 'v1', kind: 'Node', name: node } },
    });
    const results = await client.bindMany([binding('a', 'node-1'), binding('b', 'node-2'), binding('missing', 'node-1'), binding('c', 'node-3')]);
    expect(results.map((error) => (error === undefined ? 'ok' : `${error.code} ${error.reason}`))).toEqual(['ok', '409 Conflict', '404 NotFound', 'ok']);
    expect(results[1]?.message).toMatch(/already assigned to node "node-0"/);
    expect(isConflict(results[1])).toBe(true);
    const nodes = (await client.pods('default').list()).items.map((item) => [item.metadata?.name, item.spec?.nodeName]);
    expect(nodes).toEqual([
      ['a', 'node-1'],
      ['b', 'node-0'],
      ['c', 'node-3'],
    ]);
    const writesBefore = fake.writes.length;
    expect(await client.bindMany([])).toEqual([]);
    expect(fake.writes.length).toBe(writesBefore);
  });

  it('yields the events of one multi-event message in order, then the ERROR that ends it', async () => {
    const list = await client.pods('default').list();
    const watch = client.pods('default').watch({ resourceVersion: list.metadata?.resourceVersion });
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of watch) seen.push(`${event.type} ${event.object.metadata?.name ?? ''}`);
    })();
    await sleep(50);
    // All in one turn: the test server sends them as one message, the ERROR last.
    void fake.pods('default').create(pod('c'));
    void fake.pods('default').create(pod('d'));
    void fake.pods('default').delete('a');
    fake.breakWatches(goneError('too old resource version: 1 (2)'));
    const error = await reading.then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(seen).toEqual(['ADDED c', 'ADDED d', 'DELETED a']);
    expect(isGone(error)).toBe(true);
    expect(watchMessageSizes.at(-1)).toBe(4);
  });

  it('streams watch events in order until stopped', async () => {
    const list = await client.pods('default').list();
    const watch = client.pods('default').watch({ resourceVersion: list.metadata?.resourceVersion });
    const reading = firstEvents(watch, 3);
    await sleep(50);
    await fake.pods('default').create(pod('c'));
    await fake.pods('default').patch('c', 'merge', { metadata: { labels: { x: '1' } } });
    await fake.pods('default').delete('c');
    const events = await reading;
    expect(events.map((event) => [event.type, event.object.metadata?.name])).toEqual([
      ['ADDED', 'c'],
      ['MODIFIED', 'c'],
      ['DELETED', 'c'],
    ]);
    expect(events[1]?.object.metadata?.labels).toEqual({ x: '1' });
    const second = client.pods('default').watch({ resourceVersion: String(fake.currentRevision) });
    setTimeout(() => second.stop(), 50);
    expect(await firstEvents(second, 1)).toEqual([]);
  });

  it('ends a watch with a Gone ApiError when the version is too old', async () => {
    await fake.pods('default').create(pod('c'));
    fake.compactHistory();
    const error = await failureOf(firstEvents(client.pods('default').watch({ resourceVersion: '1' }), 1));
    expect(isGone(error)).toBe(true);
    expect(error).toMatchObject({ code: 410, reason: 'Expired' });
    expect(error.message).toMatch(/^too old resource version: 1/);
  });

  it('reports a watch broken by the server as an ApiError', async () => {
    const watch = client.pods().watch({ resourceVersion: String(fake.currentRevision) });
    const reading = failureOf(firstEvents(watch, 1));
    await sleep(50);
    fake.breakWatches(new ApiError(500, 'InternalError', 'storage failed'));
    expect(await reading).toMatchObject({ code: 500, reason: 'InternalError', message: 'storage failed' });
  });

  it.each([
    ['NotFound', (c: GrpcApiClient) => c.pods('default').get('nope'), 404, 'NotFound', 'pods "nope" not found', isNotFound],
    ['AlreadyExists', (c: GrpcApiClient) => c.pods('default').create(pod('a')), 409, 'AlreadyExists', 'pods "a" already exists', isAlreadyExists],
    [
      'Conflict',
      (c: GrpcApiClient) => c.pods('default').update({ ...pod('a'), metadata: { ...pod('a').metadata, resourceVersion: '999' } }),
      409,
      'Conflict',
      'Operation cannot be fulfilled on pods "a"',
      isConflict,
    ],
    ['Invalid', (c: GrpcApiClient) => c.pods('default').create({ ...pod(''), metadata: {} }), 422, 'Invalid', 'name or generateName is required', isInvalid],
    [
      'Unauthorized',
      async () => {
        const stranger = new GrpcApiClient({ ...options(port), token: 'wrong' });
        try {
          return await stranger.pods('default').get('a');
        } finally {
          stranger.close();
        }
      },
      401,
      'Unauthorized',
      'Unauthorized',
      isUnauthorized,
    ],
    ['BadRequest', (c: GrpcApiClient) => c.pods().list({ labelSelector: 'a in (' }), 400, 'BadRequest', 'unable to parse requirement', (e: unknown) => (e as ApiError).code === 400],
  ])('maps a %s Status to the same ApiError', async (_name, call, code, reason, message, check) => {
    const error = await failureOf(call(client) as Promise<unknown>);
    expect(error).toMatchObject({ code, reason });
    expect(error.message).toContain(message);
    expect(check(error)).toBe(true);
    expect(error.cause).toBeDefined();
  });

  it('keeps Status details (the object named, retry hints) across the wire', async () => {
    const error = await failureOf(client.pods('default').get('nope'));
    expect(error.details).toEqual({ name: 'nope', kind: 'pods' });
    fake.seed({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'pdb', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } } },
      status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 },
    } as PodDisruptionBudget);
    expect(await failureOf(client.pods('default').evict('a'))).toMatchObject({ code: 429, reason: 'TooManyRequests' });
  });

  it('fails a call past its deadline with a Timeout ApiError', async () => {
    const error = await failureOf(client.pods('default').get('slow', { timeoutMs: 50 }));
    expect(isTimeout(error)).toBe(true);
  });

  it('reports an unreachable server as ServiceUnavailable, and reconnects when it is back', async () => {
    const resilient = new GrpcApiClient({ ...options(port), readRetries: 1, retryBackoffMs: 20, channelOptions: { 'grpc.initial_reconnect_backoff_ms': 50, 'grpc.max_reconnect_backoff_ms': 100 } });
    try {
      expect((await resilient.pods('default').get('a')).metadata?.name).toBe('a');
      server.forceShutdown();
      expect(isServiceUnavailable(await failureOf(resilient.pods('default').get('a')))).toBe(true);
      server = (await startServer(fake, port)).server;
      let answer: Pod | undefined;
      for (let attempt = 0; attempt < 50 && answer === undefined; attempt += 1) {
        answer = await resilient.pods('default').get('a').catch(() => undefined);
        if (answer === undefined) await sleep(50);
      }
      expect(answer?.metadata?.name).toBe('a');
    } finally {
      resilient.close();
    }
  });

  it('fails calls after close with ClientClosedError', async () => {
    client.close();
    await expect(client.pods('default').get('a')).rejects.toBeInstanceOf(ClientClosedError);
    await expect(client.pods('default').watch()[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(ClientClosedError);
  });
});

describe('GrpcApiClient over TLS', () => {
  let directory: string | undefined;
  let opensslAvailable = true;
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
  } catch {
    opensslAvailable = false;
  }
  afterAll(() => {
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
  });

  (opensslAvailable ? it : it.skip)('verifies the server against the cluster CA', async () => {
    directory = mkdtempSync(join(tmpdir(), 'client-tls-'));
    const file = (name: string): string => join(directory as string, name);
    const openssl = (...args: string[]): void => {
      execFileSync('openssl', args, { stdio: 'ignore' });
    };
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl('req', '-x509', ...ec, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-subj', '/CN=kube-lite-test-ca', '-days', '1');
    openssl('req', ...ec, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=kube-apiserver');
    writeFileSync(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial', '-out', file('server.crt'), '-days', '1', '-extfile', file('ext.cnf'));
    const fake = new FakeApiClient({ objects: [pod('a')] });
    const credentials = grpc.ServerCredentials.createSsl(null, [{ private_key: readFileSync(file('server.key')), cert_chain: readFileSync(file('server.crt')) }]);
    const { server, port } = await startServer(fake, 0, credentials);
    const trusted = new GrpcApiClient({ address: `127.0.0.1:${port}`, token: TOKEN, tls: { caPem: readFileSync(file('ca.crt')), serverName: 'localhost' } });
    const selfSigned = readFileSync(file('server.crt'));
    const untrusted = new GrpcApiClient({ address: `127.0.0.1:${port}`, token: TOKEN, tls: { caPem: selfSigned, serverName: 'localhost' }, readRetries: 0 });
    try {
      expect((await trusted.pods('default').get('a')).metadata?.name).toBe('a');
      expect(isServiceUnavailable(await failureOf(untrusted.pods('default').get('a')))).toBe(true);
    } finally {
      trusted.close();
      untrusted.close();
      server.forceShutdown();
    }
  });

  it('refuses to build a plaintext client unless asked to', () => {
    expect(() => new GrpcApiClient({ address: '127.0.0.1:1' })).toThrow('GrpcApiClient needs tls.caPem, or insecure: true');
  });
});

describe('apiErrorFromGrpc without a Status trailer', () => {
  it.each([
    [grpc.status.NOT_FOUND, 404, 'NotFound'],
    [grpc.status.ALREADY_EXISTS, 409, 'AlreadyExists'],
    [grpc.status.ABORTED, 409, 'Conflict'],
    [grpc.status.OUT_OF_RANGE, 410, 'Expired'],
    [grpc.status.UNAUTHENTICATED, 401, 'Unauthorized'],
    [grpc.status.PERMISSION_DENIED, 403, 'Forbidden'],
    [grpc.status.UNAVAILABLE, 503, 'ServiceUnavailable'],
    [grpc.status.DEADLINE_EXCEEDED, 504, 'Timeout'],
    [grpc.status.INTERNAL, 500, 'InternalError'],
  ])('maps gRPC code %s to %s %s', (grpcCode, code, reason) => {
    const error = Object.assign(new Error('boom'), { code: grpcCode, details: 'boom', metadata: new grpc.Metadata() });
    expect(apiErrorFromGrpc(error)).toMatchObject({ code, reason, message: 'boom' });
  });

  it('prefers the Status in the kube-status-bin trailer over the code', () => {
    const metadata = new grpc.Metadata();
    metadata.set(KUBE_STATUS_METADATA_KEY, Buffer.from(JSON.stringify({ code: 422, reason: 'Invalid', message: 'spec.replicas: Invalid value' })));
    const error = Object.assign(new Error('x'), { code: grpc.status.INVALID_ARGUMENT, details: 'x', metadata });
    expect(apiErrorFromGrpc(error)).toMatchObject({ code: 422, reason: 'Invalid', message: 'spec.replicas: Invalid value' });
  });
});
