// The kubelet against the real process runtime: pods run as host processes,
// and the HTTP API serves their logs, exec and stats.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { Pod, PodStatus } from '@kube-lite/api';
import { PodWorkers } from '../pod-workers/pod-workers';
import { ProcessRuntime } from '../runtime/process/process-runtime';
import { InMemoryPodSource, RecordingStatusSink } from '../sources';
import { KubeletServer } from './server';

jest.setTimeout(30_000);

const TOKEN = 'secret-token';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function get(port: number, urlPath: string, token: string | undefined = TOKEN, host = '127.0.0.1'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path: urlPath, headers: token ? { authorization: `Bearer ${token}` } : {}, timeout: 5000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

interface ExecResult {
  protocol: string;
  stdout: string;
  stderr: string;
  status: Record<string, unknown> | undefined;
}

function execOverWebSocket(port: number, urlPath: string, stdinText?: string, resize?: { Width: number; Height: number }): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(`ws://127.0.0.1:${port}${urlPath}`, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], { headers: { authorization: `Bearer ${TOKEN}` } });
    const result: ExecResult = { protocol: '', stdout: '', stderr: '', status: undefined };
    client.on('open', () => {
      result.protocol = client.protocol;
      if (resize) client.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify(resize))]));
      if (stdinText !== undefined) {
        client.send(Buffer.concat([Buffer.from([0]), Buffer.from(stdinText)]));
        client.send(Buffer.from([255, 0])); // v5: close stdin
      }
    });
    client.on('message', (data: Buffer) => {
      const channel = data[0];
      const payload = data.subarray(1).toString();
      if (channel === 1) result.stdout += payload;
      else if (channel === 2) result.stderr += payload;
      else if (channel === 3) result.status = JSON.parse(payload) as Record<string, unknown>;
    });
    client.on('close', () => resolve(result));
    client.on('error', reject);
  });
}

