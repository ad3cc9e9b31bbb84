// The registry against a real etcd 3.4 and, when built, etcd-lite: the same
// cases must hold on both. Handlers are called as the HTTP frame calls them.

import { etcdLiteAvailable, type EtcdImplementation } from '@kube-lite/testing';
import { Client, eventually, startTestRegistry, statusOf, type TestRegistry } from './test-support';

const implementations: EtcdImplementation[] = ['etcd', ...(etcdLiteAvailable() && process.env.KUBE_LITE_SKIP_ETCD_LITE !== '1' ? (['etcd-lite'] as const) : [])];

const deployment = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { app: name } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'nginx:1' }] } },
  },
  ...extra,
});

const pod = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, labels: { app: 'web' } },
  spec: { containers: [{ name: 'main', image: 'nginx:1' }], ...extra },
});

describe.each(implementations)('registry on %s', (implementation) => {
  let test_: TestRegistry;
  let configMaps: Client;
  let deployments: Client;
  let pods: Client;
  let services: Client;
  let namespaces: Client;

  beforeAll(async () => {
    test_ = await startTestRegistry(implementation, { watchCache: { eventBufferSize: 50, bookmarkIntervalMs: 200 } });
    configMaps = new Client(test_.registry, '', 'configmaps');
    deployments = new Client(test_.registry, 'apps', 'deployments');
    pods = new Client(test_.registry, '', 'pods');
    services = new Client(test_.registry, '', 'services');
    namespaces = new Client(test_.registry, '', 'namespaces');
  }, 60_000);

  afterAll(async () => {
    await test_?.stop();
  });

  describe('create', () => {
    test('assigns uid, timestamps and generation, and resets status of kinds with a status subresource', async () => {
      const created = await deployments.create(deployment('assign', { status: { replicas: 99 } }), { namespace: 'default' });
      expect(created.metadata).toMatchObject({ name: 'assign', namespace: 'default', generation: 1 });
      expect(created.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(created.metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(created.metadata.resourceVersion).toMatch(/^\d+$/);
      expect(created.status).toBeUndefined();
      expect(created.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
      const configMap = await configMaps.create({ metadata: { name: 'plain', generation: 7 }, data: { a: '1' } }, { namespace: 'default' });
      expect(configMap.metadata.generation).toBeUndefined();
    });

    test.each([
      ['generateName', { metadata: { generateName: 'web-' } }, (name: string) => /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/.test(name)],
      ['explicit name', { metadata: { name: 'explicit' } }, (name: string) => name === 'explicit'],
    ])('names: %s', async (_label, body, check) => {
      const created = await configMaps.create(body, { namespace: 'default' });
      expect(check(created.metadata.name)).toBe(true);
    });

    test.each([
      ['namespace mismatch', { metadata: { name: 'x', namespace: 'other' } }, {}, 400, 'the namespace of the provided object does not match the namespace sent on the request'],
      ['no name', { metadata: {} }, {}, 422, 'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'],
      ['unknown field, Strict', { metadata: { name: 'x' }, extra: 1 }, {}, 422, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "extra"'],
      ['duplicate field, Strict', { metadata: { name: 'x' }, data: { a: '2' } }, { duplicateFields: ['data.a'] }, 422, 'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: duplicate field "data.a"'],
      ['wrong apiVersion', { apiVersion: 'v2', metadata: { name: 'x' } }, {}, 400, 'the API version in the data (v2) does not match the expected API version (v1)'],
      ['missing namespace', { metadata: { name: 'x' } }, { namespace: 'nowhere' }, 404, 'namespaces "nowhere" not found'],
    ])('rejects: %s', async (_label, body, options, code, message) => {
      const error = await statusOf(configMaps.create(body, { namespace: 'default', ...options }));
      expect({ code: error.code, message: error.message }).toEqual({ code, message });
    });

    test('Strict names every unknown and duplicate field as a cause kubectl prints', async () => {
      const error = await statusOf(deployments.create(deployment('strict', { spec: { ...(deployment('strict').spec as object), foo: 1 } }), { namespace: 'default', duplicateFields: ['spec.replicas'] }));
      expect(error.toStatus()).toMatchObject({
        code: 422,
        reason: 'Invalid',
        message: 'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: duplicate field "spec.replicas", unknown field "spec.foo"',
        details: {
          name: 'strict',
          group: 'apps',
          kind: 'Deployment',
          causes: [
            { reason: 'FieldValueDuplicate', field: 'spec.replicas', message: 'duplicate field "spec.replicas"' },
            { reason: 'FieldValueInvalid', field: 'spec.foo', message: 'unknown field "spec.foo"' },
          ],
        },
      });
    });

    test('fieldValidation=Warn stores the object and warns; dryRun stores nothing', async () => {
      const warnings: string[] = [];
      await configMaps.create({ metadata: { name: 'warned' }, extra: 1 }, { namespace: 'default', fieldValidation: 'Warn', warnings, duplicateFields: ['data'] });
      expect(warnings).toEqual(['duplicate field "data"', 'unknown field "extra"']);
      const dry = await configMaps.create({ metadata: { name: 'dry' } }, { namespace: 'default', dryRun: true });
      expect(dry.metadata.uid).toBeDefined();
      expect((await statusOf(configMaps.get('dry', { namespace: 'default' }))).code).toBe(404);
    });

    test('pods get admission defaults, Pending phase and a QoS class', async () => {
      const created = await pods.create(pod('admitted', { tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }] }), { namespace: 'default' });
      expect(created.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
      expect(created.spec.serviceAccountName).toBe('default');
      expect(created.spec.tolerations).toEqual([
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ]);
    });

    test('Events are stored with a lease (their TTL)', async () => {
      const events = new Client(test_.registry, '', 'events');
      await events.create({ metadata: { name: 'ttl.1' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'default' }, reason: 'Test' }, { namespace: 'default' });
      const result = await test_.etcd.etcdctl(['get', '/registry/events/default/ttl.1', '-w', 'json']);
      const lease = (JSON.parse(result.stdout) as { kvs: Array<{ lease?: number }> }).kvs[0]?.lease ?? 0;
      expect(lease).not.toBe(0);
    });
  });

  describe('update and patch', () => {
    test('optimistic concurrency: a stale resourceVersion is a Conflict, none is unconditional', async () => {
      const created = await configMaps.create({ metadata: { name: 'occ' }, data: { v: '1' } }, { namespace: 'default' });
      const first = await configMaps.update('occ', { ...created, data: { v: '2' } }, { namespace: 'default' });
      expect(Number(first.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
      const error = await statusOf(configMaps.update('occ', { ...created, data: { v: '3' } }, { namespace: 'default' }));
      expect(error.message).toBe('Operation cannot be fulfilled on configmaps "occ": the object has been modified; please apply your changes to the latest version and try again');
      const unconditional = await configMaps.update('occ', { metadata: { name: 'occ' }, data: { v: '4' } }, { namespace: 'default' });
      expect(unconditional.data).toEqual({ v: '4' });
      expect(unconditional.metadata.uid).toBe(created.metadata.uid);
      // Writing the same content again changes nothing, not even the resourceVersion.
      const same = await configMaps.update('occ', { metadata: { name: 'occ' }, data: { v: '4' } }, { namespace: 'default' });
      expect(same.metadata.resourceVersion).toBe(unconditional.metadata.resourceVersion);
    });

    test('status is ignored on the main resource, spec on /status; generation counts spec changes only', async () => {
      const created = await deployments.create(deployment('gen'), { namespace: 'default' });
      const scaled = await deployments.update('gen', { ...created, spec: { ...created.spec, replicas: 3 }, status: { replicas: 5 } }, { namespace: 'default' });
      expect(scaled.metadata.generation).toBe(2);
      expect(scaled.status).toBeUndefined();
      const status = await deployments.update('gen', { ...scaled, spec: { ...scaled.spec, replicas: 9 }, status: { replicas: 3, observedGeneration: 2 } }, { namespace: 'default', subresource: 'status' });
      expect(status.spec.replicas).toBe(3);
      expect(status.status).toEqual({ replicas: 3, observedGeneration: 2 });
      expect(status.metadata.generation).toBe(2);
      const labelled = await deployments.patch('gen', { type: 'merge', patch: { metadata: { labels: { extra: 'yes' } } } }, { namespace: 'default' });
      expect(labelled.object.metadata.generation).toBe(2);
      expect(labelled.object.status).toEqual({ replicas: 3, observedGeneration: 2 });
    });

    test.each([
      ['merge', { spec: { replicas: 4 } }, (object: any) => object.spec.replicas === 4],
      ['json', [{ op: 'replace', path: '/spec/replicas', value: 5 }], (object: any) => object.spec.replicas === 5],
      [
        'strategic',
        { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'envoy:1' }] } } } },
        (object: any) => object.spec.template.spec.containers.map((container: { name: string }) => container.name).sort().join() === 'main,sidecar',
      ],
    ] as const)('%s patch', async (type, patch, check) => {
      await deployments.create(deployment(`patch-${type}`), { namespace: 'default' });
      const result = await deployments.patch(`patch-${type}`, { type, patch }, { namespace: 'default' });
      expect(check(result.object)).toBe(true);
      expect(result.created).toBe(false);
    });

    test('immutable fields answer 422 with the field', async () => {
      const created = await deployments.create(deployment('immutable'), { namespace: 'default' });
      const error = await statusOf(
        deployments.update('immutable', { ...created, spec: { ...created.spec, selector: { matchLabels: { app: 'other' } }, template: { ...created.spec.template, metadata: { labels: { app: 'other' } } } } }, { namespace: 'default' }),
      );
      expect(error.code).toBe(422);
      expect(error.details?.causes?.map((cause) => cause.field)).toContain('spec.selector');
    });

    test('apply creates when missing (201) and updates after', async () => {
      const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied' }, data: { a: '1', b: '2' } };
      const first = await configMaps.patch('applied', { type: 'apply', patch: body }, { namespace: 'default', fieldManager: 'me' });
      expect(first.created).toBe(true);
      const second = await configMaps.patch('applied', { type: 'apply', patch: { ...body, data: { a: '1' } } }, { namespace: 'default', fieldManager: 'me' });
      expect(second.created).toBe(false);
      expect(second.object.data).toEqual({ a: '1' });
      expect(second.object.metadata.managedFields).toEqual([expect.objectContaining({ manager: 'me', operation: 'Apply', fieldsV1: { 'f:data': { 'f:a': {} } } })]);
    });
  });

  describe('server-side apply conflicts', () => {
    const applied = (name: string, replicas: number, image = 'nginx:1'): Record<string, unknown> => {
      const body = deployment(name);
      const spec = body.spec as { replicas: number; template: { spec: { containers: Array<{ image: string }> } } };
      spec.replicas = replicas;
      (spec.template.spec.containers[0] as { image: string }).image = image;
      return body;
    };
    const managers = (object: any): Array<[string, string, unknown]> => object.metadata.managedFields.map((entry: any) => [entry.manager, entry.operation, entry.fieldsV1?.['f:spec']?.['f:replicas']]);

    test('changing a field another manager owns is 409 with upstream wording, unless forced', async () => {
      await deployments.create(deployment('owned'), { namespace: 'default', fieldManager: 'kubectl-client-side-apply' });
      const error = await statusOf(deployments.patch('owned', { type: 'apply', patch: applied('owned', 3) }, { namespace: 'default', fieldManager: 'kubectl' }));
      expect(error.toStatus()).toMatchObject({
        code: 409,
        reason: 'Conflict',
        message: 'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
        details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }] },
      });
      const two = await statusOf(deployments.patch('owned', { type: 'apply', patch: applied('owned', 3, 'nginx:2') }, { namespace: 'default', fieldManager: 'kubectl' }));
      expect(two.message).toBe('Apply failed with 2 conflicts: conflicts with "kubectl-client-side-apply" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers');

      const forced = await deployments.patch('owned', { type: 'apply', patch: applied('owned', 3) }, { namespace: 'default', fieldManager: 'kubectl', force: true });
      expect(forced.object.spec.replicas).toBe(3);
      expect(managers(forced.object)).toEqual([
        ['kubectl-client-side-apply', 'Update', undefined],
        ['kubectl', 'Apply', {}],
      ]);
      // The old owner now conflicts the other way round if it applies.
      const back = await statusOf(deployments.patch('owned', { type: 'apply', patch: applied('owned', 1) }, { namespace: 'default', fieldManager: 'kubectl-client-side-apply' }));
      expect(back.message).toBe('Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    });

    test('applying the value a field already has shares it; an update takes it over', async () => {
      await deployments.create(deployment('shared'), { namespace: 'default', fieldManager: 'kubectl-create' });
      const same = await deployments.patch('shared', { type: 'apply', patch: applied('shared', 1) }, { namespace: 'default', fieldManager: 'kubectl' });
      expect(managers(same.object)).toEqual([
        ['kubectl-create', 'Update', {}],
        ['kubectl', 'Apply', {}],
      ]);
      const scaled = await deployments.patch('shared', { type: 'merge', patch: { spec: { replicas: 5 } } }, { namespace: 'default', fieldManager: 'kubectl-edit' });
      expect(managers(scaled.object)).toEqual([
        ['kubectl-create', 'Update', undefined],
        ['kubectl', 'Apply', undefined],
        ['kubectl-edit', 'Update', {}],
      ]);
      const error = await statusOf(deployments.patch('shared', { type: 'apply', patch: applied('shared', 2) }, { namespace: 'default', fieldManager: 'kubectl' }));
      expect(error.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-edit" using apps/v1: .spec.replicas');
    });
  });

  describe('list and watch', () => {
    test.each([
      ['labelSelector', { labelSelector: 'app=listed-a' }, ['listed-a']],
      ['fieldSelector metadata.name', { fieldSelector: 'metadata.name=listed-b' }, ['listed-b']],
      ['fieldSelector negation', { fieldSelector: 'metadata.name!=listed-b', labelSelector: 'group=listed' }, ['listed-a', 'listed-c']],
    ])('%s', async (_label, query, expected) => {
      for (const name of ['listed-a', 'listed-b', 'listed-c']) {
        await configMaps.create({ metadata: { name, labels: { app: name, group: 'listed' } } }, { namespace: 'default' }).catch(() => undefined);
      }
      const list = await configMaps.list({ namespace: 'default', query });
      expect(list.items.map((item: any) => item.metadata.name)).toEqual(expected);
      expect(list.kind).toBe('ConfigMapList');
    });

    test('unsupported field selectors and bad label selectors are 400', async () => {
      expect((await statusOf(configMaps.list({ namespace: 'default', query: { fieldSelector: 'spec.nodeName=x' } }))).message).toBe('field label not supported: spec.nodeName');
      expect((await statusOf(configMaps.list({ namespace: 'default', query: { labelSelector: 'a in (' } }))).code).toBe(400);
    });

    test('pages with limit and continue; pods across namespaces with spec.nodeName', async () => {
      const page = await configMaps.list({ namespace: 'default', query: { limit: '2' } });
      expect(page.items).toHaveLength(2);
      expect(page.metadata.continue).toBeDefined();
      const next = await configMaps.list({ namespace: 'default', query: { limit: '2', continue: page.metadata.continue } });
      expect(next.items[0].metadata.name > page.items[1].metadata.name).toBe(true);
      await namespaces.create({ metadata: { name: 'team-a' } });
      await pods.create(pod('on-node', { nodeName: 'node-1' }), { namespace: 'team-a' });
      const onNode = await pods.list({ query: { fieldSelector: 'spec.nodeName=node-1,status.phase!=Failed' } });
      expect(onNode.items.map((item: any) => `${item.metadata.namespace}/${item.metadata.name}`)).toEqual(['team-a/on-node']);
    });

    test('Table output carries rows with PartialObjectMetadata and the list resourceVersion', async () => {
      const table = await configMaps.list({ namespace: 'default', table: true, query: { labelSelector: 'group=listed' } });
      expect(table.kind).toBe('Table');
      expect(table.columnDefinitions.map((column: { name: string }) => column.name)).toEqual(['Name', 'Data', 'Age']);
      expect(table.rows[0].object).toMatchObject({ kind: 'PartialObjectMetadata', metadata: { name: 'listed-a' } });
      expect(table.metadata.resourceVersion).toMatch(/^\d+$/);
    });

    test('watch sees changes that match its selector, as events', async () => {
      const start = await configMaps.list({ namespace: 'default' });
      const watch = await configMaps.watch({ namespace: 'default', query: { resourceVersion: start.metadata.resourceVersion, labelSelector: 'watched=yes' } });
      try {
        await configMaps.create({ metadata: { name: 'ignored' } }, { namespace: 'default' });
        const created = await configMaps.create({ metadata: { name: 'seen', labels: { watched: 'yes' } } }, { namespace: 'default' });
        await configMaps.update('seen', { ...created, data: { k: 'v' } }, { namespace: 'default' });
        await configMaps.delete('seen', {}, { namespace: 'default' });
        await eventually(() => watch.events.length >= 3);
        expect(watch.events.map((event) => `${event.type} ${(event.object as any).metadata.name}`)).toEqual(['ADDED seen', 'MODIFIED seen', 'DELETED seen']);
      } finally {
        watch.stop();
      }
    });

    test('a watch from a resourceVersion older than the cache window fails with 410 Expired', async () => {
      const created = await configMaps.create({ metadata: { name: 'churn' }, data: { n: '0' } }, { namespace: 'default' });
      for (let index = 1; index <= 60; index++) await configMaps.update('churn', { metadata: { name: 'churn' }, data: { n: String(index) } }, { namespace: 'default' });
      const watch = await configMaps.watch({ namespace: 'default', query: { resourceVersion: created.metadata.resourceVersion } });
      try {
        await eventually(() => watch.failure !== undefined);
        expect(watch.failure?.code).toBe(410);
        expect(watch.failure?.reason).toBe('Expired');
      } finally {
        watch.stop();
      }
    });
  });

  describe('delete', () => {
    test('finalizers keep the object until the last one is removed; Orphan adds its finalizer', async () => {
      await configMaps.create({ metadata: { name: 'held', finalizers: ['example.com/hold'] } }, { namespace: 'default' });
      const marked = await configMaps.delete('held', { propagationPolicy: 'Orphan' }, { namespace: 'default' });
      expect(marked.metadata.deletionTimestamp).toBeDefined();
      expect(marked.metadata.finalizers).toEqual(['example.com/hold', 'orphan']);
      const error = await statusOf(configMaps.update('held', { ...marked, metadata: { ...marked.metadata, finalizers: ['example.com/hold', 'orphan', 'new'] } }, { namespace: 'default' }));
      expect(error.code).toBe(422);
      await configMaps.update('held', { ...marked, metadata: { ...marked.metadata, finalizers: [] } }, { namespace: 'default' });
      expect((await statusOf(configMaps.get('held', { namespace: 'default' }))).code).toBe(404);
    });

    test('deletecollection deletes what the selector matches', async () => {
      for (const name of ['sweep-a', 'sweep-b', 'keep']) {
        await configMaps.create({ metadata: { name, labels: { sweep: name === 'keep' ? 'no' : 'yes' } } }, { namespace: 'team-a' });
      }
      const deleted = await configMaps.deleteCollection({}, { namespace: 'team-a', query: { labelSelector: 'sweep=yes' } });
      expect(deleted.items.map((item: any) => item.metadata.name)).toEqual(['sweep-a', 'sweep-b']);
      expect((await configMaps.list({ namespace: 'team-a' })).items.map((item: any) => item.metadata.name)).toEqual(['keep']);
    });

    test('preconditions are checked', async () => {
      await configMaps.create({ metadata: { name: 'precondition' } }, { namespace: 'default' });
      const error = await statusOf(configMaps.delete('precondition', { preconditions: { uid: 'other' } }, { namespace: 'default' }));
      expect(error.message).toMatch(/^Operation cannot be fulfilled on configmaps "precondition": Precondition failed: UID in precondition: other, UID in object meta: [0-9a-f-]+$/);
    });

    test.each([
      ['an unbound pod goes at once', {}, {}, false],
      ['a bound pod gets its grace period', { nodeName: 'node-1', terminationGracePeriodSeconds: 12 }, {}, true],
      ['a bound pod with gracePeriodSeconds=0 goes at once', { nodeName: 'node-1' }, { gracePeriodSeconds: 0 }, false],
    ])('pods: %s', async (label, spec, options, kept) => {
      const name = `grace-${label.length}-${Object.keys(options).length}`;
      await pods.create(pod(name, spec), { namespace: 'default' });
      const result = await pods.delete(name, options, { namespace: 'default' });
      const exists = await pods.get(name, { namespace: 'default' }).then(
        () => true,
        () => false,
      );
      expect(exists).toBe(kept);
      if (kept) {
        expect(result.metadata.deletionGracePeriodSeconds).toBe(12);
        await pods.delete(name, { gracePeriodSeconds: 0 }, { namespace: 'default' });
        expect((await statusOf(pods.get(name, { namespace: 'default' }))).code).toBe(404);
      }
    });

    test('a namespace terminates: kept as Terminating, refuses new content, goes when finalized', async () => {
      await namespaces.create({ metadata: { name: 'doomed' } });
      const terminating = await namespaces.delete('doomed');
      expect(terminating.status.phase).toBe('Terminating');
      const refused = await statusOf(configMaps.create({ metadata: { name: 'late' } }, { namespace: 'doomed' }));
      expect(refused.message).toBe('configmaps "late" is forbidden: unable to create new content in namespace doomed because it is being terminated');
      await namespaces.update('doomed', { metadata: { name: 'doomed' }, spec: { finalizers: [] } }, { subresource: 'finalize' });
      expect((await statusOf(namespaces.get('doomed'))).code).toBe(404);
      expect((await statusOf(namespaces.delete('default'))).message).toBe('namespaces "default" is forbidden: this namespace may not be deleted');
    });
  });

  describe('services', () => {
    test('node ports are allocated, freed on type change and delete; the range can run out', async () => {
      const created = await services.create({ metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } }, { namespace: 'default' });
      const nodePort = created.spec.ports[0].nodePort;
      expect(nodePort).toBeGreaterThanOrEqual(30000);
      expect(created.spec.clusterIP).toMatch(/^10\.96\.0\.\d+$/);
      expect(await test_.registry.nodePorts.isAllocated(nodePort)).toBe(true);
      const changed = await services.patch('np', { type: 'merge', patch: { spec: { type: 'ClusterIP' } } }, { namespace: 'default' });
      expect(changed.object.spec.clusterIP).toBe(created.spec.clusterIP);
      expect(await test_.registry.nodePorts.isAllocated(nodePort)).toBe(false);
      await services.delete('np', {}, { namespace: 'default' });
      expect(await test_.registry.clusterIps.isAllocated(created.spec.clusterIP)).toBe(false);

      const outside = await statusOf(services.create({ metadata: { name: 'np2' }, spec: { type: 'NodePort', ports: [{ port: 80, nodePort: 31000 }] } }, { namespace: 'default' }));
      expect(outside.message).toBe('Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: 31000: provided port is not in the valid range. The range of valid ports is 30000-30009');
      for (let index = 0; index < 10; index++) await services.create({ metadata: { name: `fill-${index}` }, spec: { type: 'NodePort', ports: [{ port: 80 }] } }, { namespace: 'default' });
      const full = await statusOf(services.create({ metadata: { name: 'one-too-many' }, spec: { type: 'NodePort', ports: [{ port: 80 }] } }, { namespace: 'default' }));
      expect(full.code).toBe(500);
      expect(full.message).toContain('range is full');
      // The failed create gave its cluster IP back.
      expect(await test_.registry.clusterIps.used()).toBe(11);
    });
  });

  describe('subresources', () => {
    test('scale: GET, PUT with a stale resourceVersion (409), PATCH', async () => {
      await deployments.create(deployment('scaled'), { namespace: 'default' });
      const scale = await deployments.get('scaled', { namespace: 'default', subresource: 'scale' });
      expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 1 }, status: { replicas: 0, selector: 'app=scaled' } });
      const put = await deployments.update('scaled', { ...scale, spec: { replicas: 3 } }, { namespace: 'default', subresource: 'scale' });
      expect(put.spec.replicas).toBe(3);
      expect((await statusOf(deployments.update('scaled', { ...scale, spec: { replicas: 4 } }, { namespace: 'default', subresource: 'scale' }))).code).toBe(409);
      const patched = await deployments.patch('scaled', { type: 'merge', patch: { spec: { replicas: 6 } } }, { namespace: 'default', subresource: 'scale' });
      expect(patched.object.spec.replicas).toBe(6);
      expect((await deployments.get('scaled', { namespace: 'default' })).metadata.generation).toBe(3);
      expect((await statusOf(deployments.patch('scaled', { type: 'merge', patch: { spec: { replicas: -1 } } }, { namespace: 'default', subresource: 'scale' }))).code).toBe(422);
    });

    test('binding assigns once and records PodScheduled', async () => {
      await pods.create(pod('to-bind'), { namespace: 'default' });
      const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'to-bind' }, target: { kind: 'Node', name: 'node-9' } };
      expect(await pods.create(binding, { namespace: 'default', name: 'to-bind', subresource: 'binding' })).toMatchObject({ status: 'Success', code: 201 });
      const bound = await pods.get('to-bind', { namespace: 'default' });
      expect(bound.spec.nodeName).toBe('node-9');
      expect(bound.status.conditions).toEqual([expect.objectContaining({ type: 'PodScheduled', status: 'True' })]);
      const again = await statusOf(pods.create(binding, { namespace: 'default', name: 'to-bind', subresource: 'binding' }));
      expect(again.message).toBe('Operation cannot be fulfilled on pods/binding "to-bind": pod to-bind is already assigned to node "node-9"');
    });

    test('eviction respects a PodDisruptionBudget and deletes gracefully', async () => {
      const budgets = new Client(test_.registry, 'policy', 'poddisruptionbudgets');
      await pods.create(pod('evicted', { nodeName: 'node-1' }), { namespace: 'team-a' });
      const budget = await budgets.create({ metadata: { name: 'web' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'web' } } } }, { namespace: 'team-a' });
      const eviction = { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evicted' } };
      const refused = await statusOf(pods.create(eviction, { namespace: 'team-a', name: 'evicted', subresource: 'eviction' }));
      expect(refused.code).toBe(429);
      await budgets.update('web', { ...budget, status: { disruptionsAllowed: 1 } }, { namespace: 'team-a', subresource: 'status' });
      expect(await pods.create(eviction, { namespace: 'team-a', name: 'evicted', subresource: 'eviction' })).toMatchObject({ status: 'Success' });
      expect((await pods.get('evicted', { namespace: 'team-a' })).metadata.deletionTimestamp).toBeDefined();
      expect((await budgets.get('web', { namespace: 'team-a' })).status.disruptionsAllowed).toBe(0);
    });
  });
});
