// Printers for apps/v1, batch/v1 and autoscaling/v2 kinds.

import { ageSince, humanDuration } from './age';
import { NONE, count, podTemplateContainers, selectorText } from './helpers';
import { AGE_COLUMN, NAME_COLUMN, column, type KindPrinter } from './types';

/* eslint-disable @typescript-eslint/no-explicit-any */

const CONTAINERS_COLUMN = column('Containers', 'Names of each container in the template.', { priority: 1 });
const IMAGES_COLUMN = column('Images', 'Images referenced by each container in the template.', { priority: 1 });
const SELECTOR_COLUMN = column('Selector', 'Label selector for pods.', { priority: 1 });

export const deploymentPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Ready', 'Number of the pod with ready state'),
    column('Up-to-date', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', { type: 'integer' }),
    column('Available', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', { type: 'integer' }),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(deployment, nowMs) {
    const containers = podTemplateContainers(deployment.spec?.template);
    return [
      deployment.metadata?.name,
      `${count(deployment.status?.readyReplicas)}/${count(deployment.spec?.replicas)}`,
      count(deployment.status?.updatedReplicas),
      count(deployment.status?.availableReplicas),
      ageSince(deployment.metadata?.creationTimestamp, nowMs),
      containers.names,
      containers.images,
      selectorText(deployment.spec?.selector),
    ];
  },
};

export const replicaSetPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'Number of desired pods.', { type: 'integer' }),
    column('Current', 'Number of actual pods.', { type: 'integer' }),
    column('Ready', 'Number of ready pods.', { type: 'integer' }),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(replicaSet, nowMs) {
    const containers = podTemplateContainers(replicaSet.spec?.template);
    return [
      replicaSet.metadata?.name,
      count(replicaSet.spec?.replicas),
      count(replicaSet.status?.replicas),
      count(replicaSet.status?.readyReplicas),
      ageSince(replicaSet.metadata?.creationTimestamp, nowMs),
      containers.names,
      containers.images,
      selectorText(replicaSet.spec?.selector),
    ];
  },
};

export const statefulSetPrinter: KindPrinter = {
  columns: [NAME_COLUMN, column('Ready', 'Number of the pod with ready state'), AGE_COLUMN, CONTAINERS_COLUMN, IMAGES_COLUMN],
  cells(statefulSet, nowMs) {
    const containers = podTemplateContainers(statefulSet.spec?.template);
    return [
      statefulSet.metadata?.name,
      `${count(statefulSet.status?.readyReplicas)}/${count(statefulSet.spec?.replicas)}`,
      ageSince(statefulSet.metadata?.creationTimestamp, nowMs),
      containers.names,
      containers.images,
    ];
  },
};

export const daemonSetPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Desired', 'The desired number of pods.', { type: 'integer' }),
    column('Current', 'The current number of pods.', { type: 'integer' }),
    column('Ready', 'The number of pods ready.', { type: 'integer' }),
    column('Up-to-date', 'The number of pods updated.', { type: 'integer' }),
    column('Available', 'The number of pods available.', { type: 'integer' }),
    column('Node Selector', 'Which nodes the pods run on.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(daemonSet, nowMs) {
    const containers = podTemplateContainers(daemonSet.spec?.template);
    const nodeSelector = Object.entries<string>(daemonSet.spec?.template?.spec?.nodeSelector ?? {})
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    return [
      daemonSet.metadata?.name,
      count(daemonSet.status?.desiredNumberScheduled),
      count(daemonSet.status?.currentNumberScheduled),
      count(daemonSet.status?.numberReady),
      count(daemonSet.status?.updatedNumberScheduled),
      count(daemonSet.status?.numberAvailable),
      nodeSelector === '' ? NONE : nodeSelector,
      ageSince(daemonSet.metadata?.creationTimestamp, nowMs),
      containers.names,
      containers.images,
      selectorText(daemonSet.spec?.selector),
    ];
  },
};

function hasCondition(conditions: any[] | undefined, type: string): boolean {
  return (conditions ?? []).some((condition) => condition?.type === type && condition?.status === 'True');
}

