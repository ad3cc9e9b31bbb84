// Printer cells against what kubectl shows for the same objects upstream.

import { humanDuration } from './age';
import { podStatusReason } from './core';
import { buildTable, printerFor } from './table';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');

test.each([
  [-5_000, '<invalid>'],
  [-1_000, '0s'],
  [5_000, '5s'],
  [119_000, '119s'],
  [120_000, '2m'],
  [182_000, '3m2s'],
  [11 * 60_000, '11m'],
  [3 * 3600_000 + 60_000, '3h1m'],
  [7 * 3600_000, '7h'],
  [30 * 3600_000, '30h'],
  [51 * 3600_000, '2d3h'],
  [10 * 86400_000, '10d'],
  [800 * 86400_000, '2y70d'],
  [9 * 365 * 86400_000, '9y'],
])('humanDuration(%i ms) = %s', (ms, text) => {
  expect(humanDuration(ms)).toBe(text);
});

const running = { ready: true, restartCount: 0, state: { running: {} }, name: 'a', image: 'x', imageID: '' };
test.each([
  ['pending', { status: { phase: 'Pending' } }, 'Pending'],
  ['running', { status: { phase: 'Running', containerStatuses: [running] } }, 'Running'],
  ['crash loop', { status: { phase: 'Running', containerStatuses: [{ ...running, ready: false, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } }, 'CrashLoopBackOff'],
  ['completed', { status: { phase: 'Succeeded', containerStatuses: [{ ...running, ready: false, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] } }, 'Completed'],
  ['exit code', { status: { phase: 'Failed', containerStatuses: [{ ...running, ready: false, state: { terminated: { exitCode: 2 } } }] } }, 'ExitCode:2'],
  ['init', { spec: { initContainers: [{ name: 'i' }], containers: [] }, status: { phase: 'Pending', initContainerStatuses: [{ ...running, ready: false, state: { waiting: { reason: 'PodInitializing' } } }] } }, 'Init:0/1'],
  ['evicted', { status: { phase: 'Failed', reason: 'Evicted' } }, 'Evicted'],
  ['terminating', { metadata: { deletionTimestamp: ago(1) }, status: { phase: 'Running', containerStatuses: [running] } }, 'Terminating'],
])('pod status: %s', (_label, pod, expected) => {
  expect(podStatusReason(pod)).toBe(expected);
});

test.each([
  ['Pod', { metadata: { name: 'p', creationTimestamp: ago(65) }, spec: { containers: [{}, {}] }, status: { phase: 'Running', containerStatuses: [running, { ...running, ready: false, restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(125) } } }] } }, ['p', '1/2', 'Running', '3 (2m5s ago)', '65s', '<none>', '<none>', '<none>', '<none>']],
  ['Service', { metadata: { name: 's', creationTimestamp: ago(10) }, spec: { type: 'NodePort', clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { b: '2', a: '1' } } }, ['s', 'NodePort', '10.96.0.5', '<none>', '80:30080/TCP,53/UDP', '10s', 'a=1,b=2']],
  ['Service', { metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', clusterIP: '10.96.0.6', ports: [] } }, ['lb', 'LoadBalancer', '10.96.0.6', '<pending>', '<none>', '<unknown>', '<none>']],
  ['Node', { metadata: { name: 'n', creationTimestamp: ago(3 * 86400), labels: { 'node-role.kubernetes.io/control-plane': '' } }, spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' }, addresses: [{ type: 'InternalIP', address: '10.0.0.1' }] } }, ['n', 'Ready,SchedulingDisabled', 'control-plane', '3d', 'v1.32.0', '10.0.0.1', '<none>', '<unknown>', '<unknown>', '<unknown>']],
  ['Deployment', { metadata: { name: 'd', creationTimestamp: ago(5) }, spec: { replicas: 3, selector: { matchLabels: { app: 'd' } }, template: { spec: { containers: [{ name: 'c', image: 'i:1' }] } } }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } }, ['d', '2/3', 3, 2, '5s', 'c', 'i:1', 'app=d']],
  ['Job', { metadata: { name: 'j', creationTimestamp: ago(100) }, spec: { completions: 3, template: {} }, status: { succeeded: 3, startTime: ago(100), completionTime: ago(40), conditions: [{ type: 'Complete', status: 'True' }] } }, ['j', 'Complete', '3/3', '60s', '100s', '', '', '<none>']],
  ['ConfigMap', { metadata: { name: 'c' }, data: { a: '1' }, binaryData: { b: '' } }, ['c', 2, '<unknown>']],
  ['Ingress', { metadata: { name: 'i' }, spec: { rules: [{ host: 'a.example' }, {}], tls: [{}] }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } }, ['i', '<none>', 'a.example', '1.2.3.4', '80, 443', '<unknown>']],
  ['Endpoints', { metadata: { name: 'e' }, subsets: [{ addresses: [{ ip: '1.1.1.1' }, { ip: '1.1.1.2' }], ports: [{ port: 80 }, { port: 443 }] }] }, ['e', '1.1.1.1:80,1.1.1.1:443,1.1.1.2:80 + 1 more...', '<unknown>']],
  ['Widget', { metadata: { name: 'w', creationTimestamp: ago(1) } }, ['w', '1s']],
])('%s cells', (kind, object, cells) => {
  expect(printerFor(kind).cells(object, NOW)).toEqual(cells);
  expect(printerFor(kind).columns).toHaveLength(cells.length);
});

test('buildTable attaches PartialObjectMetadata, or the object, or nothing', () => {
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels: { a: 'b' } }, data: {} };
  const metadata = buildTable('ConfigMap', [object], { version: 'v1', includeObject: 'Metadata', resourceVersion: '7', nowMs: NOW });
  expect(metadata).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '7' } });
  expect(metadata.rows[0]?.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata });
  expect(buildTable('ConfigMap', [object], { version: 'v1', includeObject: 'Object', nowMs: NOW }).rows[0]?.object).toBe(object);
  expect(buildTable('ConfigMap', [object], { version: 'v1', includeObject: 'None', nowMs: NOW }).rows[0]).toEqual({ cells: ['c', 0, '<unknown>'] });
});
