import type { Pod } from '@kube-lite/api';
import type { ContainerStatus } from '../runtime/runtime';
import { computePodStatus, type PodObservation, type WaitingReason } from './compute-status';

const nowMs = Date.UTC(2024, 0, 1, 12, 0, 0);

function instance(name: string, attempt: number, state: ContainerStatus['state'], exitCode?: number): ContainerStatus {
  return { id: `${name}-${attempt}`, sandboxId: 's', name, attempt, image: 'busybox', imageRef: 'fake://busybox', state, createdAtMs: nowMs - 1000, startedAtMs: nowMs - 1000, ...(state === 'exited' ? { exitCode, finishedAtMs: nowMs - 500, reason: exitCode === 0 ? 'Completed' : 'Error' } : {}), labels: {}, annotations: {}, logPath: '' };
}

function observe(pod: Pod, instances: Record<string, ContainerStatus[]>, extra: Partial<PodObservation> = {}): PodObservation {
  return {
    pod,
    nowMs,
    hostIP: '10.0.0.1',
    podIP: '10.1.0.5',
    sandboxReady: true,
    runtimeName: 'fake',
    instances: new Map(Object.entries(instances)),
    waiting: new Map<string, WaitingReason>(),
    killMessages: new Map(),
    isReady: () => true,
    isStarted: () => true,
    terminated: false,
    ...extra,
  };
}

const twoContainers = (restartPolicy: 'Always' | 'OnFailure' | 'Never'): Pod => ({ metadata: { name: 'p', uid: 'u' }, spec: { restartPolicy, containers: [{ name: 'a', image: 'busybox' }, { name: 'b', image: 'busybox' }] } });

describe('computePodStatus phase', () => {
  const cases: { name: string; policy: 'Always' | 'OnFailure' | 'Never'; a: ContainerStatus[]; b: ContainerStatus[]; waiting?: Record<string, WaitingReason>; terminated?: boolean; phase: string }[] = [
    { name: 'nothing created yet', policy: 'Always', a: [], b: [], phase: 'Pending' },
    { name: 'one running, one still creating', policy: 'Always', a: [instance('a', 0, 'running')], b: [], phase: 'Pending' },
    { name: 'both running', policy: 'Always', a: [instance('a', 0, 'running')], b: [instance('b', 0, 'running')], phase: 'Running' },
    { name: 'one crash-looping under Always', policy: 'Always', a: [instance('a', 0, 'running')], b: [instance('b', 2, 'exited', 1)], waiting: { b: { reason: 'CrashLoopBackOff' } }, phase: 'Running' },
    { name: 'all succeeded under Never', policy: 'Never', a: [instance('a', 0, 'exited', 0)], b: [instance('b', 0, 'exited', 0)], phase: 'Succeeded' },
    { name: 'one failed under Never', policy: 'Never', a: [instance('a', 0, 'exited', 0)], b: [instance('b', 0, 'exited', 2)], phase: 'Failed' },
    { name: 'one failed under OnFailure (will restart)', policy: 'OnFailure', a: [instance('a', 0, 'exited', 0)], b: [instance('b', 0, 'exited', 2)], phase: 'Running' },
    { name: 'deleted, all exited 0', policy: 'Always', a: [instance('a', 0, 'exited', 0)], b: [instance('b', 0, 'exited', 0)], terminated: true, phase: 'Succeeded' },
    { name: 'deleted, killed', policy: 'Always', a: [instance('a', 0, 'exited', 137)], b: [instance('b', 0, 'exited', 0)], terminated: true, phase: 'Failed' },
  ];
  it.each(cases)('$name: $phase', ({ policy, a, b, waiting, terminated, phase }) => {
    const status = computePodStatus(observe(twoContainers(policy), { a, b }, { waiting: new Map(Object.entries(waiting ?? {})), terminated: terminated ?? false }));
    expect(status.phase).toBe(phase);
  });

  it('keeps a terminal phase once reported', () => {
    const pod = { ...twoContainers('Always'), status: { phase: 'Succeeded' as const } };
    expect(computePodStatus(observe(pod, { a: [instance('a', 1, 'running')], b: [] })).phase).toBe('Succeeded');
  });
});

describe('computePodStatus details', () => {
  it('reports the running instance with the previous one as lastState, and conditions', () => {
    const pod: Pod = { metadata: { name: 'p', uid: 'u' }, spec: { containers: [{ name: 'a', image: 'busybox', resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } }] } };
    const status = computePodStatus(observe(pod, { a: [instance('a', 1, 'running'), instance('a', 0, 'exited', 1)] }, { killMessages: new Map([['a-0', 'Container a failed liveness probe, will be restarted']]) }));
    expect(status.containerStatuses?.[0]).toEqual({
      name: 'a',
      state: { running: { startedAt: '2024-01-01T11:59:59Z' } },
      lastState: { terminated: { exitCode: 1, reason: 'Error', message: 'Container a failed liveness probe, will be restarted', startedAt: '2024-01-01T11:59:59Z', finishedAt: '2024-01-01T11:59:59Z', containerID: 'fake://a-0' } },
      ready: true,
      started: true,
      restartCount: 1,
      image: 'busybox',
      imageID: 'fake://busybox',
      containerID: 'fake://a-1',
    });
    expect(status).toMatchObject({ podIP: '10.1.0.5', podIPs: [{ ip: '10.1.0.5' }], hostIP: '10.0.0.1', qosClass: 'Guaranteed', startTime: '2024-01-01T12:00:00Z' });
    expect(status.conditions?.map((entry) => [entry.type, entry.status])).toEqual([
      ['PodScheduled', 'True'],
      ['PodReadyToStartContainers', 'True'],
      ['Initialized', 'True'],
      ['ContainersReady', 'True'],
      ['Ready', 'True'],
    ]);
  });

  it('holds Ready back for readiness gates that are not True', () => {
    const pod: Pod = { metadata: { name: 'p', uid: 'u' }, spec: { readinessGates: [{ conditionType: 'example.com/lb' }], containers: [{ name: 'a' }] } };
    const status = computePodStatus(observe(pod, { a: [instance('a', 0, 'running')] }));
    expect(status.conditions?.find((entry) => entry.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
    const gated = computePodStatus(observe({ ...pod, status: { conditions: [{ type: 'example.com/lb', status: 'True' }] } }, { a: [instance('a', 0, 'running')] }));
    expect(gated.conditions?.find((entry) => entry.type === 'Ready')?.status).toBe('True');
    expect(gated.conditions?.find((entry) => entry.type === 'example.com/lb')?.status).toBe('True');
  });
});
