// The example manifests pass the API server's defaulting and validation and
// do what their comments promise when the controllers act on them.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { applyDefaults, formatTime, generateJobSelector, validateObject, type CronJob, type Job, type Pod } from '@kube-lite/api';
import { fixture, START_MS } from '../../test-support';
import { CronJobController } from '../cronjob/controller';
import { parseSchedule } from '../cronjob/schedule';
import { JobController } from './controller';

const examples = path.resolve(__dirname, '../../../../../examples');

function scheduleProblem(schedule: string): string | undefined {
  try {
    parseSchedule(schedule, 'UTC');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function load<T>(file: string, uid: string): T {
  const object = applyDefaults(parse(fs.readFileSync(path.join(examples, file), 'utf8')) as Job | CronJob);
  object.metadata = { ...object.metadata, namespace: 'default', uid, creationTimestamp: formatTime(START_MS - 90_000) };
  if (object.kind === 'Job') generateJobSelector(object as Job);
  expect(validateObject(object, { validateSchedule: scheduleProblem })).toEqual([]);
  return object as T;
}

describe('example manifests', () => {
  test.each(['job.yaml', 'job-indexed.yaml'])('%s is a valid Job the controller starts', async (file) => {
    const example = load<Job>(file, 'uid-example');
    const f = fixture([example]);
    const controller = new JobController(f.context);
    await f.start();
    await controller.sync(`default/${example.metadata?.name ?? ''}`);
    const created = f.client.writes.filter((write) => write.verb === 'create').map((write) => write.object as Pod);
    expect(created).toHaveLength(example.spec?.parallelism ?? 1);
    if (file === 'job-indexed.yaml') {
      expect(created.map((pod) => pod.metadata?.generateName)).toEqual(['indexed-hello-0-', 'indexed-hello-1-']);
      expect(created[0]?.spec?.containers[0]?.env?.[0]?.name).toBe('JOB_COMPLETION_INDEX');
    }
    await f.stop();
  });

  test('cronjob.yaml is a valid CronJob firing every minute', async () => {
    const example = load<CronJob>('cronjob.yaml', 'uid-cron');
    const f = fixture([example]);
    const controller = new CronJobController(f.context);
    await f.start();
    await controller.sync('default/hello');
    expect(f.writeSummary()).toEqual([`create jobs default/hello-${START_MS / 60_000}`, 'update cronjobs/status default/hello']);
    await f.stop();
  });
});
