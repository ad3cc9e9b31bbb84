// Builders and helpers shared by the Job, ttl-after-finished and CronJob
// tests (not exported from the package).
import { formatTime, generateJobSelector, type Job, type JobSpec, type JobStatus, type KubeObject, type Pod } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { START_MS, waitFor, type Fixture } from '../../test-support';
import { JOB_COMPLETION_INDEX_ANNOTATION } from './indexes';
import { JOB_TRACKING_FINALIZER } from './tracking';

export interface JobOptions {
  completions?: number;
  parallelism?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  suspend?: boolean;
  indexed?: boolean;
  ttlSecondsAfterFinished?: number;
  restartPolicy?: 'Never' | 'OnFailure';
  podReplacementPolicy?: 'Failed' | 'TerminatingOrFailed';
  status?: JobStatus;
  generation?: number;
}

/** A Job as the API server stores it: defaulted, with the generated selector and template labels. */
export function job(name: string, options: JobOptions = {}): Job {
  const spec: JobSpec = {
    parallelism: options.parallelism ?? 1,
    backoffLimit: options.backoffLimit ?? 6,
    completionMode: options.indexed ? 'Indexed' : 'NonIndexed',
    suspend: options.suspend ?? false,
    podReplacementPolicy: options.podReplacementPolicy ?? 'TerminatingOrFailed',
    template: { metadata: { labels: { app: name } }, spec: { restartPolicy: options.restartPolicy ?? 'Never', containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'true'] }] } },
  };
  if (options.completions !== undefined) spec.completions = options.completions;
  if (options.activeDeadlineSeconds !== undefined) spec.activeDeadlineSeconds = options.activeDeadlineSeconds;
  if (options.ttlSecondsAfterFinished !== undefined) spec.ttlSecondsAfterFinished = options.ttlSecondsAfterFinished;
  const result: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default', uid: `uid-job-${name}`, generation: options.generation ?? 1, creationTimestamp: formatTime(START_MS - 60_000) },
    spec,
  };
  if (options.status !== undefined) result.status = options.status;
  generateJobSelector(result);
  return result;
}

export interface JobPodOptions {
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  index?: number;
  /** The tracking finalizer (default true). */
  finalizer?: boolean;
  ready?: boolean;
  /** When its containers finished (Succeeded/Failed pods). */
  finishedMs?: number;
  deleting?: boolean;
  restarts?: number;
  createdMs?: number;
  nodeName?: string;
  labels?: Record<string, string>;
  owned?: boolean;
}

/** A pod of `owner` as the Job controller creates it. */
export function jobPod(owner: Job, name: string, options: JobPodOptions = {}): Pod {
  const phase = options.phase ?? 'Running';
  const meta: NonNullable<Pod['metadata']> = {
    name,
    namespace: 'default',
    uid: `uid-pod-${name}`,
    labels: options.labels ?? { ...(owner.spec?.template.metadata?.labels ?? {}) },
    creationTimestamp: formatTime(options.createdMs ?? START_MS - 30_000),
  };
  if (options.owned !== false) {
    meta.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: owner.metadata?.name ?? '', uid: owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }];
  }
  if (options.finalizer !== false) meta.finalizers = [JOB_TRACKING_FINALIZER];
  if (options.index !== undefined) meta.annotations = { [JOB_COMPLETION_INDEX_ANNOTATION]: String(options.index) };
  if (options.deleting) {
    meta.deletionTimestamp = formatTime(START_MS - 1000);
    meta.finalizers = [...(meta.finalizers ?? []), 'test/hold'];
  }
  const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec: { containers: [{ name: 'main', image: 'busybox' }] }, status: { phase } };
  if (options.nodeName !== undefined) (pod.spec as NonNullable<Pod['spec']>).nodeName = options.nodeName;
  const status = pod.status as NonNullable<Pod['status']>;
  if (options.ready !== undefined) status.conditions = [{ type: 'Ready', status: options.ready ? 'True' : 'False', lastTransitionTime: formatTime(START_MS - 20_000) }];
  if (phase === 'Succeeded' || phase === 'Failed') {
    const finishedAt = formatTime(options.finishedMs ?? START_MS - 1000);
    status.containerStatuses = [{ name: 'main', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { terminated: { exitCode: phase === 'Succeeded' ? 0 : 1, finishedAt } } }];
  } else if (options.restarts !== undefined) {
    status.containerStatuses = [{ name: 'main', ready: options.ready ?? false, restartCount: options.restarts, image: 'busybox', imageID: '', state: { running: {} } }];
  }
  return pod;
}

/** Waits until the pod, Job and CronJob informers hold exactly what the fake stores. */
export async function settleBatch(f: Fixture): Promise<void> {
  const versions = (objects: KubeObject[]): string =>
    objects
      .map((object) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}@${object.metadata?.resourceVersion ?? ''}`)
      .sort()
      .join(',');
  const refs = [RESOURCES.pods, RESOURCES.jobs, RESOURCES.cronJobs];
  await waitFor(
    () =>
      refs.every((ref) => {
        const informer = f.informers.forResource(ref);
        return !informer.hasSynced() || versions(informer.lister.list()) === versions(f.client.peekAll(ref));
      }),
    'batch informers to catch up',
  );
}

/** The stored Job's status. */
export function storedStatus(f: Fixture, name: string): JobStatus | undefined {
  return f.client.peek<Job>(RESOURCES.jobs, 'default', name)?.status;
}
