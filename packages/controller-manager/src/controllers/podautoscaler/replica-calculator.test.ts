import { formatTime, type Pod } from '@kube-lite/api';
import { rawResourceReplicas, ReplicaCalculationError, resourceReplicas, type PodMetricsInfo, type ReplicaCalculatorSettings } from './replica-calculator';

const NOW = Date.parse('2024-05-01T10:00:00Z');
const LONG_AGO = NOW - 3_600_000;

interface PodSpec {
  name: string;
  requestMilli?: number;
  phase?: 'Pending' | 'Running' | 'Failed';
  ready?: boolean;
  /** When the pod started; long ago by default. */
  startMs?: number;
  readySinceMs?: number;
  deleting?: boolean;
}

function pod(spec: PodSpec): Pod {
  const requests = spec.requestMilli === undefined ? undefined : { cpu: `${spec.requestMilli}m`, memory: `${spec.requestMilli}Mi` };
  const result: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: spec.name, namespace: 'default' },
    spec: { containers: [{ name: 'app', image: 'busybox', ...(requests === undefined ? {} : { resources: { requests } }) }] },
    status: {
      phase: spec.phase ?? 'Running',
      startTime: formatTime(spec.startMs ?? LONG_AGO),
      conditions: [{ type: 'Ready', status: spec.ready === false ? 'False' : 'True', lastTransitionTime: formatTime(spec.readySinceMs ?? LONG_AGO) }],
    },
  };
  if (spec.deleting) (result.metadata as NonNullable<Pod['metadata']>).deletionTimestamp = formatTime(NOW);
  return result;
}

function metrics(values: Record<string, number>, timestampMs = NOW - 5_000, windowMs = 15_000): PodMetricsInfo {
  return new Map(Object.entries(values).map(([name, valueMilli]) => [name, { valueMilli, timestampMs, windowMs }]));
}

const SETTINGS: ReplicaCalculatorSettings = { tolerances: { scaleDown: 0.1, scaleUp: 0.1 }, cpuInitializationPeriodMs: 300_000, initialReadinessDelayMs: 30_000, nowMs: NOW };

const three = (extra: Partial<PodSpec> = {}): PodSpec[] => ['a', 'b', 'c'].map((name) => ({ name, requestMilli: 100, ...extra }));

