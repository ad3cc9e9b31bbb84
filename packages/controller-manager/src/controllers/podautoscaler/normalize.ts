// From the metrics' proposal to the replica count actually set, as upstream:
// stabilization over a window of recent recommendations (scale down to the
// highest of the last 300 s, so a dip does not remove pods), then rate limits
// (spec.behavior policies over the scale events of their periods, or without
// behavior the legacy max(2 x current, 4) scale-up limit), then minReplicas
// and maxReplicas. Each HPA's history lives here, keyed by "namespace/name";
// time comes from the caller.

import type { HorizontalPodAutoscalerBehavior, HPAScalingPolicy, HPAScalingRules } from '@kube-lite/api';

interface TimestampedRecommendation {
  replicas: number;
  atMs: number;
}

interface ScaleEvent {
  change: number;
  atMs: number;
  outdated: boolean;
}

/** A condition the normalization step wants on the HPA: type, status, reason, message. */
export interface NormalizationCondition {
  type: 'AbleToScale' | 'ScalingLimited';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

export interface NormalizationResult {
  replicas: number;
  conditions: NormalizationCondition[];
}

/** Fully defaulted scaling rules (the API server fills these in; we do again for objects that skipped it). */
export interface ScalingRules {
  stabilizationWindowSeconds: number;
  selectPolicy: 'Max' | 'Min' | 'Disabled';
  policies: HPAScalingPolicy[];
}

const SCALE_UP_LIMIT_FACTOR = 2;
const SCALE_UP_LIMIT_MINIMUM = 4;

export const DEFAULT_SCALE_UP_POLICIES: readonly HPAScalingPolicy[] = [
  { type: 'Pods', value: 4, periodSeconds: 15 },
  { type: 'Percent', value: 100, periodSeconds: 15 },
];
export const DEFAULT_SCALE_DOWN_POLICIES: readonly HPAScalingPolicy[] = [{ type: 'Percent', value: 100, periodSeconds: 15 }];

/** spec.behavior with upstream's defaults; scale down's window defaults to the controller's flag. */
export function effectiveRules(behavior: HorizontalPodAutoscalerBehavior, downscaleStabilizationSeconds: number): { scaleUp: ScalingRules; scaleDown: ScalingRules } {
  const fill = (rules: HPAScalingRules | undefined, window: number, policies: readonly HPAScalingPolicy[]): ScalingRules => ({
    stabilizationWindowSeconds: rules?.stabilizationWindowSeconds ?? window,
    selectPolicy: rules?.selectPolicy ?? 'Max',
    policies: rules?.policies ?? [...policies],
  });
  return { scaleUp: fill(behavior.scaleUp, 0, DEFAULT_SCALE_UP_POLICIES), scaleDown: fill(behavior.scaleDown, downscaleStabilizationSeconds, DEFAULT_SCALE_DOWN_POLICIES) };
}

function limitedCondition(limited: boolean, reason: string, message: string): NormalizationCondition {
  return { type: 'ScalingLimited', status: limited ? 'True' : 'False', reason, message };
}

function stabilizedCondition(stabilized: boolean, reason: string, message: string): NormalizationCondition {
  return stabilized ? { type: 'AbleToScale', status: 'True', reason, message } : { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
}

/** Replicas added (or removed) by the events within the last periodSeconds. */
function changeWithin(events: readonly ScaleEvent[], periodSeconds: number, nowMs: number): number {
  const cutoffMs = nowMs - periodSeconds * 1000;
  return events.reduce((sum, event) => (event.atMs > cutoffMs ? sum + event.change : sum), 0);
}

export function scaleUpLimit(currentReplicas: number, upEvents: readonly ScaleEvent[], downEvents: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const periodStart = currentReplicas - changeWithin(upEvents, policy.periodSeconds, nowMs) + changeWithin(downEvents, policy.periodSeconds, nowMs);
    // Rounded up, or a small Percent policy could never add a pod.
    const proposed = policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

export function scaleDownLimit(currentReplicas: number, upEvents: readonly ScaleEvent[], downEvents: readonly ScaleEvent[], rules: ScalingRules, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return currentReplicas;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
  for (const policy of rules.policies) {
    const periodStart = currentReplicas - changeWithin(upEvents, policy.periodSeconds, nowMs) + changeWithin(downEvents, policy.periodSeconds, nowMs);
    const proposed = policy.type === 'Pods' ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100));
    result = pick(result, proposed);
  }
  return result;
}

export interface NormalizeRequest {
  key: string;
  currentReplicas: number;
  /** What the metrics propose, before stabilization and limits. */
  proposedReplicas: number;
  minReplicas: number;
  maxReplicas: number;
  /** spec.behavior; undefined selects the legacy rules. */
  behavior: HorizontalPodAutoscalerBehavior | undefined;
  nowMs: number;
}

export class ScalingHistory {
  private readonly recommendations = new Map<string, TimestampedRecommendation[]>();
  private readonly scaleUpEvents = new Map<string, ScaleEvent[]>();
  private readonly scaleDownEvents = new Map<string, ScaleEvent[]>();

