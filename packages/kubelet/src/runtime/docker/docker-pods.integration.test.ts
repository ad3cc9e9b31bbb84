// Pod workers on the real Docker daemon, the kubelet on the host: volumes
// (emptyDir on disk and in memory, a config map that changes, a claim's
// PersistentVolume as a named volume), the pod's DNS and limits, as a
// container sees them. Skipped (with the reason printed) when no daemon
// answers or the images `npm run images` builds are missing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import type { Pod } from '@kube-lite/api';
import { PodWorkers } from '../../pod-workers/pod-workers';
import { InMemoryObjectSource, InMemoryPodSource, RecordingStatusSink } from '../../sources';
import { DEFAULT_PAUSE_IMAGE, DockerRuntime } from './docker-runtime';

jest.setTimeout(90_000);

const BASE_IMAGE = 'node:20-bookworm-slim';
const docker = new Docker({ socketPath: process.env.DOCKER_SOCKET ?? '/var/run/docker.sock' });
const suffix = `${process.pid}-${Date.now().toString(36)}`;
const networkName = `kube-lite-pods-test-${suffix}`;
const nodeName = `node-pods-${suffix}`;
const persistentVolumeName = `pv-test-${suffix}`;

let skipReason: string | undefined = 'not checked yet';
let root: string;
let runtime: DockerRuntime;
let workers: PodWorkers;
const source = new InMemoryPodSource();
const sink = new RecordingStatusSink();
const objects = new InMemoryObjectSource();

async function unavailableReason(): Promise<string | undefined> {
  try {
    await docker.ping();
  } catch {
    return 'no Docker daemon at /var/run/docker.sock';
  }
  for (const image of [BASE_IMAGE, DEFAULT_PAUSE_IMAGE]) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      return `image ${image} is missing (npm run images)`;
    }
  }
  return undefined;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  let collected = '';
  for await (const chunk of stream) collected += (chunk as Buffer).toString();
  return collected;
}

/** Runs a shell command in a running container of the pod; its stdout. */
async function shell(podName: string, container: string, script: string): Promise<string> {
  const found = await workers.findContainer('default', podName, container);
  if (!found || found.container.state !== 'running') throw new Error(`${podName}/${container} is not running`);
  const session = await runtime.exec(found.container.id, { command: ['sh', '-c', script], stdin: false, tty: false });
  const [output] = await Promise.all([text(session.stdout), text(session.stderr), session.exited]);
  return output;
}

function running(pod: Pod): Promise<true> {
  return eventually(`${pod.metadata?.name} running`, async () => {
    const status = sink.latest(pod.metadata?.uid ?? '');
    return status?.phase === 'Running' && status.containerStatuses?.every((entry) => entry.state?.running) ? true : undefined;
  });
}

function makePod(name: string, spec: Omit<NonNullable<Pod['spec']>, 'nodeName'>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid: `uid-${name}-${suffix}`, labels: { app: name } }, spec: { nodeName, restartPolicy: 'Always', terminationGracePeriodSeconds: 1, ...spec } };
}

beforeAll(async () => {
  skipReason = await unavailableReason();
  if (skipReason) {
    console.warn(`skipping the Docker pod integration tests: ${skipReason}`);
    return;
  }
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-docker-pods-'));
  await docker.createNetwork({ Name: networkName, Labels: { 'kube-lite.io/test': 'docker-pods' } });
  runtime = await DockerRuntime.connect({ nodeName, podNetwork: networkName, eventsReconnectMs: 100 });
  workers = new PodWorkers({
    nodeName,
    hostIP: '127.0.0.1',
    rootDirectory: root,
    runtime,
    podSource: source,
    statusSink: sink,
    secrets: objects,
    configMaps: objects,
    persistentVolumes: objects,
    clusterDnsServers: ['10.96.0.10'],
    relistPeriodMs: 300,
    log: () => undefined,
  });
  await workers.start();
}, 60_000);

afterAll(async () => {
  if (skipReason) return;
  for (const pod of source.listPods()) source.deletePod(pod.metadata?.uid ?? '');
  await workers.relist();
  await eventually('the pods to go', async () => ((await runtime.listPodSandboxes()).length === 0 ? true : undefined), 30_000).catch(() => undefined);
  await workers.stop();
  await runtime.close();
  await docker.getNetwork(networkName).remove().catch(() => undefined);
  await docker.getVolume(`kube-lite-pv-${persistentVolumeName}`).remove().catch(() => undefined);
  fs.rmSync(root, { recursive: true, force: true });
}, 60_000);

