// No Secret value may reach the kubelet's log lines, the events it records
// or the statuses it writes, whatever goes wrong. Real host processes (the
// process runtime), because the leaks come from real error texts: a command
// expanded from $(SECRET_VAR) that does not exist, the output of a failed
// hook or probe.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Pod, Secret } from '@kube-lite/api';
import { ProcessRuntime } from '../runtime/process/process-runtime';
import { InMemoryObjectSource, InMemoryPodSource, RecordingStatusSink } from '../sources';
import type { PodEvent } from './context';
import { REDACTED } from './pod-worker';
import { PodWorkers } from './pod-workers';

jest.setTimeout(30_000);

const PASSWORD = 'hunter2-do-not-print';
const API_KEY = 'key-0123456789abcdef';

let root: string;
let runtime: ProcessRuntime;
let workers: PodWorkers;
const lines: string[] = [];
const events: PodEvent[] = [];
const sink = new RecordingStatusSink();
const source = new InMemoryPodSource();

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-redaction-'));
  runtime = new ProcessRuntime({ stateDirectory: path.join(root, 'runtime'), podAddressBlock: '127.43.0.0/16', adoptedPollIntervalMs: 200 });
  const objects = new InMemoryObjectSource();
  const secret: Secret = { metadata: { name: 'db', namespace: 'shop' }, data: { password: Buffer.from(PASSWORD).toString('base64'), apiKey: Buffer.from(API_KEY).toString('base64') } };
  objects.secrets.set('shop/db', secret);
  workers = new PodWorkers({
    nodeName: 'node-1',
    hostIP: '127.0.0.1',
    rootDirectory: root,
    runtime,
    podSource: source,
    statusSink: sink,
    secrets: objects,
    configMaps: objects,
    relistPeriodMs: 300,
    backOff: { initialMs: 200, maxMs: 400 },
    log: (event, fields) => lines.push(JSON.stringify({ event, ...fields })),
    recordEvent: (_pod, event) => events.push(event),
  });
  await workers.start();
});

afterAll(async () => {
  for (const pod of source.listPods()) source.deletePod(pod.metadata?.uid ?? '');
  await workers.relist();
  const deadline = Date.now() + 10_000;
  while ((await runtime.listContainers()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  await workers.stop();
  await runtime.close();
  fs.rmSync(root, { recursive: true, force: true });
});

async function waitFor(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

test('secret values never appear in log lines, events or statuses', async () => {
  const pod: Pod = {
    metadata: { name: 'leaky', namespace: 'shop', uid: 'uid-leaky' },
    spec: {
      nodeName: 'node-1',
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 1,
      containers: [
        // The expanded command names the secret: the start error would quote it.
        { name: 'command', image: 'busybox', command: ['$(PASSWORD)'], env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } }] },
        // The hook and the probe print the secret before failing: their output is quoted in events and logs.
        {
          name: 'hooked',
          image: 'busybox',
          command: ['sleep', '30'],
          envFrom: [{ secretRef: { name: 'db' } }],
          lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo "password is $password"; exit 1'] } } },
        },
        {
          name: 'probed',
          image: 'busybox',
          command: ['sleep', '30'],
          env: [{ name: 'KEY', valueFrom: { secretKeyRef: { name: 'db', key: 'apiKey' } } }],
          livenessProbe: { exec: { command: ['sh', '-c', 'echo "key is $KEY"; exit 1'] }, periodSeconds: 1, failureThreshold: 1 },
        },
        // A reference to a key that is not there: the message names the key, never the values.
        { name: 'missing', image: 'busybox', command: ['sleep', '30'], env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'db', key: 'nope' } } }] },
      ],
      volumes: [{ name: 'creds', secret: { secretName: 'db' } }],
    },
  };
  source.setPod(pod);

  await waitFor('the start error, the failed hook and the failed probe', () => {
    const statuses = JSON.stringify(sink.writesFor('uid-leaky'));
    const reasons = events.map((event) => event.reason);
    return statuses.includes('StartError') && reasons.includes('FailedPostStartHook') && reasons.includes('Unhealthy') && statuses.includes('CreateContainerConfigError');
  });

  const printed = [...lines, ...events.map((event) => JSON.stringify(event)), ...sink.writesFor('uid-leaky').map((status) => JSON.stringify(status))].join('\n');
  for (const value of [PASSWORD, API_KEY, Buffer.from(PASSWORD).toString('base64')]) expect(printed).not.toContain(value);
  // The failures were reported, with the values masked.
  expect(printed).toContain(`exec: \\"${REDACTED}\\": executable file not found`);
  expect(printed).toContain(`password is ${REDACTED}`);
  expect(printed).toContain(`key is ${REDACTED}`);
  expect(printed).toContain("couldn't find key nope in Secret shop/db");
  // The volume still holds the real value: only what is printed is masked.
  expect(fs.readFileSync(path.join(root, 'pods', 'uid-leaky', 'volumes', 'creds', 'password'), 'utf8')).toBe(PASSWORD);
});