describe('resourceReplicas (Utilization)', () => {
  test.each<{ name: string; pods: PodSpec[]; usage: Record<string, number>; target: number; current?: number; replicas: number; utilization: number; settings?: Partial<ReplicaCalculatorSettings> }>([
    { name: 'scale up: 250% of requests against 50%', pods: three(), usage: { a: 250, b: 250, c: 250 }, target: 50, replicas: 15, utilization: 250 },
    { name: 'scale down: 10% against 50%', pods: three(), usage: { a: 10, b: 10, c: 10 }, target: 50, replicas: 1, utilization: 10 },
    { name: 'within the 10% tolerance: no change', pods: three(), usage: { a: 54, b: 54, c: 54 }, target: 50, replicas: 3, utilization: 54 },
    { name: 'just outside the tolerance', pods: three(), usage: { a: 56, b: 56, c: 56 }, target: 50, replicas: 4, utilization: 56 },
    { name: 'a wider scale-up tolerance holds', pods: three(), usage: { a: 56, b: 56, c: 56 }, target: 50, replicas: 3, utilization: 56, settings: { tolerances: { scaleDown: 0.1, scaleUp: 0.2 } } },
    { name: 'missing metrics count as 0 on a scale up', pods: three(), usage: { a: 100, b: 100 }, target: 50, replicas: 4, utilization: 100 },
    { name: 'missing metrics count as their whole request on a scale down', pods: three(), usage: { a: 10, b: 10 }, target: 50, replicas: 3, utilization: 10 },
    { name: 'missing metrics that would turn a scale down into a scale up: no change', pods: three(), usage: { a: 40 }, target: 50, current: 3, replicas: 3, utilization: 40 },
    {
      name: 'an unready pod counts as 0 on a scale up',
      pods: [...three().slice(0, 2), { name: 'c', requestMilli: 100, ready: false, startMs: NOW - 60_000, readySinceMs: NOW - 60_000 }],
      usage: { a: 100, b: 100, c: 900 },
      target: 50,
      replicas: 4,
      utilization: 100,
    },
    {
      name: 'an unready pod is left out of a scale down',
      pods: [...three().slice(0, 2), { name: 'c', requestMilli: 100, ready: false, startMs: NOW - 60_000, readySinceMs: NOW - 60_000 }],
      usage: { a: 10, b: 10, c: 900 },
      target: 50,
      replicas: 1,
      utilization: 10,
    },
    {
      name: 'a pending pod is unready',
      pods: [...three().slice(0, 2), { name: 'c', requestMilli: 100, phase: 'Pending' }],
      usage: { a: 100, b: 100 },
      target: 50,
      replicas: 4,
      utilization: 100,
    },
    {
      name: 'a starting pod whose sample overlaps its readiness change is unready',
      pods: [...three().slice(0, 2), { name: 'c', requestMilli: 100, startMs: NOW - 20_000, readySinceMs: NOW - 12_000 }],
      usage: { a: 100, b: 100, c: 900 },
      target: 50,
      replicas: 4,
      utilization: 100,
    },
    {
      name: 'a starting pod ready a whole window before its sample counts',
      pods: [...three().slice(0, 2), { name: 'c', requestMilli: 100, startMs: NOW - 60_000, readySinceMs: NOW - 50_000 }],
      usage: { a: 100, b: 100, c: 100 },
      target: 50,
      replicas: 6,
      utilization: 100,
    },
    {
      name: 'deleted and failed pods are ignored',
      pods: [...three().slice(0, 1), { name: 'b', requestMilli: 100, deleting: true }, { name: 'c', requestMilli: 100, phase: 'Failed' }],
      usage: { a: 100, b: 900, c: 900 },
      target: 50,
      current: 1,
      replicas: 2,
      utilization: 100,
    },
  ])('$name', ({ pods, usage, target, current, replicas, utilization, settings }) => {
    const result = resourceReplicas(current ?? 3, target, 'cpu', pods.map(pod), metrics(usage), { ...SETTINGS, ...settings });
    expect({ replicas: result.replicas, utilization: result.utilizationPercent }).toEqual({ replicas, utilization });
  });

  test.each<{ name: string; pods: PodSpec[]; usage: Record<string, number>; message: string }>([
    { name: 'a container without a request', pods: [{ name: 'a', requestMilli: 100 }, { name: 'b' }], usage: { a: 10, b: 10 }, message: 'missing request for cpu in container app of Pod b' },
    { name: 'no pods', pods: [], usage: { a: 10 }, message: 'no pods returned by selector while calculating replica count' },
    { name: 'only unready pods', pods: [{ name: 'a', requestMilli: 100, phase: 'Pending' }], usage: { a: 10 }, message: 'did not receive metrics for targeted pods (pods might be unready)' },
    { name: 'metrics of other pods only', pods: three(), usage: { x: 10 }, message: 'no metrics returned matched known pods' },
  ])('error: $name', ({ pods, usage, message }) => {
    const run = (): unknown => resourceReplicas(3, 50, 'cpu', pods.map(pod), metrics(usage), SETTINGS);
    expect(run).toThrow(ReplicaCalculationError);
    expect(run).toThrow(message);
  });

  test('readiness matters only for cpu: an unready pod counts for memory', () => {
    const pods = [...three().slice(0, 2), { name: 'c', requestMilli: 100, ready: false, startMs: NOW - 60_000, readySinceMs: NOW - 60_000 }].map(pod);
    const mebibyteMilli = 1024 * 1024 * 1000;
    const result = resourceReplicas(3, 50, 'memory', pods, metrics({ a: 100 * mebibyteMilli, b: 100 * mebibyteMilli, c: 100 * mebibyteMilli }), SETTINGS);
    expect(result).toMatchObject({ replicas: 6, utilizationPercent: 100 });
  });
});

describe('rawResourceReplicas (AverageValue)', () => {
  test.each<{ name: string; usage: Record<string, number>; target: number; replicas: number; average: number }>([
    { name: 'twice the target per pod doubles the pods', usage: { a: 200, b: 200, c: 200 }, target: 100, replicas: 6, average: 200 },
    { name: 'within tolerance', usage: { a: 105, b: 95, c: 100 }, target: 100, replicas: 3, average: 100 },
    { name: 'half the target halves them', usage: { a: 50, b: 50, c: 50 }, target: 100, replicas: 2, average: 50 },
    { name: 'a missing pod counts as the target on a scale down: (10 + 10 + 100) / 3 against 100', usage: { a: 10, b: 10 }, target: 100, replicas: 2, average: 10 },
  ])('$name', ({ usage, target, replicas, average }) => {
    const result = rawResourceReplicas(3, target, 'cpu', three().map(pod), metrics(usage), SETTINGS);
    expect({ replicas: result.replicas, average: result.averageMilli }).toEqual({ replicas, average });
  });
});
