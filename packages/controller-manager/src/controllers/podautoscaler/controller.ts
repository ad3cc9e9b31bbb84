// The HorizontalPodAutoscaler controller (upstream's horizontal.go, name
// "horizontalpodautoscaling"): every sync period each HPA reads its target
// through the scale subresource, computes a replica proposal per metric from
// the resource metrics API and the pods' requests (the highest wins),
// stabilizes and rate-limits it (normalize.ts), clamps it to min/max, writes
// the new size through the scale subresource and reports what it did in the
// HPA's status conditions and in Events, with upstream's reasons and
// messages so `kubectl describe hpa` reads the same.
import {
  deepCopy,
  formatTime,
  jsonEqual,
  parseQuantity,
  parseSelector,
  parseApiVersion,
  resourceForKind,
  type HorizontalPodAutoscaler,
  type HorizontalPodAutoscalerCondition,
  type HorizontalPodAutoscalerStatus,
  type MetricSpec,
  type MetricStatus,
  type Pod,
  type Scale,
  type Selector,
} from '@kube-lite/api';
import { RESOURCES, splitObjectKey, type Lister, type ResourceRef } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { ResourceMetricsReader } from './metrics';
import { ScalingHistory, type NormalizationCondition } from './normalize';
import { rawResourceReplicas, ReplicaCalculationError, resourceReplicas, type ReplicaCalculatorSettings, type Tolerances } from './replica-calculator';

export const HORIZONTAL_POD_AUTOSCALER_CONTROLLER_NAME = 'horizontalpodautoscaling';

/** The controller's flags, upstream's defaults. */
export interface HorizontalPodAutoscalerSettings {
  /** How often every HPA is reconciled (--horizontal-pod-autoscaler-sync-period). */
  syncPeriodMs: number;
  /** Usage ratio changes within this fraction of 1 leave the size alone (--horizontal-pod-autoscaler-tolerance). */
  tolerance: number;
  /** Scale down only to the highest recommendation of this window (--horizontal-pod-autoscaler-downscale-stabilization). */
  downscaleStabilizationMs: number;
  /** CPU samples of pods younger than this are trusted only a window after readiness (--horizontal-pod-autoscaler-cpu-initialization-period). */
  cpuInitializationPeriodMs: number;
  /** Unready pods that never were ready this long after start are left out (--horizontal-pod-autoscaler-initial-readiness-delay). */
  initialReadinessDelayMs: number;
}

export const DEFAULT_HORIZONTAL_POD_AUTOSCALER_SETTINGS: HorizontalPodAutoscalerSettings = {
  syncPeriodMs: 15_000,
  tolerance: 0.1,
  downscaleStabilizationMs: 300_000,
  cpuInitializationPeriodMs: 300_000,
  initialReadinessDelayMs: 30_000,
};

/** One reconcile could not finish; its message is what upstream logs (the user sees conditions and events). */
export class HorizontalPodAutoscalerSyncError extends Error {
  override readonly name = 'HorizontalPodAutoscalerSyncError';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A proposal from one metric, or why there is none. */
type MetricOutcome =
  | { ok: true; replicas: number; metricName: string; status: MetricStatus }
  | { ok: false; error: string; condition: { reason: string; message: string } };

export class HorizontalPodAutoscalerController extends QueueController {
  private readonly hpas: Lister<HorizontalPodAutoscaler>;
  private readonly pods: Lister<Pod>;
  private readonly settings: HorizontalPodAutoscalerSettings;
  readonly history: ScalingHistory;

