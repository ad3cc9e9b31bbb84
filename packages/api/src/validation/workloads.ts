// Validation of apps/v1 and batch/v1 workloads (upstream pkg/apis/apps and
// pkg/apis/batch validation) for create and update.
import { isValidTimeZone, parseSchedule, ScheduleError } from '../cron-schedule';
import { labelSelectorAsSelector } from '../labels';
import { semanticEqual } from '../semantic';
import type { IntOrString } from '../intstr';
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from '../types/apps';
import type { CronJob, Job, JobSpec } from '../types/batch';
import type { PodTemplateSpec } from '../types/core';
import type { LabelSelector } from '../types/meta';
import { FieldPath, forbidden, invalid, notSupported, required, type FieldError } from './field';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta';
import { isQualifiedName, isValidLabelValue, nameIsDNSSubdomain } from './names';
import { nonNegative, validatePodTemplateSpec } from './pod';

/** Prints a selector the way Go's %#v does in upstream's messages. */
class GoLabelSelector {
  constructor(private readonly selector: LabelSelector) {}

  toString(): string {
    const labels = Object.entries(this.selector.matchLabels ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
      .join(', ');
    const matchLabels = this.selector.matchLabels ? `map[string]string{${labels}}` : 'map[string]string(nil)';
    const expressions = this.selector.matchExpressions
      ? `[]v1.LabelSelectorRequirement{${this.selector.matchExpressions
          .map((e) => `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key)}, Operator:${JSON.stringify(e.operator)}, Values:[]string{${(e.values ?? []).map((v) => JSON.stringify(v)).join(', ')}}}`)
          .join(', ')}}`
      : '[]v1.LabelSelectorRequirement(nil)';
    return `&v1.LabelSelector{MatchLabels:${matchLabels}, MatchExpressions:${expressions}}`;
  }
}

