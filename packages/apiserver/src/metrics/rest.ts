// metrics.k8s.io/v1beta1 pods and nodes (what `kubectl top` reads): get and
// list over the pods and nodes that exist, each with the usage the metrics
// source holds; objects without usage yet are left out of lists and are a
// 404 on get, as metrics-server answers. Labels are the pod's or node's, so
// label selectors work as on the objects themselves. Tables (kubectl get
// podmetrics) have metrics-server's columns.

import type { KubeObject, NodeMetrics, PodMetrics } from '@kube-lite/api';
import { formatTime } from '@kube-lite/api';
import type { Table, TableColumnDefinition, TableRow } from '../printers';
import { notFound, type RequestContext, type ResourceDescription, type ResourceHandler, type ServedResource } from '../server';
import { formatCpuNanoCores, formatGoDuration, formatMemoryBytes } from './format';
import type { MetricsReader } from './source';

const GROUP = 'metrics.k8s.io';
const VERSION = 'v1beta1';
const API_VERSION = `${GROUP}/${VERSION}`;

/** What the handlers read of the pods and nodes they report on (in the API server: the registry's stores). */
export interface ObjectReader {
  /** Objects of the namespace (`` for all) matching the selectors; a 400 StatusError for selectors that do not parse. */
  list(namespace: string, labelSelector: string, fieldSelector: string): Promise<KubeObject[]>;
  /** The object; the store's 404 StatusError when it does not exist. */
  get(namespace: string, name: string): Promise<KubeObject>;
}

function column(name: string, description: string): TableColumnDefinition {
  return { name, type: 'string', format: name === 'Name' ? 'name' : '', description, priority: 0 };
}

const COLUMNS: TableColumnDefinition[] = [
  column('Name', 'Name of the resource'),
  column('CPU', 'CPU usage'),
  column('Memory', 'Memory usage'),
  column('Window', 'Time window of the measurement'),
];

