// Builders for nodes and pods in tests and the benchmark (not exported from the package).
import type { Affinity, ContainerPort, Node, OwnerReference, Pod, Taint, Toleration } from '@kube-lite/api';
import { CycleState, type FilterPlugin, type NodeScore, type PreFilterPlugin, type PreScorePlugin, type ScorePlugin } from './framework';
import { NodeInfo } from './snapshot/node-info';
import { newPodInfo } from './snapshot/pod-info';

export interface NodeOptions {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
  unschedulable?: boolean;
  /** Ready condition status; 'missing' leaves the condition out. */
  ready?: 'True' | 'False' | 'Unknown' | 'missing';
  extra?: Record<string, string>;
}

export function makeNode(name: string, options: NodeOptions = {}): Node {
  const ready = options.ready ?? 'True';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, uid: `uid-node-${name}`, labels: { 'kubernetes.io/hostname': name, ...options.labels } },
    spec: { unschedulable: options.unschedulable, taints: options.taints },
    status: {
      allocatable: { cpu: options.cpu ?? '4', memory: options.memory ?? '8Gi', pods: String(options.pods ?? 110), ...options.extra },
      conditions: ready === 'missing' ? [] : [{ type: 'Ready', status: ready }],
    },
  };
}

export interface PodOptions {
  namespace?: string;
  cpu?: string;
  memory?: string;
  extra?: Record<string, string>;
  nodeName?: string;
  ownerUid?: string;
  labels?: Record<string, string>;
  tolerations?: Toleration[];
  hostPorts?: Partial<ContainerPort>[];
  priority?: number;
  nodeSelector?: Record<string, string>;
  affinity?: Affinity;
  schedulerName?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
}

export function makePod(name: string, options: PodOptions = {}): Pod {
  const requests: Record<string, string> = { ...options.extra };
  if (options.cpu) requests.cpu = options.cpu;
  if (options.memory) requests.memory = options.memory;
  const ownerReferences: OwnerReference[] | undefined = options.ownerUid
    ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `rs-${options.ownerUid}`, uid: options.ownerUid, controller: true }]
    : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace ?? 'default', uid: `uid-${options.namespace ?? 'default'}-${name}`, labels: options.labels, ownerReferences },
    spec: {
      containers: [
        {
          name: 'main',
          image: 'busybox',
          resources: Object.keys(requests).length > 0 ? { requests } : undefined,
          ports: options.hostPorts?.map((port) => ({ containerPort: port.containerPort ?? port.hostPort ?? 80, ...port })),
        },
      ],
      nodeName: options.nodeName,
      tolerations: options.tolerations,
      priority: options.priority,
      nodeSelector: options.nodeSelector,
      affinity: options.affinity,
      schedulerName: options.schedulerName,
    },
    status: { phase: options.phase ?? 'Pending' },
  };
}

/** A NodeInfo holding `node` and `pods` (bound to it). */
export function nodeInfoOf(node: Node, pods: Pod[] = []): NodeInfo {
  const name = node.metadata?.name ?? '';
  const info = new NodeInfo(name);
  info.setNode(node);
  for (const pod of pods) info.addPod(newPodInfo({ ...pod, spec: { ...pod.spec, containers: pod.spec?.containers ?? [], nodeName: name } }));
  return info;
}

// ---- table-driven Filter tests ----

export interface FilterCase {
  name: string;
  pod: PodOptions;
  node: NodeOptions;
  existing?: PodOptions[];
  /** undefined: fits. */
  code?: string;
  reasons?: string[];
}

export function runFilter(plugin: FilterPlugin & Partial<PreFilterPlugin>, testCase: FilterCase): { code?: string; reasons?: readonly string[] } {
  const state = new CycleState();
  const pod = newPodInfo(makePod('p', testCase.pod));
  const node = nodeInfoOf(makeNode('n1', testCase.node), (testCase.existing ?? []).map((options, i) => makePod(`existing-${i}`, options)));
  const pre = plugin.preFilter?.(state, pod);
  if (pre?.code === 'Skip') return {};
  const status = plugin.filter(state, pod, node);
  return status ? { code: status.code, reasons: status.reasons } : {};
}

export function checkFilterTable(plugin: FilterPlugin & Partial<PreFilterPlugin>, cases: FilterCase[]): void {
  test.each(cases.map((c) => [c.name, c] as const))('%s', (_name, testCase) => {
    const result = runFilter(plugin, testCase);
    expect(result.code).toBe(testCase.code);
    if (testCase.reasons) expect(result.reasons).toEqual(testCase.reasons);
  });
}


// ---- Score tests ----

/** PreScore, Score and NormalizeScore of one plugin over `nodes`, as the framework runs them; name -> score. */
export function scoreNodes(plugin: ScorePlugin & Partial<PreScorePlugin>, pod: Pod, nodes: NodeInfo[]): Record<string, number> | 'skip' {
  const state = new CycleState();
  const podInfo = newPodInfo(pod);
  const pre = plugin.preScore?.(state, podInfo, nodes);
  if (pre?.code === 'Skip') return 'skip';
  const scores: NodeScore[] = nodes.map((node) => ({ name: node.name, score: plugin.score(state, podInfo, node) }));
  plugin.normalizeScore?.(state, podInfo, scores);
  return Object.fromEntries(scores.map((entry) => [entry.name, entry.score]));
}
