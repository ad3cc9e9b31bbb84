// The kubectl compatibility suite: the real kubectl (v1.32 dispatcher, fresh
// HOME and cache dir) against startKubeApiServer on a real etcd 3.4. Each test
// is a user session as a transcript: the command, what kubectl prints, and
// what the server then holds.

import { writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { issueCertificate } from '../auth';
import { startFakeKubelet, type FakeKubeletTls } from './fake-kubelet';
import { startCluster, type Cluster } from './fixture';

const LECTURE = join(__dirname, '../../../../examples/lecture');

let cluster: Cluster;
let manifestCount = 0;

/** Writes a manifest into the cluster's temp dir and returns its path. */
function manifest(text: string): string {
  manifestCount++;
  const path = join(cluster.directory, `manifest-${manifestCount}.yaml`);
  writeFileSync(path, text);
  return path;
}

async function ok(args: string[]): Promise<string> {
  const result = await cluster.kubectl(args);
  if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${result.code}: ${result.stderr}${result.stdout}`);
  return result.stdout;
}

async function json(args: string[]): Promise<any> {
  return JSON.parse(await ok([...args, '-o', 'json']));
}

/** The table kubectl printed, as rows of whitespace-separated cells (header first). */
function rows(output: string): string[][] {
  return output
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}/));
}

beforeAll(async () => {
  cluster = await startCluster({ config: { kubeletProxy: { scheme: 'https', connectTimeoutMs: 2000 } } });
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('the lecture manifests', () => {
  test('create, get and delete the Deployment, Service and v1beta1 Ingress', async () => {
    const files = ['deployment.yaml', 'service.yaml', 'ingress.yaml'].map((file) => join(LECTURE, file));
    const created = await ok(['create', '-f', files.join(',')]);
    expect(created.trim().split('\n')).toEqual([
      'deployment.apps/ml-model-serving created',
      'service/ml-model-serving-service created',
      'ingress.networking.k8s.io/ml-model-serving-ingress created',
    ]);

    const deployments = rows(await ok(['get', 'deployment', 'ml-model-serving']));
    expect(deployments[0]).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(deployments[1]?.slice(0, 4)).toEqual(['ml-model-serving', '0/10', '0', '0']);

    const services = rows(await ok(['get', 'service', 'ml-model-serving-service']));
    expect(services[0]).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(services[1]?.[1]).toBe('ClusterIP');
    expect(services[1]?.[2]).toMatch(/^10\.96\.\d+\.\d+$/);
    expect(services[1]?.slice(3, 5)).toEqual(['<none>', '80/TCP']);

    const ingresses = rows(await ok(['get', 'ingress']));
    expect(ingresses[0]).toEqual(['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
    expect(ingresses[1]?.slice(0, 3)).toEqual(['ml-model-serving-ingress', '<none>', '*']);

    // Stored as networking.k8s.io/v1, served back in both versions.
    const v1 = await json(['get', 'ingresses.v1.networking.k8s.io', 'ml-model-serving-ingress']);
    expect(v1.spec.rules[0].http.paths[0]).toEqual({
      path: '/app',
      pathType: 'ImplementationSpecific',
      backend: { service: { name: 'ml-model-serving-service', port: { number: 80 } } },
    });
    expect(v1.metadata.annotations['nginx.ingress.kubernetes.io/rewrite-target']).toBe('/');
    const v1beta1 = await json(['get', 'ingresses.v1beta1.networking.k8s.io', 'ml-model-serving-ingress']);
    expect(v1beta1.apiVersion).toBe('networking.k8s.io/v1beta1');
    expect(v1beta1.spec.rules[0].http.paths[0].backend).toEqual({ serviceName: 'ml-model-serving-service', servicePort: 80 });

    const deployment = await json(['get', 'deployment', 'ml-model-serving']);
    expect(deployment.spec.replicas).toBe(10);
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ image: 'ml-serving:1.0', ports: [{ containerPort: 80, protocol: 'TCP' }] });
    expect(deployment.metadata.generation).toBe(1);

    const deleted = await ok(['delete', '-f', files.join(',')]);
    expect(deleted.trim().split('\n')).toEqual([
      'deployment.apps "ml-model-serving" deleted',
      'service "ml-model-serving-service" deleted',
      'ingress.networking.k8s.io "ml-model-serving-ingress" deleted',
    ]);
    const after = await cluster.kubectl(['get', 'deployment', 'ml-model-serving']);
    expect(after.stderr.trim()).toBe('Error from server (NotFound): deployments.apps "ml-model-serving" not found');
  });

  test('apply of the v1beta1 Ingress twice: created, then a no-op patch', async () => {
    const file = join(LECTURE, 'ingress.yaml');
    expect((await ok(['apply', '-f', file])).trim()).toBe('ingress.networking.k8s.io/ml-model-serving-ingress created');
    const before = (await json(['get', 'ingress', 'ml-model-serving-ingress'])).metadata.resourceVersion;
    // rules is an atomic list and the server defaults pathType inside it, so kubectl sends the list again
    // (as against upstream); the server sees nothing new and writes nothing.
    expect((await ok(['apply', '-f', file])).trim()).toBe('ingress.networking.k8s.io/ml-model-serving-ingress configured');
    expect((await json(['get', 'ingress', 'ml-model-serving-ingress'])).metadata.resourceVersion).toBe(before);
    expect(rows(await ok(['get', 'ingress']))[1]?.slice(0, 3)).toEqual(['ml-model-serving-ingress', '<none>', '*']);
    await ok(['delete', '-f', file]);
  });
});

describe('create and apply', () => {
  test('apply twice prints unchanged, a change is patched', async () => {
    const first = manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: blue\n');
    expect((await ok(['apply', '-f', first])).trim()).toBe('configmap/settings created');
    const resourceVersion = (await json(['get', 'cm', 'settings'])).metadata.resourceVersion;
    expect((await ok(['apply', '-f', first])).trim()).toBe('configmap/settings unchanged');
    expect((await json(['get', 'cm', 'settings'])).metadata.resourceVersion).toBe(resourceVersion);

    const changed = manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  size: large\n');
    expect((await ok(['apply', '-f', changed])).trim()).toBe('configmap/settings configured');
    // Three-way merge: the key dropped from the manifest is removed, the new one added.
    expect((await json(['get', 'cm', 'settings'])).data).toEqual({ size: 'large' });
  });

  test('apply --server-side creates, then merges and drops fields the manager no longer applies', async () => {
    const first = manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  labels:\n    tier: web\ndata:\n  a: "1"\n  b: "2"\n');
    expect((await ok(['apply', '--server-side', '-f', first])).trim()).toBe('configmap/ssa serverside-applied');
    await ok(['label', 'cm', 'ssa', 'owner=someone-else']);
    const second = manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  labels:\n    tier: web\ndata:\n  a: "10"\n');
    expect((await ok(['apply', '--server-side', '-f', second])).trim()).toBe('configmap/ssa serverside-applied');
    const object = await json(['get', 'cm', 'ssa', '--show-managed-fields']);
    expect(object.data).toEqual({ a: '10' });
    expect(object.metadata.labels).toEqual({ tier: 'web', owner: 'someone-else' });
    const managers = object.metadata.managedFields.map((entry: { manager: string; operation: string }) => `${entry.manager}/${entry.operation}`);
    expect(managers).toEqual(expect.arrayContaining(['kubectl/Apply', 'kubectl-label/Update']));
  });

  test('apply --server-side over fields another manager owns: 409 with upstream wording, --force-conflicts takes them', async () => {
    const deployment = (replicas: number): string =>
      manifest(
        `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: owned\nspec:\n  replicas: ${replicas}\n  selector: {matchLabels: {app: owned}}\n  template:\n    metadata: {labels: {app: owned}}\n    spec:\n      containers: [{name: main, image: nginx}]\n`,
      );
    await ok(['create', '-f', deployment(1)]);
    // The same values are no conflict: the fields become shared.
    expect((await ok(['apply', '--server-side', '-f', deployment(1)])).trim()).toBe('deployment.apps/owned serverside-applied');
    const refused = await cluster.kubectl(['apply', '--server-side', '-f', deployment(3)]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-create" using apps/v1: .spec.replicas');
    expect((await json(['get', 'deployment', 'owned'])).spec.replicas).toBe(1);
    expect((await ok(['apply', '--server-side', '--force-conflicts', '-f', deployment(3)])).trim()).toBe('deployment.apps/owned serverside-applied');
    const object = await json(['get', 'deployment', 'owned', '--show-managed-fields']);
    expect(object.spec.replicas).toBe(3);
    const owners = object.metadata.managedFields.filter((entry: any) => entry.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined).map((entry: any) => entry.manager);
    expect(owners).toEqual(['kubectl']);
    await ok(['delete', 'deployment', 'owned']);
  });

  test('create twice answers AlreadyExists', async () => {
    const file = manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: twice\n');
    await ok(['create', '-f', file]);
    const again = await cluster.kubectl(['create', '-f', file]);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`Error from server (AlreadyExists): error when creating "${file}": configmaps "twice" already exists`);
  });

  test('an invalid manifest names the fields (422)', async () => {
    const file = manifest(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: bad\nspec:\n  replicas: -1\n  template:\n    metadata:\n      labels:\n        app: bad\n    spec:\n      containers:\n      - name: c\n        image: nginx\n',
    );
    const result = await cluster.kubectl(['create', '-f', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The Deployment "bad" is invalid: \n');
    expect(result.stderr).toContain('* spec.selector: Required value\n');
    expect(result.stderr).toContain('* spec.replicas: Invalid value: -1: must be greater than or equal to 0\n');
  });

  test('unknown fields are 422 under fieldValidation=Strict, a warning under Warn', async () => {
    const file = manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: odd\nspec:\n  nope: 1\n');
    const result = await cluster.kubectl(['create', '-f', file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('The ConfigMap "odd" is invalid: spec: unknown field "spec"');
    const deploymentFile = manifest(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: typo\nspec:\n  replicas: 1\n  foo: 1\n  selector: {matchLabels: {app: typo}}\n  template:\n    metadata: {labels: {app: typo}}\n    spec:\n      containers: [{name: main, image: nginx, imagePullPolcy: Always}]\n',
    );
    const strict = await cluster.kubectl(['create', '-f', deploymentFile]);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('The Deployment "typo" is invalid: \n');
    expect(strict.stderr).toContain('* spec.foo: unknown field "spec.foo"\n');
    expect(strict.stderr).toContain('* spec.template.spec.containers[0].imagePullPolcy: unknown field "spec.template.spec.containers[0].imagePullPolcy"\n');
    const warned = await cluster.kubectl(['create', '--validate=warn', '-f', deploymentFile]);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toContain('Warning: unknown field "spec.foo"');
    expect(warned.stdout.trim()).toBe('deployment.apps/typo created');
    await ok(['delete', 'deployment', 'typo']);
  });

  test('creating in a missing namespace fails as upstream', async () => {
    const file = manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: nowhere\n');
    const result = await cluster.kubectl(['create', '-f', file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`Error from server (NotFound): error when creating "${file}": namespaces "nowhere" not found`);
  });

  test('a Service asking for a taken cluster IP is refused', async () => {
    const first = manifest('apiVersion: v1\nkind: Service\nmetadata:\n  name: dns\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n  - port: 53\n    protocol: UDP\n');
    await ok(['create', '-f', first]);
    const second = manifest('apiVersion: v1\nkind: Service\nmetadata:\n  name: dns2\nspec:\n  clusterIP: 10.96.0.10\n  ports:\n  - port: 53\n    protocol: UDP\n');
    const result = await cluster.kubectl(['create', '-f', second]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The Service "dns2" is invalid: spec.clusterIP: Invalid value: "10.96.0.10": provided IP is already allocated');
    // Freed on delete: the address can be taken again.
    await ok(['delete', 'service', 'dns']);
    expect((await ok(['create', '-f', second])).trim()).toBe('service/dns2 created');
  });
});

describe('reads', () => {
  test('get prints the Pod table, -o wide adds columns, -A and --show-labels use row metadata', async () => {
    await ok(['run', 'web', '--image=nginx:1.25', '--labels=app=web']);
    const table = rows(await ok(['get', 'pods']));
    expect(table[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(table.find((row) => row[0] === 'web')?.slice(0, 4)).toEqual(['web', '0/1', 'Pending', '0']);
    const wide = rows(await ok(['get', 'pods', '-o', 'wide']));
    expect(wide[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    expect(wide.find((row) => row[0] === 'web')?.slice(5)).toEqual(['<none>', '<none>', '<none>', '<none>']);
    const all = rows(await ok(['get', 'pods', '-A', '--show-labels']));
    expect(all[0]).toEqual(['NAMESPACE', 'NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'LABELS']);
    expect(all.find((row) => row[1] === 'web')?.[6]).toBe('app=web');
  });

  test('get -o yaml shows the stored pod with admission defaults', async () => {
    const pod = parseYaml(await ok(['get', 'pod', 'web', '-o', 'yaml']));
    expect(pod.status).toMatchObject({ phase: 'Pending', qosClass: 'BestEffort' });
    expect(pod.spec.serviceAccountName).toBe('default');
    expect(pod.spec.tolerations).toEqual(
      expect.arrayContaining([
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ]),
    );
  });

  test('get -w prints changes as they happen', async () => {
    const watcher = cluster.spawnKubectl(['get', 'configmaps', '-w', '--request-timeout', '0']);
    let output = '';
    watcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await waitFor(() => output.includes('settings'), 15_000);
      await ok(['create', '-f', manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: watched\ndata:\n  k: v\n')]);
      await waitFor(() => /^watched\s+1\s+/m.test(output), 15_000);
    } finally {
      watcher.kill();
    }
  });

  test('describe pod lists its events through a field selector', async () => {
    const uid = (await json(['get', 'pod', 'web'])).metadata.uid;
    const event = manifest(
      [
        'apiVersion: v1',
        'kind: Event',
        'metadata:',
        '  name: web.1',
        'involvedObject:',
        '  apiVersion: v1',
        '  kind: Pod',
        '  name: web',
        '  namespace: default',
        `  uid: ${uid}`,
        'reason: Scheduled',
        'message: Successfully assigned default/web to worker-1',
        'type: Normal',
        'source:',
        '  component: default-scheduler',
        'count: 1',
        `firstTimestamp: "${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}"`,
        `lastTimestamp: "${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}"`,
        '',
      ].join('\n'),
    );
    await ok(['create', '-f', event]);
    const unrelated = manifest('apiVersion: v1\nkind: Event\nmetadata:\n  name: other.1\ninvolvedObject:\n  kind: Pod\n  name: other\n  namespace: default\nreason: Unrelated\nmessage: not about web\n');
    await ok(['create', '-f', unrelated]);
    const described = await ok(['describe', 'pod', 'web']);
    expect(described).toMatch(/^Name:\s+web$/m);
    expect(described).toMatch(/Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/web to worker-1/);
    expect(described).not.toContain('Unrelated');
    const events = rows(await ok(['get', 'events', '--field-selector', 'involvedObject.name=web']));
    expect(events[0]).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(events[1]?.slice(1)).toEqual(['Normal', 'Scheduled', 'pod/web', 'Successfully assigned default/web to worker-1']);
  });

  test('a missing object prints NotFound', async () => {
    const result = await cluster.kubectl(['get', 'pod', 'nope']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
  });
});

describe('changes', () => {
  test('label and annotate', async () => {
    expect((await ok(['label', 'pod', 'web', 'tier=frontend'])).trim()).toBe('pod/web labeled');
    expect((await ok(['annotate', 'pod', 'web', 'note=hello'])).trim()).toBe('pod/web annotated');
    const pod = await json(['get', 'pod', 'web']);
    expect(pod.metadata.labels).toEqual({ app: 'web', tier: 'frontend' });
    expect(pod.metadata.annotations).toEqual({ note: 'hello' });
    expect(rows(await ok(['get', 'pods', '-l', 'tier=frontend', '-o', 'name']))).toEqual([['pod/web']]);
  });

  test('a stale update is a Conflict', async () => {
    await ok(['create', '-f', manifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  a: "1"\n')]);
    const stale = await json(['get', 'cm', 'cfg']);
    await ok(['patch', 'cm', 'cfg', '-p', '{"data":{"a":"2"}}']);
    stale.data.a = '3';
    const file = manifest(JSON.stringify(stale));
    const result = await cluster.kubectl(['replace', '-f', file]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      `Error from server (Conflict): error when replacing "${file}": Operation cannot be fulfilled on configmaps "cfg": the object has been modified; please apply your changes to the latest version and try again`,
    );
  });

  test('scale a deployment; --current-replicas with a stale count fails', async () => {
    await ok([
      'create',
      '-f',
      manifest(
        'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: api\n  template:\n    metadata:\n      labels:\n        app: api\n    spec:\n      containers:\n      - name: api\n        image: api:1\n',
      ),
    ]);
    expect((await ok(['scale', 'deployment', 'api', '--replicas=3'])).trim()).toBe('deployment.apps/api scaled');
    const deployment = await json(['get', 'deployment', 'api']);
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.metadata.generation).toBe(2);
    expect((await ok(['scale', 'deployment', 'api', '--current-replicas=3', '--replicas=4'])).trim()).toBe('deployment.apps/api scaled');
    const stale = await cluster.kubectl(['scale', 'deployment', 'api', '--current-replicas=3', '--replicas=5']);
    expect(stale.code).toBe(1);
    expect(stale.stderr.trim()).toBe('error: Expected replicas to be 3, was 4');
    // The server's own guard: a Scale PUT with an old resourceVersion (and no Content-Type handling needed).
    const scale = JSON.parse(await ok(['get', '--raw', '/apis/apps/v1/namespaces/default/deployments/api/scale']));
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 }, status: { selector: 'app=api' } });
    await ok(['scale', 'deployment', 'api', '--replicas=2']);
    const file = manifest(JSON.stringify({ ...scale, spec: { replicas: 7 } }));
    const conflict = await cluster.kubectl(['replace', '--raw', '/apis/apps/v1/namespaces/default/deployments/api/scale', '-f', file]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr.trim()).toBe(
      'Error from server (Conflict): Operation cannot be fulfilled on deployments.apps "api": the object has been modified; please apply your changes to the latest version and try again',
    );
    expect((await json(['get', 'deployment', 'api'])).spec.replicas).toBe(2);
  });

  test('rollout history and undo read the ReplicaSets', async () => {
    const deployment = await json(['get', 'deployment', 'api']);
    const template = (image: string, hash: string): object => ({
      metadata: { labels: { app: 'api', 'pod-template-hash': hash } },
      spec: { containers: [{ name: 'api', image }] },
    });
    const replicaSet = (revision: number, image: string, hash: string): object => ({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: `api-${hash}`,
        labels: { app: 'api', 'pod-template-hash': hash },
        annotations: { 'deployment.kubernetes.io/revision': String(revision) },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', uid: deployment.metadata.uid, controller: true, blockOwnerDeletion: true }],
      },
      spec: { replicas: 0, selector: { matchLabels: { app: 'api', 'pod-template-hash': hash } }, template: template(image, hash) },
    });
    await ok(['create', '-f', manifest(JSON.stringify(replicaSet(1, 'api:1', 'aaaa1')))]);
    await ok(['set', 'image', 'deployment/api', 'api=api:2']);
    await ok(['create', '-f', manifest(JSON.stringify(replicaSet(2, 'api:2', 'bbbb2')))]);
    await ok(['annotate', 'deployment', 'api', 'deployment.kubernetes.io/revision=2']);

    const history = await ok(['rollout', 'history', 'deployment/api']);
    expect(rows(history).slice(1)).toEqual([['REVISION', 'CHANGE-CAUSE'], ['1', '<none>'], ['2', '<none>']]);
    expect((await ok(['rollout', 'undo', 'deployment/api'])).trim()).toBe('deployment.apps/api rolled back');
    const after = await json(['get', 'deployment', 'api']);
    expect(after.spec.template.spec.containers[0].image).toBe('api:1');
    expect(after.spec.template.metadata.labels).toEqual({ app: 'api' });
  });

  test('delete: an unbound pod goes at once, a bound one terminates gracefully', async () => {
    expect((await ok(['delete', 'pod', 'web'])).trim()).toBe('pod "web" deleted');
    expect((await cluster.kubectl(['get', 'pod', 'web'])).code).toBe(1);

    await ok(['run', 'bound', '--image=nginx']);
    const binding = manifest(JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { apiVersion: 'v1', kind: 'Node', name: 'worker-1' } }));
    await ok(['create', '--raw', '/api/v1/namespaces/default/pods/bound/binding', '-f', binding]);
    const again = await cluster.kubectl(['create', '--raw', '/api/v1/namespaces/default/pods/bound/binding', '-f', binding]);
    expect(again.stderr.trim()).toBe('Error from server (Conflict): Operation cannot be fulfilled on pods/binding "bound": pod bound is already assigned to node "worker-1"');
    const bound = await json(['get', 'pod', 'bound']);
    expect(bound.spec.nodeName).toBe('worker-1');
    expect(bound.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);

    expect((await ok(['delete', 'pod', 'bound', '--wait=false'])).trim()).toBe('pod "bound" deleted');
    const terminating = await json(['get', 'pod', 'bound']);
    expect(terminating.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(rows(await ok(['get', 'pod', 'bound']))[1]?.[2]).toBe('Terminating');
    // What the kubelet does once the containers stopped.
    await ok(['delete', 'pod', 'bound', '--grace-period=0', '--force']);
    expect((await cluster.kubectl(['get', 'pod', 'bound'])).code).toBe(1);
  });
});

describe('streaming through the kubelet', () => {
  const node = (name: string, port: number): string =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } },
    });
  const boundPod = (name: string, nodeName: string): string =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName, containers: [{ name: 'app', image: 'app:1' }] } });
  /** A kubelet serving certificate from the cluster CA, accepting client certificates of the same CA, as a launched node has. */
  const kubeletTls = (): FakeKubeletTls => {
    const { ca } = cluster.apiServer.certificates;
    const serving = issueCertificate(ca, { commonName: 'kubelet-node', subjectAltNames: ['127.0.0.1'], usage: 'server' });
    return { ...serving, clientCaPem: ca.certificatePem };
  };
  /** Status code of a request to the kubelet made without any client certificate. */
  const anonymousStatus = (port: number, path: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const outgoing = httpsRequest({ host: '127.0.0.1', port, path, rejectUnauthorized: false, agent: false }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      outgoing.on('error', reject);
      outgoing.end();
    });

  test('logs and exec are relayed to the node\'s kubelet, which the API server authenticates to with its client certificate', async () => {
    const kubelet = await startFakeKubelet('line one\nline two\n', kubeletTls());
    try {
      expect(await anonymousStatus(kubelet.port, '/containerLogs/default/logger/app')).toBe(401);
      expect(kubelet.rejected).toBe(1);
      await ok(['create', '-f', manifest(node('kubelet-node', kubelet.port))]);
      await ok(['create', '-f', manifest(boundPod('logger', 'kubelet-node'))]);
      expect(await ok(['logs', 'logger', '--tail=5'])).toBe('line one\nline two\n');
      expect(kubelet.paths[0]).toBe('/containerLogs/default/logger/app?tailLines=5');
      const exec = await cluster.kubectl(['exec', 'logger', '--', 'echo', 'hi']);
      expect(exec).toEqual({ code: 0, stdout: 'hi\n', stderr: '' });
      expect(kubelet.paths[1]).toMatch(/^\/exec\/default\/logger\/app\?command=echo&command=hi/);
      expect(kubelet.rejected).toBe(1);
    } finally {
      await kubelet.stop();
    }
  });

  test('an unreachable kubelet is a 503 naming the node', async () => {
    const kubelet = await startFakeKubelet('');
    const port = kubelet.port;
    await kubelet.stop();
    await ok(['create', '-f', manifest(node('gone-node', port))]);
    await ok(['create', '-f', manifest(boundPod('orphaned', 'gone-node'))]);
    const logs = await cluster.kubectl(['logs', 'orphaned']);
    expect(logs.code).toBe(1);
    expect(logs.stderr).toContain(`Error from server (ServiceUnavailable): unable to reach the kubelet of node "gone-node" at 127.0.0.1:${port}`);
    const unbound = await cluster.kubectl(['logs', 'web-unbound-does-not-exist']);
    expect(unbound.stderr.trim()).toBe('error: error from server (NotFound): pods "web-unbound-does-not-exist" not found in namespace "default"');
  });
});

async function waitFor(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
