// The real kubectl's generators (create deployment|configmap|secret|...) POST
// protobuf bodies. Each command here runs against the API server on a real
// etcd, through a proxy that checks the body really was protobuf; then
// `get -o json` shows what the server stored. Answers stay JSON throughout.
//
// KUBE_LITE_UPDATE_PROTOBUF_GOLDEN=1 also writes each captured body to
// testdata/<name>.pb for golden.test.ts.

import { writeFileSync } from 'node:fs';
import * as https from 'node:https';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../../compat/fixture';
import { PROTOBUF_MEDIA_TYPE } from './decode';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy';
import { encodeBody, encodeEnvelope } from './test-encoder';

const updateGolden = process.env.KUBE_LITE_UPDATE_PROTOBUF_GOLDEN === '1';
const TESTDATA = join(__dirname, 'testdata');

let cluster: Cluster;
let proxy: RecordingProxy;

beforeAll(async () => {
  cluster = await startCluster();
  const serving = cluster.apiServer.certificates.serving;
  proxy = await startRecordingProxy({
    targetUrl: cluster.apiServer.url,
    caPem: cluster.apiServer.caPem,
    certificatePem: serving.certificatePem,
    privateKeyPem: serving.privateKeyPem,
  });
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await cluster?.stop();
});

/** Runs kubectl through the proxy; fails with kubectl's own output when it exits non-zero. */
async function ok(args: string[]): Promise<string> {
  const result = await cluster.kubectl(['--server', proxy.url, ...args]);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

async function getJson(args: string[]): Promise<any> {
  return JSON.parse(await ok(['get', ...args, '-o', 'json']));
}

/**
 * Runs a create-style command, checks it POSTed exactly one body of `mediaType` to `collectionPath` and returns
 * kubectl's output (which it printed from our JSON answer).
 */
async function create(name: string, args: string[], collectionPath: string, mediaType = PROTOBUF_MEDIA_TYPE): Promise<string> {
  const first = proxy.nextSequence();
  const stdout = await ok(args);
  const posts = proxy.requests.filter((request) => request.sequence >= first && request.method === 'POST' && request.path.split('?')[0] === collectionPath);
  expect(posts.map((post) => post.contentType.split(';')[0])).toEqual([mediaType]);
  if (updateGolden && mediaType === PROTOBUF_MEDIA_TYPE) writeFileSync(join(TESTDATA, `${name}.pb`), posts[0]?.body ?? Buffer.alloc(0));
  return stdout.trim();
}

const NS = '/api/v1/namespaces/default';

describe('kubectl generators send protobuf and the server decodes it', () => {
  test('create configmap --from-literal', async () => {
    expect(await create('configmap', ['create', 'configmap', 'cfg', '--from-literal=a=b', '--from-literal=empty='], `${NS}/configmaps`)).toBe('configmap/cfg created');
    const object = await getJson(['configmap', 'cfg']);
    expect(object.data).toEqual({ a: 'b', empty: '' });
    expect(object.metadata.uid).toMatch(/./);
  });

  test('create secret generic --from-literal', async () => {
    expect(await create('secret', ['create', 'secret', 'generic', 'sec', '--from-literal=password=s3cret'], `${NS}/secrets`)).toBe('secret/sec created');
    const object = await getJson(['secret', 'sec']);
    expect(object.data).toEqual({ password: Buffer.from('s3cret').toString('base64') });
    expect(object.type).toBe('Opaque');
  });

  test('create deployment --image --replicas --port', async () => {
    const out = await create('deployment', ['create', 'deployment', 'web', '--image=ml-serving:1.0', '--replicas=2', '--port=80'], '/apis/apps/v1/namespaces/default/deployments');
    expect(out).toBe('deployment.apps/web created');
    const object = await getJson(['deployment', 'web']);
    expect(object.spec.replicas).toBe(2);
    expect(object.spec.selector).toEqual({ matchLabels: { app: 'web' } });
    expect(object.spec.template.metadata.labels).toEqual({ app: 'web' });
    expect(object.spec.template.spec.containers).toHaveLength(1);
    expect(object.spec.template.spec.containers[0]).toMatchObject({ name: 'ml-serving', image: 'ml-serving:1.0', ports: [{ containerPort: 80, protocol: 'TCP' }] });
    expect(object.spec.strategy.type).toBe('RollingUpdate');
  });

  test('create service clusterip --tcp', async () => {
    expect(await create('service', ['create', 'service', 'clusterip', 'backend', '--tcp=80:8080'], `${NS}/services`)).toBe('service/backend created');
    const object = await getJson(['service', 'backend']);
    expect(object.spec.type).toBe('ClusterIP');
    expect(object.spec.ports).toEqual([{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }]);
    expect(object.spec.selector).toEqual({ app: 'backend' });
    expect(object.spec.clusterIP).toMatch(/^10\.96\.\d+\.\d+$/);
  });

  test('create namespace', async () => {
    expect(await create('namespace', ['create', 'namespace', 'team-a'], '/api/v1/namespaces')).toBe('namespace/team-a created');
    expect((await getJson(['namespace', 'team-a'])).status.phase).toBe('Active');
  });

  test('create job -- command', async () => {
    expect(await create('job', ['create', 'job', 'hello', '--image=busybox', '--', 'echo', 'hi'], '/apis/batch/v1/namespaces/default/jobs')).toBe('job.batch/hello created');
    const object = await getJson(['job', 'hello']);
    expect(object.spec.template.spec.containers[0]).toMatchObject({ name: 'hello', image: 'busybox', command: ['echo', 'hi'] });
    expect(object.spec.template.spec.restartPolicy).toBe('Never');
  });

  test('create cronjob --schedule', async () => {
    const args = ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/1 * * * *', '--', 'date'];
    expect(await create('cronjob', args, '/apis/batch/v1/namespaces/default/cronjobs')).toBe('cronjob.batch/tick created');
    const object = await getJson(['cronjob', 'tick']);
    expect(object.spec.schedule).toBe('*/1 * * * *');
    expect(object.spec.jobTemplate.spec.template.spec.containers[0]).toMatchObject({ image: 'busybox', command: ['date'] });
    expect(object.spec.jobTemplate.spec.template.spec.restartPolicy).toBe('OnFailure');
  });

  test('create serviceaccount', async () => {
    expect(await create('serviceaccount', ['create', 'serviceaccount', 'robot'], `${NS}/serviceaccounts`)).toBe('serviceaccount/robot created');
    expect((await getJson(['serviceaccount', 'robot'])).metadata.name).toBe('robot');
  });

  test('create role and rolebinding', async () => {
    const rbac = '/apis/rbac.authorization.k8s.io/v1/namespaces/default';
    expect(await create('role', ['create', 'role', 'reader', '--verb=get,list', '--resource=pods,deployments.apps'], `${rbac}/roles`)).toBe('role.rbac.authorization.k8s.io/reader created');
    expect((await getJson(['role', 'reader'])).rules).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
    ]);
    const binding = ['create', 'rolebinding', 'reader-binding', '--role=reader', '--serviceaccount=default:robot', '--user=alice'];
    expect(await create('rolebinding', binding, `${rbac}/rolebindings`)).toBe('rolebinding.rbac.authorization.k8s.io/reader-binding created');
    const object = await getJson(['rolebinding', 'reader-binding']);
    expect(object.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
    expect(object.subjects).toHaveLength(2);
    expect(object.subjects[0]).toEqual({ kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'alice' });
    expect(object.subjects[1]).toMatchObject({ kind: 'ServiceAccount', name: 'robot', namespace: 'default' });
  });

  test('create clusterrole and clusterrolebinding', async () => {
    const rbac = '/apis/rbac.authorization.k8s.io/v1';
    expect(await create('clusterrole', ['create', 'clusterrole', 'node-reader', '--verb=get', '--resource=nodes'], `${rbac}/clusterroles`)).toBe(
      'clusterrole.rbac.authorization.k8s.io/node-reader created',
    );
    expect((await getJson(['clusterrole', 'node-reader'])).rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }]);
    const binding = ['create', 'clusterrolebinding', 'node-reader-binding', '--clusterrole=node-reader', '--group=ops'];
    expect(await create('clusterrolebinding', binding, `${rbac}/clusterrolebindings`)).toBe('clusterrolebinding.rbac.authorization.k8s.io/node-reader-binding created');
    expect((await getJson(['clusterrolebinding', 'node-reader-binding'])).subjects).toEqual([{ kind: 'Group', apiGroup: 'rbac.authorization.k8s.io', name: 'ops' }]);
  });

  test('create ingress --rule', async () => {
    const args = ['create', 'ingress', 'site', '--rule=example.com/app*=backend:80', '--rule=/exact=backend:http'];
    expect(await create('ingress', args, '/apis/networking.k8s.io/v1/namespaces/default/ingresses')).toBe('ingress.networking.k8s.io/site created');
    const object = await getJson(['ingress', 'site']);
    expect(object.spec.rules).toEqual([
      { host: 'example.com', http: { paths: [{ path: '/app', pathType: 'Prefix', backend: { service: { name: 'backend', port: { number: 80 } } } }] } },
      { http: { paths: [{ path: '/exact', pathType: 'Exact', backend: { service: { name: 'backend', port: { name: 'http' } } } }] } },
    ]);
  });

  test('create poddisruptionbudget --min-available', async () => {
    const args = ['create', 'poddisruptionbudget', 'web-pdb', '--selector=app=web', '--min-available=1'];
    expect(await create('poddisruptionbudget', args, '/apis/policy/v1/namespaces/default/poddisruptionbudgets')).toBe('poddisruptionbudget.policy/web-pdb created');
    const object = await getJson(['poddisruptionbudget', 'web-pdb']);
    expect(object.spec).toEqual({ minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
  });

  // run and expose build their objects as unstructured maps and send JSON (measured); they are here because
  // users reach for them next to the generators above.
  test('run a pod (JSON body)', async () => {
    const args = ['run', 'solo', '--image=busybox', '--labels=tier=debug', '--env=MODE=test', '--port=8080', '--', 'sleep', '3600'];
    expect(await create('pod', args, `${NS}/pods`, 'application/json')).toBe('pod/solo created');
    const object = await getJson(['pod', 'solo']);
    expect(object.metadata.labels).toEqual({ tier: 'debug' });
    expect(object.spec.containers[0]).toMatchObject({ name: 'solo', image: 'busybox', args: ['sleep', '3600'], env: [{ name: 'MODE', value: 'test' }], ports: [{ containerPort: 8080 }] });
    expect(object.spec.restartPolicy).toBe('Always');
  });

  test('expose deployment (JSON body)', async () => {
    const args = ['expose', 'deployment', 'web', '--name=web-svc', '--port=8000', '--target-port=80'];
    expect(await create('expose', args, `${NS}/services`, 'application/json')).toBe('service/web-svc exposed');
    const object = await getJson(['service', 'web-svc']);
    expect(object.spec.selector).toEqual({ app: 'web' });
    expect(object.spec.ports).toEqual([{ port: 8000, protocol: 'TCP', targetPort: 80 }]);
  });

  test('a kind the server does not serve is a 404 from kubectl, before any decoding', async () => {
    const result = await cluster.kubectl(['--server', proxy.url, 'create', 'quota', 'q', '--hard=pods=2']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('error: failed to create quota: the server could not find the requested resource');
  });
});

/** Sends a raw protobuf body straight to the API server, as the admin. */
async function send(method: string, path: string, body: Buffer): Promise<{ code: number; body: any }> {
  return new Promise((resolve, reject) => {
    const url = new URL(path, cluster.apiServer.url);
    const headers = { 'content-type': PROTOBUF_MEDIA_TYPE, accept: `${PROTOBUF_MEDIA_TYPE}, application/json`, authorization: `Bearer ${cluster.apiServer.adminToken}` };
    const request = https.request(url, { method, headers, ca: cluster.apiServer.caPem }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        expect(response.headers['content-type']).toMatch(/^application\/json/);
        resolve({ code: response.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

describe('protobuf bodies over HTTP, answered in JSON', () => {
  test('PUT (update) of a ConfigMap', async () => {
    const current = await getJson(['configmap', 'cfg']);
    const body = encodeBody({ apiVersion: 'v1', kind: 'ConfigMap' }, 'k8s.io.api.core.v1.ConfigMap', {
      metadata: { name: 'cfg', namespace: 'default', resourceVersion: current.metadata.resourceVersion, creationTimestamp: {} },
      data: { a: 'changed' },
    });
    const answer = await send('PUT', `${NS}/configmaps/cfg`, body);
    expect(answer.code).toBe(200);
    expect(answer.body).toMatchObject({ kind: 'ConfigMap', data: { a: 'changed' } });
    expect((await getJson(['configmap', 'cfg'])).data).toEqual({ a: 'changed' });
  });

  test('a served kind we do not decode is a 415 naming the kind and pointing to JSON', async () => {
    const body = encodeEnvelope({ typeMeta: { apiVersion: 'v1', kind: 'PersistentVolumeClaim' }, raw: Buffer.from([0x0a, 0x00]) });
    const answer = await send('POST', `${NS}/persistentvolumeclaims`, body);
    expect(answer.code).toBe(415);
    expect(answer.body).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'UnsupportedMediaType', code: 415 });
    expect(answer.body.message).toContain('kind PersistentVolumeClaim');
    expect(answer.body.message).toContain('kubectl create -f FILE');
  });

  test('a malformed body is a 400', async () => {
    const answer = await send('POST', `${NS}/configmaps`, Buffer.from('k8s\0\x12\x40', 'binary'));
    expect(answer.code).toBe(400);
    expect(answer.body.message).toMatch(/^malformed protobuf body/);
  });
});
