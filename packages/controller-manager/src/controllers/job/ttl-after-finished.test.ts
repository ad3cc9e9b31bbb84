import { formatTime, type Job } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, START_MS } from '../../test-support';
import { job, type JobOptions } from './test-builders';
import { TtlAfterFinishedController } from './ttl-after-finished';

const KEY = 'default/pi';

function finished(type: 'Complete' | 'Failed', secondsAgo: number, options: JobOptions = {}): Job {
  return job('pi', { completions: 1, ...options, status: { conditions: [{ type, status: 'True', lastTransitionTime: formatTime(START_MS - secondsAgo * 1000) }] } });
}

// A requeue far in the future is a live timer: shut each test's queue down so it does not keep jest running.
const controllers: TtlAfterFinishedController[] = [];
afterEach(() => {
  for (const controller of controllers.splice(0)) controller.queue.shutDown();
});

async function setup(objects: Job[]) {
  const f = fixture(objects);
  const controller = new TtlAfterFinishedController(f.context);
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

describe('ttl-after-finished controller', () => {
  test.each<[string, Job, boolean, number | undefined]>([
    // [case, job, deleted now, requeued after]
    ['complete, TTL expired', finished('Complete', 120, { ttlSecondsAfterFinished: 100 }), true, undefined],
    ['failed, TTL expired', finished('Failed', 100, { ttlSecondsAfterFinished: 100 }), true, undefined],
    ['TTL 0 deletes at once', finished('Complete', 0, { ttlSecondsAfterFinished: 0 }), true, undefined],
    ['TTL not yet expired: requeued for the rest', finished('Complete', 30, { ttlSecondsAfterFinished: 100 }), false, 70_000],
    ['no TTL', finished('Complete', 3600), false, undefined],
    ['not finished', job('pi', { completions: 1, ttlSecondsAfterFinished: 0 }), false, undefined],
  ])('%s', async (_name, subject, deleted, requeue) => {
    const { f, controller, requeues } = await setup([subject]);
    await controller.sync(KEY);
    if (deleted) {
      expect(f.writeSummary()).toEqual(['delete jobs default/pi']);
      expect(f.client.writes[0]?.object).toEqual({ propagationPolicy: 'Foreground', preconditions: { uid: 'uid-job-pi' } });
      expect(f.client.peek(RESOURCES.jobs, 'default', 'pi')).toBeUndefined();
    } else {
      expect(f.writeSummary()).toEqual([]);
    }
    if (requeue !== undefined) expect(requeues).toContain(requeue);
    await f.stop();
  });

  test('deletes once the clock reaches the expiry', async () => {
    const { f, controller } = await setup([finished('Complete', 30, { ttlSecondsAfterFinished: 100 })]);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    f.clock.advanceBy(70_000);
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual(['delete jobs default/pi']);
    await f.stop();
  });

  test('a TTL raised since the cache was filled is honoured (fresh read)', async () => {
    const { f, controller, requeues } = await setup([finished('Complete', 200, { ttlSecondsAfterFinished: 100 })]);
    await f.informers.shutdown(); // the cache keeps the old TTL
    const stored = f.client.peek<Job>(RESOURCES.jobs, 'default', 'pi') as Job;
    await f.client.update<Job>(RESOURCES.jobs, 'default', { ...stored, spec: { ...(stored.spec as NonNullable<Job['spec']>), ttlSecondsAfterFinished: 500 } });
    f.client.clearActions();
    await controller.sync(KEY);
    expect(f.writeSummary()).toEqual([]);
    expect(requeues).toContain(300_000);
    await f.stop();
  });
});
