// Defaults for apps/v1 and batch/v1 workloads (upstream SetDefaults_*).
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from '../types/apps';
import type { CronJob, Job } from '../types/batch';
import type { PodTemplateSpec } from '../types/core';
import { canonicalizeResourceList, defaultPodSpec } from './pod';

function defaultTemplate(template: PodTemplateSpec | undefined): void {
  defaultPodSpec(template?.spec);
}

export function defaultDeployment(deployment: Deployment): void {
  const spec = deployment.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  const strategy = (spec.strategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = (strategy.rollingUpdate ??= {});
    rollingUpdate.maxUnavailable ??= '25%';
    rollingUpdate.maxSurge ??= '25%';
  }
  spec.revisionHistoryLimit ??= 10;
  spec.progressDeadlineSeconds ??= 600;
  defaultTemplate(spec.template);
}

export function defaultReplicaSet(replicaSet: ReplicaSet): void {
  const spec = replicaSet.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  defaultTemplate(spec.template);
}

export function defaultStatefulSet(statefulSet: StatefulSet): void {
  const spec = statefulSet.spec;
  if (!spec) return;
  spec.replicas ??= 1;
  spec.podManagementPolicy ??= 'OrderedReady';
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = (strategy.rollingUpdate ??= {});
    rollingUpdate.partition ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  const retention = (spec.persistentVolumeClaimRetentionPolicy ??= {});
  retention.whenDeleted ??= 'Retain';
  retention.whenScaled ??= 'Retain';
  for (const claim of spec.volumeClaimTemplates ?? []) {
    if (claim.spec) {
      claim.spec.volumeMode ??= 'Filesystem';
      canonicalizeResourceList(claim.spec.resources?.requests);
    }
  }
  defaultTemplate(spec.template);
}

export function defaultDaemonSet(daemonSet: DaemonSet): void {
  const spec = daemonSet.spec;
  if (!spec) return;
  const strategy = (spec.updateStrategy ??= {});
  strategy.type ??= 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    const rollingUpdate = (strategy.rollingUpdate ??= {});
    rollingUpdate.maxUnavailable ??= 1;
    rollingUpdate.maxSurge ??= 0;
  }
  spec.revisionHistoryLimit ??= 10;
  defaultTemplate(spec.template);
}

/** Upstream's MaxInt32 backoffLimit when backoffLimitPerIndex governs retries instead. */
const MAX_INT32 = 2147483647;

export function defaultJob(job: Job): void {
  const spec = job.spec;
  if (!spec) return;
  // Completions stays unset when only parallelism is given: a work-queue job.
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed';
  if (spec.manualSelector === undefined) delete spec.manualSelector;
  defaultTemplate(spec.template);
}

export function defaultCronJob(cronJob: CronJob): void {
  const spec = cronJob.spec;
  if (!spec) return;
  spec.concurrencyPolicy ??= 'Allow';
  spec.suspend ??= false;
  spec.successfulJobsHistoryLimit ??= 3;
  spec.failedJobsHistoryLimit ??= 1;
  defaultTemplate(spec.jobTemplate?.spec?.template);
}

export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';

/**
 * What upstream's Job registry does on create when manualSelector is not
 * true: label the template with the Job's uid and name (new and legacy
 * label keys) and select on the uid. Call after the uid is assigned.
 */
export function generateJobSelector(job: Job): void {
  const spec = job.spec;
  const uid = job.metadata?.uid;
  if (!spec || !uid || spec.manualSelector === true) return;
  const name = job.metadata?.name ?? '';
  const template = (spec.template ??= {});
  const metadata = (template.metadata ??= {});
  metadata.labels = {
    ...(metadata.labels ?? {}),
    [JOB_CONTROLLER_UID_LABEL]: uid,
    [JOB_NAME_LABEL]: name,
    'controller-uid': uid,
    'job-name': name,
  };
  spec.selector = { matchLabels: { [JOB_CONTROLLER_UID_LABEL]: uid } };
}
