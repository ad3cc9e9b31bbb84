// The gRPC front end driven by the real GrpcApiClient over TLS, next to the
// HTTPS front end serving the same in-memory handlers with the same
// authenticator and authorizer: every RPC must reach the handler method REST
// would call, with the same context, and fail with the same Status.

import type { ConfigMap, Deployment, Pod, Scale } from '@kube-lite/api';
import { ApiError, GrpcApiClient, type BindItem, type WatchEvent } from '@kube-lite/client';
import {
  ClientCertificateAuthenticator,
  FixedPolicyAuthorizer,
  MASTERS_GROUP,
  TokenAuthenticator,
  UnionAuthenticator,
  createCertificateAuthority,
  issueCertificate,
} from '../auth';
import { ApiServerMetrics, Logger, type ServedResource } from '../server';
import { configMapDescription, startTestServer, testTokens, type TestServer } from '../server/test-fixture';
import { startGrpcFrontEnd, type RunningGrpcFrontEnd } from './front-end';
import { memoryWorkloads, type MemoryWorkloads } from './test-fixture';

function configMap(name: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data };
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

async function failureOf(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** Reads events until `count` arrived or the stream ended; bounded by `withinMs`. */
async function collect<T>(watch: AsyncIterable<WatchEvent<T>> & { stop(): void }, count: number, withinMs = 5000): Promise<WatchEvent<T>[]> {
  const events: WatchEvent<T>[] = [];
  const timer = setTimeout(() => watch.stop(), withinMs);
  try {
    for await (const event of watch) {
      events.push(event);
      if (events.length === count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

async function waitFor(condition: () => boolean, withinMs = 3000): Promise<void> {
  const until = Date.now() + withinMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('gRPC front end', () => {
  let rest: TestServer;
  let grpcServer: RunningGrpcFrontEnd;
  let workloads: MemoryWorkloads;
  let metrics: ApiServerMetrics;
  const logLines: string[] = [];
  const clients: GrpcApiClient[] = [];

  function client(options: { token?: string; certificatePem?: string; keyPem?: string } = { token: testTokens.admin.token }): GrpcApiClient {
    const tls = {
      caPem: rest.certificates.ca.certificatePem,
      ...(options.certificatePem !== undefined ? { certPem: options.certificatePem } : {}),
      ...(options.keyPem !== undefined ? { keyPem: options.keyPem } : {}),
    };
    const created = new GrpcApiClient({ address: `127.0.0.1:${grpcServer.port}`, ...(options.token !== undefined ? { token: options.token } : {}), tls, defaultTimeoutMs: 5000, readRetries: 0 });
    clients.push(created);
    return created;
  }

  beforeAll(async () => {
    workloads = memoryWorkloads();
    rest = await startTestServer({ resources: workloads.resources });
    const handlers: ServedResource[] = [{ description: configMapDescription, handler: rest.configMaps }, ...workloads.resources];
    metrics = new ApiServerMetrics();
    grpcServer = await startGrpcFrontEnd({
      handlers,
      authenticator: new UnionAuthenticator([new ClientCertificateAuthenticator(), new TokenAuthenticator(Object.values(testTokens))]),
      authorizer: new FixedPolicyAuthorizer(),
      tls: { certificatePem: rest.certificates.serving.certificatePem, privateKeyPem: rest.certificates.serving.privateKeyPem, clientCaPem: rest.certificates.ca.certificatePem },
      bindAddress: '127.0.0.1',
      port: 0,
      logger: new Logger({ level: 'debug', write: (line) => logLines.push(line) }),
      metrics,
    });
  });

  afterAll(async () => {
    for (const each of clients) each.close();
    await grpcServer.stop(500);
    await rest.stop();
  });

  beforeEach(() => {
    rest.configMaps.objects.clear();
    rest.configMaps.calls.length = 0;
    workloads.pods.objects.clear();
    workloads.deployments.objects.clear();
    workloads.calls.length = 0;
  });

  it('round-trips every object verb on one handler shared with REST', async () => {
    const admin = client().configMaps('default');
    const created = await admin.create(configMap('settings', { a: '1' }), { fieldManager: 'kube-scheduler', dryRun: false });
    expect(created.metadata).toMatchObject({ name: 'settings', namespace: 'default', uid: expect.any(String) });
    // The object written over gRPC is the object REST serves.
    const viaRest = await rest.request('GET', '/api/v1/namespaces/default/configmaps/settings');
    expect(viaRest.json()).toEqual(created);

    expect(await admin.get('settings')).toEqual(created);
    const list = await admin.list();
    expect(list).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: expect.any(String) } });
    expect(list.items.map((item) => item.metadata?.name)).toEqual(['settings']);

    const updated = await admin.update({ ...created, data: { a: '2' } });
    expect(updated.data).toEqual({ a: '2' });
    const patched = await admin.patch('settings', 'merge', { data: { b: '3' } });
    expect(patched.data).toEqual({ a: '2', b: '3' });
    await admin.delete('settings');
    expect(rest.configMaps.objects.size).toBe(0);

    // The second get is REST's.
    expect(rest.configMaps.calls.map((call) => [call.method, call.context.verb, call.context.namespace, call.context.name, call.context.user.name])).toEqual([
      ['create', 'create', 'default', '', 'admin'],
      ['get', 'get', 'default', 'settings', 'admin'],
      ['get', 'get', 'default', 'settings', 'admin'],
      ['list', 'list', 'default', '', 'admin'],
      ['update', 'update', 'default', 'settings', 'admin'],
      ['patch', 'patch', 'default', 'settings', 'admin'],
      ['delete', 'delete', 'default', 'settings', 'admin'],
    ]);
    expect(rest.configMaps.calls[0]?.context.write).toEqual({ fieldManager: 'kube-scheduler', fieldValidation: 'Warn', dryRun: false, force: false });
    expect(rest.configMaps.calls[0]?.context.user.groups).toContain('system:authenticated');
  });

  it('passes list options and write options through as REST would parse them', async () => {
    const admin = client();
    await admin.configMaps('default').list({ labelSelector: 'app=web', fieldSelector: 'metadata.name=x', limit: 5, continue: 'token', resourceVersion: '12', resourceVersionMatch: 'NotOlderThan' });
    expect(rest.configMaps.calls.at(-1)?.context.list).toEqual({
      labelSelector: 'app=web',
      fieldSelector: 'metadata.name=x',
      limit: 5,
      continue: 'token',
      resourceVersion: '12',
      resourceVersionMatch: 'NotOlderThan',
      allowWatchBookmarks: false,
    });
    const dry = await admin.configMaps('default').create(configMap('dry'), { dryRun: true });
    expect(dry.metadata?.name).toBe('dry');
    expect(rest.configMaps.objects.size).toBe(0);
    expect(rest.configMaps.calls.at(-1)?.context.write.dryRun).toBe(true);
  });

  it.each([
    ['Bind', (c: GrpcApiClient) => c.pods('default').bind('a', 'node-1'), 'pods/binding.create', 'create', 'binding'],
    ['Evict', (c: GrpcApiClient) => c.pods('default').evict('a'), 'pods/eviction.create', 'create', 'eviction'],
    ['UpdateStatus', (c: GrpcApiClient) => c.pods('default').updateStatus({ ...pod('a'), status: { phase: 'Running' } }), 'pods/status.update', 'update', 'status'],
    ['Patch status', (c: GrpcApiClient) => c.pods('default').patch('a', 'merge', { status: { phase: 'Failed' } }, { subresource: 'status' }), 'pods/status.patch', 'patch', 'status'],
    ['GetScale', (c: GrpcApiClient) => c.deployments('default').getScale('web'), 'deployments/scale.get', 'get', 'scale'],
    [
      'UpdateScale',
      (c: GrpcApiClient) => c.deployments('default').updateScale('web', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'web', namespace: 'default' }, spec: { replicas: 5 } }),
      'deployments/scale.update',
      'update',
      'scale',
    ],
  ])('routes %s to the subresource handler REST would call', async (_rpc, call, handlerCall, verb, subresource) => {
    await workloads.pods.create(contextFor('pods'), pod('a'));
    await workloads.deployments.create(contextFor('deployments'), deployment);
    workloads.calls.length = 0;
    await call(client());
    expect(workloads.calls.map((recorded) => recorded.call)).toEqual([handlerCall]);
    expect(workloads.calls[0]?.context).toMatchObject({ verb, subresource, namespace: 'default', user: { name: 'admin' } });
  });

  it('applies bindings, evictions, status and scale writes', async () => {
    await workloads.pods.create(contextFor('pods'), pod('a'));
    await workloads.pods.create(contextFor('pods'), pod('b'));
    await workloads.deployments.create(contextFor('deployments'), deployment);
    const admin = client();
    await admin.pods('default').bind('a', 'node-1');
    expect((await admin.pods('default').get('a')).spec?.nodeName).toBe('node-1');
    expect(workloads.calls.find((recorded) => recorded.call === 'pods/binding.create')?.body).toMatchObject({ kind: 'Binding', target: { kind: 'Node', name: 'node-1' } });
    const running = await admin.pods('default').updateStatus({ ...(await admin.pods('default').get('a')), status: { phase: 'Running' } });
    expect(running.status?.phase).toBe('Running');
    await admin.pods('default').evict('b', { gracePeriodSeconds: 0 });
    expect(workloads.pods.objects.has('default/b')).toBe(false);
    expect(workloads.calls.find((recorded) => recorded.call === 'pods/eviction.create')?.body).toMatchObject({ kind: 'Eviction', deleteOptions: { gracePeriodSeconds: 0 } });
    const scale: Scale = await admin.deployments('default').getScale('web');
    expect(scale).toMatchObject({ kind: 'Scale', spec: { replicas: 2 } });
    expect((await admin.deployments('default').updateScale('web', { ...scale, spec: { replicas: 4 } })).spec?.replicas).toBe(4);
    expect((await admin.deployments('default').get('web')).spec?.replicas).toBe(4);
  });

  it('binds many pods in one call: each item through Bind\'s pipeline, failures per item, one log line each', async () => {
    await workloads.pods.create(contextFor('pods'), pod('m1'));
    await workloads.pods.create(contextFor('pods'), pod('m2'));
    await workloads.pods.create(contextFor('pods'), { ...pod('m3'), spec: { containers: [{ name: 'c', image: 'busybox' }], nodeName: 'node-0' } });
    workloads.calls.length = 0;
    logLines.length = 0;
    const results = await client().bindMany(['m1', 'missing', 'm3', 'm2'].map((name, index) => bindItem(name, `node-${index + 1}`)));
    expect(results.map((error) => (error === undefined ? 'ok' : `${error.code} ${error.reason}`))).toEqual(['ok', '404 NotFound', '409 Conflict', 'ok']);
    expect(results[2]?.message).toMatch(/already assigned to node "node-0"/);
    expect((workloads.pods.objects.get('default/m1') as Pod | undefined)?.spec?.nodeName).toBe('node-1');
    expect((workloads.pods.objects.get('default/m2') as Pod | undefined)?.spec?.nodeName).toBe('node-4');
    expect(workloads.calls.filter((recorded) => recorded.call === 'pods/binding.create').map((recorded) => recorded.context.name)).toEqual(['m1', 'missing', 'm3', 'm2']);
    const bindLines = logLines.filter((line) => line.includes('"msg":"request"') && line.includes('/binding'));
    expect(bindLines).toHaveLength(4);
    expect(bindLines.some((line) => line.includes('/api/v1/namespaces/default/pods/m1/binding') && line.includes('"code":201'))).toBe(true);
  });

  it.each([
    ['a user without the binding permission: every item 403, the call itself answers', testTokens.alice.token, 'items'],
    ['a token nobody issued: the whole call 401', 'not-a-token', 'call'],
  ])('answers BindMany from %s', async (_case, token, fails) => {
    await workloads.pods.create(contextFor('pods'), pod('f1'));
    const caller = client({ token });
    const call = caller.bindMany([bindItem('f1', 'node-1'), bindItem('f2', 'node-1')]);
    if (fails === 'call') {
      expect(await failureOf(call)).toMatchObject({ code: 401 });
    } else {
      expect((await call).map((error) => error?.code)).toEqual([403, 403]);
    }
    expect((workloads.pods.objects.get('default/f1') as Pod | undefined)?.spec?.nodeName).toBeUndefined();
  });

  it('refuses a BindMany of more than 1000 items as a whole', async () => {
    const items = Array.from({ length: 1001 }, (_, index) => bindItem(`p${index}`, 'node-1'));
    expect(await failureOf(client().bindMany(items))).toMatchObject({ code: 400 });
  });

  it('streams watch events, drops bookmarks unless asked, and stops the handler on cancel', async () => {
    const admin = client();
    const watch = admin.configMaps('default').watch({ resourceVersion: '10' });
    const reading = collect(watch, 3);
    await waitFor(() => rest.configMaps.watcherCount === 1);
    const other = client().configMaps('default');
    await other.create(configMap('w'));
    await other.patch('w', 'merge', { data: { x: '1' } });
    await other.delete('w');
    const events = await reading;
    // The fixture opens every watch with a BOOKMARK; a client that did not allow bookmarks never sees it.
    expect(events.map((event) => [event.type, event.object.metadata?.name])).toEqual([
      ['ADDED', 'w'],
      ['MODIFIED', 'w'],
      ['DELETED', 'w'],
    ]);
    await waitFor(() => rest.configMaps.watcherCount === 0);

    const withBookmarks = admin.configMaps('default').watch({ resourceVersion: '10', allowWatchBookmarks: true });
    expect((await collect(withBookmarks, 1)).map((event) => event.type)).toEqual(['BOOKMARK']);
    await waitFor(() => rest.configMaps.watcherCount === 0);

    const cancelled = admin.configMaps('default').watch({ resourceVersion: '10' });
    const pending = collect(cancelled, 1);
    await waitFor(() => rest.configMaps.watcherCount === 1);
    cancelled.stop();
    expect(await pending).toEqual([]);
    await waitFor(() => rest.configMaps.watcherCount === 0);
  });

  it('ends a watch with 410 as an ERROR event, at the start or midway', async () => {
    const admin = client().configMaps('default');
    const tooOld = await failureOf(collect(admin.watch({ resourceVersion: '1' }), 1));
    expect(tooOld).toMatchObject({ code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' });

    const watch = admin.watch({ resourceVersion: '10' });
    const reading = failureOf(collect(watch, 5));
    await waitFor(() => rest.configMaps.watcherCount === 1);
    rest.configMaps.expireWatches();
    expect(await reading).toMatchObject({ code: 410, reason: 'Expired' });
    await waitFor(() => rest.configMaps.watcherCount === 0);
  });

  it('ends a watch normally when timeout_seconds pass', async () => {
    const started = Date.now();
    const events = await collect(client().configMaps('default').watch({ resourceVersion: '10', timeoutSeconds: 1 }), 10, 5000);
    expect(events).toEqual([]);
    expect(Date.now() - started).toBeLessThan(4000);
    await waitFor(() => rest.configMaps.watcherCount === 0);
  });

  it.each([
    ['NotFound', () => client().configMaps('default').get('nope'), 404, 'NotFound', 'configmaps "nope" not found'],
    ['AlreadyExists', async () => {
      await client().configMaps('default').create(configMap('twice'));
      return client().configMaps('default').create(configMap('twice'));
    }, 409, 'AlreadyExists', 'configmaps "twice" already exists'],
    ['Conflict', async () => {
      const created = await client().configMaps('default').create(configMap('stale'));
      return client().configMaps('default').update({ ...created, metadata: { ...created.metadata, resourceVersion: '1' } });
    }, 409, 'Conflict', 'Operation cannot be fulfilled on configmaps "stale"'],
    ['Invalid', () => client().configMaps('default').create(configMap('Not_Valid')), 422, 'Invalid', 'ConfigMap "Not_Valid" is invalid'],
    ['Forbidden', () => client({ token: testTokens.alice.token }).configMaps('default').get('x'), 403, 'Forbidden', 'configmaps "x" is forbidden: User "alice" cannot get resource "configmaps"'],
    ['Unauthorized (bad token)', () => client({ token: 'not-a-token' }).configMaps('default').get('x'), 401, 'Unauthorized', 'Unauthorized'],
    ['Unauthorized (anonymous)', () => client({}).configMaps('default').list(), 401, 'Unauthorized', 'Unauthorized'],
    ['TooManyRequests', async () => {
      await workloads.pods.create(contextFor('pods'), pod('guarded', { protected: 'true' }));
      return client().pods('default').evict('guarded');
    }, 429, 'TooManyRequests', 'disruption budget'],
    ['missing subresource', () => client().configMaps('default').updateStatus(configMap('x')), 404, 'NotFound', 'the server could not find the requested resource'],
    ['unknown resource', () => client().jobs('default').get('x'), 404, 'NotFound', 'the server could not find the requested resource'],
    ['BadRequest', () => client().configMaps('default').list({ limit: -1 }), 400, 'BadRequest', 'limit'],
  ] as const)('maps %s to the same ApiError', async (_name, call, code, reason, message) => {
    const error = await failureOf(call());
    expect(error).toMatchObject({ code, reason });
    expect(error.message).toContain(message);
  });

  it('answers 403 with the same Status as REST for the same request', async () => {
    const viaGrpc = await failureOf(client({ token: testTokens.alice.token }).configMaps('default').list());
    const viaRest = await rest.request('GET', '/api/v1/namespaces/default/configmaps', { token: testTokens.alice.token });
    expect(viaRest.status).toBe(403);
    expect(viaGrpc.toStatus()).toEqual(viaRest.json());
  });

  it('refuses streaming subresources and unsupported verbs with 405', async () => {
    await workloads.deployments.create(contextFor('deployments'), deployment);
    const admin = client();
    expect(await failureOf(admin.patch({ group: '', version: 'v1', resource: 'pods' }, 'default', 'a', 'merge', {}, { subresource: 'log' as 'status' }))).toMatchObject({ code: 405 });
    expect(await failureOf(admin.deployments('default').patch('web', 'merge', { spec: { replicas: 1 } }))).toMatchObject({ code: 405, reason: 'MethodNotAllowed' });
  });

  it('authenticates client certificates signed by the cluster CA', async () => {
    const admin = issueCertificate(rest.certificates.ca, { commonName: 'cert-admin', organizations: [MASTERS_GROUP], usage: 'client' });
    const byCertificate = client({ certificatePem: admin.certificatePem, keyPem: admin.privateKeyPem });
    await byCertificate.configMaps('default').create(configMap('by-cert'));
    expect(rest.configMaps.calls.at(-1)?.context.user).toMatchObject({ name: 'cert-admin', groups: [MASTERS_GROUP, 'system:authenticated'] });
  });

  it('treats a client certificate from another CA as no credentials', async () => {
    const strangerCa = createCertificateAuthority('stranger-ca');
    const forged = issueCertificate(strangerCa, { commonName: 'mallory', organizations: [MASTERS_GROUP], usage: 'client' });
    const error = await failureOf(client({ certificatePem: forged.certificatePem, keyPem: forged.privateKeyPem }).configMaps('default').list());
    expect(error).toMatchObject({ code: 401, reason: 'Unauthorized' });
  });

  it('ends open watches normally when the front end stops', async () => {
    const second = await startGrpcFrontEnd({
      handlers: [{ description: configMapDescription, handler: rest.configMaps }],
      authenticator: new TokenAuthenticator(Object.values(testTokens)),
      authorizer: new FixedPolicyAuthorizer(),
      tls: { certificatePem: rest.certificates.serving.certificatePem, privateKeyPem: rest.certificates.serving.privateKeyPem },
      bindAddress: '127.0.0.1',
      port: 0,
      logger: new Logger({ level: 'error', write: () => undefined }),
    });
    const stopping = new GrpcApiClient({ address: `127.0.0.1:${second.port}`, token: testTokens.admin.token, tls: { caPem: rest.certificates.ca.certificatePem }, readRetries: 0 });
    try {
      const reading = collect(stopping.configMaps('default').watch({ resourceVersion: '10' }), 1);
      await waitFor(() => rest.configMaps.watcherCount === 1);
      await second.stop(500);
      expect(await reading).toEqual([]);
      expect(rest.configMaps.watcherCount).toBe(0);
    } finally {
      stopping.close();
    }
  });

  it('fails a call the handler does not finish in time with 504 and aborts its signal', async () => {
    let aborted = false;
    const stuck: ServedResource = {
      description: { ...configMapDescription, name: 'secrets', kind: 'Secret', singularName: 'secret' },
      handler: {
        get: (context) =>
          new Promise((resolve) => {
            context.signal.addEventListener('abort', () => {
              aborted = true;
              resolve({});
            });
          }),
      },
    };
    const slow = await startGrpcFrontEnd({
      handlers: [stuck],
      authenticator: new TokenAuthenticator(Object.values(testTokens)),
      authorizer: new FixedPolicyAuthorizer(),
      tls: { certificatePem: rest.certificates.serving.certificatePem, privateKeyPem: rest.certificates.serving.privateKeyPem },
      bindAddress: '127.0.0.1',
      port: 0,
      requestTimeoutSeconds: 0.2,
      logger: new Logger({ level: 'error', write: () => undefined }),
    });
    const caller = new GrpcApiClient({ address: `127.0.0.1:${slow.port}`, token: testTokens.admin.token, tls: { caPem: rest.certificates.ca.certificatePem }, readRetries: 0 });
    try {
      expect(await failureOf(caller.secrets('default').get('s'))).toMatchObject({ code: 504, reason: 'Timeout' });
      expect(aborted).toBe(true);
    } finally {
      caller.close();
      await slow.stop(200);
    }
  });

  it('counts calls in the shared metrics and logs one line per write', async () => {
    await client().configMaps('default').create(configMap('counted'));
    const exposition = await metrics.exposition();
    expect(exposition.body).toMatch(/apiserver_request_total\{verb="POST",group="",version="v1",resource="configmaps",subresource="",scope="namespace",code="201"\} \d+/);
    expect(logLines.some((line) => line.includes('"transport":"grpc"') && line.includes('"verb":"POST"') && line.includes('"user":"admin"'))).toBe(true);
  });
});

function bindItem(name: string, node: string): BindItem {
  return { namespace: 'default', podName: name, binding: { apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: 'default' }, target: { apiVersion: 'v1', kind: 'Node', name: node } } };
}

/** A context for seeding the in-memory handlers directly. */
function contextFor(resource: string): Parameters<MemoryWorkloads['pods']['create']>[0] {
  return {
    user: { name: 'seed', uid: '', groups: [] },
    verb: 'create',
    group: resource === 'deployments' ? 'apps' : '',
    version: 'v1',
    resource,
    subresource: '',
    namespace: 'default',
    name: '',
    list: { labelSelector: '', fieldSelector: '', continue: '', resourceVersion: '', allowWatchBookmarks: false },
    write: { fieldManager: '', fieldValidation: 'Warn', dryRun: false, force: false },
    output: {},
    query: new URLSearchParams(),
    signal: new AbortController().signal,
    addWarning: () => undefined,
  };
}
