import type { HorizontalPodAutoscalerBehavior } from '@kube-lite/api';
import { ScalingHistory, type NormalizeRequest } from './normalize';

const T0 = Date.parse('2024-05-01T10:00:00Z');
const KEY = 'default/web';

/** Runs proposals in order at their times (seconds after T0), applying each result as the new current size. */
function run(
  steps: Array<{ atSeconds: number; proposed: number }>,
  options: { current: number; min?: number; max?: number; behavior?: HorizontalPodAutoscalerBehavior; downscaleSeconds?: number },
): Array<{ replicas: number; ableToScale: string; limited: string }> {
  const history = new ScalingHistory(options.downscaleSeconds ?? 300);
  let current = options.current;
  history.recordInitialRecommendation(KEY, current, T0 + (steps[0]?.atSeconds ?? 0) * 1000);
  return steps.map((step) => {
    const nowMs = T0 + step.atSeconds * 1000;
    const request: NormalizeRequest = { key: KEY, currentReplicas: current, proposedReplicas: step.proposed, minReplicas: options.min ?? 1, maxReplicas: options.max ?? 100, behavior: options.behavior, nowMs };
    const result = history.normalize(request);
    if (result.replicas !== current) history.recordScale(KEY, options.behavior, current, result.replicas, nowMs);
    current = result.replicas;
    const reason = (type: string): string => result.conditions.find((condition) => condition.type === type)?.reason ?? '';
    return { replicas: result.replicas, ableToScale: reason('AbleToScale'), limited: reason('ScalingLimited') };
  });
}

describe('without spec.behavior (legacy rules)', () => {
  test.each([
    {
      name: 'a scale down waits for the downscale window: the highest recent recommendation wins',
      current: 5,
      steps: [
        { atSeconds: 0, proposed: 5 },
        { atSeconds: 60, proposed: 2 },
        { atSeconds: 299, proposed: 2 },
        { atSeconds: 301, proposed: 2 },
      ],
      expected: [
        { replicas: 5, ableToScale: 'ReadyForNewScale', limited: 'DesiredWithinRange' },
        { replicas: 5, ableToScale: 'ScaleDownStabilized', limited: 'DesiredWithinRange' },
        { replicas: 5, ableToScale: 'ScaleDownStabilized', limited: 'DesiredWithinRange' },
        { replicas: 2, ableToScale: 'ReadyForNewScale', limited: 'DesiredWithinRange' },
      ],
    },
    {
      name: 'a scale up is limited to max(2 x current, 4) per sync',
      current: 1,
      steps: [
        { atSeconds: 0, proposed: 20 },
        { atSeconds: 15, proposed: 20 },
        { atSeconds: 30, proposed: 20 },
      ],
      expected: [
        { replicas: 4, ableToScale: 'ReadyForNewScale', limited: 'ScaleUpLimit' },
        { replicas: 8, ableToScale: 'ReadyForNewScale', limited: 'ScaleUpLimit' },
        { replicas: 16, ableToScale: 'ReadyForNewScale', limited: 'ScaleUpLimit' },
      ],
    },
    {
      name: 'maxReplicas below the rate limit: TooManyReplicas',
      current: 4,
      max: 6,
      steps: [{ atSeconds: 0, proposed: 20 }],
      expected: [{ replicas: 6, ableToScale: 'ReadyForNewScale', limited: 'TooManyReplicas' }],
    },
    {
      name: 'below minReplicas: TooFewReplicas',
      current: 3,
      min: 2,
      downscaleSeconds: 0,
      steps: [
        { atSeconds: 0, proposed: 3 },
        { atSeconds: 1, proposed: 1 },
      ],
      expected: [
        { replicas: 3, ableToScale: 'ReadyForNewScale', limited: 'DesiredWithinRange' },
        { replicas: 2, ableToScale: 'ReadyForNewScale', limited: 'TooFewReplicas' },
      ],
    },
  ])('$name', ({ current, min, max, downscaleSeconds, steps, expected }) => {
    expect(run(steps, { current, ...(min === undefined ? {} : { min }), ...(max === undefined ? {} : { max }), ...(downscaleSeconds === undefined ? {} : { downscaleSeconds }) })).toEqual(expected);
  });
});