  constructor(
    /** --horizontal-pod-autoscaler-downscale-stabilization, in seconds. */
    private readonly downscaleStabilizationSeconds: number,
  ) {}

  /** The first time an HPA is seen, its target's current size counts as a recommendation. */
  recordInitialRecommendation(key: string, currentReplicas: number, nowMs: number): void {
    if (!this.recommendations.has(key)) this.recommendations.set(key, [{ replicas: currentReplicas, atMs: nowMs }]);
  }

  /** Forgets a deleted HPA. */
  forget(key: string): void {
    this.recommendations.delete(key);
    this.scaleUpEvents.delete(key);
    this.scaleDownEvents.delete(key);
  }

  /** Keys with history (tests, and to drop HPAs deleted while the controller was not watching). */
  keys(): string[] {
    return [...this.recommendations.keys()];
  }

  normalize(request: NormalizeRequest): NormalizationResult {
    return request.behavior === undefined ? this.normalizeLegacy(request) : this.normalizeWithBehavior(request, request.behavior);
  }

  /** Remembers a change made, for the rate limits of behavior policies. */
  recordScale(key: string, behavior: HorizontalPodAutoscalerBehavior | undefined, previousReplicas: number, newReplicas: number, nowMs: number): void {
    if (behavior === undefined) return;
    const rules = effectiveRules(behavior, this.downscaleStabilizationSeconds);
    const up = newReplicas > previousReplicas;
    const longestPeriodSeconds = Math.max(0, ...(up ? rules.scaleUp : rules.scaleDown).policies.map((policy) => policy.periodSeconds));
    const events = (up ? this.scaleUpEvents : this.scaleDownEvents).get(key) ?? [];
    const cutoffMs = nowMs - longestPeriodSeconds * 1000;
    for (const event of events) if (event.atMs <= cutoffMs) event.outdated = true;
    const entry: ScaleEvent = { change: Math.abs(newReplicas - previousReplicas), atMs: nowMs, outdated: false };
    // Reuse an outdated slot: the list stays as long as the busiest period needs.
    const reusable = events.findIndex((event) => event.outdated);
    if (reusable >= 0) events[reusable] = entry;
    else events.push(entry);
    (up ? this.scaleUpEvents : this.scaleDownEvents).set(key, events);
  }

