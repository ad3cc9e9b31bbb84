// metrics.k8s.io handlers over in-memory pods and nodes and fixed usage:
// lists leave out objects without usage, get answers 404 for them, selectors
// apply to the objects' labels, and Tables carry metrics-server's columns.
import { parseSelector, type KubeObject } from '@kube-lite/api';
import { StatusError, type RequestContext } from '../server';
import { metricsResources, NodeMetricsHandler, PodMetricsHandler, type ObjectReader } from './rest';
import type { MetricsReader } from './source';
import type { Usage } from './storage';

const T0 = Date.parse('2024-05-01T10:00:00Z');
const NOW = T0 + 5_000;

function usage(cpuNanoCores: number, memoryWorkingSetBytes: number): Usage {
  return { timestampMs: T0, windowMs: 15_012, cpuNanoCores, memoryWorkingSetBytes };
}

const metrics: MetricsReader = {
  nodeUsage: (name) => (name === 'node-1' ? usage(1_234_567, 12_641_280) : undefined),
  podUsage: (namespace, name) => {
    if (namespace !== 'default') return undefined;
    if (name === 'web-1') return { containers: [{ name: 'app', usage: usage(250_000_000, 64 * 1024 * 1024) }, { name: 'sidecar', usage: usage(1_000_000, 1024 * 1024) }], timestampMs: T0, windowMs: 15_012 };
    if (name === 'db-1') return { containers: [{ name: 'db', usage: usage(5_000, 1000) }], timestampMs: T0, windowMs: 15_012 };
    return undefined;
  },
};

function reader(objects: KubeObject[]): ObjectReader {
  return {
    async list(namespace, labelSelector) {
      const selector = labelSelector === '' ? undefined : parseSelector(labelSelector);
      return objects.filter((object) => (namespace === '' || object.metadata?.namespace === namespace) && (selector === undefined || selector.matches(object.metadata?.labels ?? {})));
    },
    async get(namespace, name) {
      const found = objects.find((object) => (object.metadata?.namespace ?? '') === namespace && object.metadata?.name === name);
      if (found === undefined) throw new StatusError(404, 'NotFound', `${namespace === '' ? 'nodes' : 'pods'} "${name}" not found`, {});
      return found;
    },
  };
}

const pods = reader([
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-1', namespace: 'default', labels: { app: 'db' } } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'new-1', namespace: 'default', labels: { app: 'web' } } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' } } },
]);
const nodes = reader([
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', labels: { role: 'worker' } } },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-2' } },
]);

function context(overrides: { namespace?: string; name?: string; labelSelector?: string; table?: boolean } = {}): RequestContext {
  return {
    namespace: overrides.namespace ?? '',
    name: overrides.name ?? '',
    list: { labelSelector: overrides.labelSelector ?? '', fieldSelector: '', continue: '', resourceVersion: '', allowWatchBookmarks: false },
    output: overrides.table ? { table: { version: 'v1', includeObject: 'Metadata' } } : {},
  } as unknown as RequestContext;
}

const podHandler = new PodMetricsHandler(metrics, pods, () => NOW);
const nodeHandler = new NodeMetricsHandler(metrics, nodes, () => NOW);