function makePod(name: string, containers: NonNullable<Pod['spec']>['containers']): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}-${process.pid}` }, spec: { nodeName: 'node-1', restartPolicy: 'Always', terminationGracePeriodSeconds: 5, containers } };
}

describe('kubelet on the process runtime', () => {
  let root: string;
  let runtime: ProcessRuntime;
  let source: InMemoryPodSource;
  let sink: RecordingStatusSink;
  let workers: PodWorkers;
  let server: KubeletServer;
  let port: number;
  const block = '127.78.0.0/16';

  const boot = async (): Promise<void> => {
    runtime = new ProcessRuntime({ stateDirectory: path.join(root, 'runtime'), podAddressBlock: block, adoptedPollIntervalMs: 100 });
    sink = new RecordingStatusSink();
    workers = new PodWorkers({ nodeName: 'node-1', hostIP: '127.0.0.1', rootDirectory: root, runtime, podSource: source, statusSink: sink, relistPeriodMs: 500, log: () => undefined });
    await workers.start();
    server = new KubeletServer({ nodeName: 'node-1', runtime, locator: workers, host: '127.0.0.1', port: 0, token: TOKEN });
    port = await server.listen();
  };
  const shutDown = async (): Promise<void> => {
    await server.close();
    await workers.stop();
    await workers.waitForIdle();
    await runtime.close();
  };
  const statusOf = (pod: Pod): PodStatus | undefined => sink.latest(pod.metadata?.uid ?? '');
  const running = (pod: Pod) => waitFor(`${pod.metadata?.name} running`, () => (statusOf(pod)?.phase === 'Running' && statusOf(pod)?.containerStatuses?.every((status) => status.state?.running) ? statusOf(pod) : undefined));

  beforeEach(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-server-'));
    source = new InMemoryPodSource();
    await boot();
  });

  afterEach(async () => {
    // Delete every pod with grace 0 and let the kubelet clean up.
    for (const pod of source.listPods()) source.deletePod(pod.metadata?.uid ?? '');
    await workers.relist();
    await waitFor('cleanup', async () => ((await runtime.listPodSandboxes()).length === 0 ? true : undefined), 15_000).catch(() => undefined);
    await shutDown();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('runs a pod, serves its logs, and refuses callers without the token', async () => {
    const pod = makePod('hello', [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hi; sleep 30'] }]);
    source.setPod(pod);
    const status = await running(pod);
    expect(status.podIP).toMatch(/^127\.78\./);
    expect(status.containerStatuses?.[0]?.containerID).toMatch(/^process:\/\/[0-9a-f]{32}$/);
    const logs = await waitFor('logs', async () => {
      const answer = await get(port, '/containerLogs/default/hello/main');
      return answer.body === 'hi\n' ? answer : undefined;
    });
    expect(logs.status).toBe(200);
    expect((await get(port, '/containerLogs/default/hello/main?timestamps=true')).body).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z hi\n$/);
    expect((await get(port, '/containerLogs/default/hello/main', '')).status).toBe(401);
    expect((await get(port, '/containerLogs/default/hello/main', 'wrong')).status).toBe(401);
    expect((await get(port, '/containerLogs/default/hello/nope')).status).toBe(404);
    expect((await get(port, '/healthz', '')).body).toBe('ok');
    const summary = JSON.parse((await get(port, '/stats/summary')).body);
    expect(summary.node.nodeName).toBe('node-1');
    expect(summary.pods[0]).toMatchObject({ podRef: { name: 'hello', namespace: 'default' }, containers: [{ name: 'main' }] });
    expect(summary.pods[0].memory.workingSetBytes).toBeGreaterThan(0);
    expect((await get(port, '/metrics')).body).toContain('kubelet_running_pods 1');
  });

  it('execs commands over WebSocket (v5.channel.k8s.io) with stdin, exit status and non-zero exits', async () => {
    const pod = makePod('shell', [{ name: 'main', image: 'busybox', command: ['sleep', '30'] }]);
    source.setPod(pod);
    await running(pod);
    const echo = await execOverWebSocket(port, '/exec/default/shell/main?command=echo&command=hello&stdout=true&stderr=true');
    expect(echo).toEqual({ protocol: 'v5.channel.k8s.io', stdout: 'hello\n', stderr: '', status: { metadata: {}, status: 'Success' } });
    const failing = await execOverWebSocket(port, `/exec/default/shell/main?${new URLSearchParams([['command', 'sh'], ['command', '-c'], ['command', 'echo bad >&2; exit 3'], ['stdout', '1'], ['stderr', '1']])}`);
    expect(failing.stderr).toBe('bad\n');
    expect(failing.status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } });
    const withStdin = await execOverWebSocket(port, '/exec/default/shell/main?command=cat&stdin=true&stdout=true', 'piped through\n');
    expect(withStdin.stdout).toBe('piped through\n');
    // A terminal, resized through channel 4.
    const terminal = await execOverWebSocket(port, `/exec/default/shell/main?${new URLSearchParams([['command', 'sh'], ['command', '-c'], ['command', 'sleep 0.3; stty size'], ['stdout', '1'], ['tty', '1']])}`, undefined, { Width: 100, Height: 30 });
    expect(terminal.stdout.trim()).toBe('30 100');
    expect(terminal.status).toEqual({ metadata: {}, status: 'Success' });
  });

  it('attaches stdin to a container created with stdin: true (kubectl attach -i)', async () => {
    const pod = makePod('reader', [{ name: 'main', image: 'busybox', stdin: true, command: ['sh', '-c', 'read line; echo "got: $line"'] }]);
    source.setPod(pod);
    await running(pod);
    const result = await execOverWebSocket(port, '/attach/default/reader/main?stdin=true&stdout=true&stderr=true', 'hello from attach\n');
    expect(result.stdout).toBe('got: hello from attach\n');
    expect(result.status).toEqual({ metadata: {}, status: 'Success' });
  });

  it('keeps stdin a fast client sends before a slow runtime has started the exec', async () => {
    const pod = makePod('slow-exec', [{ name: 'main', image: 'busybox', command: ['sleep', '30'] }]);
    source.setPod(pod);
    await running(pod);
    // Docker's exec takes two daemon round trips: a runtime whose exec answers late stands in for it.
    const slowRuntime = new Proxy(runtime, {
      get(target, property) {
        if (property === 'exec') {
          return async (...args: Parameters<ProcessRuntime['exec']>) => {
            await new Promise((resolve) => setTimeout(resolve, 300));
            return target.exec(...args);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
    const slowServer = new KubeletServer({ nodeName: 'node-1', runtime: slowRuntime, locator: workers, host: '127.0.0.1', port: 0, token: TOKEN });
    const slowPort = await slowServer.listen();
    try {
      // execOverWebSocket sends stdin (and closes it) the moment the socket opens.
      const result = await execOverWebSocket(slowPort, '/exec/default/slow-exec/main?command=cat&stdin=true&stdout=true', 'sent early\n');
      expect(result.stdout).toBe('sent early\n');
      expect(result.status).toEqual({ metadata: {}, status: 'Success' });
    } finally {
      await slowServer.close();
    }
  });

  it('runs two ml-serving pods on the same port, each answering on its own pod IP, and stops them with grace', async () => {
    const servingPort = 19_000 + (process.pid % 1000);
    const pods = ['serve-a', 'serve-b'].map((name) =>
      makePod(name, [
        {
          name: 'server',
          image: 'ml-serving:1.0',
          env: [{ name: 'PORT', value: String(servingPort) }, { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          readinessProbe: { httpGet: { path: '/healthz', port: servingPort }, periodSeconds: 1 },
        },
      ]),
    );
    for (const pod of pods) source.setPod(pod);
    const statuses = await Promise.all(pods.map((pod) => waitFor(`${pod.metadata?.name} ready`, () => (statusOf(pod)?.conditions?.find((entry) => entry.type === 'Ready')?.status === 'True' ? statusOf(pod) : undefined))));
    expect(statuses[0]?.podIP).not.toBe(statuses[1]?.podIP);
    for (const [index, status] of statuses.entries()) {
      const answer = await get(servingPort, '/predict?text=love', '', status?.podIP);
      expect(JSON.parse(answer.body)).toMatchObject({ pod: pods[index]?.metadata?.name, podIP: status?.podIP, path: '/predict' });
    }
    // Deleting one: SIGTERM, the app exits 0, the pod ends Succeeded and is reported terminated.
    const [first] = pods;
    if (!first) throw new Error('no pod');
    source.setPod({ ...first, metadata: { ...first.metadata, deletionTimestamp: new Date().toISOString(), deletionGracePeriodSeconds: 5 } });
    await waitFor('terminated', () => (sink.terminated.includes(first.metadata?.uid ?? '') ? true : undefined));
    expect(statusOf(first)?.phase).toBe('Succeeded');
    expect(statusOf(first)?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 0, reason: 'Completed' });
  });

  it('keeps pods running across a kubelet restart and adopts them', async () => {
    const pod = makePod('survivor', [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo started; sleep 30'] }]);
    source.setPod(pod);
    const before = await running(pod);
    const containerID = before.containerStatuses?.[0]?.containerID;
    await shutDown(); // the kubelet dies; its pods do not
    await boot();
    const after = await running(pod);
    await new Promise((resolve) => setTimeout(resolve, 700)); // a relist or two
    expect(statusOf(pod)?.containerStatuses?.[0]).toMatchObject({ containerID, restartCount: 0, state: { running: {} } });
    expect(after.podIP).toBe(before.podIP);
    expect((await get(port, '/containerLogs/default/survivor/main')).body).toBe('started\n');
  });
});