describe('with spec.behavior', () => {
  test.each<{ name: string; current: number; behavior: HorizontalPodAutoscalerBehavior; steps: Array<{ atSeconds: number; proposed: number }>; expected: number[]; reasons?: string[] }>([
    {
      name: 'default scale up: max(4 pods, 100%) per 15 s, counted from the size at the start of the period',
      current: 1,
      behavior: {},
      steps: [
        { atSeconds: 0, proposed: 40 },
        { atSeconds: 5, proposed: 40 },
        { atSeconds: 16, proposed: 40 },
        { atSeconds: 32, proposed: 40 },
      ],
      expected: [5, 5, 10, 20],
      reasons: ['ScaleUpLimit', 'ScaleUpLimit', 'ScaleUpLimit', 'ScaleUpLimit'],
    },
    {
      name: 'scale down with the flag window (300 s) when behavior names none',
      current: 6,
      behavior: { scaleDown: { policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } },
      steps: [
        { atSeconds: 0, proposed: 6 },
        { atSeconds: 100, proposed: 1 },
        { atSeconds: 301, proposed: 1 },
      ],
      expected: [6, 6, 1],
    },
    {
      name: 'a short scale-down window (the e2e setting) and 50% per minute',
      current: 8,
      behavior: { scaleDown: { stabilizationWindowSeconds: 10, policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] } },
      steps: [
        { atSeconds: 0, proposed: 8 },
        { atSeconds: 15, proposed: 1 },
        { atSeconds: 30, proposed: 1 },
        { atSeconds: 76, proposed: 1 },
      ],
      expected: [8, 4, 4, 2],
      reasons: ['DesiredWithinRange', 'ScaleDownLimit', 'ScaleDownLimit', 'ScaleDownLimit'],
    },
    {
      name: 'scale-up stabilization: the lowest recommendation of the window',
      current: 2,
      behavior: { scaleUp: { stabilizationWindowSeconds: 60 } },
      steps: [
        { atSeconds: 0, proposed: 2 },
        { atSeconds: 15, proposed: 6 },
        { atSeconds: 61, proposed: 6 },
      ],
      expected: [2, 2, 6],
    },
    {
      name: 'selectPolicy Min picks the smaller change',
      current: 10,
      behavior: { scaleUp: { selectPolicy: 'Min', policies: [{ type: 'Pods', value: 2, periodSeconds: 60 }, { type: 'Percent', value: 50, periodSeconds: 60 }] } },
      steps: [{ atSeconds: 0, proposed: 30 }],
      expected: [12],
    },
    {
      name: 'selectPolicy Disabled never scales that way',
      current: 5,
      behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Disabled' } },
      steps: [{ atSeconds: 0, proposed: 1 }],
      expected: [5],
    },
    {
      name: 'Pods policy on scale down',
      current: 10,
      behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 3, periodSeconds: 30 }] } },
      steps: [
        { atSeconds: 0, proposed: 1 },
        { atSeconds: 10, proposed: 1 },
        { atSeconds: 31, proposed: 1 },
      ],
      expected: [7, 7, 4],
    },
  ])('$name', ({ current, behavior, steps, expected, reasons }) => {
    const results = run(steps, { current, behavior });
    expect(results.map((result) => result.replicas)).toEqual(expected);
    if (reasons !== undefined) expect(results.map((result) => result.limited)).toEqual(reasons);
  });

  test('forget() drops the history of a deleted HPA', () => {
    const history = new ScalingHistory(300);
    history.recordInitialRecommendation(KEY, 3, T0);
    expect(history.keys()).toEqual([KEY]);
    history.forget(KEY);
    expect(history.keys()).toEqual([]);
  });
});
