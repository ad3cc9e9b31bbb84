// Plain HTTPS tests of the frame: routing, Status bodies, content types, limits,
// Accept negotiation, watch framing and lifetimes, non-resource endpoints,
// authentication paths, logging and a seeded fuzz of malformed requests.

import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { SeededRandom } from '@kube-lite/testing';
import { issueCertificate } from '../auth';
import type { DeleteOptions, RequestContext, ResourceHandler, ServedResource } from './handler';
import { badRequest } from './status-error';
import { startTestServer, testTokens, type TestServer } from './test-fixture';

const slowHandler: ResourceHandler = {
  get: (context: RequestContext) =>
    new Promise((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'Slow' }), 10_000);
      context.signal.addEventListener('abort', () => clearTimeout(timer));
    }),
  list: async () => {
    throw new Error('disk on fire');
  },
};

const deleteOptionsSeen: DeleteOptions[] = [];
const podsHandler: ResourceHandler = {
  get: async (context) => ({ kind: 'Pod', apiVersion: 'v1', metadata: { name: context.name, namespace: context.namespace } }),
  delete: async (context, options) => {
    deleteOptionsSeen.push(options);
    return { object: { kind: 'Status', apiVersion: 'v1', status: 'Success', details: { name: context.name } } };
  },
  subresources: {
    log: {
      connect: async (context, connection) => {
        if (connection.kind !== 'http') throw badRequest('log is plain HTTP');
        connection.response.writeHead(200, { 'Content-Type': 'text/plain' });
        connection.response.end(`logs of ${context.name} container=${context.query.get('container') ?? ''}\n`);
      },
    },
    exec: {
      connect: async (context, connection) => {
        if (connection.kind !== 'upgrade') throw badRequest('exec needs an upgrade');
        connection.socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n\r\n');
        connection.socket.end(`exec ${context.query.getAll('command').join(' ')} as ${context.user.name} verb ${context.verb}`);
      },
    },
    eviction: { create: async (_context, body) => ({ kind: 'Status', apiVersion: 'v1', status: 'Success', code: 201, details: { body } }) },
  },
};