function table(context: RequestContext, objects: ReadonlyArray<{ metadata?: KubeObject['metadata'] }>, cells: (index: number) => unknown[]): Table | undefined {
  const options = context.output.table;
  if (options === undefined) return undefined;
  const rows: TableRow[] = objects.map((object, index) => {
    const row: TableRow = { cells: cells(index) };
    if (options.includeObject === 'Object') row.object = object;
    else if (options.includeObject === 'Metadata') row.object = { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${options.version}`, metadata: object.metadata ?? {} };
    return row;
  });
  return { kind: 'Table', apiVersion: `meta.k8s.io/${options.version}`, metadata: {}, columnDefinitions: COLUMNS, rows };
}

function metadataOf(object: KubeObject, nowMs: number): NonNullable<PodMetrics['metadata']> {
  const metadata: NonNullable<PodMetrics['metadata']> = { name: object.metadata?.name ?? '', creationTimestamp: formatTime(nowMs) };
  if (object.metadata?.namespace) metadata.namespace = object.metadata.namespace;
  if (object.metadata?.labels !== undefined) metadata.labels = { ...object.metadata.labels };
  return metadata;
}

function sumNumbers(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export class PodMetricsHandler implements ResourceHandler {
  constructor(
    private readonly metrics: MetricsReader,
    private readonly pods: ObjectReader,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The PodMetrics of a pod, or undefined while its usage is not known. */
  metricsOf(pod: KubeObject): PodMetrics | undefined {
    const usage = this.metrics.podUsage(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    if (usage === undefined) return undefined;
    return {
      kind: 'PodMetrics',
      apiVersion: API_VERSION,
      metadata: metadataOf(pod, this.nowMs()),
      timestamp: formatTime(usage.timestampMs),
      window: formatGoDuration(usage.windowMs),
      containers: usage.containers.map((container) => ({
        name: container.name,
        usage: { cpu: formatCpuNanoCores(container.usage.cpuNanoCores), memory: formatMemoryBytes(container.usage.memoryWorkingSetBytes) },
      })),
    };
  }

  private cells(podMetrics: PodMetrics): unknown[] {
    const namespace = podMetrics.metadata?.namespace ?? '';
    const name = podMetrics.metadata?.name ?? '';
    const usage = this.metrics.podUsage(namespace, name);
    const containers = usage?.containers ?? [];
    return [
      name,
      formatCpuNanoCores(sumNumbers(containers.map((container) => container.usage.cpuNanoCores))),
      formatMemoryBytes(sumNumbers(containers.map((container) => container.usage.memoryWorkingSetBytes))),
      podMetrics.window,
    ];
  }

  async get(context: RequestContext): Promise<unknown> {
    const pod = await this.pods.get(context.namespace, context.name);
    const podMetrics = this.metricsOf(pod);
    if (podMetrics === undefined) throw notFound({ group: GROUP, resource: 'pods' }, `${context.namespace}/${context.name}`);
    return table(context, [podMetrics], () => this.cells(podMetrics)) ?? podMetrics;
  }

  async list(context: RequestContext): Promise<unknown> {
    const pods = await this.pods.list(context.namespace, context.list.labelSelector, context.list.fieldSelector);
    const items = pods.map((pod) => this.metricsOf(pod)).filter((item): item is PodMetrics => item !== undefined);
    return table(context, items, (index) => this.cells(items[index] as PodMetrics)) ?? { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items };
  }
}

export class NodeMetricsHandler implements ResourceHandler {
  constructor(
    private readonly metrics: MetricsReader,
    private readonly nodes: ObjectReader,
    private readonly nowMs: () => number = Date.now,
  ) {}

  metricsOf(node: KubeObject): NodeMetrics | undefined {
    const usage = this.metrics.nodeUsage(node.metadata?.name ?? '');
    if (usage === undefined) return undefined;
    return {
      kind: 'NodeMetrics',
      apiVersion: API_VERSION,
      metadata: metadataOf(node, this.nowMs()),
      timestamp: formatTime(usage.timestampMs),
      window: formatGoDuration(usage.windowMs),
      usage: { cpu: formatCpuNanoCores(usage.cpuNanoCores), memory: formatMemoryBytes(usage.memoryWorkingSetBytes) },
    };
  }

  private static cells(nodeMetrics: NodeMetrics): unknown[] {
    return [nodeMetrics.metadata?.name ?? '', nodeMetrics.usage['cpu'] ?? '', nodeMetrics.usage['memory'] ?? '', nodeMetrics.window];
  }

  async get(context: RequestContext): Promise<unknown> {
    const node = await this.nodes.get('', context.name);
    const nodeMetrics = this.metricsOf(node);
    if (nodeMetrics === undefined) throw notFound({ group: GROUP, resource: 'nodes' }, context.name);
    return table(context, [nodeMetrics], () => NodeMetricsHandler.cells(nodeMetrics)) ?? nodeMetrics;
  }

  async list(context: RequestContext): Promise<unknown> {
    const nodes = await this.nodes.list('', context.list.labelSelector, context.list.fieldSelector);
    const items = nodes.map((node) => this.metricsOf(node)).filter((item): item is NodeMetrics => item !== undefined);
    return table(context, items, (index) => NodeMetricsHandler.cells(items[index] as NodeMetrics)) ?? { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items };
  }
}

function description(kind: 'PodMetrics' | 'NodeMetrics'): ResourceDescription {
  const pods = kind === 'PodMetrics';
  return { group: GROUP, version: VERSION, kind, name: pods ? 'pods' : 'nodes', singularName: kind.toLowerCase(), namespaced: pods, verbs: ['get', 'list'] };
}

/** The two metrics.k8s.io resources, for the API server's served list (discovery, REST and gRPC). */
export function metricsResources(metrics: MetricsReader, readers: { pods: ObjectReader; nodes: ObjectReader }, nowMs: () => number = Date.now): ServedResource[] {
  return [
    { description: description('PodMetrics'), handler: new PodMetricsHandler(metrics, readers.pods, nowMs) },
    { description: description('NodeMetrics'), handler: new NodeMetricsHandler(metrics, readers.nodes, nowMs) },
  ];
}
