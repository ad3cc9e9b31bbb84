// sync(key) of the HPA controller against the FakeApiClient: the exact
// writes (scale subresource, HPA status), the status it reports, its
// conditions and Events, with the clock injected.
import { formatTime, type HorizontalPodAutoscaler, type HorizontalPodAutoscalerSpec, type KubeObject, type Pod, type PodMetrics } from '@kube-lite/api';
import { ApiError, RESOURCES } from '@kube-lite/client';
import { deployment, fixture, pod, START_MS, type Fixture } from '../../test-support';
import { HorizontalPodAutoscalerController } from './controller';

const KEY = 'default/web';

function hpa(spec: Partial<HorizontalPodAutoscalerSpec> = {}): HorizontalPodAutoscaler {
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-hpa-web', generation: 1 },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
  };
}

function webPod(name: string, options: { cpuRequest?: string | undefined } = { cpuRequest: '100m' }): Pod {
  const result = pod(name, { labels: { app: 'web' }, ready: true, readySinceMs: START_MS - 3_600_000 });
  const container = result.spec?.containers[0];
  if (container !== undefined && options.cpuRequest !== undefined) container.resources = { requests: { cpu: options.cpuRequest, memory: '64Mi' } };
  (result.status as NonNullable<Pod['status']>).startTime = formatTime(START_MS - 3_600_000);
  return result;
}

function podMetrics(name: string, cpu: string, memory = '10Mi'): PodMetrics {
  return {
    apiVersion: 'metrics.k8s.io/v1beta1',
    kind: 'PodMetrics',
    metadata: { name, namespace: 'default', labels: { app: 'web' } },
    timestamp: formatTime(START_MS - 5_000),
    window: '15s',
    containers: [{ name: 'app', usage: { cpu, memory } }],
  };
}

/** Three running web pods with 100m requests using `cpu` each, behind a Deployment of `replicas`. */
function cluster(cpu: string, options: { replicas?: number; hpa?: HorizontalPodAutoscaler; cpuRequest?: string | undefined; memory?: string } = {}): KubeObject[] {
  const names = ['web-a', 'web-b', 'web-c'];
  return [
    deployment('web', options.replicas ?? 3),
    options.hpa ?? hpa(),
    ...names.map((name) => webPod(name, { cpuRequest: 'cpuRequest' in options ? options.cpuRequest : '100m' })),
    ...names.map((name) => podMetrics(name, cpu, options.memory)),
  ];
}

async function setup(objects: KubeObject[], settings: Parameters<typeof fixture>[1] = {}): Promise<{ f: Fixture; controller: HorizontalPodAutoscalerController }> {
  const f = fixture(objects, settings);
  const controller = new HorizontalPodAutoscalerController(f.context);
  await f.start();
  return { f, controller };
}

const stored = (f: Fixture): HorizontalPodAutoscaler => f.client.peek<HorizontalPodAutoscaler>(RESOURCES.horizontalPodAutoscalers, 'default', 'web') as HorizontalPodAutoscaler;
const replicasOf = (f: Fixture): number | undefined => f.client.peek<KubeObject & { spec?: { replicas?: number } }>(RESOURCES.deployments, 'default', 'web')?.spec?.replicas;
const conditions = (f: Fixture): string[] => (stored(f).status?.conditions ?? []).map((condition) => `${condition.type}=${condition.status}/${condition.reason}`);

async function events(f: Fixture): Promise<string[]> {
  await f.context.recorder.flush();
  return f.eventsClient.peekAll<KubeObject & { reason?: string; message?: string }>(RESOURCES.events).map((event) => `${event.reason}: ${event.message}`);
}

