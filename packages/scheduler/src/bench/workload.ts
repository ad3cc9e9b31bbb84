// The objects both benchmark modes schedule, so the in-process figure and the
// end-to-end figure describe the same work: hollow nodes sized like a small
// VM, and plain pods with small requests spread over a few app labels.
import { formatMicroTime, type Lease, type Node, type Pod } from '@kube-lite/api';

/** Namespace of the node leases, as kubelets keep them. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** How long a hollow node's lease is valid; kubelet's default nodeLeaseDurationSeconds. */
export const NODE_LEASE_DURATION_SECONDS = 40;

/** How often each lease is renewed: a quarter of its duration, as the kubelet does. */
export const NODE_LEASE_RENEW_INTERVAL_MS = 10_000;

/** Label every benchmark pod carries, with the run's id, so watches see only the measured pods. */
export const RUN_LABEL = 'kube-lite.io/bench-run';

/** Distinct `app` labels over the pods, so spreading plugins have several groups to score. */
const APP_COUNT = 20;

export function hollowNodeName(index: number): string {
  return `hollow-node-${index}`;
}

/** A Ready node with allocatable cpu 4 / memory 16Gi / pods 110 and a zone label out of three. */
export function hollowNode(index: number): Node {
  const name = hollowNodeName(index);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'topology.kubernetes.io/zone': `zone-${index % 3}` } },
    spec: {},
    status: {
      capacity: { cpu: '4', memory: '16Gi', pods: '110' },
      allocatable: { cpu: '4', memory: '16Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'hollow node: no kubelet behind it' }],
    },
  };
}

/** The node's heartbeat lease in kube-node-lease, renewed at `nowMs`. */
export function hollowNodeLease(index: number, nowMs: number): Lease {
  const name = hollowNodeName(index);
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: NODE_LEASE_NAMESPACE },
    spec: { holderIdentity: name, leaseDurationSeconds: NODE_LEASE_DURATION_SECONDS, renewTime: formatMicroTime(nowMs) },
  };
}

/** A pending pod requesting 10m cpu and 16Mi memory: 1000 of them fit on a few nodes, so nodes never run out. */
export function benchPod(name: string, index: number, runId: string, namespace = 'default'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: `app-${index % APP_COUNT}`, [RUN_LABEL]: runId } },
    spec: {
      containers: [{ name: 'main', image: 'registry.example/pause:3.9', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    },
  };
}
