import type { Event, Node, Pod } from '@kube-lite/api';
import type { ApiClient } from '../api-client';
import { ApiError } from '../errors';
import { FakeApiClient } from '../fake/fake-api-client';
import { RESOURCES } from '../resources';
import { EventRecorder, type EventRecorderOptions } from './event-recorder';

const START_MS = Date.UTC(2024, 0, 2, 3, 4, 5);

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop', uid: 'uid-1', resourceVersion: '7' }, spec: { containers: [] } };

function setup(options: Partial<EventRecorderOptions> = {}): { fake: FakeApiClient; recorder: EventRecorder; clock: { nowMs: number }; warnings: string[] } {
  const fake = new FakeApiClient();
  const clock = { nowMs: START_MS };
  const warnings: string[] = [];
  const logger = { debug: () => undefined, info: () => undefined, warn: (msg: string) => warnings.push(msg), error: (msg: string) => warnings.push(msg) };
  const recorder = new EventRecorder({ client: fake, component: 'kube-scheduler', host: 'cp-1', nowMs: () => clock.nowMs, logger, ...options });
  return { fake, recorder, clock, warnings };
}

function events(fake: FakeApiClient): Event[] {
  return fake.peekAll<Event>(RESOURCES.events);
}

describe('EventRecorder', () => {
  it('creates a core/v1 Event describing the object, its source and times', async () => {
    const { fake, recorder } = setup();
    recorder.record(pod, 'Normal', 'Scheduled', 'Successfully assigned shop/web-1 to node-1');
    await recorder.flush();
    const [event] = events(fake);
    expect(event).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { namespace: 'shop' },
      involvedObject: { kind: 'Pod', namespace: 'shop', name: 'web-1', uid: 'uid-1', apiVersion: 'v1', resourceVersion: '7' },
      reason: 'Scheduled',
      message: 'Successfully assigned shop/web-1 to node-1',
      type: 'Normal',
      source: { component: 'kube-scheduler', host: 'cp-1' },
      reportingComponent: 'kube-scheduler',
      reportingInstance: 'cp-1',
      firstTimestamp: '2024-01-02T03:04:05Z',
      lastTimestamp: '2024-01-02T03:04:05Z',
      count: 1,
    });
    expect(event?.metadata?.name).toMatch(/^web-1\.[0-9a-f]+$/);
  });

  it('aggregates repeats within 10 minutes into one Event by patching count and lastTimestamp', async () => {
    const { fake, recorder, clock } = setup();
    recorder.record(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    clock.nowMs += 60_000;
    recorder.record(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    clock.nowMs += 9 * 60_000;
    recorder.record(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    await recorder.flush();
    expect(events(fake)).toHaveLength(1);
    expect(events(fake)[0]).toMatchObject({ count: 3, firstTimestamp: '2024-01-02T03:04:05Z', lastTimestamp: '2024-01-02T03:14:05Z' });
    expect(fake.writes.map((write) => [write.verb, write.patchType])).toEqual([
      ['create', undefined],
      ['patch', 'strategic'],
      ['patch', 'strategic'],
    ]);
    expect(fake.writes[2]?.object).toEqual({ count: 3, lastTimestamp: '2024-01-02T03:14:05Z', message: '0/3 nodes are available' });
  });

  it.each([
    ['a different message', (r: EventRecorder) => r.record(pod, 'Warning', 'FailedScheduling', 'other'), 0],
    ['a different reason', (r: EventRecorder) => r.record(pod, 'Warning', 'Other', 'same'), 0],
    ['a different type', (r: EventRecorder) => r.record(pod, 'Normal', 'FailedScheduling', 'same'), 0],
    ['the same event after the window', (r: EventRecorder) => r.record(pod, 'Warning', 'FailedScheduling', 'same'), 11 * 60_000],
  ])('creates a separate Event for %s', async (_name, second, delayMs) => {
    const { fake, recorder, clock } = setup();
    recorder.record(pod, 'Warning', 'FailedScheduling', 'same');
    clock.nowMs += delayMs;
    second(recorder);
    await recorder.flush();
    expect(events(fake)).toHaveLength(2);
    expect(fake.writes.map((write) => write.verb)).toEqual(['create', 'create']);
  });

  it('starts a new Event, keeping the count, when the aggregated one was deleted', async () => {
    const { fake, recorder } = setup();
    recorder.record(pod, 'Normal', 'Pulled', 'image pulled');
    await recorder.flush();
    await fake.events('shop').delete(events(fake)[0]?.metadata?.name ?? '');
    recorder.record(pod, 'Normal', 'Pulled', 'image pulled');
    await recorder.flush();
    expect(events(fake).map((event) => event.count)).toEqual([2]);
  });

  it('rate-limits each object to a burst, refilling one event per interval', async () => {
    const { fake, recorder, clock } = setup({ burst: 3, refillIntervalMs: 60_000 });
    for (let i = 0; i < 5; i += 1) recorder.record(pod, 'Normal', 'Tick', `tick ${i}`);
    const other: Pod = { ...pod, metadata: { ...pod.metadata, name: 'web-2', uid: 'uid-2' } };
    recorder.record(other, 'Normal', 'Tick', 'other object');
    await recorder.flush();
    expect(events(fake).map((event) => event.message).sort()).toEqual(['other object', 'tick 0', 'tick 1', 'tick 2']);
    clock.nowMs += 60_000;
    recorder.record(pod, 'Normal', 'Tick', 'after refill');
    recorder.record(pod, 'Normal', 'Tick', 'still limited');
    await recorder.flush();
    expect(events(fake).map((event) => event.message)).toContain('after refill');
    expect(events(fake).map((event) => event.message)).not.toContain('still limited');
  });

  it('records events of cluster-scoped objects in the default namespace', async () => {
    const { fake, recorder } = setup();
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'n-uid' } };
    recorder.record(node, 'Warning', 'NodeNotReady', 'Node node-1 status is now: NodeNotReady');
    await recorder.flush();
    expect(events(fake)[0]).toMatchObject({ metadata: { namespace: 'default' }, involvedObject: { kind: 'Node', name: 'node-1' } });
  });

  it('never throws into the caller when the API server fails, and logs instead', async () => {
    const { fake, recorder, warnings } = setup();
    fake.addReactor(() => {
      throw new ApiError(503, 'ServiceUnavailable', 'down');
    });
    expect(() => recorder.record(pod, 'Normal', 'Started', 'started')).not.toThrow();
    expect(() => recorder.record(pod, 'Bogus' as 'Normal', 'Started', 'started')).not.toThrow();
    await recorder.flush();
    expect(warnings).toEqual(['dropping event of unsupported type', 'could not write event']);
  });

  it('drops events past maxPending instead of queueing without bound', async () => {
    const { fake, recorder, warnings } = setup({ maxPending: 2, burst: 100, maxConcurrentWrites: 1 });
    for (let i = 0; i < 5; i += 1) recorder.record(pod, 'Normal', 'Tick', `tick ${i}`);
    await recorder.flush();
    // The first event is taken off the queue at once, so two more fit behind it.
    expect(events(fake)).toHaveLength(3);
    expect(warnings.filter((warning) => warning === 'event queue full; dropping event')).toHaveLength(2);
  });

  it('writes several events at once, yet repeats of one event still aggregate into one Event', async () => {
    const fake = new FakeApiClient();
    let inFlight = 0;
    let mostInFlight = 0;
    const slowly = async <T>(write: () => Promise<T>): Promise<T> => {
      inFlight++;
      mostInFlight = Math.max(mostInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight--;
      return write();
    };
    const client = {
      events: (namespace: string) => ({
        create: (event: Event) => slowly(() => fake.events(namespace).create(event)),
        patch: (name: string, type: 'strategic', patch: unknown) => slowly(() => fake.events(namespace).patch(name, type, patch)),
      }),
    } as unknown as ApiClient;
    const recorder = new EventRecorder({ client, component: 'kube-scheduler', maxConcurrentWrites: 4, nowMs: () => START_MS });
    for (let i = 0; i < 20; i++) recorder.record({ ...pod, metadata: { ...pod.metadata, name: `web-${i}`, uid: `uid-${i}` } }, 'Normal', 'Scheduled', `assigned web-${i}`);
    for (let i = 0; i < 3; i++) recorder.record(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available');
    await recorder.flush();
    expect(mostInFlight).toBe(4);
    expect(events(fake)).toHaveLength(21);
    expect(events(fake).find((event) => event.reason === 'FailedScheduling')?.count).toBe(3);
  });
});
