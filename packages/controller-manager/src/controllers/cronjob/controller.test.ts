import { formatTime, type CronJob, type CronJobSpec, type Job } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, START_MS } from '../../test-support';
import { CronJobController, jobNameFor } from './controller';

// START_MS is 2024-05-01T10:00:00Z, a whole hour.
const KEY = 'default/hello';
const MINUTE = 60_000;

interface CronJobOptions extends Partial<Omit<CronJobSpec, 'jobTemplate'>> {
  createdMs?: number;
  status?: CronJob['status'];
}

function cronJob(options: CronJobOptions = {}): CronJob {
  const { createdMs, status, ...specFields } = options;
  const result: CronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'hello', namespace: 'default', uid: 'uid-cj-hello', creationTimestamp: formatTime(createdMs ?? START_MS - 90_000) },
    spec: {
      schedule: '* * * * *',
      concurrencyPolicy: 'Allow',
      suspend: false,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 1,
      ...specFields,
      jobTemplate: {
        metadata: { labels: { team: 'a' }, annotations: { note: 'x' } },
        spec: { completions: 1, backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'date', image: 'busybox', command: ['date'] }] } } },
      },
    },
  };
  if (status !== undefined) result.status = status;
  return result;
}

/** A Job of the run scheduled at `scheduledMs`. */
function child(scheduledMs: number, state: 'running' | 'Complete' | 'Failed', finishedMs = scheduledMs + 10_000): Job {
  const job: Job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `hello-${Math.floor(scheduledMs / MINUTE)}`,
      namespace: 'default',
      uid: `uid-job-${scheduledMs}`,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'uid-cj-hello', controller: true, blockOwnerDeletion: true }],
    },
    spec: { template: { spec: { containers: [] } } },
    status: { startTime: formatTime(scheduledMs + 1000) },
  };
  if (state !== 'running') {
    const status = job.status as NonNullable<Job['status']>;
    status.conditions = [{ type: state, status: 'True', lastTransitionTime: formatTime(finishedMs) }];
    if (state === 'Complete') status.completionTime = formatTime(finishedMs);
  }
  return job;
}

function ref(job: Job) {
  return { kind: 'Job', apiVersion: 'batch/v1', namespace: 'default', name: job.metadata?.name ?? '', uid: job.metadata?.uid ?? '' };
}

// A requeue far in the future is a live timer: shut each test's queue down so it does not keep jest running.
const controllers: CronJobController[] = [];
afterEach(() => {
  for (const controller of controllers.splice(0)) controller.queue.shutDown();
});

async function setup(objects: Parameters<typeof fixture>[0]) {
  const f = fixture(objects);
  const controller = new CronJobController(f.context, { localTimeZone: 'UTC' });
  controllers.push(controller);
  await f.start();
  const requeues: number[] = [];
  const addAfter = controller.queue.addAfter.bind(controller.queue);
  controller.queue.addAfter = (key: string, delayMs: number) => {
    requeues.push(delayMs);
    addAfter(key, delayMs);
  };
  return { f, controller, requeues };
}

function storedCronJob(f: ReturnType<typeof fixture>): CronJob | undefined {
  return f.client.peek<CronJob>(RESOURCES.cronJobs, 'default', 'hello');
}