test('volumes, DNS and limits as the container sees them', async () => {
  if (skipReason) return;
  objects.configMaps.set('default/settings', { data: { 'app.conf': 'version=1' } });
  objects.persistentVolumeClaims.set('default/data', { metadata: { name: 'data', namespace: 'default', uid: 'claim-1' }, spec: { volumeName: persistentVolumeName }, status: { phase: 'Bound' } });
  objects.persistentVolumes.set(persistentVolumeName, { metadata: { name: persistentVolumeName }, spec: { local: { path: '/mnt/kube-lite-test' }, claimRef: { namespace: 'default', name: 'data', uid: 'claim-1' } } });
  const pod = makePod('volumes', {
    volumes: [
      { name: 'scratch', emptyDir: {} },
      { name: 'fast', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
      { name: 'settings', configMap: { name: 'settings' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'data' } },
    ],
    containers: [
      {
        name: 'writer',
        image: BASE_IMAGE,
        command: ['sh', '-c', 'echo from-writer > /scratch/note; echo in-memory > /fast/note; exec sleep 300'],
        resources: { limits: { cpu: '500m', memory: '64Mi' } },
        volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }, { name: 'fast', mountPath: '/fast' }, { name: 'data', mountPath: '/data' }],
      },
      {
        name: 'reader',
        image: BASE_IMAGE,
        command: ['sleep', '300'],
        volumeMounts: [{ name: 'scratch', mountPath: '/shared' }, { name: 'fast', mountPath: '/fast' }, { name: 'settings', mountPath: '/etc/app' }, { name: 'settings', mountPath: '/etc/app.conf', subPath: 'app.conf' }],
      },
    ],
  });
  source.setPod(pod);
  await running(pod);

  // emptyDir on disk: a bind mount of the kubelet's directory, shared by the pod's containers.
  expect(await eventually('the note', async () => (await shell('volumes', 'reader', 'cat /shared/note')) || undefined)).toBe('from-writer\n');
  expect(fs.readFileSync(path.join(root, 'pods', pod.metadata?.uid ?? '', 'volumes', 'scratch', 'note'), 'utf8')).toBe('from-writer\n');

  // emptyDir in memory: one tmpfs of the pod, capped at sizeLimit, shared too.
  expect(await eventually('the memory note', async () => (await shell('volumes', 'reader', 'cat /fast/note')) || undefined)).toBe('in-memory\n');
  const fastMount = (await shell('volumes', 'reader', 'grep " /fast " /proc/mounts')).split(' ');
  expect(fastMount[2]).toBe('tmpfs');
  expect(fastMount[3]).toMatch(/size=16384k/);

  // A config map: read-only, updated in place; the subPath copy keeps the version it started with.
  expect(await shell('volumes', 'reader', 'cat /etc/app/app.conf; echo; cat /etc/app.conf')).toBe('version=1\nversion=1');
  expect(await shell('volumes', 'reader', 'touch /etc/app/x 2>&1 || echo refused')).toContain('refused');
  objects.configMaps.set('default/settings', { data: { 'app.conf': 'version=2' } });
  expect(await eventually('the new version', async () => ((await shell('volumes', 'reader', 'cat /etc/app/app.conf')) === 'version=2' ? 'version=2' : undefined))).toBe('version=2');
  expect(await shell('volumes', 'reader', 'cat /etc/app.conf')).toBe('version=1');

  // The claim's PersistentVolume: a named volume of the daemon, world-writable.
  expect((await shell('volumes', 'writer', 'stat -c %a /data; echo kept > /data/row')).trim()).toBe('777');
  const volume = await docker.getVolume(`kube-lite-pv-${persistentVolumeName}`).inspect();
  expect(volume.Labels).toMatchObject({ 'kube-lite.io/persistent-volume': persistentVolumeName });

  // DNS: the cluster's search list and ndots:5 (the daemon's resolver forwards to --cluster-dns).
  const resolvConf = await shell('volumes', 'reader', 'cat /etc/resolv.conf');
  expect(resolvConf).toMatch(/^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/m);
  expect(resolvConf).toMatch(/^options .*ndots:5/m);

  // Limits reach the daemon.
  const writer = await workers.findContainer('default', 'volumes', 'writer');
  const inspect = await docker.getContainer(writer?.container.id ?? '').inspect();
  expect(inspect.HostConfig).toMatchObject({ NanoCpus: 500_000_000, Memory: 64 * 1024 * 1024 });

  // Deleting the pod removes its memory volume and directories; the PV's data stays.
  source.deletePod(pod.metadata?.uid ?? '');
  await eventually('the pod to go', async () => (workers.podState(pod.metadata?.uid ?? '') === undefined ? true : undefined), 30_000);
  const memoryVolumes = await docker.listVolumes({ filters: { label: [`io.kubernetes.pod.uid=${pod.metadata?.uid ?? ''}`] } });
  expect(memoryVolumes.Volumes ?? []).toEqual([]);
  expect(fs.existsSync(path.join(root, 'pods', pod.metadata?.uid ?? ''))).toBe(false);

  const again = makePod('volumes-again', {
    volumes: [{ name: 'data', persistentVolumeClaim: { claimName: 'data', readOnly: true } }],
    containers: [{ name: 'app', image: BASE_IMAGE, command: ['sleep', '300'], volumeMounts: [{ name: 'data', mountPath: '/data' }] }],
  });
  source.setPod(again);
  await running(again);
  expect(await shell('volumes-again', 'app', 'cat /data/row; touch /data/other 2>/dev/null || echo read-only')).toBe('kept\nread-only\n');
});