export function validateLabelSelector(selector: LabelSelector | undefined, path: FieldPath): FieldError[] {
  if (!selector) return [];
  const errors = validateLabels(selector.matchLabels, path.child('matchLabels'));
  (selector.matchExpressions ?? []).forEach((expression, i) => {
    const expressionPath = path.child('matchExpressions').index(i);
    const values = expression.values ?? [];
    switch (expression.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errors.push(required(expressionPath.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errors.push(forbidden(expressionPath.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errors.push(invalid(expressionPath.child('operator'), expression.operator, 'not a valid selector operator'));
    }
    for (const message of isQualifiedName(expression.key ?? '')) errors.push(invalid(expressionPath.child('key'), expression.key ?? '', message));
    values.forEach((value, j) => {
      for (const message of isValidLabelValue(value)) errors.push(invalid(expressionPath.child('values').index(j), value, message));
    });
  });
  return errors;
}

/** Selector present, non-empty and matching the template's labels. */
function validateSelectorAndTemplate(
  selector: LabelSelector | undefined,
  template: PodTemplateSpec | undefined,
  specPath: FieldPath,
  kindName: string,
): FieldError[] {
  if (!selector) return [required(specPath.child('selector'), '')];
  const errors = validateLabelSelector(selector, specPath.child('selector'));
  if (errors.length > 0) return errors;
  const parsed = labelSelectorAsSelector(selector);
  if (parsed.empty()) {
    errors.push(invalid(specPath.child('selector'), new GoLabelSelector(selector), `empty selector is invalid for ${kindName}`));
  } else if (template && !parsed.matches(template.metadata?.labels ?? {})) {
    errors.push(invalid(specPath.child('template', 'metadata', 'labels'), template.metadata?.labels ?? {}, '`selector` does not match template `labels`'));
  }
  return errors;
}

/** Templates of controllers that keep pods running must restart them Always. */
function validateLongRunningTemplate(template: PodTemplateSpec | undefined, path: FieldPath): FieldError[] {
  const errors = validatePodTemplateSpec(template, path);
  const spec = template?.spec;
  if (spec?.restartPolicy !== undefined && spec.restartPolicy !== 'Always') {
    errors.push(notSupported(path.child('spec', 'restartPolicy'), spec.restartPolicy, ['Always']));
  }
  if (spec?.activeDeadlineSeconds !== undefined) {
    errors.push(forbidden(path.child('spec', 'activeDeadlineSeconds'), 'activeDeadlineSeconds in ReplicaSet is not Supported'));
  }
  return errors;
}

function percentValue(value: IntOrString): number | undefined {
  if (typeof value === 'number') return value;
  const match = /^([0-9]+)%$/.exec(value);
  return match ? Number(match[1]) : undefined;
}

function validateIntOrPercent(value: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (value === undefined) return [];
  const numeric = percentValue(value);
  if (numeric === undefined) return [invalid(path, value, "must be an integer or percentage (e.g '5%')")];
  const errors = nonNegative(numeric, path);
  if (typeof value === 'string' && numeric > 100) errors.push(invalid(path, value, 'must not be greater than 100%'));
  return errors;
}

function validateSurgeAndUnavailable(maxSurge: IntOrString | undefined, maxUnavailable: IntOrString | undefined, path: FieldPath): FieldError[] {
  const errors = [...validateIntOrPercent(maxUnavailable, path.child('maxUnavailable')), ...validateIntOrPercent(maxSurge, path.child('maxSurge'))];
  const surge = maxSurge === undefined ? 0 : percentValue(maxSurge);
  const unavailable = maxUnavailable === undefined ? 0 : percentValue(maxUnavailable);
  if (surge === 0 && unavailable === 0) errors.push(invalid(path.child('maxUnavailable'), maxUnavailable ?? 0, 'may not be 0 when `maxSurge` is 0'));
  return errors;
}

export function validateDeployment(deployment: Deployment): FieldError[] {
  const errors = validateObjectMeta(deployment.metadata, true, nameIsDNSSubdomain);
  const spec = deployment.spec;
  const specPath = FieldPath.root('spec');
  if (!spec) return [...errors, required(specPath, '')];
  errors.push(...nonNegative(spec.replicas, specPath.child('replicas')));
  errors.push(...validateSelectorAndTemplate(spec.selector, spec.template, specPath, 'deployment'));
  errors.push(...validateLongRunningTemplate(spec.template, specPath.child('template')));
  const strategy = spec.strategy;
  const strategyPath = specPath.child('strategy');
  if (strategy?.type !== undefined && strategy.type !== 'Recreate' && strategy.type !== 'RollingUpdate') {
    errors.push(notSupported(strategyPath.child('type'), strategy.type, ['Recreate', 'RollingUpdate']));
  }
  if (strategy?.type === 'Recreate' && strategy.rollingUpdate) {
    errors.push(forbidden(strategyPath.child('rollingUpdate'), "may not be specified when strategy `type` is 'Recreate'"));
  }
  if (strategy?.type === 'RollingUpdate' && strategy.rollingUpdate) {
    errors.push(...validateSurgeAndUnavailable(strategy.rollingUpdate.maxSurge, strategy.rollingUpdate.maxUnavailable, strategyPath.child('rollingUpdate')));
  }
  errors.push(...nonNegative(spec.revisionHistoryLimit, specPath.child('revisionHistoryLimit')));
  errors.push(...nonNegative(spec.minReadySeconds, specPath.child('minReadySeconds')));
  if (spec.progressDeadlineSeconds !== undefined) {
    errors.push(...nonNegative(spec.progressDeadlineSeconds, specPath.child('progressDeadlineSeconds')));
    if (spec.progressDeadlineSeconds <= (spec.minReadySeconds ?? 0)) {
      errors.push(invalid(specPath.child('progressDeadlineSeconds'), spec.progressDeadlineSeconds, 'must be greater than minReadySeconds'));
    }
  }
  return errors;
}

function immutableSelector(next: LabelSelector | undefined, previous: LabelSelector | undefined, path: FieldPath): FieldError[] {
  return semanticEqual(next, previous) ? [] : [invalid(path, new GoLabelSelector(next ?? {}), 'field is immutable')];
}

export function validateDeploymentUpdate(next: Deployment, previous: Deployment): FieldError[] {
  return [
    ...validateObjectMetaUpdate(next.metadata, previous.metadata),
    ...validateDeployment(next),
    ...immutableSelector(next.spec?.selector, previous.spec?.selector, FieldPath.root('spec', 'selector')),
  ];
}

export function validateReplicaSet(replicaSet: ReplicaSet): FieldError[] {
  const errors = validateObjectMeta(replicaSet.metadata, true, nameIsDNSSubdomain);
  const spec = replicaSet.spec;
  const specPath = FieldPath.root('spec');
  if (!spec) return [...errors, required(specPath, '')];
  errors.push(...nonNegative(spec.replicas, specPath.child('replicas')));
  errors.push(...nonNegative(spec.minReadySeconds, specPath.child('minReadySeconds')));
  errors.push(...validateSelectorAndTemplate(spec.selector, spec.template, specPath, 'deployment'));
  if (spec.template) errors.push(...validateLongRunningTemplate(spec.template, specPath.child('template')));
  return errors;
}

export function validateReplicaSetUpdate(next: ReplicaSet, previous: ReplicaSet): FieldError[] {
  return [
    ...validateObjectMetaUpdate(next.metadata, previous.metadata),
    ...validateReplicaSet(next),
    ...immutableSelector(next.spec?.selector, previous.spec?.selector, FieldPath.root('spec', 'selector')),
  ];
}

export function validateStatefulSet(statefulSet: StatefulSet): FieldError[] {
  const errors = validateObjectMeta(statefulSet.metadata, true, nameIsDNSSubdomain);
  const spec = statefulSet.spec;
  const specPath = FieldPath.root('spec');
  if (!spec) return [...errors, required(specPath, '')];
  if (spec.podManagementPolicy !== undefined && spec.podManagementPolicy !== 'OrderedReady' && spec.podManagementPolicy !== 'Parallel') {
    errors.push(notSupported(specPath.child('podManagementPolicy'), spec.podManagementPolicy, ['OrderedReady', 'Parallel']));
  }
  const strategy = spec.updateStrategy;
  const strategyPath = specPath.child('updateStrategy');
  if (strategy?.type === 'OnDelete' && strategy.rollingUpdate) {
    errors.push(invalid(strategyPath.child('rollingUpdate'), '', "only allowed for updateStrategy 'RollingUpdate'"));
  } else if (strategy?.type !== undefined && strategy.type !== 'RollingUpdate' && strategy.type !== 'OnDelete') {
    errors.push(notSupported(strategyPath.child('type'), strategy.type, ['OnDelete', 'RollingUpdate']));
  }
  errors.push(...nonNegative(strategy?.rollingUpdate?.partition, strategyPath.child('rollingUpdate', 'partition')));
  errors.push(...nonNegative(spec.replicas, specPath.child('replicas')));
  errors.push(...nonNegative(spec.minReadySeconds, specPath.child('minReadySeconds')));
  errors.push(...nonNegative(spec.revisionHistoryLimit, specPath.child('revisionHistoryLimit')));
  // Containers may mount a volumeClaimTemplate by name: the template is checked with the claims as volumes, as upstream.
  const claimNames = (spec.volumeClaimTemplates ?? []).map((claim) => claim.metadata?.name ?? '');
  const template = claimNames.length === 0 || !spec.template?.spec ? spec.template : {
    ...spec.template,
    spec: { ...spec.template.spec, volumes: [...(spec.template.spec.volumes ?? []), ...claimNames.map((claimName) => ({ name: claimName, persistentVolumeClaim: { claimName } }))] },
  };
  errors.push(...validateSelectorAndTemplate(spec.selector, template, specPath, 'statefulset'));
  errors.push(...validateLongRunningTemplate(template, specPath.child('template')));
  return errors;
}

export function validateStatefulSetUpdate(next: StatefulSet, previous: StatefulSet): FieldError[] {
  const errors = [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateStatefulSet(next)];
  const strip = (set: StatefulSet) => {
    const { replicas: _r, ordinals: _o, template: _t, updateStrategy: _u, persistentVolumeClaimRetentionPolicy: _p, minReadySeconds: _m, ...rest } = set.spec ?? ({} as NonNullable<StatefulSet['spec']>);
    return rest;
  };
  if (!semanticEqual(strip(next), strip(previous))) {
    errors.push(
      forbidden(
        FieldPath.root('spec'),
        "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
      ),
    );
  }
  return errors;
}

export function validateDaemonSet(daemonSet: DaemonSet): FieldError[] {
  const errors = validateObjectMeta(daemonSet.metadata, true, nameIsDNSSubdomain);
  const spec = daemonSet.spec;
  const specPath = FieldPath.root('spec');
  if (!spec) return [...errors, required(specPath, '')];
  errors.push(...validateSelectorAndTemplate(spec.selector, spec.template, specPath, 'daemonset'));
  errors.push(...validateLongRunningTemplate(spec.template, specPath.child('template')));
  errors.push(...nonNegative(spec.minReadySeconds, specPath.child('minReadySeconds')));
  errors.push(...nonNegative(spec.revisionHistoryLimit, specPath.child('revisionHistoryLimit')));
  const strategy = spec.updateStrategy;
  const strategyPath = specPath.child('updateStrategy');
  if (strategy?.type !== undefined && strategy.type !== 'RollingUpdate' && strategy.type !== 'OnDelete') {
    errors.push(notSupported(strategyPath.child('type'), strategy.type, ['OnDelete', 'RollingUpdate']));
  }
  if (strategy?.type === 'RollingUpdate' && strategy.rollingUpdate) {
    errors.push(...validateSurgeAndUnavailable(strategy.rollingUpdate.maxSurge, strategy.rollingUpdate.maxUnavailable, strategyPath.child('rollingUpdate')));
  }
  return errors;
}

export function validateDaemonSetUpdate(next: DaemonSet, previous: DaemonSet): FieldError[] {
  return [
    ...validateObjectMetaUpdate(next.metadata, previous.metadata),
    ...validateDaemonSet(next),
    ...immutableSelector(next.spec?.selector, previous.spec?.selector, FieldPath.root('spec', 'selector')),
  ];
}

function validateJobSpec(spec: JobSpec, specPath: FieldPath, inTemplate: boolean): FieldError[] {
  const errors: FieldError[] = [];
  errors.push(...nonNegative(spec.parallelism, specPath.child('parallelism')));
  errors.push(...nonNegative(spec.completions, specPath.child('completions')));
  errors.push(...nonNegative(spec.activeDeadlineSeconds, specPath.child('activeDeadlineSeconds')));
  errors.push(...nonNegative(spec.backoffLimit, specPath.child('backoffLimit')));
  errors.push(...nonNegative(spec.ttlSecondsAfterFinished, specPath.child('ttlSecondsAfterFinished')));
  if (spec.completionMode !== undefined && spec.completionMode !== 'NonIndexed' && spec.completionMode !== 'Indexed') {
    errors.push(notSupported(specPath.child('completionMode'), spec.completionMode, ['NonIndexed', 'Indexed'], false));
  }
  if (spec.completionMode === 'Indexed' && spec.completions === undefined) {
    errors.push(required(specPath.child('completions'), 'when completion mode is Indexed'));
  }
  if (inTemplate) {
    if (spec.selector && spec.manualSelector !== true) {
      errors.push(invalid(specPath.child('selector'), new GoLabelSelector(spec.selector), '`selector` will be auto-generated'));
    }
  } else if (spec.selector) {
    errors.push(...validateSelectorAndTemplate(spec.selector, spec.template, specPath, 'job'));
  } else {
    errors.push(required(specPath.child('selector'), ''));
  }
  const templatePath = specPath.child('template');
  errors.push(...validatePodTemplateSpec(spec.template, templatePath));
  const restartPolicy = spec.template?.spec?.restartPolicy;
  if (restartPolicy !== undefined && restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    errors.push(notSupported(templatePath.child('spec', 'restartPolicy'), restartPolicy, ['OnFailure', 'Never'], false));
  }
  return errors;
}

/** Validates a Job whose selector the registry has already generated (see generateJobSelector). */
export function validateJob(job: Job): FieldError[] {
  const errors = validateObjectMeta(job.metadata, true, nameIsDNSSubdomain);
  if (!job.spec) return [...errors, required(FieldPath.root('spec'), '')];
  return [...errors, ...validateJobSpec(job.spec, FieldPath.root('spec'), false)];
}

export function validateJobUpdate(next: Job, previous: Job): FieldError[] {
  const errors = [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateJob(next)];
  const specPath = FieldPath.root('spec');
  errors.push(...immutableSelector(next.spec?.selector, previous.spec?.selector, specPath.child('selector')));
  if (!semanticEqual(next.spec?.template, previous.spec?.template)) {
    errors.push(invalid(specPath.child('template'), '(template)', 'field is immutable'));
  }
  if ((next.spec?.completionMode ?? 'NonIndexed') !== (previous.spec?.completionMode ?? 'NonIndexed')) {
    errors.push(invalid(specPath.child('completionMode'), next.spec?.completionMode ?? '', 'field is immutable'));
  }
  if (next.spec?.completionMode !== 'Indexed' && next.spec?.completions !== previous.spec?.completions) {
    errors.push(invalid(specPath.child('completions'), next.spec?.completions ?? '<nil>', 'field is immutable'));
  }
  return errors;
}

/** Upstream caps CronJob names so generated Job names stay within 63 characters. */
const CRONJOB_NAME_MAX_LENGTH = 52;

export interface CronJobValidationOptions {
  /** Returns an error message for an invalid cron expression, undefined when it parses; cron-parser's reading by default. */
  validateSchedule?: (schedule: string) => string | undefined;
}

function scheduleProblem(schedule: string): string | undefined {
  try {
    parseSchedule(schedule, 'UTC');
    return undefined;
  } catch (error) {
    return error instanceof ScheduleError ? error.message : String(error);
  }
}

export function validateCronJob(cronJob: CronJob, options: CronJobValidationOptions = {}): FieldError[] {
  const errors = validateObjectMeta(cronJob.metadata, true, nameIsDNSSubdomain);
  const name = cronJob.metadata?.name ?? '';
  if (name.length > CRONJOB_NAME_MAX_LENGTH) {
    errors.push(invalid(FieldPath.root('metadata', 'name'), name, `must be no more than ${CRONJOB_NAME_MAX_LENGTH} characters`));
  }
  const spec = cronJob.spec;
  const specPath = FieldPath.root('spec');
  if (!spec) return [...errors, required(specPath, '')];
  if (!spec.schedule) {
    errors.push(required(specPath.child('schedule'), ''));
  } else if (/(^|\s)(CRON_)?TZ=/.test(spec.schedule)) {
    errors.push(invalid(specPath.child('schedule'), spec.schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
  } else {
    const problem = (options.validateSchedule ?? scheduleProblem)(spec.schedule);
    if (problem) errors.push(invalid(specPath.child('schedule'), spec.schedule, problem));
  }
  if (spec.timeZone !== undefined && spec.timeZone !== null && !isValidTimeZone(spec.timeZone)) {
    errors.push(invalid(specPath.child('timeZone'), spec.timeZone, `unknown time zone ${spec.timeZone}`));
  }
  if (spec.concurrencyPolicy !== undefined && !['Allow', 'Forbid', 'Replace'].includes(spec.concurrencyPolicy)) {
    errors.push(notSupported(specPath.child('concurrencyPolicy'), spec.concurrencyPolicy, ['Allow', 'Forbid', 'Replace'], false));
  }
  errors.push(...nonNegative(spec.startingDeadlineSeconds, specPath.child('startingDeadlineSeconds')));
  errors.push(...nonNegative(spec.successfulJobsHistoryLimit, specPath.child('successfulJobsHistoryLimit')));
  errors.push(...nonNegative(spec.failedJobsHistoryLimit, specPath.child('failedJobsHistoryLimit')));
  const templatePath = specPath.child('jobTemplate');
  if (!spec.jobTemplate?.spec) {
    errors.push(required(templatePath.child('spec'), ''));
  } else {
    errors.push(...validateLabels(spec.jobTemplate.metadata?.labels, templatePath.child('metadata', 'labels')));
    errors.push(...validateJobSpec(spec.jobTemplate.spec, templatePath.child('spec'), true));
  }
  return errors;
}

export function validateCronJobUpdate(next: CronJob, previous: CronJob, options: CronJobValidationOptions = {}): FieldError[] {
  return [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateCronJob(next, options)];
}