describe('metrics.k8s.io REST', () => {
  test('a PodMetrics carries the pod labels, timestamp, window and per-container usage', async () => {
    expect(await podHandler.get(context({ namespace: 'default', name: 'web-1' }))).toEqual({
      kind: 'PodMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'web-1', namespace: 'default', labels: { app: 'web' }, creationTimestamp: '2024-05-01T10:00:05Z' },
      timestamp: '2024-05-01T10:00:00Z',
      window: '15.012s',
      containers: [
        { name: 'app', usage: { cpu: '250m', memory: '64Mi' } },
        { name: 'sidecar', usage: { cpu: '1m', memory: '1Mi' } },
      ],
    });
  });

  test.each([
    { case: 'all namespaces', namespace: '', labelSelector: '', names: ['db-1', 'web-1'] },
    { case: 'one namespace', namespace: 'default', labelSelector: '', names: ['db-1', 'web-1'] },
    { case: 'an empty namespace', namespace: 'other', labelSelector: '', names: [] },
    { case: 'a label selector', namespace: 'default', labelSelector: 'app=web', names: ['web-1'] },
    { case: 'a set selector', namespace: 'default', labelSelector: 'app notin (web)', names: ['db-1'] },
  ])('pod list: $case (pods without usage are left out)', async ({ namespace, labelSelector, names }) => {
    const list = (await podHandler.list(context({ namespace, labelSelector }))) as { kind: string; items: Array<{ metadata: { name: string } }> };
    expect(list.kind).toBe('PodMetricsList');
    expect(list.items.map((item) => item.metadata.name)).toEqual(names);
  });

  test.each([
    { case: 'a pod without usage yet', name: 'new-1', message: 'pods.metrics.k8s.io "default/new-1" not found' },
    { case: 'a pod that does not exist', name: 'gone', message: 'pods "gone" not found' },
  ])('pod get: $case is a 404', async ({ name, message }) => {
    await expect(podHandler.get(context({ namespace: 'default', name }))).rejects.toMatchObject({ code: 404, message });
  });

  test('pod Table: name, summed cpu and memory, window', async () => {
    const table = (await podHandler.list(context({ namespace: 'default', table: true }))) as { kind: string; columnDefinitions: Array<{ name: string }>; rows: Array<{ cells: unknown[]; object: { kind: string } }> };
    expect(table.kind).toBe('Table');
    expect(table.columnDefinitions.map((column) => column.name)).toEqual(['Name', 'CPU', 'Memory', 'Window']);
    expect(table.rows.map((row) => row.cells)).toEqual([
      ['db-1', '5u', '1000', '15.012s'],
      ['web-1', '251m', '65Mi', '15.012s'],
    ]);
    expect(table.rows[0]?.object.kind).toBe('PartialObjectMetadata');
  });

  test('node metrics: get, list with selector, 404 without usage, Table', async () => {
    expect(await nodeHandler.get(context({ name: 'node-1' }))).toEqual({
      kind: 'NodeMetrics',
      apiVersion: 'metrics.k8s.io/v1beta1',
      metadata: { name: 'node-1', labels: { role: 'worker' }, creationTimestamp: '2024-05-01T10:00:05Z' },
      timestamp: '2024-05-01T10:00:00Z',
      window: '15.012s',
      usage: { cpu: '1234567n', memory: '12345Ki' },
    });
    const list = (await nodeHandler.list(context({ labelSelector: 'role=worker' }))) as { kind: string; items: unknown[] };
    expect(list).toMatchObject({ kind: 'NodeMetricsList', items: [{ metadata: { name: 'node-1' } }] });
    await expect(nodeHandler.get(context({ name: 'node-2' }))).rejects.toMatchObject({ code: 404, message: 'nodes.metrics.k8s.io "node-2" not found' });
    const table = (await nodeHandler.get(context({ name: 'node-1', table: true }))) as { rows: Array<{ cells: unknown[] }> };
    expect(table.rows[0]?.cells).toEqual(['node-1', '1234567n', '12345Ki', '15.012s']);
  });

  test('discovery: namespaced pods and cluster-scoped nodes, get and list only', () => {
    expect(metricsResources(metrics, { pods, nodes }).map((served) => served.description)).toEqual([
      { group: 'metrics.k8s.io', version: 'v1beta1', kind: 'PodMetrics', name: 'pods', singularName: 'podmetrics', namespaced: true, verbs: ['get', 'list'] },
      { group: 'metrics.k8s.io', version: 'v1beta1', kind: 'NodeMetrics', name: 'nodes', singularName: 'nodemetrics', namespaced: false, verbs: ['get', 'list'] },
    ]);
  });
});