  constructor(context: ControllerContext, settings: Partial<HorizontalPodAutoscalerSettings> = {}) {
    super(HORIZONTAL_POD_AUTOSCALER_CONTROLLER_NAME, context);
    const fromContext = context.settings;
    this.settings = {
      ...DEFAULT_HORIZONTAL_POD_AUTOSCALER_SETTINGS,
      ...definedOnly({
        syncPeriodMs: fromContext.horizontalPodAutoscalerSyncPeriodMs,
        tolerance: fromContext.horizontalPodAutoscalerTolerance,
        downscaleStabilizationMs: fromContext.horizontalPodAutoscalerDownscaleStabilizationMs,
        cpuInitializationPeriodMs: fromContext.horizontalPodAutoscalerCpuInitializationPeriodMs,
        initialReadinessDelayMs: fromContext.horizontalPodAutoscalerInitialReadinessDelayMs,
      }),
      ...settings,
    };
    this.history = new ScalingHistory(Math.round(this.settings.downscaleStabilizationMs / 1000));
    const hpaInformer = context.informers.forResource<HorizontalPodAutoscaler>(RESOURCES.horizontalPodAutoscalers);
    this.hpas = hpaInformer.lister;
    this.pods = context.informers.pods().lister;
    hpaInformer.addEventHandler({
      onAdd: (hpa) => this.enqueue(hpa),
      // Our own status writes are not a reason to look again before the sync period; spec changes are.
      onUpdate: (old, hpa) => {
        if (!jsonEqual(old.spec, hpa.spec)) this.enqueue(hpa);
      },
      onDelete: (object) => this.enqueue(deletedObject(object)),
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const cached = this.hpas.get(namespace, name);
    if (cached === undefined) {
      this.history.forget(key);
      return;
    }
    // Every HPA is reconciled once per sync period whatever else happens; that is also how failures are retried.
    this.queue.addAfter(key, this.settings.syncPeriodMs);
    try {
      await this.reconcile(key, deepCopy(cached));
    } catch (error) {
      this.logger.warn('horizontal pod autoscaler sync failed', { controller: this.name, hpa: key, error: messageOf(error) });
    }
  }

  /** One pass over one HPA; throws HorizontalPodAutoscalerSyncError after recording what the user should see. */
  async reconcile(key: string, hpa: HorizontalPodAutoscaler): Promise<void> {
    const spec = hpa.spec;
    if (spec === undefined) return;
    const original = deepCopy(hpa.status);
    const namespace = hpa.metadata?.namespace ?? '';
    const targetRef = spec.scaleTargetRef;
    const reference = `${targetRef.kind}/${namespace}/${targetRef.name}`;
    const nowMs = this.nowMs();

    let target: ResourceRef;
    let scale: Scale;
    try {
      target = scaleTargetResource(targetRef.apiVersion ?? '', targetRef.kind);
      scale = await this.client.getScale(target, namespace, targetRef.name);
    } catch (error) {
      this.context.recorder.record(hpa, 'Warning', 'FailedGetScale', messageOf(error));
      this.setCondition(hpa, 'AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${messageOf(error)}`);
      await this.updateStatusIfNeeded(original, hpa);
      throw new HorizontalPodAutoscalerSyncError(`failed to query scale subresource for ${reference}: ${messageOf(error)}`, { cause: error });
    }
    this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededGetScale', "the HPA controller was able to get the target's current scale");
    const currentReplicas = scale.spec?.replicas ?? 0;
    this.history.recordInitialRecommendation(key, currentReplicas, nowMs);

    const minReplicas = spec.minReplicas ?? 1;
    let desiredReplicas = 0;
    let rescaleReason = '';
    let rescale = true;
    let metricStatuses: MetricStatus[] = [];
    let partialError: string | undefined;

    if (currentReplicas === 0 && minReplicas !== 0) {
      rescale = false;
      this.setCondition(hpa, 'ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    } else if (currentReplicas > spec.maxReplicas) {
      rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
      desiredReplicas = spec.maxReplicas;
    } else if (currentReplicas < minReplicas) {
      rescaleReason = 'Current number of replicas below Spec.MinReplicas';
      desiredReplicas = minReplicas;
    } else {
      const computed = await this.computeReplicasForMetrics(hpa, scale, spec.metrics ?? [], nowMs);
      metricStatuses = computed.statuses;
      if (computed.replicas === undefined) {
        this.setCurrentReplicasAndMetrics(hpa, currentReplicas, metricStatuses);
        await this.updateStatusIfNeeded(original, hpa);
        this.context.recorder.record(hpa, 'Warning', 'FailedComputeMetricsReplicas', computed.error ?? '');
        throw new HorizontalPodAutoscalerSyncError(`failed to compute desired number of replicas based on listed metrics for ${reference}: ${computed.error ?? ''}`);
      }
      partialError = computed.error;
      desiredReplicas = computed.replicas;
      if (desiredReplicas > currentReplicas) rescaleReason = `${computed.metricName} above target`;
      if (desiredReplicas < currentReplicas) rescaleReason = 'All metrics below target';
      const normalized = this.history.normalize({ key, currentReplicas, proposedReplicas: desiredReplicas, minReplicas, maxReplicas: spec.maxReplicas, behavior: spec.behavior, nowMs });
      for (const condition of normalized.conditions) this.applyCondition(hpa, condition);
      desiredReplicas = normalized.replicas;
      rescale = desiredReplicas !== currentReplicas;
    }

    if (rescale) {
      try {
        await this.client.updateScale(target, namespace, targetRef.name, { ...scale, spec: { ...scale.spec, replicas: desiredReplicas } });
      } catch (error) {
        this.context.recorder.record(hpa, 'Warning', 'FailedRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}; error: ${messageOf(error)}`);
        this.setCondition(hpa, 'AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${messageOf(error)}`);
        this.setCurrentReplicasAndMetrics(hpa, currentReplicas, metricStatuses);
        await this.updateStatusIfNeeded(original, hpa);
        throw new HorizontalPodAutoscalerSyncError(`failed to rescale ${reference}: ${messageOf(error)}`, { cause: error });
      }
      this.setCondition(hpa, 'AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desiredReplicas}`);
      this.context.recorder.record(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desiredReplicas}; reason: ${rescaleReason}`);
      this.history.recordScale(key, spec.behavior, currentReplicas, desiredReplicas, nowMs);
      this.logger.info('rescaled', { controller: this.name, hpa: key, target: reference, currentReplicas, desiredReplicas, reason: rescaleReason });
    } else {
      desiredReplicas = currentReplicas;
    }

    const status: HorizontalPodAutoscalerStatus = { currentReplicas, desiredReplicas };
    if (hpa.metadata?.generation !== undefined) status.observedGeneration = hpa.metadata.generation;
    const lastScaleTime = rescale ? formatTime(nowMs) : hpa.status?.lastScaleTime;
    if (lastScaleTime !== undefined) status.lastScaleTime = lastScaleTime;
    if (metricStatuses.length > 0) status.currentMetrics = metricStatuses;
    if (hpa.status?.conditions !== undefined) status.conditions = hpa.status.conditions;
    hpa.status = status;
    await this.updateStatusIfNeeded(original, hpa);
    if (partialError !== undefined) throw new HorizontalPodAutoscalerSyncError(partialError);
  }

  /** The highest proposal over the metrics; undefined replicas when none worked, or some failed and the rest would scale down. */
  private async computeReplicasForMetrics(
    hpa: HorizontalPodAutoscaler,
    scale: Scale,
    metricSpecs: readonly MetricSpec[],
    nowMs: number,
  ): Promise<{ replicas: number | undefined; metricName: string; statuses: MetricStatus[]; error: string | undefined }> {
    const selectorText = scale.status?.selector ?? '';
    let selector: Selector;
    if (selectorText === '') {
      this.context.recorder.record(hpa, 'Warning', 'SelectorRequired', 'selector is required');
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', "the HPA target's scale is missing a selector");
      return { replicas: undefined, metricName: '', statuses: [], error: 'selector is required' };
    }
    try {
      selector = parseSelector(selectorText);
    } catch (error) {
      const message = `couldn't convert selector into a corresponding internal selector object: ${messageOf(error)}`;
      this.context.recorder.record(hpa, 'Warning', 'InvalidSelector', message);
      this.setCondition(hpa, 'ScalingActive', 'False', 'InvalidSelector', message);
      return { replicas: undefined, metricName: '', statuses: [], error: message };
    }
    const namespace = hpa.metadata?.namespace ?? '';
    const pods = this.pods.namespace(namespace).list().filter((pod) => selector.matches(pod.metadata?.labels ?? {}));
    const reader = new ResourceMetricsReader(this.client, namespace, selectorText);
    const specReplicas = scale.spec?.replicas ?? 0;
    const statuses: MetricStatus[] = [];
    let replicas = 0;
    let metricName = '';
    let invalidCount = 0;
    let firstInvalid: Extract<MetricOutcome, { ok: false }> | undefined;
    for (const metricSpec of metricSpecs) {
      const outcome = await this.computeReplicasForMetric(hpa, metricSpec, specReplicas, pods, reader, nowMs);
      if (!outcome.ok) {
        statuses.push({ type: '' as MetricSpec['type'] });
        firstInvalid ??= outcome;
        invalidCount += 1;
        continue;
      }
      statuses.push(outcome.status);
      if (replicas === 0 || outcome.replicas > replicas) {
        replicas = outcome.replicas;
        metricName = outcome.metricName;
      }
    }
    const error = firstInvalid === undefined ? undefined : `invalid metrics (${invalidCount} invalid out of ${metricSpecs.length}), first error is: ${firstInvalid.error}`;
    // A failed metric keeps an empty entry, as upstream's zero value, so entries line up with spec.metrics.
    const written = statuses;
    if (firstInvalid !== undefined && (invalidCount >= metricSpecs.length || replicas < specReplicas)) {
      this.setCondition(hpa, 'ScalingActive', 'False', firstInvalid.condition.reason, firstInvalid.condition.message);
      return { replicas: undefined, metricName: '', statuses: written, error };
    }
    if (metricSpecs.length === 0) {
      return { replicas: undefined, metricName: '', statuses: [], error: 'invalid metrics (0 invalid out of 0), first error is: no metrics specified' };
    }
    this.setCondition(hpa, 'ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${metricName}`);
    return { replicas, metricName, statuses: written, error };
  }

  private async computeReplicasForMetric(
    hpa: HorizontalPodAutoscaler,
    metricSpec: MetricSpec,
    specReplicas: number,
    pods: Pod[],
    reader: ResourceMetricsReader,
    nowMs: number,
  ): Promise<MetricOutcome> {
    const unable = (reason: string, error: string): MetricOutcome => {
      this.context.recorder.record(hpa, 'Warning', reason, error);
      return { ok: false, error, condition: { reason, message: `the HPA was unable to compute the replica count: ${error}` } };
    };
    const source = metricSpec.type === 'Resource' ? metricSpec.resource : metricSpec.type === 'ContainerResource' ? metricSpec.containerResource : undefined;
    if (source === undefined) {
      if (metricSpec.type === 'Resource' || metricSpec.type === 'ContainerResource') return unable('FailedGetResourceMetric', `invalid metric source: ${metricSpec.type} without its ${metricSpec.type === 'Resource' ? 'resource' : 'containerResource'} field`);
      const name = metricSpec.pods?.metric.name ?? metricSpec.object?.metric.name ?? metricSpec.external?.metric.name ?? '';
      const reason = { Pods: 'FailedGetPodsMetric', Object: 'FailedGetObjectMetric', External: 'FailedGetExternalMetric' }[metricSpec.type] ?? 'InvalidMetricSourceType';
      const api = metricSpec.type === 'External' ? 'external.metrics.k8s.io' : 'custom.metrics.k8s.io';
      return unable(reason, `failed to get ${metricSpec.type.toLowerCase()} metric value: unable to get metric ${name}: the ${api} API is not served by this cluster`);
    }
    const container = metricSpec.type === 'ContainerResource' ? (metricSpec.containerResource?.container ?? '') : '';
    const reason = metricSpec.type === 'ContainerResource' ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
    const wrap = metricSpec.type === 'ContainerResource' ? `failed to get ${source.name} container resource metric value` : `failed to get ${source.name} resource metric value`;
    const target = source.target;
    const settings = this.calculatorSettings(hpa, nowMs);
    try {
      if (target.averageValue !== undefined) {
        const targetMilli = milliOf(target.averageValue);
        try {
          const { metrics } = await reader.podMetrics(source.name, container);
          const result = rawResourceReplicas(specReplicas, targetMilli, source.name, pods, metrics, settings);
          return {
            ok: true,
            replicas: result.replicas,
            metricName: `${source.name} resource`,
            status: resourceStatus(metricSpec, source.name, container, { averageValue: milliQuantity(result.averageMilli) }),
          };
        } catch (error) {
          throw wrapCalculation(`failed to get ${source.name} usage`, error);
        }
      }
      if (target.averageUtilization === undefined) {
        throw new ReplicaCalculationError('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
      }
      try {
        const { metrics } = await reader.podMetrics(source.name, container);
        const result = container === '' ? resourceReplicas(specReplicas, target.averageUtilization, source.name, pods, metrics, settings) : containerReplicas(specReplicas, target.averageUtilization, source.name, container, pods, metrics, settings);
        const metricName = container === '' ? `${source.name} resource utilization (percentage of request)` : `${source.name} container resource utilization (percentage of request)`;
        const current: NonNullable<MetricStatus['resource']>['current'] = { averageValue: milliQuantity(result.averageMilli) };
        if (result.utilizationPercent !== undefined) current.averageUtilization = result.utilizationPercent;
        return { ok: true, replicas: result.replicas, metricName, status: resourceStatus(metricSpec, source.name, container, current) };
      } catch (error) {
        throw wrapCalculation(`failed to get ${source.name} utilization`, error);
      }
    } catch (error) {
      return unable(reason, `${wrap}: ${messageOf(error)}`);
    }
  }

  private calculatorSettings(hpa: HorizontalPodAutoscaler, nowMs: number): ReplicaCalculatorSettings {
    const tolerances: Tolerances = { scaleDown: this.settings.tolerance, scaleUp: this.settings.tolerance };
    // behavior.*.tolerance (upstream's configurable tolerance) overrides the flag for one direction.
    const scaleDown = toleranceOf(hpa.spec?.behavior?.scaleDown?.tolerance);
    const scaleUp = toleranceOf(hpa.spec?.behavior?.scaleUp?.tolerance);
    if (scaleDown !== undefined) tolerances.scaleDown = scaleDown;
    if (scaleUp !== undefined) tolerances.scaleUp = scaleUp;
    return { tolerances, cpuInitializationPeriodMs: this.settings.cpuInitializationPeriodMs, initialReadinessDelayMs: this.settings.initialReadinessDelayMs, nowMs };
  }

  private setCurrentReplicasAndMetrics(hpa: HorizontalPodAutoscaler, currentReplicas: number, metricStatuses: MetricStatus[]): void {
    const status: HorizontalPodAutoscalerStatus = { ...(hpa.status ?? { desiredReplicas: 0 }), currentReplicas };
    if (metricStatuses.length > 0) status.currentMetrics = metricStatuses;
    else delete status.currentMetrics;
    hpa.status = status;
  }

  private applyCondition(hpa: HorizontalPodAutoscaler, condition: NormalizationCondition): void {
    this.setCondition(hpa, condition.type, condition.status, condition.reason, condition.message);
  }

  /** Sets a condition, keeping its transition time unless the status changes. */
  private setCondition(hpa: HorizontalPodAutoscaler, type: string, status: 'True' | 'False', reason: string, message: string): void {
    const hpaStatus = (hpa.status ??= { desiredReplicas: 0 });
    const conditions = (hpaStatus.conditions ??= []);
    let condition: HorizontalPodAutoscalerCondition | undefined = conditions.find((candidate) => candidate.type === type);
    if (condition === undefined) {
      condition = { type, status };
      conditions.push(condition);
      condition.lastTransitionTime = formatTime(this.nowMs());
    } else if (condition.status !== status) {
      condition.lastTransitionTime = formatTime(this.nowMs());
    }
    condition.status = status;
    condition.reason = reason;
    condition.message = message;
  }

  private async updateStatusIfNeeded(original: HorizontalPodAutoscalerStatus | undefined, hpa: HorizontalPodAutoscaler): Promise<void> {
    if (jsonEqual(original, hpa.status)) return;
    await this.client.horizontalPodAutoscalers(hpa.metadata?.namespace ?? '').updateStatus(hpa);
  }
}

function definedOnly<T extends object>(values: { [K in keyof T]: T[K] | undefined }): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** The scalable resource of a scaleTargetRef; throws when the kind is unknown or has no scale subresource. */
function scaleTargetResource(apiVersion: string, kind: string): ResourceRef {
  const { group, version } = parseApiVersion(apiVersion);
  const info = resourceForKind(group, kind);
  if (info === undefined || (version !== '' && !info.versions.includes(version))) {
    throw new Error(`unable to determine resource for scale target reference: no matches for kind "${kind}" in version "${apiVersion}"`);
  }
  if (!info.subresources.some((subresource) => subresource.name === 'scale')) {
    throw new Error(`${info.resource}.${info.group === '' ? 'core' : info.group} "${kind}" does not have a scale subresource`);
  }
  return { group: info.group, version: info.versions[0] ?? version, resource: info.resource };
}

function milliOf(quantity: string | number): number {
  const nanos = parseQuantity(quantity).nanos;
  return Number(nanos / 1_000_000n + (nanos % 1_000_000n > 0n ? 1n : 0n));
}

function milliQuantity(milli: number): string {
  return parseQuantity(`${Math.trunc(milli)}m`).toString();
}

function toleranceOf(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  try {
    return Number(parseQuantity(value).nanos) / 1e9;
  } catch {
    return undefined;
  }
}

function wrapCalculation(prefix: string, error: unknown): ReplicaCalculationError {
  return new ReplicaCalculationError(`${prefix}: ${messageOf(error)}`, { cause: error });
}

function resourceStatus(metricSpec: MetricSpec, name: string, container: string, current: NonNullable<MetricStatus['resource']>['current']): MetricStatus {
  if (metricSpec.type === 'ContainerResource') return { type: 'ContainerResource', containerResource: { name, container, current } };
  return { type: 'Resource', resource: { name, current } };
}

/** Utilization of one container's requests: the pods' requests counted for that container only. */
function containerReplicas(
  currentReplicas: number,
  targetPercent: number,
  resource: string,
  container: string,
  pods: readonly Pod[],
  metrics: Parameters<typeof resourceReplicas>[4],
  settings: ReplicaCalculatorSettings,
): ReturnType<typeof resourceReplicas> {
  // Only the named container's requests count: give the calculator pods that have just that container.
  const narrowed = pods.map((pod) => ({ ...pod, spec: { ...pod.spec, containers: (pod.spec?.containers ?? []).filter((candidate) => candidate.name === container), initContainers: [] } }) as Pod);
  return resourceReplicas(currentReplicas, targetPercent, resource, narrowed, metrics, settings);
}
