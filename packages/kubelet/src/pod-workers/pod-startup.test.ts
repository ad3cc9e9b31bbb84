// What a pod's start costs the kubelet: which pods an event syncs, the order
// of the start's API writes, and the per-stage startup record it logs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod, PodStatus } from '@kube-lite/api';
import { ManualClock } from '../clock';
import { POD_UID_LABEL } from '../runtime/labels';
import { FakeRuntime } from '../runtime/fake/fake-runtime';
import type { SandboxFilter } from '../runtime/runtime';
import { InMemoryPodSource, RecordingStatusSink } from '../sources';
import { PodWorkers } from './pod-workers';
import { STARTUP_STAGES } from './startup-latency';

interface Harness {
  clock: ManualClock;
  source: InMemoryPodSource;
  workers: PodWorkers;
  /** Pod uids whose sandboxes were listed, one entry per worker sync. */
  synced: string[];
  /** API writes in order: "status <phase>" and "event <reason>". */
  writes: string[];
  logs: { event: string; fields: Record<string, unknown> }[];
  root: string;
}

const harnesses: Harness[] = [];

async function newHarness(): Promise<Harness> {
  const clock = new ManualClock();
  const runtime = new FakeRuntime({ clock });
  const synced: string[] = [];
  const listPodSandboxes = runtime.listPodSandboxes.bind(runtime);
  runtime.listPodSandboxes = (filter?: SandboxFilter) => {
    const uid = filter?.labels?.[POD_UID_LABEL];
    if (uid !== undefined) synced.push(uid);
    return listPodSandboxes(filter);
  };
  const writes: string[] = [];
  const sink = new RecordingStatusSink();
  const writeStatus = sink.writeStatus.bind(sink);
  sink.writeStatus = async (pod: Pod, status: PodStatus) => {
    writes.push(`status ${status.phase}`);
    await writeStatus(pod, status);
  };
  const source = new InMemoryPodSource();
  const logs: Harness['logs'] = [];
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-startup-'));
  const workers = new PodWorkers({
    nodeName: 'node-1',
    hostIP: '192.168.1.10',
    rootDirectory: root,
    runtime,
    podSource: source,
    statusSink: sink,
    clock,
    relistPeriodMs: 60_000,
    log: (event, fields) => logs.push({ event, fields }),
    recordEvent: (_pod, event) => writes.push(`event ${event.reason}`),
  });
  await workers.start();
  const harness = { clock, source, workers, synced, writes, logs, root };
  harnesses.push(harness);
  return harness;
}

afterEach(async () => {
  for (const harness of harnesses.splice(0)) {
    await harness.workers.stop();
    fs.rmSync(harness.root, { recursive: true, force: true });
  }
});

function makePod(name: string, resourceVersion = '1'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion },
    spec: { nodeName: 'node-1', restartPolicy: 'Always', containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }] },
  };
}

async function settle(harness: Harness): Promise<void> {
  await harness.workers.waitForIdle();
  await harness.clock.settle();
}

describe('pod startup', () => {
  const cases: { name: string; change: (harness: Harness) => void; expectedSyncs: string[] }[] = [
    { name: 'a change to one pod syncs that pod only', change: (harness) => harness.source.setPod(makePod('b', '2')), expectedSyncs: ['uid-b'] },
    { name: 'a new pod syncs only the new pod', change: (harness) => harness.source.setPod(makePod('d')), expectedSyncs: ['uid-d'] },
    { name: 'a deleted pod syncs only the deleted pod', change: (harness) => harness.source.deletePod('uid-c'), expectedSyncs: ['uid-c'] },
  ];
  it.each(cases)('$name', async ({ change, expectedSyncs }) => {
    const harness = await newHarness();
    for (const name of ['a', 'b', 'c']) harness.source.setPod(makePod(name));
    await settle(harness);
    harness.synced.length = 0;
    change(harness);
    await settle(harness);
    expect([...new Set(harness.synced)]).toEqual(expectedSyncs);
  });

  it("writes the Running status before the start's events", async () => {
    const harness = await newHarness();
    harness.source.setPod(makePod('web'));
    await settle(harness);
    expect(harness.writes).toEqual(['status Running', 'event Pulled', 'event Created', 'event Started']);
  });

  it('logs PodStartupObserved once per pod, with its stages in order', async () => {
    const harness = await newHarness();
    harness.source.setPod(makePod('web'));
    await settle(harness);
    harness.source.setPod(makePod('web', '2'));
    await settle(harness);
    const observed = harness.logs.filter((line) => line.event === 'PodStartupObserved');
    expect(observed).toHaveLength(1);
    const fields = observed[0]?.fields ?? {};
    expect(fields).toMatchObject({ pod: 'default/web', seenAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    const offsets = STARTUP_STAGES.map((stage) => fields[`${stage}Ms`]);
    for (const offset of offsets) expect(typeof offset).toBe('number');
    expect(offsets).toEqual([...(offsets as number[])].sort((x, y) => x - y));
  });
});