const extraResources: ServedResource[] = [
  {
    description: { group: '', version: 'v1', kind: 'Pod', name: 'pods', singularName: 'pod', namespaced: true, verbs: ['get', 'delete'], shortNames: ['po'], categories: ['all'], subresources: [{ name: 'eviction', kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' }, { name: 'status', kind: 'Pod', verbs: ['get', 'patch', 'update'] }] },
    handler: podsHandler,
  },
  {
    description: { group: 'example.io', version: 'v1', kind: 'Slow', name: 'slows', singularName: 'slow', namespaced: false, verbs: ['get', 'list'] },
    handler: slowHandler,
  },
];

let server: TestServer;
let failingCheck = false;

beforeAll(async () => {
  server = await startTestServer({
    resources: extraResources,
    readyChecks: [{ name: 'storage', check: async () => { if (failingCheck) throw new Error('etcd unreachable'); } }],
    podNodeName: async (_namespace, name) => (name.startsWith('on-worker-1') ? 'worker-1' : 'worker-2'),
  });
});

afterAll(async () => {
  await server.stop();
});

beforeEach(() => {
  server.configMaps.objects.clear();
  server.configMaps.calls.length = 0;
});

const json = { 'Content-Type': 'application/json' };
const configMapsPath = '/api/v1/namespaces/default/configmaps';

function configMapBody(name: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' }, ...extra });
}

describe('routing', () => {
  test.each([
    { method: 'GET', path: configMapsPath, status: 200 },
    { method: 'GET', path: '/api/v1/configmaps', status: 200 },
    { method: 'GET', path: '/api/v1/configmaps/x', status: 404 },
    { method: 'POST', path: '/api/v1/configmaps', status: 404 },
    { method: 'GET', path: '/api/v1/namespaces/default/widgets', status: 404 },
    { method: 'GET', path: '/apis/apps/v1/deployments', status: 404 },
    { method: 'GET', path: '/api/v2/namespaces/default/configmaps', status: 404 },
    { method: 'GET', path: `${configMapsPath}/x/status`, status: 404 },
    { method: 'GET', path: `${configMapsPath}/x/status/extra`, status: 404 },
    { method: 'GET', path: '/apis/example.io/v1/namespaces/default/slows', status: 404 },
    { method: 'OPTIONS', path: configMapsPath, status: 405 },
    { method: 'DELETE', path: configMapsPath, status: 405 },
    { method: 'POST', path: '/version', status: 405 },
    { method: 'GET', path: '/nonexistent', status: 404 },
    { method: 'GET', path: '/api/v1/namespaces/default/pods/p/eviction', status: 405 },
    { method: 'GET', path: '/api/v1/namespaces/default/configmaps/%zz', status: 400 },
    { method: 'GET', path: '/api/v1/namespaces/default/configmaps/..', status: 400 },
  ])('$method $path -> $status', async ({ method, path, status }) => {
    const response = await server.request(method, path);
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toBe('application/json');
    if (status !== 200) expect(response.json()).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code: status });
  });

  test('the frame hands the handler a parsed context', async () => {
    await server.request('GET', `${configMapsPath}?labelSelector=app%3Dweb&fieldSelector=metadata.name%3Dx&limit=10&continue=abc&resourceVersion=5&resourceVersionMatch=NotOlderThan`);
    const call = server.configMaps.calls[0];
    expect(call?.method).toBe('list');
    expect(call?.context).toMatchObject({
      verb: 'list',
      group: '',
      version: 'v1',
      resource: 'configmaps',
      namespace: 'default',
      name: '',
      user: { name: 'admin', groups: ['system:masters', 'system:authenticated'] },
      list: { labelSelector: 'app=web', fieldSelector: 'metadata.name=x', limit: 10, continue: 'abc', resourceVersion: '5', resourceVersionMatch: 'NotOlderThan' },
      output: {},
    });
  });

  test('a subresource create reaches the subresource handler with the parent name', async () => {
    const body = JSON.stringify({ kind: 'Eviction', apiVersion: 'policy/v1', metadata: { name: 'p' } });
    const response = await server.request('POST', '/api/v1/namespaces/default/pods/p/eviction', { body, headers: json });
    expect(response.status).toBe(201);
    expect(response.json()).toMatchObject({ status: 'Success', details: { body: { kind: 'Eviction' } } });
  });
});

describe('Status errors', () => {
  test('NotFound carries upstream message and details', async () => {
    const response = await server.request('GET', `${configMapsPath}/nope`);
    expect(response.status).toBe(404);
    expect(response.json()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'configmaps "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', kind: 'configmaps' },
      code: 404,
    });
  });

  test('an unknown path is NotFound with upstream wording', async () => {
    const response = await server.request('GET', '/apis/apps/v1/namespaces/default/deployments/web');
    expect(response.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'the server could not find the requested resource', reason: 'NotFound', details: {}, code: 404 });
  });

  test('AlreadyExists, then Conflict on a stale resourceVersion', async () => {
    expect((await server.request('POST', configMapsPath, { body: configMapBody('cfg'), headers: json })).status).toBe(201);
    const duplicate = await server.request('POST', configMapsPath, { body: configMapBody('cfg'), headers: json });
    expect(duplicate.status).toBe(409);
    expect(duplicate.json()).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "cfg" already exists' });
    const stale = await server.request('PUT', `${configMapsPath}/cfg`, { body: configMapBody('cfg', { metadata: { name: 'cfg', resourceVersion: '1' } }), headers: json });
    expect(stale.status).toBe(409);
    expect(stale.json()).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  test('Invalid lists causes with field, reason and message', async () => {
    const response = await server.request('POST', configMapsPath, { body: configMapBody('Bad_Name'), headers: json });
    expect(response.status).toBe(422);
    expect(response.json()).toMatchObject({
      reason: 'Invalid',
      details: { name: 'Bad_Name', kind: 'ConfigMap', causes: [{ reason: 'FieldValueInvalid', field: 'metadata.name' }] },
    });
    expect((response.json() as { message: string }).message).toMatch(/^ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"/);
  });

  test('an unexpected handler failure is a 500 InternalError that is logged', async () => {
    const response = await server.request('GET', '/apis/example.io/v1/slows');
    expect(response.status).toBe(500);
    expect(response.json()).toMatchObject({ reason: 'InternalError', message: 'Internal error occurred: disk on fire' });
    expect(server.logLines.some((line) => line.includes('disk on fire') && line.includes('"level":"error"'))).toBe(true);
  });

  test('a handler slower than ?timeout answers 504 Timeout and is aborted', async () => {
    const started = Date.now();
    const response = await server.request('GET', '/apis/example.io/v1/slows/s?timeout=300ms');
    expect(response.status).toBe(504);
    expect(response.json()).toMatchObject({ reason: 'Timeout' });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('bodies and content types', () => {
  test('PUT without Content-Type is read as JSON', async () => {
    await server.request('POST', configMapsPath, { body: configMapBody('cfg'), headers: json });
    const response = await server.request('PUT', `${configMapsPath}/cfg`, { body: configMapBody('cfg', { data: { a: '2' } }) });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ data: { a: '2' } });
  });

  test('POST accepts YAML', async () => {
    const response = await server.request('POST', configMapsPath, { body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\n', headers: { 'Content-Type': 'application/yaml' } });
    expect(response.status).toBe(201);
  });

  test.each([
    { type: 'application/merge-patch+json', body: '{"data":{"b":"2"}}', status: 200, patchType: 'merge' },
    { type: 'application/strategic-merge-patch+json', body: '{"data":{"b":"2"}}', status: 200, patchType: 'strategic' },
    { type: 'application/json-patch+json', body: '[{"op":"add","path":"/data/b","value":"2"}]', status: 200, patchType: 'json' },
    { type: 'application/apply-patch+yaml', body: 'data:\n  b: "2"\n', status: 200, patchType: 'apply' },
    { type: 'application/json-patch+json', body: '{"op":"add"}', status: 400, patchType: undefined },
    { type: 'application/merge-patch+json', body: '[1]', status: 400, patchType: undefined },
    { type: 'application/merge-patch+json', body: '{not json', status: 400, patchType: undefined },
    { type: 'application/json', body: '{}', status: 415, patchType: undefined },
    { type: 'text/plain', body: '{}', status: 415, patchType: undefined },
  ])('PATCH $type $body -> $status', async ({ type, body, status, patchType }) => {
    await server.request('POST', configMapsPath, { body: configMapBody('cfg'), headers: json });
    const response = await server.request('PATCH', `${configMapsPath}/cfg?fieldManager=kubectl&force=true`, { body, headers: { 'Content-Type': type } });
    expect(response.status).toBe(status);
    const call = server.configMaps.calls.find((candidate) => candidate.method === 'patch');
    expect((call?.body as { type?: string } | undefined)?.type).toBe(patchType);
    if (patchType === 'apply') expect(call?.context.write).toMatchObject({ fieldManager: 'kubectl', force: true });
  });

  test('server-side apply of a missing object creates it with 201', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { x: 'y' } });
    const response = await server.request('PATCH', `${configMapsPath}/applied?fieldManager=kubectl&force=false`, { body, headers: { 'Content-Type': 'application/apply-patch+yaml' } });
    expect(response.status).toBe(201);
  });

  test.each([
    { body: '{"kind":', status: 400, reason: 'BadRequest' },
    { body: '[1,2]', status: 400, reason: 'BadRequest' },
    { body: '', status: 400, reason: 'BadRequest' },
    { body: '"just a string"', status: 400, reason: 'BadRequest' },
  ])('POST body $body -> $status', async ({ body, status, reason }) => {
    const response = await server.request('POST', configMapsPath, { body, headers: json });
    expect(response.status).toBe(status);
    expect(response.json()).toMatchObject({ reason });
  });

  test('a body over 3 MiB is refused with 413', async () => {
    const big = configMapBody('big', { data: { blob: 'x'.repeat(3 * 1024 * 1024) } });
    const response = await server.request('POST', configMapsPath, { body: big, headers: json });
    expect(response.status).toBe(413);
    expect(response.json()).toMatchObject({ reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' });
  });

  test('DELETE options come from the JSON body or from a protobuf body as kubectl drain sends', async () => {
    const viaJson = await server.request('DELETE', '/api/v1/namespaces/default/pods/p?gracePeriodSeconds=5', { body: '{"propagationPolicy":"Background"}', headers: json });
    expect(viaJson.status).toBe(200);
    // "k8s\0" + Unknown{typeMeta{apiVersion:"v1",kind:"DeleteOptions"}, raw: DeleteOptions{gracePeriodSeconds: 30, propagationPolicy: "Foreground"}}
    const options = Buffer.from([0x08, 30, 0x22, 10, ...Buffer.from('Foreground')]);
    const typeMeta = Buffer.from([0x0a, 2, ...Buffer.from('v1'), 0x12, 13, ...Buffer.from('DeleteOptions')]);
    const envelope = Buffer.from([0x0a, typeMeta.length, ...typeMeta, 0x12, options.length, ...options]);
    const protobuf = Buffer.concat([Buffer.from('k8s\0', 'binary'), envelope]);
    const viaProtobuf = await server.request('DELETE', '/api/v1/namespaces/default/pods/p', { body: protobuf, headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf', Accept: 'application/vnd.kubernetes.protobuf,application/json' } });
    expect(viaProtobuf.status).toBe(200);
    expect(deleteOptionsSeen).toEqual([
      { dryRun: false, gracePeriodSeconds: 5, propagationPolicy: 'Background' },
      { dryRun: false, gracePeriodSeconds: 30, propagationPolicy: 'Foreground' },
    ]);
    const garbage = await server.request('DELETE', '/api/v1/namespaces/default/pods/p', { body: Buffer.from('k8s\0\xff\xff', 'binary'), headers: { 'Content-Type': 'application/vnd.kubernetes.protobuf' } });
    expect(garbage.status).toBe(400);
  });
});

describe('query parameters and Accept', () => {
  test.each([
    { query: 'limit=abc', fragment: 'limit' },
    { query: 'limit=-1', fragment: 'limit' },
    { query: 'watch=maybe', fragment: 'watch' },
    { query: 'timeoutSeconds=1.5', fragment: 'timeoutSeconds' },
    { query: 'resourceVersionMatch=Exact', fragment: 'resourceVersionMatch' },
    { query: 'resourceVersion=1&resourceVersionMatch=Sometimes', fragment: 'resourceVersionMatch' },
    { query: 'fieldValidation=Loose', fragment: 'fieldValidation' },
    { query: 'dryRun=Some', fragment: 'dryRun' },
    { query: 'timeout=forever', fragment: 'timeout' },
  ])('?$query is a 400 naming $fragment', async ({ query, fragment }) => {
    const response = await server.request('GET', `${configMapsPath}?${query}`);
    expect(response.status).toBe(400);
    expect((response.json() as { message: string }).message).toContain(fragment);
  });

  test.each([
    { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', table: { version: 'v1', includeObject: 'Metadata' } },
    { accept: 'application/json;as=Table;v=v1beta1;g=meta.k8s.io', table: { version: 'v1beta1', includeObject: 'Metadata' } },
    { accept: 'application/vnd.kubernetes.protobuf,application/json', table: undefined },
    { accept: 'application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json', table: undefined },
    { accept: '*/*', table: undefined },
  ])('Accept $accept', async ({ accept, table }) => {
    const response = await server.request('GET', configMapsPath, { headers: { Accept: accept } });
    expect(response.status).toBe(200);
    expect(server.configMaps.calls[0]?.context.output.table).toEqual(table);
  });

  test('an Accept with nothing we can produce is 406', async () => {
    const response = await server.request('GET', configMapsPath, { headers: { Accept: 'application/vnd.kubernetes.protobuf' } });
    expect(response.status).toBe(406);
    expect(response.json()).toMatchObject({ reason: 'NotAcceptable' });
  });

  test('handler warnings become Warning headers', async () => {
    const handler: ResourceHandler = {
      list: async (context) => {
        context.addWarning('v1 ComponentStatus is deprecated');
        return { kind: 'List', items: [] };
      },
    };
    const local = await startTestServer({ resources: [{ description: { group: 'x.io', version: 'v1', kind: 'W', name: 'ws', singularName: 'w', namespaced: false, verbs: ['list'] }, handler }] });
    try {
      const response = await local.request('GET', '/apis/x.io/v1/ws');
      expect(response.headers.warning).toBe('299 - "v1 ComponentStatus is deprecated"');
    } finally {
      await local.stop();
    }
  });
});

interface WatchStream {
  status: Promise<number>;
  frames: Array<{ type: string; object: Record<string, unknown> }>;
  ended: Promise<void>;
  next(count: number): Promise<void>;
  close(): void;
}

function openWatch(path: string, token = testTokens.admin.token): WatchStream {
  const frames: WatchStream['frames'] = [];
  let buffer = '';
  let resolveStatus: (status: number) => void = () => {};
  let resolveEnded: () => void = () => {};
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const status = new Promise<number>((resolve) => (resolveStatus = resolve));
  const ended = new Promise<void>((resolve) => (resolveEnded = resolve));
  const request = httpsRequest(
    { host: '127.0.0.1', port: server.port, path, headers: { Authorization: `Bearer ${token}` }, ca: server.certificates.ca.certificatePem, agent: false },
    (response) => {
      resolveStatus(response.statusCode ?? 0);
      response.on('data', (chunk: Buffer) => {
        buffer += chunk.toString('utf8');
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          frames.push(JSON.parse(buffer.slice(0, newline)) as WatchStream['frames'][number]);
          buffer = buffer.slice(newline + 1);
        }
        for (const waiter of waiters.filter((candidate) => frames.length >= candidate.count)) waiter.resolve();
      });
      response.on('end', resolveEnded);
      response.on('close', resolveEnded);
    },
  );
  request.on('error', () => resolveEnded());
  request.end();
  return {
    status,
    frames,
    ended,
    next: (count) => (frames.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve }))),
    close: () => request.destroy(),
  };
}

async function eventually(check: () => boolean, withinMs = 3000): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('watch', () => {
  test('streams one JSON frame per event, drops bookmarks unless allowed, stops the handler on disconnect', async () => {
    const watch = openWatch(`${configMapsPath}?watch=true&resourceVersion=10`);
    expect(await watch.status).toBe(200);
    await eventually(() => server.configMaps.watcherCount === 1);
    await server.request('POST', configMapsPath, { body: configMapBody('one'), headers: json });
    await watch.next(1);
    expect(watch.frames[0]).toMatchObject({ type: 'ADDED', object: { metadata: { name: 'one' } } });
    await server.request('DELETE', `${configMapsPath}/one`);
    await watch.next(2);
    expect(watch.frames.map((frame) => frame.type)).toEqual(['ADDED', 'DELETED']);
    watch.close();
    await eventually(() => server.configMaps.watcherCount === 0);
  });

  test('bookmarks pass when allowWatchBookmarks=true; legacy /watch/ paths pin the name', async () => {
    const watch = openWatch('/api/v1/watch/namespaces/default/configmaps/one?allowWatchBookmarks=true');
    await watch.next(1);
    expect(watch.frames[0]).toMatchObject({ type: 'BOOKMARK' });
    const call = server.configMaps.calls.find((candidate) => candidate.method === 'watch');
    expect(call?.context.list.fieldSelector).toBe('metadata.name=one');
    watch.close();
    await eventually(() => server.configMaps.watcherCount === 0);
  });

  test('timeoutSeconds ends the stream cleanly', async () => {
    const started = Date.now();
    const watch = openWatch(`${configMapsPath}?watch=1&timeoutSeconds=1`);
    expect(await watch.status).toBe(200);
    await watch.ended;
    const elapsedMs = Date.now() - started;
    expect(elapsedMs).toBeGreaterThanOrEqual(900);
    expect(elapsedMs).toBeLessThan(5000);
    await eventually(() => server.configMaps.watcherCount === 0);
  });

  test('a compacted resourceVersion is a 200 stream with one ERROR frame carrying 410 Expired', async () => {
    const watch = openWatch(`${configMapsPath}?watch=true&resourceVersion=2`);
    expect(await watch.status).toBe(200);
    await watch.ended;
    expect(watch.frames).toEqual([
      { type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'too old resource version: 2 (5)', reason: 'Expired', code: 410 } },
    ]);
  });

  test('a handler failing mid-stream sends ERROR and closes', async () => {
    const watch = openWatch(`${configMapsPath}?watch=true`);
    await eventually(() => server.configMaps.watcherCount === 1);
    server.configMaps.expireWatches();
    await watch.ended;
    expect(watch.frames.at(-1)).toMatchObject({ type: 'ERROR', object: { code: 410, reason: 'Expired' } });
    expect(server.configMaps.watcherCount).toBe(0);
  });

  test('without timeoutSeconds a watch lasts a random time in [min, 2*min) of the min request timeout', async () => {
    const local = await startTestServer({ minRequestTimeoutSeconds: 1 });
    try {
      const started = Date.now();
      const status = await new Promise<number>((resolve, reject) => {
        const request = httpsRequest(
          { host: '127.0.0.1', port: local.port, path: `${configMapsPath}?watch=true`, headers: { Authorization: `Bearer ${testTokens.admin.token}` }, ca: local.certificates.ca.certificatePem, agent: false },
          (response) => {
            response.resume();
            response.on('end', () => resolve(response.statusCode ?? 0));
          },
        );
        request.on('error', reject);
        request.end();
      });
      const elapsedMs = Date.now() - started;
      expect(status).toBe(200);
      expect(elapsedMs).toBeGreaterThanOrEqual(950);
      expect(elapsedMs).toBeLessThan(2500);
    } finally {
      await local.stop();
    }
  });

  test('a client that stops reading is cut off instead of buffering without bound', async () => {
    let stopped = false;
    let sent = 0;
    const flood: ResourceHandler = {
      watch: async (_context, sink) => {
        const blob = 'x'.repeat(64 * 1024);
        // At most 64 MiB, far past the 256 KiB limit plus socket buffers.
        const timer = setInterval(() => {
          for (let index = 0; index < 16 && sent < 1024; index += 1) {
            sent += 1;
            if (!sink.send({ type: 'ADDED', object: { blob } })) return;
          }
        }, 5);
        return { stop: () => { stopped = true; clearInterval(timer); } };
      },
    };
    const local = await startTestServer({
      maxWatchBufferedBytes: 256 * 1024,
      resources: [{ description: { group: 'x.io', version: 'v1', kind: 'F', name: 'floods', singularName: 'flood', namespaced: false, verbs: ['watch'] }, handler: flood }],
    });
    try {
      const request = httpsRequest({ host: '127.0.0.1', port: local.port, path: '/apis/x.io/v1/floods?watch=1', headers: { Authorization: `Bearer ${testTokens.admin.token}` }, ca: local.certificates.ca.certificatePem, agent: false }, (response) => response.pause());
      request.on('error', () => {});
      request.end();
      await eventually(() => stopped, 10_000);
      expect(sent).toBeLessThan(1024);
      request.destroy();
    } finally {
      await local.stop();
    }
  });

  test('a watch the resource does not support is 405', async () => {
    const response = await server.request('GET', '/apis/example.io/v1/slows?watch=true');
    expect(response.status).toBe(405);
    expect(response.json()).toMatchObject({ reason: 'MethodNotAllowed', message: 'watch is not supported on resources of kind "slows.example.io"' });
  });
});

describe('non-resource endpoints', () => {
  test('/version', async () => {
    const response = await server.request('GET', '/version', { token: null });
    expect(response.status).toBe(200);
    expect(response.json()).toMatchObject({ major: '1', minor: '32', gitVersion: 'v1.32.0-kube-lite', platform: expect.stringMatching(/^linux\//) });
  });

  test.each([
    { path: '/healthz', status: 200, body: 'ok' },
    { path: '/livez', status: 200, body: 'ok' },
    { path: '/livez?verbose', status: 200, body: '[+]ping ok\nlivez check passed\n' },
    { path: '/readyz?verbose', status: 200, body: '[+]ping ok\n[+]storage ok\nreadyz check passed\n' },
    { path: '/readyz/ping', status: 200, body: 'ok' },
    { path: '/readyz/nope', status: 404, body: '404 page not found\n' },
  ])('$path', async ({ path, status, body }) => {
    const response = await server.request('GET', path, { token: null });
    expect(response.status).toBe(status);
    expect(response.text).toBe(body);
  });

  test('a failing ready check fails /readyz but not /livez; exclude skips it', async () => {
    failingCheck = true;
    try {
      const ready = await server.request('GET', '/readyz');
      expect(ready.status).toBe(500);
      expect(ready.text).toBe('[+]ping ok\n[-]storage failed: reason withheld\nreadyz check failed\n');
      expect((await server.request('GET', '/readyz/storage')).text).toBe('internal server error: etcd unreachable\n');
      expect((await server.request('GET', '/livez')).status).toBe(200);
      expect((await server.request('GET', '/readyz?exclude=storage')).status).toBe(200);
    } finally {
      failingCheck = false;
    }
  });

  test('/metrics counts requests by verb, resource and code', async () => {
    await server.request('GET', `${configMapsPath}/missing`);
    const response = await server.request('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.text).toMatch(/apiserver_request_total\{verb="GET",group="",version="v1",resource="configmaps",subresource="",scope="resource",code="404"\} [1-9]/);
    expect(response.text).toContain('apiserver_request_duration_seconds_bucket');
  });

  test('discovery: /api, /api/v1 (with pods/eviction in policy/v1), /apis, /apis/<g>, /apis/<g>/<v>', async () => {
    expect((await server.request('GET', '/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0' }] });
    const core = (await server.request('GET', '/api/v1')).json() as { groupVersion: string; resources: Array<Record<string, unknown>> };
    expect(core.groupVersion).toBe('v1');
    expect(core.resources).toContainEqual({ name: 'configmaps', singularName: 'configmap', namespaced: true, kind: 'ConfigMap', verbs: expect.arrayContaining(['get', 'watch']), shortNames: ['cm'] });
    expect(core.resources).toContainEqual({ name: 'pods/eviction', singularName: '', namespaced: true, kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' });
    expect(core.resources).toContainEqual({ name: 'pods/status', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get', 'patch', 'update'] });
    const groups = (await server.request('GET', '/apis')).json();
    expect(groups).toEqual({ kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'example.io', versions: [{ groupVersion: 'example.io/v1', version: 'v1' }], preferredVersion: { groupVersion: 'example.io/v1', version: 'v1' } }] });
    expect((await server.request('GET', '/apis/example.io')).json()).toMatchObject({ kind: 'APIGroup', name: 'example.io' });
    expect((await server.request('GET', '/apis/example.io/v1')).json()).toMatchObject({ kind: 'APIResourceList', groupVersion: 'example.io/v1' });
    expect((await server.request('GET', '/apis/nope.io/v1')).status).toBe(404);
    expect((await server.request('GET', '/api/v9')).status).toBe(404);
  });

  test.each([
    ['v2 first, as kubectl 1.32 asks', 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json', 'v2'],
    ['v2beta1 only, as kubectl 1.28 asks', 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json', 'v2beta1'],
    ['plain JSON first', 'application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList', undefined],
    ['no Accept', undefined, undefined],
  ])('aggregated discovery: %s', async (_case, accept, version) => {
    const headers: Record<string, string> = accept === undefined ? {} : { Accept: accept };
    const core = await server.request('GET', '/api', { headers });
    const named = await server.request('GET', '/apis', { headers });
    if (version === undefined) {
      expect(core.headers['content-type']).toBe('application/json');
      expect(core.json()).toMatchObject({ kind: 'APIVersions' });
      expect(named.json()).toMatchObject({ kind: 'APIGroupList' });
      return;
    }
    expect(core.headers['content-type']).toBe(`application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`);
    expect(core.headers.vary).toBe('Accept');
    const coreList = core.json() as { kind: string; apiVersion: string; items: Array<{ metadata: object; versions: Array<{ version: string; freshness: string; resources: Array<Record<string, unknown>> }> }> };
    expect(coreList).toMatchObject({ kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}` });
    expect(coreList.items).toHaveLength(1);
    expect(coreList.items[0]?.metadata).toEqual({});
    expect(coreList.items[0]?.versions[0]).toMatchObject({ version: 'v1', freshness: 'Current' });
    const resources = coreList.items[0]?.versions[0]?.resources ?? [];
    expect(resources).toContainEqual({
      resource: 'configmaps',
      responseKind: { group: '', version: 'v1', kind: 'ConfigMap' },
      scope: 'Namespaced',
      singularResource: 'configmap',
      verbs: expect.arrayContaining(['get', 'list', 'watch']),
      shortNames: ['cm'],
    });
    const pods = resources.find((resource) => resource.resource === 'pods') as { subresources: unknown[] };
    expect(pods.subresources).toContainEqual({ subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] });
    expect(named.json()).toMatchObject({
      kind: 'APIGroupDiscoveryList',
      items: [{ metadata: { name: 'example.io' }, versions: [{ version: 'v1', freshness: 'Current', resources: expect.any(Array) }] }],
    });
    // Below the roots, discovery stays legacy whatever the Accept header says.
    expect((await server.request('GET', '/api/v1', { headers })).json()).toMatchObject({ kind: 'APIResourceList' });
  });

  test('OpenAPI v3 index and documents', async () => {
    const index = (await server.request('GET', '/openapi/v3')).json() as { paths: Record<string, { serverRelativeURL: string }> };
    expect(Object.keys(index.paths).sort()).toEqual(['api/v1', 'apis/example.io/v1']);
    const url = index.paths['api/v1']?.serverRelativeURL ?? '';
    expect(url).toMatch(/^\/openapi\/v3\/api\/v1\?hash=[0-9A-F]+$/);
    const response = await server.request('GET', url);
    expect(response.headers['cache-control']).toBe('public, immutable');
    const document = response.json() as { paths: Record<string, { patch?: { parameters: Array<{ name: string; in: string }>; 'x-kubernetes-group-version-kind': unknown } }> };
    const patch = document.paths['/api/v1/namespaces/{namespace}/configmaps/{name}']?.patch;
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'ConfigMap' });
    expect(patch?.parameters).toContainEqual(expect.objectContaining({ name: 'fieldValidation', in: 'query' }));
  });

  test('OpenAPI v2: JSON by default, protobuf when kubectl asks for it', async () => {
    const json = await server.request('GET', '/openapi/v2');
    expect(json.status).toBe(200);
    const document = json.json() as { swagger: string; paths: Record<string, { patch?: { parameters: Array<{ name: string; in: string }>; 'x-kubernetes-group-version-kind': unknown } }> };
    expect(document.swagger).toBe('2.0');
    const patch = document.paths['/api/v1/namespaces/{namespace}/configmaps/{name}']?.patch;
    expect(patch?.['x-kubernetes-group-version-kind']).toEqual({ group: '', version: 'v1', kind: 'ConfigMap' });
    expect(patch?.parameters).toContainEqual(expect.objectContaining({ name: 'fieldValidation', in: 'query' }));
    const protobuf = await server.request('GET', '/openapi/v2', { headers: { Accept: 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf' } });
    expect(protobuf.status).toBe(200);
    expect(protobuf.headers['content-type']).toBe('application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    expect((await server.request('GET', '/openapi/v3/apis/nothing.io/v1')).status).toBe(404);
  });
});

describe('authentication and authorization', () => {
  test.each([
    { path: '/healthz', status: 200 },
    { path: '/version', status: 200 },
    { path: '/api', status: 401 },
    { path: '/metrics', status: 401 },
    { path: configMapsPath, status: 401 },
  ])('anonymous GET $path -> $status', async ({ path, status }) => {
    const response = await server.request('GET', path, { token: null });
    expect(response.status).toBe(status);
    if (status === 401) expect(response.json()).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  test('a wrong token is 401 even for public paths', async () => {
    expect((await server.request('GET', '/healthz', { token: 'wrong' })).status).toBe(401);
  });

  test.each([
    { token: testTokens.alice.token, method: 'GET', path: '/metrics', message: 'forbidden: User "alice" cannot get path "/metrics"' },
    { token: testTokens.alice.token, method: 'GET', path: `${configMapsPath}/x`, message: 'configmaps "x" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "default"' },
    { token: testTokens.alice.token, method: 'GET', path: '/apis/example.io/v1/slows', message: 'slows.example.io is forbidden: User "alice" cannot list resource "slows" in API group "example.io" at the cluster scope' },
    { token: testTokens.node.token, method: 'GET', path: '/api/v1/namespaces/default/pods/on-worker-2', message: 'pods "on-worker-2" is forbidden: User "system:node:worker-1" cannot get resource "pods" in API group "" in the namespace "default"' },
    { token: testTokens.node.token, method: 'POST', path: '/api/v1/namespaces/default/pods/on-worker-1/eviction', message: 'pods "on-worker-1" is forbidden: User "system:node:worker-1" cannot create resource "pods/eviction" in API group "" in the namespace "default"' },
  ])('$method $path is 403 for a user without the grant', async ({ token, method, path, message }) => {
    const response = await server.request(method, path, { token, body: method === 'POST' ? '{}' : undefined, headers: json });
    expect(response.status).toBe(403);
    expect(response.json()).toMatchObject({ reason: 'Forbidden', message });
  });

  test('a node may read a pod bound to it', async () => {
    const response = await server.request('GET', '/api/v1/namespaces/default/pods/on-worker-1-abc', { token: testTokens.node.token });
    expect(response.status).toBe(200);
  });

  test('client certificates signed by the cluster CA authenticate as CN with groups O', async () => {
    const client = issueCertificate(server.certificates.ca, { commonName: 'carol', organizations: ['system:masters'], usage: 'client' });
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpsRequest(
        { host: '127.0.0.1', port: server.port, path: configMapsPath, ca: server.certificates.ca.certificatePem, cert: client.certificatePem, key: client.privateKeyPem, agent: false },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(200);
    expect(server.configMaps.calls[0]?.context.user).toEqual({ name: 'carol', uid: '', groups: ['system:masters', 'system:authenticated'] });
  });

  test('a client certificate from another CA is rejected with 401', async () => {
    const { createCertificateAuthority } = await import('../auth');
    const otherCa = createCertificateAuthority('intruder');
    const client = issueCertificate(otherCa, { commonName: 'mallory', organizations: ['system:masters'], usage: 'client' });
    const status = await new Promise<number>((resolve, reject) => {
      const request = httpsRequest(
        { host: '127.0.0.1', port: server.port, path: configMapsPath, ca: server.certificates.ca.certificatePem, cert: client.certificatePem, key: client.privateKeyPem, agent: false },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(status).toBe(401);
  });
});

function rawUpgrade(path: string, token: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: server.certificates.ca.certificatePem, servername: 'localhost' }, () => {
      const authorization = token === undefined ? '' : `Authorization: Bearer ${token}\r\n`;
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Protocol: v5.channel.k8s.io\r\n${authorization}\r\n`);
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(received);
    }, 3000);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    socket.on('end', () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe('streaming subresources (connect)', () => {
  test('pods/log: the handler writes the plain-text response itself', async () => {
    const response = await server.request('GET', '/api/v1/namespaces/default/pods/p/log?container=main');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain');
    expect(response.text).toBe('logs of p container=main\n');
  });

  test('pods/exec over an upgrade: authorized as create, handed the raw socket', async () => {
    const answer = await rawUpgrade('/api/v1/namespaces/default/pods/p/exec?command=echo&command=hi&stdout=true', testTokens.admin.token);
    expect(answer.startsWith('HTTP/1.1 101 Switching Protocols')).toBe(true);
    expect(answer).toContain('exec echo hi as admin verb create');
  });

  test.each([
    { case: 'no credentials', path: '/api/v1/namespaces/default/pods/p/exec?command=ls', token: undefined, status: 'HTTP/1.1 401 Unauthorized' },
    { case: 'no permission', path: '/api/v1/namespaces/default/pods/p/exec?command=ls', token: testTokens.alice.token, status: 'HTTP/1.1 403 Forbidden' },
    { case: 'no connect handler', path: '/api/v1/namespaces/default/configmaps/c', token: testTokens.admin.token, status: 'HTTP/1.1 405 Method Not Allowed' },
    { case: 'unknown subresource', path: '/api/v1/namespaces/default/pods/p/attach', token: testTokens.admin.token, status: 'HTTP/1.1 404 Not Found' },
  ])('an upgrade with $case is refused with a Status', async ({ path, token, status }) => {
    const answer = await rawUpgrade(path, token);
    expect(answer.startsWith(status)).toBe(true);
    expect(answer).toContain('"kind":"Status"');
  });
});

describe('logging', () => {
  test('one structured line per request: info for writes, debug for reads', async () => {
    server.logLines.length = 0;
    await server.request('POST', configMapsPath, { body: configMapBody('logged'), headers: json });
    await server.request('GET', `${configMapsPath}/logged`);
    await eventually(() => server.logLines.filter((line) => line.includes('"msg":"request"')).length >= 2);
    const lines = server.logLines.map((line) => JSON.parse(line) as Record<string, unknown>).filter((line) => line.msg === 'request');
    expect(lines[0]).toMatchObject({ level: 'info', method: 'POST', path: configMapsPath, user: 'admin', code: 201, latencyMs: expect.any(Number) });
    expect(lines[1]).toMatchObject({ level: 'debug', method: 'GET', path: `${configMapsPath}/logged`, code: 200 });
  });
});

describe('robustness', () => {
  test('seeded fuzz of malformed requests never yields a 5xx or kills the server', async () => {
    const seed = 20240601;
    const random = SeededRandom.fromSeed(seed);
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND'];
    const segments = ['api', 'apis', 'v1', 'namespaces', 'default', 'configmaps', 'watch', 'status', '%', '%2e%2e', '%00', 'ü', '..', '', 'x'.repeat(300), 'cm', 'pods', 'eviction'];
    const queries = ['', '?watch=1&timeoutSeconds=0', '?limit=%ff', '?labelSelector=!!', '?timeout=1h', '?dryRun=All&dryRun=x', '?fieldSelector=metadata.name%3D'];
    const contentTypes = ['application/json', 'application/yaml', 'application/apply-patch+yaml', 'application/json-patch+json', 'application/vnd.kubernetes.protobuf', ''];
    const bodies = ['', '{', 'null', '[]', '{"metadata":{"name":7}}', '- a\n- b', 'a: *unknown', '\u0000\u0001', 'k8s\u0000\u00ff'];
    for (let index = 0; index < 150; index += 1) {
      const path = '/' + Array.from({ length: random.int(0, 6) }, () => random.pick(segments)).join('/') + random.pick(queries);
      const method = random.pick(methods);
      const contentType = random.pick(contentTypes);
      const headers: Record<string, string> = contentType === '' ? {} : { 'Content-Type': contentType };
      if (random.chance(0.3)) headers.Accept = random.pick(['application/json;as=Table;v=v9;g=meta.k8s.io', 'text/html', '*/*;q=0', 'application/json;as=Table;v=v1;g=meta.k8s.io']);
      const body = method === 'GET' || method === 'HEAD' ? undefined : random.pick(bodies);
      const response = await server.request(method, path.includes('watch') ? path.replace('timeoutSeconds=0', 'timeoutSeconds=1') : path, { body, headers });
      if (response.status >= 500) throw new Error(`seed ${seed} request ${index}: ${method} ${path} -> ${response.status} ${response.text}`);
    }
    expect((await server.request('GET', '/healthz')).status).toBe(200);
  }, 60_000);

  test('garbage on the TLS socket does not disturb the server', async () => {
    await new Promise<void>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: server.port, ca: server.certificates.ca.certificatePem, servername: 'localhost' }, () => {
        socket.write('NOT HTTP AT ALL\r\n\r\n\u0000\u0000');
      });
      socket.on('data', () => {});
      const timer = setTimeout(() => socket.destroy(), 1000);
      socket.on('close', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.on('error', () => resolve());
    });
    expect((await server.request('GET', '/healthz')).status).toBe(200);
  });
});