  private normalizeLegacy(request: NormalizeRequest): NormalizationResult {
    const stabilized = this.stabilizeLegacy(request.key, request.proposedReplicas, request.nowMs);
    const conditions: NormalizationCondition[] = [
      stabilizedCondition(stabilized !== request.proposedReplicas, 'ScaleDownStabilized', 'recent recommendations were higher than current one, applying the highest recent recommendation'),
    ];
    // Bogus usage reports must not multiply the pods at once.
    const upLimit = Math.max(SCALE_UP_LIMIT_FACTOR * request.currentReplicas, SCALE_UP_LIMIT_MINIMUM);
    const [maximum, maxReason, maxMessage] =
      request.maxReplicas > upLimit
        ? [upLimit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
        : [request.maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    let replicas = stabilized;
    if (stabilized < request.minReplicas) {
      replicas = request.minReplicas;
      conditions.push(limitedCondition(true, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'));
    } else if (stabilized > maximum) {
      replicas = maximum;
      conditions.push(limitedCondition(true, maxReason, maxMessage));
    } else {
      conditions.push(limitedCondition(false, 'DesiredWithinRange', 'the desired count is within the acceptable range'));
    }
    return { replicas, conditions };
  }

  /** Without behavior: the highest recommendation of the downscale window (replacing one sample older than it). */
  private stabilizeLegacy(key: string, proposed: number, nowMs: number): number {
    const cutoffMs = nowMs - this.downscaleStabilizationSeconds * 1000;
    const history = this.recommendations.get(key) ?? [];
    let maximum = proposed;
    let oldIndex = -1;
    history.forEach((recommendation, index) => {
      if (recommendation.atMs < cutoffMs) oldIndex = index;
      else if (recommendation.replicas > maximum) maximum = recommendation.replicas;
    });
    const entry = { replicas: proposed, atMs: nowMs };
    if (oldIndex >= 0) history[oldIndex] = entry;
    else history.push(entry);
    this.recommendations.set(key, history);
    return maximum;
  }

  private normalizeWithBehavior(request: NormalizeRequest, behavior: HorizontalPodAutoscalerBehavior): NormalizationResult {
    const rules = effectiveRules(behavior, this.downscaleStabilizationSeconds);
    const { replicas: stabilized, reason, message } = this.stabilizeWithBehavior(request, rules);
    const conditions: NormalizationCondition[] = [stabilizedCondition(stabilized !== request.proposedReplicas, reason, message)];
    const limited = this.applyRateLimits({ ...request, proposedReplicas: stabilized }, rules);
    conditions.push(limitedCondition(limited.replicas !== stabilized, limited.reason, limited.message));
    return { replicas: limited.replicas, conditions };
  }

  /** Bounded by the lowest recommendation of the scale-up window and the highest of the scale-down window. */
  private stabilizeWithBehavior(request: NormalizeRequest, rules: { scaleUp: ScalingRules; scaleDown: ScalingRules }): { replicas: number; reason: string; message: string } {
    const upCutoffMs = request.nowMs - rules.scaleUp.stabilizationWindowSeconds * 1000;
    const downCutoffMs = request.nowMs - rules.scaleDown.stabilizationWindowSeconds * 1000;
    let upRecommendation = request.proposedReplicas;
    let downRecommendation = request.proposedReplicas;
    let oldIndex = -1;
    const history = this.recommendations.get(request.key) ?? [];
    history.forEach((recommendation, index) => {
      if (recommendation.atMs > upCutoffMs) upRecommendation = Math.min(upRecommendation, recommendation.replicas);
      if (recommendation.atMs > downCutoffMs) downRecommendation = Math.max(downRecommendation, recommendation.replicas);
      if (recommendation.atMs < upCutoffMs && recommendation.atMs < downCutoffMs) oldIndex = index;
    });
    let replicas = request.currentReplicas;
    if (replicas < upRecommendation) replicas = upRecommendation;
    if (replicas > downRecommendation) replicas = downRecommendation;
    const entry = { replicas: request.proposedReplicas, atMs: request.nowMs };
    if (oldIndex >= 0) history[oldIndex] = entry;
    else history.push(entry);
    this.recommendations.set(request.key, history);
    return request.proposedReplicas >= request.currentReplicas
      ? { replicas, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
      : { replicas, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
  }

  private applyRateLimits(request: NormalizeRequest, rules: { scaleUp: ScalingRules; scaleDown: ScalingRules }): { replicas: number; reason: string; message: string } {
    const upEvents = this.scaleUpEvents.get(request.key) ?? [];
    const downEvents = this.scaleDownEvents.get(request.key) ?? [];
    if (request.proposedReplicas > request.currentReplicas) {
      // Until the events of the period age out, the limit may sit below the current size: then hold.
      const limit = Math.max(scaleUpLimit(request.currentReplicas, upEvents, downEvents, rules.scaleUp, request.nowMs), request.currentReplicas);
      const [maximum, reason, message] =
        request.maxReplicas > limit
          ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
          : [request.maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
      if (request.proposedReplicas > maximum) return { replicas: maximum, reason, message };
    } else if (request.proposedReplicas < request.currentReplicas) {
      const limit = Math.min(scaleDownLimit(request.currentReplicas, upEvents, downEvents, rules.scaleDown, request.nowMs), request.currentReplicas);
      const [minimum, reason, message] =
        request.minReplicas < limit
          ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
          : [request.minReplicas, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
      if (request.proposedReplicas < minimum) return { replicas: minimum, reason, message };
    }
    return { replicas: request.proposedReplicas, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
  }
}
