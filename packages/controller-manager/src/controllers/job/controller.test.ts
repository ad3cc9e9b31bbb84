import { formatTime, type EnvVar, type Job, type Pod } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, START_MS } from '../../test-support';
import { JobController } from './controller';
import { JOB_TRACKING_FINALIZER } from './tracking';
import { job, jobPod, settleBatch, storedStatus, type JobOptions } from './test-builders';

const KEY = 'default/pi';

async function setup(objects: Parameters<typeof fixture>[0]) {
  const f = fixture(objects);
  const controller = new JobController(f.context, { syncBatchPeriodMs: 1000 });
  await f.start();
  const requeues: number[] = [];
  const addAfter = controller.queue.addAfter.bind(controller.queue);
  controller.queue.addAfter = (key: string, delayMs: number) => {
    if (key === KEY) requeues.push(delayMs);
    addAfter(key, delayMs);
  };
  return { f, controller, requeues };
}

function createdPods(f: ReturnType<typeof fixture>): Pod[] {
  return f.client.writes.filter((write) => write.verb === 'create' && write.resource === 'pods').map((write) => write.object as Pod);
}

function statusWrites(f: ReturnType<typeof fixture>): Job[] {
  return f.client.writes.filter((write) => write.resource === 'jobs' && write.subresource === 'status').map((write) => write.object as Job);
}

