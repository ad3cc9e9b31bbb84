// The Job and CronJob controllers with their real informers and workers over
// the fake API server; the test plays the kubelet by marking pods Succeeded.
import { formatTime, isPodTerminal, type CronJob, type Job, type Pod } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, sleep, START_MS, waitFor } from '../../test-support';
import { CronJobController } from '../cronjob/controller';
import { JobController } from './controller';
import { job } from './test-builders';
import { hasTrackingFinalizer } from './tracking';

function podsOf(client: ReturnType<typeof fixture>['client'], jobName: string): Pod[] {
  return client.peekAll<Pod>(RESOURCES.pods).filter((pod) => pod.metadata?.ownerReferences?.[0]?.name === jobName);
}

function isActive(pod: Pod): boolean {
  return !isPodTerminal(pod) && pod.metadata?.deletionTimestamp === undefined;
}

/** Marks the oldest running pod of the Job Succeeded, as a kubelet would; false when none runs. */
function finishOnePod(client: ReturnType<typeof fixture>['client'], jobName: string): boolean {
  const pod = podsOf(client, jobName).find(isActive);
  if (pod === undefined) return false;
  const finishedAt = formatTime(START_MS);
  void client.updateStatus<Pod>(RESOURCES.pods, 'default', {
    ...pod,
    status: { phase: 'Succeeded', containerStatuses: [{ name: 'main', ready: false, restartCount: 0, image: 'busybox', imageID: '', state: { terminated: { exitCode: 0, finishedAt } } }] },
  });
  return true;
}

describe('Job and CronJob controllers with informers and workers', () => {
  test('a Job of 5 completions and parallelism 2 never runs more than 2 pods and completes', async () => {
    const f = fixture([job('pi', { completions: 5, parallelism: 2 })]);
    const controller = new JobController(f.context, { syncBatchPeriodMs: 5 });
    let mostActive = 0;
    f.client.addReactor((action) => {
      if (action.verb !== 'create' || action.resource !== 'pods' || action.subresource !== undefined) return;
      mostActive = Math.max(mostActive, podsOf(f.client, 'pi').filter(isActive).length + 1);
    });
    await f.start();
    const running = controller.run(2);
    try {
      const deadline = Date.now() + 15_000;
      let finished = 0;
      while (f.client.peek<Job>(RESOURCES.jobs, 'default', 'pi')?.status?.completionTime === undefined) {
        if (Date.now() > deadline) throw new Error(`job did not complete; status ${JSON.stringify(f.client.peek<Job>(RESOURCES.jobs, 'default', 'pi')?.status)}`);
        if (finished < 5 && finishOnePod(f.client, 'pi')) finished += 1;
        await sleep(20);
      }
      const status = f.client.peek<Job>(RESOURCES.jobs, 'default', 'pi')?.status;
      expect(status).toMatchObject({ succeeded: 5, uncountedTerminatedPods: {} });
      expect(status?.active).toBeUndefined();
      expect(status?.conditions?.map((condition) => condition.type)).toEqual(['SuccessCriteriaMet', 'Complete']);
      expect(mostActive).toBe(2);
      const pods = podsOf(f.client, 'pi');
      expect(pods).toHaveLength(5);
      await waitFor(() => podsOf(f.client, 'pi').every((pod) => !hasTrackingFinalizer(pod)), 'finalizers removed');
    } finally {
      await controller.shutdown();
      await running;
      await f.stop();
    }
  });

  test('a CronJob starts a Job whose completion shows in the CronJob status', async () => {
    const labels = { run: 'hello' };
    const cron: CronJob = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'hello', namespace: 'default', creationTimestamp: formatTime(START_MS - 90_000) },
      spec: {
        schedule: '* * * * *',
        concurrencyPolicy: 'Allow',
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        // A hand-written selector: the fake API server does not generate one as the real one does.
        jobTemplate: { spec: { completions: 1, parallelism: 1, backoffLimit: 6, manualSelector: true, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'busybox' }] } } } },
      },
    };
    const f = fixture([cron]);
    const jobs = new JobController(f.context, { syncBatchPeriodMs: 5 });
    const cronJobs = new CronJobController(f.context, { localTimeZone: 'UTC' });
    await f.start();
    const running = [jobs.run(2), cronJobs.run(1)];
    const jobName = `hello-${START_MS / 60_000}`;
    try {
      await waitFor(() => podsOf(f.client, jobName).length === 1, 'the pod of the scheduled Job', 10_000);
      expect(f.client.peek<CronJob>(RESOURCES.cronJobs, 'default', 'hello')?.status?.active?.map((ref) => ref.name)).toEqual([jobName]);
      finishOnePod(f.client, jobName);
      await waitFor(() => f.client.peek<CronJob>(RESOURCES.cronJobs, 'default', 'hello')?.status?.lastSuccessfulTime !== undefined, 'lastSuccessfulTime', 10_000);
      const status = f.client.peek<CronJob>(RESOURCES.cronJobs, 'default', 'hello')?.status;
      expect(status?.active).toBeUndefined();
      expect(status?.lastScheduleTime).toBe(formatTime(START_MS));
      expect(f.client.peekAll<Job>(RESOURCES.jobs).map((created) => created.metadata?.name)).toEqual([jobName]);
    } finally {
      await Promise.all([jobs.shutdown(), cronJobs.shutdown()]);
      await Promise.all(running);
      await f.stop();
    }
  });
});