describe('CronJob controller', () => {
  test('creates the Job of a due run, named by its minute, with the template, owner and scheduled-time annotation', async () => {
    const { f, controller, requeues } = await setup([cronJob()]);
    await controller.sync(KEY);
    const name = `hello-${START_MS / MINUTE}`;
    expect(f.writeSummary()).toEqual([`create jobs default/${name}`, 'update cronjobs/status default/hello']);
    const created = f.client.writes[0]?.object as Job;
    expect(created.metadata).toEqual({
      name,
      namespace: 'default',
      labels: { team: 'a' },
      annotations: { note: 'x', 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2024-05-01T10:00:00Z' },
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'hello', uid: 'uid-cj-hello', controller: true, blockOwnerDeletion: true }],
    });
    expect(created.spec?.template.spec?.containers[0]?.command).toEqual(['date']);
    const stored = storedCronJob(f);
    expect(stored?.status?.lastScheduleTime).toBe(formatTime(START_MS));
    expect(stored?.status?.active).toEqual([{ ...ref(f.client.peek<Job>(RESOURCES.jobs, 'default', name) as Job), resourceVersion: expect.any(String) }]);
    expect(requeues).toEqual([MINUTE + 100]);
    expect(await f.eventReasons()).toEqual(['SuccessfulCreate']);
    await f.stop();
  });

  test('spec.timeZone: the schedule is read in that zone and the annotation carries its offset', async () => {
    // 10:00 UTC is 12:00 in Berlin.
    const { f, controller } = await setup([cronJob({ schedule: '0 12 * * *', timeZone: 'Europe/Berlin', createdMs: START_MS - 3_600_000 })]);
    await controller.sync(KEY);
    expect(f.writeSummary()[0]).toBe(`create jobs default/hello-${START_MS / MINUTE}`);
    expect((f.client.writes[0]?.object as Job).metadata?.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2024-05-01T12:00:00+02:00');
    await f.stop();
  });

  test.each<[string, CronJobOptions, string[]]>([
    ['an unknown time zone', { timeZone: 'Mars/Olympus_Mons' }, ['UnknownTimeZone']],
    ['an unparseable schedule', { schedule: 'every minute' }, ['UnparseableSchedule']],
    ['suspended', { suspend: true }, []],
  ])('no run with %s', async (_name, options, events) => {
    const { f, controller } = await setup([cronJob(options)]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    expect(await f.eventReasons()).toEqual(events);
    await f.stop();
  });

  test('nothing due: requeued for the next run, not polled', async () => {
    const { f, controller, requeues } = await setup([cronJob({ schedule: '*/5 * * * *', status: { lastScheduleTime: formatTime(START_MS) } })]);
    f.clock.advanceBy(30_000);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    expect(requeues).toEqual([4.5 * MINUTE + 100]);
    await f.stop();
  });

  test('a run already started (lastScheduleTime) is not started again', async () => {
    const { f, controller } = await setup([cronJob({ status: { lastScheduleTime: formatTime(START_MS) } })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test.each<[string, 'Allow' | 'Forbid' | 'Replace', string[], string[]]>([
    ['Allow runs alongside', 'Allow', [`create jobs default/hello-${START_MS / MINUTE}`, 'update cronjobs/status default/hello'], ['SuccessfulCreate']],
    ['Forbid skips the run', 'Forbid', [], ['JobAlreadyActive']],
    ['Replace deletes the running Job first', 'Replace', [`delete jobs default/hello-${START_MS / MINUTE - 1}`, `create jobs default/hello-${START_MS / MINUTE}`, 'update cronjobs/status default/hello'], ['SuccessfulCreate', 'SuccessfulDelete']],
  ])('concurrencyPolicy: %s', async (_name, concurrencyPolicy, writes, events) => {
    const running = child(START_MS - MINUTE, 'running');
    const { f, controller } = await setup([cronJob({ concurrencyPolicy, status: { active: [ref(running)], lastScheduleTime: formatTime(START_MS - MINUTE) } }), running]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(writes);
    if (concurrencyPolicy === 'Replace') {
      expect(f.client.writes[0]?.object).toEqual({ propagationPolicy: 'Background' });
      expect(storedCronJob(f)?.status?.active?.map((entry) => entry.name)).toEqual([`hello-${START_MS / MINUTE}`]);
    }
    if (concurrencyPolicy === 'Allow') expect(storedCronJob(f)?.status?.active).toHaveLength(2);
    expect(await f.eventReasons()).toEqual(events);
    await f.stop();
  });

  test.each<[string, number | undefined, number, boolean]>([
    // [case, startingDeadlineSeconds, seconds late, started]
    ['no deadline: a late run still starts', undefined, 30, true],
    ['within the deadline', 60, 30, true],
    ['past the deadline: skipped', 10, 30, false],
  ])('startingDeadlineSeconds: %s', async (_name, startingDeadlineSeconds, lateSeconds, started) => {
    const options: CronJobOptions = { status: { lastScheduleTime: formatTime(START_MS - MINUTE) } };
    if (startingDeadlineSeconds !== undefined) options.startingDeadlineSeconds = startingDeadlineSeconds;
    const { f, controller } = await setup([cronJob(options)]);
    f.clock.advanceBy(lateSeconds * 1000);
    await controller.sync(KEY);
    expect(f.writeSummary().some((write) => write.startsWith('create jobs'))).toBe(started);
    await f.stop();
  });

  test('more than 100 missed runs: a warning, and only the latest runs', async () => {
    const { f, controller } = await setup([cronJob({ createdMs: START_MS - 3 * 3_600_000 })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([`create jobs default/hello-${START_MS / MINUTE}`, 'update cronjobs/status default/hello']);
    expect(await f.eventReasons()).toEqual(['SuccessfulCreate', 'TooManyMissedTimes']);
    await f.stop();
  });

  test('history limits: the oldest finished Jobs beyond them are deleted', async () => {
    const succeeded = [1, 2, 3, 4, 5].map((n) => child(START_MS - (20 - n) * MINUTE, 'Complete'));
    const failed = [1, 2].map((n) => child(START_MS - (10 - n) * MINUTE, 'Failed'));
    const { f, controller } = await setup([cronJob({ status: { lastScheduleTime: formatTime(START_MS) } }), ...succeeded, ...failed]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([
      `delete jobs default/${succeeded[0]?.metadata?.name}`,
      `delete jobs default/${succeeded[1]?.metadata?.name}`,
      `delete jobs default/${failed[0]?.metadata?.name}`,
      'update cronjobs/status default/hello',
    ]);
    expect(f.client.writes[0]?.object).toEqual({ propagationPolicy: 'Background' });
    expect(storedCronJob(f)?.status?.lastSuccessfulTime).toBe(succeeded[4]?.status?.completionTime);
    await f.stop();
  });

  test('status.active: a finished Job is dropped (and its success recorded), a vanished one too', async () => {
    const done = child(START_MS - 2 * MINUTE, 'Complete');
    const vanished = child(START_MS - MINUTE, 'running');
    const { f, controller } = await setup([cronJob({ status: { active: [ref(done), ref(vanished)], lastScheduleTime: formatTime(START_MS) } }), done]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['update cronjobs/status default/hello']);
    expect(storedCronJob(f)?.status).toEqual({ lastScheduleTime: formatTime(START_MS), lastSuccessfulTime: done.status?.completionTime });
    expect(await f.eventReasons()).toEqual(['MissingJob', 'SawCompletedJob']);
    await f.stop();
  });

  test('a Job of this run that exists already (a lost status write) is adopted into status.active', async () => {
    const existing = child(START_MS, 'running');
    const { f, controller } = await setup([cronJob({ status: { lastScheduleTime: formatTime(START_MS - MINUTE) } }), existing]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([`create jobs default/${existing.metadata?.name}`, 'update cronjobs/status default/hello']);
    expect(storedCronJob(f)?.status?.active?.map((entry) => entry.uid)).toEqual([existing.metadata?.uid]);
    expect(storedCronJob(f)?.status?.lastScheduleTime).toBe(formatTime(START_MS));
    expect(await f.eventReasons()).toEqual(['UnexpectedJob']);
    await f.stop();
  });

  test('job names are the scheduled minute since the epoch', () => {
    expect(jobNameFor(cronJob(), Date.parse('2024-05-01T10:00:00Z'))).toBe('hello-28575960');
  });
});