function jobStatus(job: any): string {
  const conditions = job.status?.conditions;
  if (hasCondition(conditions, 'Complete')) return 'Complete';
  if (hasCondition(conditions, 'Failed')) return 'Failed';
  if (job.metadata?.deletionTimestamp) return 'Terminating';
  if (hasCondition(conditions, 'SuccessCriteriaMet')) return 'SuccessCriteriaMet';
  if (hasCondition(conditions, 'Suspended')) return 'Suspended';
  if (hasCondition(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function jobCompletions(job: any): string {
  const succeeded = count(job.status?.succeeded);
  if (job.spec?.completions !== undefined && job.spec?.completions !== null) return `${succeeded}/${job.spec.completions}`;
  const parallelism = job.spec?.parallelism ?? 0;
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: any, nowMs: number): string {
  const started = job.status?.startTime ? Date.parse(job.status.startTime) : NaN;
  if (Number.isNaN(started)) return '';
  const finished = job.status?.completionTime ? Date.parse(job.status.completionTime) : nowMs;
  return humanDuration((Number.isNaN(finished) ? nowMs : finished) - started);
}

export const jobPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'Status of the job.'),
    column('Completions', 'The completion status of the job.'),
    column('Duration', 'Time required to complete the job.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(job, nowMs) {
    const containers = podTemplateContainers(job.spec?.template);
    return [
      job.metadata?.name,
      jobStatus(job),
      jobCompletions(job),
      jobDuration(job, nowMs),
      ageSince(job.metadata?.creationTimestamp, nowMs),
      containers.names,
      containers.images,
      selectorText(job.spec?.selector),
    ];
  },
};

export const cronJobPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Schedule', 'The schedule in Cron format.'),
    column('Timezone', 'The time zone for the schedule.'),
    column('Suspend', 'Whether subsequent executions are suspended.', { type: 'boolean' }),
    column('Active', 'The number of currently running jobs.', { type: 'integer' }),
    column('Last Schedule', 'When the job was last scheduled.'),
    AGE_COLUMN,
    CONTAINERS_COLUMN,
    IMAGES_COLUMN,
    SELECTOR_COLUMN,
  ],
  cells(cronJob, nowMs) {
    const template = cronJob.spec?.jobTemplate?.spec;
    const containers = podTemplateContainers(template?.template);
    return [
      cronJob.metadata?.name,
      cronJob.spec?.schedule ?? '',
      cronJob.spec?.timeZone || NONE,
      cronJob.spec?.suspend === true,
      (cronJob.status?.active ?? []).length,
      cronJob.status?.lastScheduleTime ? ageSince(cronJob.status.lastScheduleTime, nowMs) : NONE,
      ageSince(cronJob.metadata?.creationTimestamp, nowMs),
      containers.names,
      containers.images,
      selectorText(template?.selector),
    ];
  },
};

function metricName(metric: any): string {
  switch (metric?.type) {
    case 'Resource':
      return metric.resource?.name ?? '';
    case 'ContainerResource':
      return `${metric.containerResource?.name ?? ''}`;
    case 'Pods':
      return metric.pods?.metric?.name ?? '';
    case 'Object':
      return metric.object?.metric?.name ?? '';
    case 'External':
      return metric.external?.metric?.name ?? '';
    default:
      return '<unknown type>';
  }
}

function metricTarget(target: any): string {
  if (target?.averageUtilization !== undefined) return `${target.averageUtilization}%`;
  if (target?.averageValue !== undefined) return String(target.averageValue);
  if (target?.value !== undefined) return String(target.value);
  return '<unknown>';
}

function metricCurrent(current: any): string {
  if (current === undefined) return '<unknown>';
  if (current.averageUtilization !== undefined) return `${current.averageUtilization}%`;
  if (current.averageValue !== undefined) return String(current.averageValue);
  if (current.value !== undefined) return String(current.value);
  return '<unknown>';
}

function hpaTargets(hpa: any): string {
  const metrics: any[] = hpa.spec?.metrics ?? [];
  if (metrics.length === 0) return NONE;
  const currents: any[] = hpa.status?.currentMetrics ?? [];
  const parts = metrics.map((metric, index) => {
    const spec = metric?.[String(metric?.type ?? '').replace(/^./, (letter: string) => letter.toLowerCase())];
    const current = currents[index]?.[String(metric?.type ?? '').replace(/^./, (letter: string) => letter.toLowerCase())]?.current;
    return `${metricName(metric)}: ${metricCurrent(current)}/${metricTarget(spec?.target)}`;
  });
  return parts.length > 3 ? `${parts.slice(0, 3).join(', ')} + ${parts.length - 3} more...` : parts.join(', ');
}

export const horizontalPodAutoscalerPrinter: KindPrinter = {
  columns: [
    NAME_COLUMN,
    column('Reference', 'Reference to the scaled target.'),
    column('Targets', 'Current and target values of the metrics.'),
    column('MinPods', 'Lower limit for the number of pods.', { type: 'integer' }),
    column('MaxPods', 'Upper limit for the number of pods.', { type: 'integer' }),
    column('Replicas', 'Current number of replicas.', { type: 'integer' }),
    AGE_COLUMN,
  ],
  cells(hpa, nowMs) {
    const reference = hpa.spec?.scaleTargetRef ?? {};
    return [
      hpa.metadata?.name,
      `${reference.kind ?? ''}/${reference.name ?? ''}`,
      hpaTargets(hpa),
      hpa.spec?.minReplicas ?? 1,
      count(hpa.spec?.maxReplicas),
      count(hpa.status?.currentReplicas),
      ageSince(hpa.metadata?.creationTimestamp, nowMs),
    ];
  },
};