describe('HorizontalPodAutoscalerController.sync', () => {
  let current: { f: Fixture; controller: HorizontalPodAutoscalerController } | undefined;
  afterEach(async () => {
    await current?.controller.shutdown();
    await current?.f.stop();
    current = undefined;
  });
  const start = async (objects: KubeObject[], settings: Parameters<typeof fixture>[1] = {}) => (current = await setup(objects, settings));

  test('CPU at 250% of requests against 50%: scales up, limited to max(2 x 3, 4) without behavior', async () => {
    const { f, controller } = await start(cluster('250m'));
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update deployments/scale default/web', 'update horizontalpodautoscalers/status default/web']);
    expect(replicasOf(f)).toBe(6);
    expect(stored(f).status).toEqual({
      currentReplicas: 3,
      desiredReplicas: 6,
      observedGeneration: 1,
      lastScaleTime: formatTime(START_MS),
      currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageValue: '250m', averageUtilization: 250 } } }],
      conditions: [
        { type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'the HPA controller was able to update the target scale to 6', lastTransitionTime: formatTime(START_MS) },
        { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)', lastTransitionTime: formatTime(START_MS) },
        { type: 'ScalingLimited', status: 'True', reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate', lastTransitionTime: formatTime(START_MS) },
      ],
    });
    expect(await events(f)).toEqual(['SuccessfulRescale: New size: 6; reason: cpu resource utilization (percentage of request) above target']);
  });

  test('within the tolerance: no scale write, and a second sync writes nothing at all', async () => {
    const { f, controller } = await start(cluster('52m'));
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update horizontalpodautoscalers/status default/web']);
    expect(conditions(f)).toEqual(['AbleToScale=True/ReadyForNewScale', 'ScalingActive=True/ValidMetricFound', 'ScalingLimited=False/DesiredWithinRange']);
    expect(stored(f).status).toMatchObject({ currentReplicas: 3, desiredReplicas: 3 });
    f.client.clearActions();
    await f.settle();
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
  });

  test('scale down waits out the 300 s stabilization window, then goes to the proposal', async () => {
    const { f, controller } = await start(cluster('10m'));
    await controller.sync(KEY);
    expect(replicasOf(f)).toBe(3);
    expect(conditions(f)).toContain('AbleToScale=True/ScaleDownStabilized');
    f.clock.advanceBy(301_000);
    await controller.sync(KEY);
    expect(replicasOf(f)).toBe(1);
    expect(await events(f)).toEqual(['SuccessfulRescale: New size: 1; reason: All metrics below target']);
  });

  test('a short scale-down window from spec.behavior', async () => {
    const behavior = { scaleDown: { stabilizationWindowSeconds: 15 } };
    const { f, controller } = await start(cluster('10m', { hpa: hpa({ behavior }) }));
    await controller.sync(KEY);
    expect(replicasOf(f)).toBe(3);
    f.clock.advanceBy(16_000);
    await controller.sync(KEY);
    expect(replicasOf(f)).toBe(1);
  });

  test('pods without a cpu request: ScalingActive False FailedGetResourceMetric, no scaling', async () => {
    const { f, controller } = await start(cluster('250m', { cpuRequest: undefined }));
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update horizontalpodautoscalers/status default/web']);
    const active = stored(f).status?.conditions?.find((condition) => condition.type === 'ScalingActive');
    expect(active).toMatchObject({
      status: 'False',
      reason: 'FailedGetResourceMetric',
      message: 'the HPA was unable to compute the replica count: failed to get cpu resource metric value: failed to get cpu utilization: missing request for cpu in container app of Pod web-a',
    });
    expect(stored(f).status).toMatchObject({ currentReplicas: 3, desiredReplicas: 0 });
    expect((await events(f)).map((event) => event.split(':')[0])).toEqual(['FailedGetResourceMetric', 'FailedComputeMetricsReplicas']);
  });

  test('no metrics yet: FailedGetResourceMetric naming the metrics API', async () => {
    const objects = cluster('250m').filter((object) => object.kind !== 'PodMetrics');
    const { f, controller } = await start(objects);
    await controller.sync(KEY);
    expect(stored(f).status?.conditions?.find((condition) => condition.type === 'ScalingActive')?.message).toBe(
      'the HPA was unable to compute the replica count: failed to get cpu resource metric value: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    );
  });

  test('a target scaled to 0 disables autoscaling', async () => {
    const { f, controller } = await start(cluster('250m', { replicas: 0 }));
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update horizontalpodautoscalers/status default/web']);
    expect(conditions(f)).toEqual(['AbleToScale=True/SucceededGetScale', 'ScalingActive=False/ScalingDisabled']);
    expect(stored(f).status).toMatchObject({ currentReplicas: 0, desiredReplicas: 0 });
  });

  test.each([
    { name: 'above maxReplicas', replicas: 12, expected: 10, reason: 'Current number of replicas above Spec.MaxReplicas' },
    { name: 'below minReplicas', replicas: 1, min: 2, expected: 2, reason: 'Current number of replicas below Spec.MinReplicas' },
  ])('a target $name is brought into range without asking the metrics', async ({ replicas, min, expected, reason }) => {
    const { f, controller } = await start(cluster('10m', { replicas, hpa: hpa(min === undefined ? {} : { minReplicas: min }) }));
    await controller.sync(KEY);
    expect(replicasOf(f)).toBe(expected);
    expect(await events(f)).toEqual([`SuccessfulRescale: New size: ${expected}; reason: ${reason}`]);
    expect(f.client.actions.some((action) => action.group === 'metrics.k8s.io')).toBe(false);
  });

  test('several metrics: the highest proposal wins and names the metric', async () => {
    const metrics: HorizontalPodAutoscalerSpec['metrics'] = [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '10Mi' } } },
    ];
    const behavior = { scaleUp: { policies: [{ type: 'Pods' as const, value: 100, periodSeconds: 15 }] } };
    const { f, controller } = await start(cluster('100m', { hpa: hpa({ metrics, behavior, maxReplicas: 20 }), memory: '40Mi' }));
    await controller.sync(KEY);
    expect(replicasOf(f)).toBe(12);
    expect(stored(f).status?.currentMetrics).toEqual([
      { type: 'Resource', resource: { name: 'cpu', current: { averageValue: '100m', averageUtilization: 100 } } },
      // A milli-quantity in decimal, as upstream writes it.
      { type: 'Resource', resource: { name: 'memory', current: { averageValue: '41943040' } } },
    ]);
    expect(await events(f)).toEqual(['SuccessfulRescale: New size: 12; reason: memory resource above target']);
  });

  test('a missing target: AbleToScale False FailedGetScale', async () => {
    const objects = cluster('250m').filter((object) => object.kind !== 'Deployment');
    const { f, controller } = await start(objects);
    await controller.sync(KEY);
    expect(conditions(f)).toEqual(['AbleToScale=False/FailedGetScale']);
    expect((await events(f))[0]).toMatch(/^FailedGetScale: /);
  });

  test('a failed scale write: FailedRescale event and AbleToScale False FailedUpdateScale', async () => {
    const { f, controller } = await start(cluster('250m'));
    f.client.addReactor((action) => {
      if (action.subresource === 'scale' && action.verb === 'update') throw new ApiError(409, 'Conflict', 'the object has been modified');
    });
    await controller.sync(KEY);
    expect(conditions(f)).toContain('AbleToScale=False/FailedUpdateScale');
    expect(await events(f)).toEqual(['FailedRescale: New size: 6; reason: cpu resource utilization (percentage of request) above target; error: the object has been modified']);
    expect(stored(f).status).toMatchObject({ currentReplicas: 3 });
  });

  test('a deleted HPA: nothing written and its history forgotten', async () => {
    const { f, controller } = await start(cluster('250m'));
    await controller.sync(KEY);
    expect(controller.history.keys()).toEqual([KEY]);
    await f.client.horizontalPodAutoscalers('default').delete('web');
    await f.settle();
    f.client.clearActions();
    for (let attempt = 0; attempt < 100 && controller.history.keys().length > 0; attempt += 1) {
      await controller.sync(KEY);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(controller.history.keys()).toEqual([]);
    expect(f.writeSummary()).toEqual([]);
  });
});