describe('Job controller', () => {
  test('creates parallelism pods from the template with the job labels, a blocking controller reference and the tracking finalizer', async () => {
    const pi = job('pi', { completions: 5, parallelism: 2 });
    const { f, controller } = await setup([pi]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['create pods default/', 'create pods default/', 'update jobs/status default/pi']);
    const created = createdPods(f)[0];
    expect(created?.metadata).toEqual({
      generateName: 'pi-',
      namespace: 'default',
      labels: { app: 'pi', 'batch.kubernetes.io/controller-uid': 'uid-job-pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': 'uid-job-pi', 'job-name': 'pi' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'uid-job-pi', controller: true, blockOwnerDeletion: true }],
      finalizers: [JOB_TRACKING_FINALIZER],
    });
    expect(created?.spec?.hostname).toBeUndefined();
    expect(statusWrites(f)[0]?.status).toEqual({ startTime: formatTime(START_MS), active: 2, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    expect(await f.eventReasons()).toEqual(['SuccessfulCreate', 'SuccessfulCreate']);
    // The selector the API server generated matches what was created.
    const stored = f.client.peekAll<Pod>(RESOURCES.pods);
    expect(stored.map((pod) => pod.metadata?.labels?.['batch.kubernetes.io/controller-uid'])).toEqual(['uid-job-pi', 'uid-job-pi']);
    await f.stop();
  });

  test.each<[string, JobOptions, number, number, string[]]>([
    // [case, job, pods already active, counted succeeded, expected pod writes]
    ['active = min(parallelism, remaining)', { completions: 5, parallelism: 2 }, 0, 0, ['create', 'create']],
    ['one completion left', { completions: 5, parallelism: 2 }, 0, 4, ['create']],
    ['parallelism above completions', { completions: 3, parallelism: 10 }, 0, 0, ['create', 'create', 'create']],
    ['tops up to parallelism', { completions: 5, parallelism: 3 }, 2, 0, ['create']],
    ['too many active: deletes the extra', { completions: 2, parallelism: 2 }, 2, 1, ['patch', 'delete']],
    ['work queue: parallelism pods', { parallelism: 3 }, 0, 0, ['create', 'create', 'create']],
    ['work queue after one success: none more', { parallelism: 3 }, 1, 1, []],
  ])('parallelism: %s', async (_name, options, activeCount, succeeded, expected) => {
    const pi = job('pi', { ...options, status: { startTime: formatTime(START_MS - 10_000), succeeded, active: activeCount, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const pods = Array.from({ length: activeCount }, (_unused, index) => jobPod(pi, `pi-${index}`, { nodeName: 'n1' }));
    const { f, controller } = await setup([pi, ...pods]);
    await controller.sync(KEY);
    expect(f.client.writes.filter((write) => write.resource === 'pods').map((write) => write.verb)).toEqual(expected);
    await f.stop();
  });

  test('expectations: a second sync before the informer shows the new pods creates nothing more', async () => {
    const { f, controller } = await setup([job('pi', { completions: 5, parallelism: 3 })]);
    await f.informers.shutdown();
    await controller.sync(KEY);
    // The status write of the second sync conflicts (the frozen cache is stale); what matters is that it creates nothing.
    await controller.sync(KEY).catch(() => undefined);
    expect(createdPods(f)).toHaveLength(3);
    expect(controller.expectations.pending(KEY)?.adds).toBe(3);
    await f.stop();
  });

  test('finished pods are recorded as uncounted, their finalizers removed, then counted; the Job completes', async () => {
    const pi = job('pi', { completions: 2, parallelism: 2, status: { startTime: formatTime(START_MS - 10_000), active: 2, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([pi, jobPod(pi, 'pi-a', { phase: 'Succeeded', finishedMs: START_MS - 5000 }), jobPod(pi, 'pi-b', { phase: 'Succeeded', finishedMs: START_MS - 2000 })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update jobs/status default/pi', 'patch pods default/pi-a', 'patch pods default/pi-b', 'update jobs/status default/pi']);
    const [first, second] = statusWrites(f);
    expect(first?.status?.uncountedTerminatedPods).toEqual({ succeeded: ['uid-pod-pi-a', 'uid-pod-pi-b'] });
    expect(first?.status?.conditions?.map((condition) => condition.type)).toEqual(['SuccessCriteriaMet']);
    expect(f.client.writes[1]?.object).toEqual({ metadata: { '$deleteFromPrimitiveList/finalizers': [JOB_TRACKING_FINALIZER], uid: 'uid-pod-pi-a' } });
    expect(second?.status).toEqual({
      startTime: formatTime(START_MS - 10_000),
      completionTime: formatTime(START_MS),
      succeeded: 2,
      ready: 0,
      terminating: 0,
      uncountedTerminatedPods: {},
      conditions: [
        { type: 'SuccessCriteriaMet', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: formatTime(START_MS), lastTransitionTime: formatTime(START_MS) },
        { type: 'Complete', status: 'True', reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods', lastProbeTime: formatTime(START_MS), lastTransitionTime: formatTime(START_MS) },
      ],
    });
    expect(f.client.peek<Pod>(RESOURCES.pods, 'default', 'pi-a')?.metadata?.finalizers ?? []).toEqual([]);
    expect(await f.eventReasons()).toEqual(['Completed']);
    // Finished: nothing more happens.
    await settleBatch(f);
    f.client.clearActions();
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test('a finished pod whose finalizer removal the cache has not shown yet is not counted twice', async () => {
    const pi = job('pi', { completions: 3, parallelism: 1, status: { startTime: formatTime(START_MS - 10_000), active: 0, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([pi, jobPod(pi, 'pi-a', { phase: 'Succeeded' })]);
    await f.informers.shutdown(); // the cache keeps showing the finalizer
    await controller.sync(KEY);
    expect(storedStatus(f, 'pi')?.succeeded).toBe(1);
    await controller.sync(KEY);
    expect(storedStatus(f, 'pi')?.succeeded).toBe(1);
    await f.stop();
  });

  test('a failed pod is counted and its replacement waits for the back-off, then is created', async () => {
    const pi = job('pi', { completions: 1, status: { startTime: formatTime(START_MS - 10_000), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller, requeues } = await setup([pi, jobPod(pi, 'pi-a', { phase: 'Failed', finishedMs: START_MS - 2000 })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update jobs/status default/pi', 'patch pods default/pi-a', 'update jobs/status default/pi']);
    expect(storedStatus(f, 'pi')).toMatchObject({ failed: 1, uncountedTerminatedPods: {} });
    expect(storedStatus(f, 'pi')?.active).toBeUndefined();
    expect(requeues).toContain(8000); // 10 s after the failure, 2 s of which have passed
    await settleBatch(f);
    f.client.clearActions();
    f.clock.advanceBy(8000);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['create pods default/', 'update jobs/status default/pi']);
    await f.stop();
  });

  test('exceeding backoffLimit fails the Job: FailureTarget first, active pods deleted and counted, then Failed', async () => {
    const pi = job('pi', { completions: 3, parallelism: 2, backoffLimit: 1, status: { startTime: formatTime(START_MS - 60_000), failed: 1, active: 2, ready: 1, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([pi, jobPod(pi, 'pi-a', { phase: 'Failed' }), jobPod(pi, 'pi-b', { ready: true, nodeName: 'n1' })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['delete pods default/pi-b', 'update jobs/status default/pi', 'patch pods default/pi-a', 'patch pods default/pi-b', 'update jobs/status default/pi']);
    const [first, second] = statusWrites(f);
    expect(first?.status?.conditions).toEqual([
      { type: 'FailureTarget', status: 'True', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit', lastProbeTime: formatTime(START_MS), lastTransitionTime: formatTime(START_MS) },
    ]);
    expect(first?.status?.uncountedTerminatedPods).toEqual({ failed: ['uid-pod-pi-a', 'uid-pod-pi-b'] });
    // The deleted pod is still terminating: not Failed yet.
    expect(second?.status).toMatchObject({ failed: 3, terminating: 1, ready: 0, uncountedTerminatedPods: {} });
    expect(second?.status?.conditions?.map((condition) => condition.type)).toEqual(['FailureTarget']);
    await settleBatch(f);
    f.client.clearActions();
    f.clock.advanceBy(5000);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update jobs/status default/pi']);
    expect(storedStatus(f, 'pi')?.conditions?.map((condition) => [condition.type, condition.reason])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded'],
      ['Failed', 'BackoffLimitExceeded'],
    ]);
    expect(storedStatus(f, 'pi')?.completionTime).toBeUndefined();
    expect(await f.eventReasons()).toEqual(['BackoffLimitExceeded', 'SuccessfulDelete']);
    await f.stop();
  });

  test('restartPolicy OnFailure: container restarts count toward backoffLimit', async () => {
    const pi = job('pi', { completions: 1, backoffLimit: 2, restartPolicy: 'OnFailure', status: { startTime: formatTime(START_MS - 60_000), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([pi, jobPod(pi, 'pi-a', { restarts: 2, nodeName: 'n1' })]);
    await controller.sync(KEY);
    expect(statusWrites(f)[0]?.status?.conditions?.[0]).toMatchObject({ type: 'FailureTarget', reason: 'BackoffLimitExceeded' });
    await f.stop();
  });

  test.each<[string, number, boolean, number | undefined]>([
    // [case, seconds since start, fails, requeue after]
    ['deadline passed', 120, true, undefined],
    ['deadline ahead: requeued for it', 20, false, 40_000],
  ])('activeDeadlineSeconds: %s', async (_name, sinceStartSeconds, fails, requeue) => {
    const pi = job('pi', { completions: 1, activeDeadlineSeconds: 60, status: { startTime: formatTime(START_MS - sinceStartSeconds * 1000), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller, requeues } = await setup([pi, jobPod(pi, 'pi-a', { nodeName: 'n1' })]);
    await controller.sync(KEY);
    const conditions = storedStatus(f, 'pi')?.conditions ?? [];
    expect(conditions.some((condition) => condition.reason === 'DeadlineExceeded')).toBe(fails);
    expect(f.writeSummary().includes('delete pods default/pi-a')).toBe(fails);
    if (requeue !== undefined) expect(requeues).toContain(requeue);
    await f.stop();
  });

  test('Indexed: pods get their index as annotation, label, hostname, name prefix and JOB_COMPLETION_INDEX', async () => {
    const idx = job('idx', { completions: 5, parallelism: 2, indexed: true });
    const { f, controller } = await setup([idx]);
    await controller.sync('default/idx');
    const created = createdPods(f);
    expect(created.map((pod) => pod.metadata?.generateName)).toEqual(['idx-0-', 'idx-1-']);
    expect(created.map((pod) => pod.spec?.hostname)).toEqual(['idx-0', 'idx-1']);
    expect(created[1]?.metadata?.annotations).toEqual({ 'batch.kubernetes.io/job-completion-index': '1' });
    expect(created[1]?.metadata?.labels?.['batch.kubernetes.io/job-completion-index']).toBe('1');
    expect(created[0]?.spec?.containers[0]?.env).toEqual<EnvVar[]>([
      { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
    ]);
    await f.stop();
  });

  test('Indexed: completedIndexes grows as ranges and the lowest pending indexes are started', async () => {
    const idx = job('idx', { completions: 6, parallelism: 3, indexed: true, status: { startTime: formatTime(START_MS - 60_000), succeeded: 2, completedIndexes: '0-1', active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([idx, jobPod(idx, 'idx-3-a', { index: 3, phase: 'Succeeded' }), jobPod(idx, 'idx-5-a', { index: 5, nodeName: 'n1' })]);
    await controller.sync('default/idx');
    expect(createdPods(f).map((pod) => pod.metadata?.generateName)).toEqual(['idx-2-', 'idx-4-']);
    expect(storedStatus(f, 'idx')).toMatchObject({ completedIndexes: '0-1,3', succeeded: 3, active: 3 });
    await f.stop();
  });

  test('Indexed: a duplicated index is removed', async () => {
    const idx = job('idx', { completions: 2, parallelism: 2, indexed: true, status: { startTime: formatTime(START_MS - 60_000), active: 3, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([idx, jobPod(idx, 'idx-0-a', { index: 0, nodeName: 'n1', ready: true }), jobPod(idx, 'idx-0-b', { index: 0 }), jobPod(idx, 'idx-1-a', { index: 1, nodeName: 'n1' })]);
    await controller.sync('default/idx');
    expect(f.writeSummary().filter((write) => write.includes('pods'))).toEqual(['patch pods default/idx-0-b', 'delete pods default/idx-0-b']);
    await f.stop();
  });

  test('suspend deletes the active pods without counting them as failed; resume starts again with a new startTime', async () => {
    const pi = job('pi', { completions: 4, parallelism: 2, suspend: true, status: { startTime: formatTime(START_MS - 60_000), active: 2, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([pi, jobPod(pi, 'pi-a', { nodeName: 'n1' }), jobPod(pi, 'pi-b', { nodeName: 'n1' })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['patch pods default/pi-a', 'patch pods default/pi-b', 'delete pods default/pi-a', 'delete pods default/pi-b', 'update jobs/status default/pi']);
    expect(storedStatus(f, 'pi')).toMatchObject({ terminating: 2, conditions: [{ type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }] });
    expect(storedStatus(f, 'pi')?.failed).toBeUndefined();
    await settleBatch(f);
    // Resume.
    const stored = f.client.peek<Job>(RESOURCES.jobs, 'default', 'pi') as Job;
    await f.client.update<Job>(RESOURCES.jobs, 'default', { ...stored, spec: { ...(stored.spec as NonNullable<Job['spec']>), suspend: false } });
    await settleBatch(f);
    f.client.clearActions();
    f.clock.advanceBy(30_000);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['create pods default/', 'create pods default/', 'update jobs/status default/pi']);
    expect(storedStatus(f, 'pi')).toMatchObject({ startTime: formatTime(START_MS + 30_000), conditions: [{ type: 'Suspended', status: 'False', reason: 'JobResumed' }] });
    expect(await f.eventReasons()).toEqual(['Resumed', 'SuccessfulCreate', 'SuccessfulCreate', 'SuccessfulDelete', 'SuccessfulDelete', 'Suspended']);
    await f.stop();
  });

  test('a Job created suspended gets no startTime and no pods', async () => {
    const { f, controller } = await setup([job('pi', { completions: 1, suspend: true })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update jobs/status default/pi']);
    expect(storedStatus(f, 'pi')?.startTime).toBeUndefined();
    await f.stop();
  });

  test('a running pod deleted by someone else counts as a failure and is replaced after the back-off', async () => {
    const pi = job('pi', { completions: 1, status: { startTime: formatTime(START_MS - 60_000), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller, requeues } = await setup([pi, jobPod(pi, 'pi-a', { nodeName: 'n1', deleting: true })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update jobs/status default/pi', 'patch pods default/pi-a', 'update jobs/status default/pi']);
    expect(storedStatus(f, 'pi')).toMatchObject({ failed: 1, terminating: 1 });
    expect(requeues).toContain(9000); // the deletion (1 s ago) is when it failed
    await settleBatch(f);
    f.client.clearActions();
    f.clock.advanceBy(9000);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['create pods default/', 'update jobs/status default/pi']);
    await f.stop();
  });

  test('podReplacementPolicy Failed: a terminating pod holds its slot', async () => {
    const pi = job('pi', { completions: 1, podReplacementPolicy: 'Failed', status: { startTime: formatTime(START_MS - 60_000), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([pi, jobPod(pi, 'pi-a', { nodeName: 'n1', deleting: true })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update jobs/status default/pi']);
    expect(storedStatus(f, 'pi')).toMatchObject({ terminating: 1 });
    await f.stop();
  });

  test('adopts a matching orphan pod, adding the tracking finalizer with the controller reference', async () => {
    const pi = job('pi', { completions: 1, status: { startTime: formatTime(START_MS - 60_000), active: 1, ready: 0, terminating: 0, uncountedTerminatedPods: {} } });
    const { f, controller } = await setup([pi, jobPod(pi, 'stray', { owned: false, finalizer: false, nodeName: 'n1' })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['patch pods default/stray']);
    expect(f.client.writes[0]?.object).toEqual({
      metadata: { ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'pi', uid: 'uid-job-pi', controller: true, blockOwnerDeletion: true }], uid: 'uid-pod-stray', finalizers: [JOB_TRACKING_FINALIZER] },
    });
    expect(f.client.peek<Pod>(RESOURCES.pods, 'default', 'stray')?.metadata?.finalizers).toEqual([JOB_TRACKING_FINALIZER]);
    await f.stop();
  });

  test.each<[string, boolean]>([
    ['whose Job is gone', false],
    ['whose Job finished', true],
  ])('removes the tracking finalizer of a pod %s', async (_name, jobExists) => {
    const pi = job('pi', { completions: 1, status: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: formatTime(START_MS) }] } });
    const { f, controller } = await setup([...(jobExists ? [pi] : []), jobPod(pi, 'pi-a', { phase: 'Succeeded' })]);
    await controller.syncOrphanPod('default/pi-a');
    expect(f.writeSummary()).toEqual(['patch pods default/pi-a']);
    expect(f.client.peek<Pod>(RESOURCES.pods, 'default', 'pi-a')?.metadata?.finalizers ?? []).toEqual([]);
    await f.stop();
  });

  test('keeps the finalizer of a pod whose Job still runs', async () => {
    const pi = job('pi', { completions: 1 });
    const { f, controller } = await setup([pi, jobPod(pi, 'pi-a', { phase: 'Succeeded' })]);
    await controller.syncOrphanPod('default/pi-a');
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test('status is written only on change', async () => {
    const pi = job('pi', { completions: 3, parallelism: 1 });
    const { f, controller } = await setup([pi]);
    await controller.sync(KEY);
    await settleBatch(f);
    f.client.clearActions();
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });
});
