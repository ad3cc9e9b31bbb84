// End to end for issue 9: `kube-lite up --workers 2` as a child process, then
// the real kubectl: a Secret encrypted at rest in etcd, a parallel Job, a
// CronJob firing, a StatefulSet coming up in order and keeping its volume, a
// DaemonSet following a node added with `kube-lite add-node`, and an HPA
// scaling a CPU-busy Deployment up and back down (with `kubectl top pod`).
//
// Like local-cluster.test.ts: part of `npm test` (which builds first), needs
// kubectl on PATH and is skipped, saying so, without it; a temporary data
// dir, ports moved by PORT_OFFSET and a loopback subnet of its own, so it runs
// beside that file's cluster and one on the defaults. One cluster for the
// whole file; generous timeouts for a loaded 2-core machine.
//
// Manifests come from examples/ when the file is there and fits what a case
// checks (the case says which it used on stderr); otherwise the case's own.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { planLayout } from '../cluster/layout';
import { pollUntil } from '@kube-lite/testing';
import { examplesDirectory, LaunchedCluster, suiteNeedingKubectl } from './launched-cluster';

const etcdctlFound = spawnSync('etcdctl', ['version'], { timeout: 20_000, env: { ...process.env, ETCDCTL_API: '3' } }).error === undefined;
/** Clear of the default ports and of local-cluster.test.ts (offset 1000, subnet 2, ingress 18080). */
const PORT_OFFSET = 2000;
const SUBNET = 3;
const INGRESS_PORT = 28080;
const INITIAL_WORKERS = 2;
const UP_TIMEOUT_MS = 300_000;
const POLL_MS = 1_000;
/** Under the process runtime a volume's mountPath is relative to $KUBE_ROOT; under docker KUBE_ROOT is unset and the path is absolute. */
const IN_CONTAINER_ROOT = '${KUBE_ROOT:-}';
const SHELL_IMAGES = /^(docker\.io\/)?(library\/)?(busybox|alpine|debian|ubuntu)(:|$)/;
/** Busy loops the HPA case lets run at once: each takes a whole core of a 2-core machine. */
const MAX_BUSY_REPLICAS = 2;
/** The prefix upstream's aescbc provider writes, followed by the key name. */
const AESCBC_PREFIX = 'k8s:enc:aescbc:v1:';

interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: { kind: string; name: string; uid: string }[];
}

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  volumeMounts?: { name: string; mountPath: string }[];
  resources?: { requests?: Record<string, string> };
}

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: { containers: Container[]; restartPolicy?: string };
}

interface Condition {
  type: string;
  status: string;
  lastTransitionTime?: string;
}

/** What the cases read of any object; the fields of the kinds they use are optional. */
interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: {
    /** Fields the cases write but never read (selector, ports, claim specs, behavior, ...). */
    [field: string]: unknown;
    // Job
    completions?: number;
    parallelism?: number;
    completionMode?: string;
    // CronJob
    schedule?: string;
    jobTemplate?: { spec: { template: PodTemplate } };
    // StatefulSet, DaemonSet, Deployment
    replicas?: number;
    serviceName?: string;
    podManagementPolicy?: string;
    template?: PodTemplate;
    volumeClaimTemplates?: { metadata: { name: string }; spec?: unknown }[];
    // HorizontalPodAutoscaler
    scaleTargetRef?: { apiVersion?: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas?: number;
    metrics?: { type: string; resource?: { name: string; target?: { type: string; averageUtilization?: number } } }[];
    // Pod
    nodeName?: string;
  };
  status?: {
    phase?: string;
    conditions?: Condition[];
    active?: number;
    succeeded?: number;
    completedIndexes?: string;
    lastScheduleTime?: string;
    desiredNumberScheduled?: number;
    numberReady?: number;
    currentReplicas?: number;
    desiredReplicas?: number;
  };
  data?: Record<string, string>;
}

interface KubeList {
  items: KubeObject[];
}

const conditionTrue = (object: KubeObject, type: string): boolean => object.status?.conditions?.some((condition) => condition.type === type && condition.status === 'True') ?? false;
const ownedBy = (object: KubeObject, owner: KubeObject): boolean => object.metadata.ownerReferences?.some((reference) => reference.uid === owner.metadata.uid) ?? false;
const terminal = (pod: KubeObject): boolean => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
const live = (pod: KubeObject): boolean => pod.metadata.deletionTimestamp === undefined && !terminal(pod);
const runningReady = (pod: KubeObject): boolean => live(pod) && pod.status?.phase === 'Running' && conditionTrue(pod, 'Ready');
const shellTemplate = (template: PodTemplate | undefined): boolean => template?.spec.containers.every((container) => SHELL_IMAGES.test(container.image)) ?? false;
const seconds = (timestamp: string | undefined): number => (timestamp === undefined ? NaN : Date.parse(timestamp) / 1000);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The top-level JSON objects of a text holding one or more of them back to back. */
function jsonObjects(text: string): unknown[] {
  const objects: unknown[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  let escaped = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (inString) {
      if (escaped) escaped = false;
      else if (character === '\\') escaped = true;
      else if (character === '"') inString = false;
    } else if (character === '"') {
      inString = true;
    } else if (character === '{') {
      if (depth === 0) start = index;
      depth += 1;
    } else if (character === '}') {
      depth -= 1;
      if (depth === 0) objects.push(JSON.parse(text.slice(start, index + 1)));
    }
  }
  return objects;
}

suiteNeedingKubectl('workloads e2e')('kube-lite workloads: Job, CronJob, StatefulSet, DaemonSet, HPA, encrypted Secrets (end to end)', () => {
  let cluster: LaunchedCluster | undefined;
  let manifestCounter = 0;

  const started = (): LaunchedCluster => {
    if (cluster === undefined) throw new Error('the cluster did not start');
    return cluster;
  };
  const kubectl = (args: string[], timeoutMs?: number): Promise<string> => started().kubectl(args, timeoutMs);
  const kubeLite = (args: string[], timeoutMs?: number): Promise<{ stdout: string; stderr: string }> => started().kubeLite(args, timeoutMs);

  const getObject = async (kind: string, name: string): Promise<KubeObject> => JSON.parse(await kubectl(['get', kind, name, '-o', 'json'])) as KubeObject;
  const listObjects = async (kind: string, selector?: string): Promise<KubeObject[]> =>
    (JSON.parse(await kubectl(['get', kind, ...(selector === undefined ? [] : ['-l', selector]), '-o', 'json'])) as KubeList).items;
  const podsOwnedBy = async (owner: KubeObject): Promise<KubeObject[]> => (await listObjects('pods')).filter((pod) => ownedBy(pod, owner));

  /** Applies the objects through files, as a user would (one per object: kubectl validates a List against an OpenAPI kind the server may not publish). */
  const apply = async (objects: KubeObject[]): Promise<void> => {
    const files = objects.map((object) => {
      const file = path.join(started().dataDir, `manifest-${++manifestCounter}-${object.kind.toLowerCase()}.json`);
      fs.writeFileSync(file, JSON.stringify(object));
      return file;
    });
    await kubectl(['apply', ...files.flatMap((file) => ['-f', file])]);
  };

  /**
   * The objects of examples/<file> when it exists and `problemWith` finds
   * nothing missing for the case, else the case's own; says which on stderr.
   */
  const manifestFor = async (file: string, inline: KubeObject[], problemWith: (objects: KubeObject[]) => string | undefined): Promise<KubeObject[]> => {
    const example = path.join(examplesDirectory, file);
    let reason = 'it does not exist yet';
    if (fs.existsSync(example)) {
      // kubectl's own YAML reader; several documents come out as several JSON objects in a row.
      const objects = jsonObjects(await kubectl(['create', '--dry-run=client', '-o', 'json', '-f', example])) as KubeObject[];
      const problem = problemWith(objects);
      if (problem === undefined) {
        process.stderr.write(`workloads e2e: using examples/${file}\n`);
        return objects;
      }
      reason = problem;
    }
    process.stderr.write(`workloads e2e: inline manifest instead of examples/${file} (${reason})\n`);
    return inline;
  };

  const find = (objects: KubeObject[], kind: string): KubeObject => {
    const object = objects.find((candidate) => candidate.kind === kind);
    if (object === undefined) throw new Error(`no ${kind} in the manifest`);
    return object;
  };

  /** What the cluster looks like, for a failure message: pods, claims, volumes and the latest events. */
  const clusterPicture = async (): Promise<string> => {
    const objects = await kubectl(['get', 'pods,pvc,pv', '-o', 'wide']).catch((error: Error) => error.message);
    const events = await kubectl(['get', 'events', '--sort-by=.lastTimestamp']).catch((error: Error) => error.message);
    return `\n${objects}\nLatest events:\n${events.split('\n').slice(-15).join('\n')}`;
  };

  /** Polls until `check` returns a value, or fails with the last problem seen and the cluster's picture. */
  const eventually = <T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> => pollUntil(what, timeoutMs, POLL_MS, check, clusterPicture);

  /** Optional flags `up` started a binary without: its --help does not list them, or it refused them ("note: ..."). */
  const droppedFlags = (binary: string): string[] => {
    const unlisted = new RegExp(`note: ${binary} does not accept ([^(]*) \\(per its --help\\)`).exec(started().output)?.[1]?.split(',') ?? [];
    const refused = [...started().output.matchAll(new RegExp(`note: ${binary} refused (--[a-z0-9-]+)`, 'g'))].map((match) => match[1] ?? '');
    return [...unlisted, ...refused].map((flag) => flag.trim());
  };

  const requireFlag = (binary: string, flag: string, what: string): void => {
    if (droppedFlags(binary).includes(flag)) throw new Error(`${binary} was started without ${flag} (the binary does not accept it yet): ${what} cannot work`);
  };

  /** The raw value of an etcd key, as stored (etcdctl, else the etcd3 client). */
  const etcdValue = async (key: string): Promise<Buffer> => {
    const endpoint = planLayout({ dataDir: started().dataDir, workers: 1, runtime: 'process', ingressPort: INGRESS_PORT, portOffset: PORT_OFFSET, subnet: SUBNET }).etcd[0]?.clientUrl ?? '';
    if (etcdctlFound) {
      return new Promise((resolve, reject) => {
        execFile('etcdctl', ['--endpoints', endpoint, 'get', key, '--print-value-only'], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'buffer', timeout: 30_000 }, (error, stdout, stderr) => {
          if (error) reject(new Error(`etcdctl get ${key} failed: ${stderr.toString() || error.message}`));
          // etcdctl ends the value with a newline of its own.
          else resolve(stdout.subarray(0, stdout.length > 0 && stdout[stdout.length - 1] === 0x0a ? stdout.length - 1 : stdout.length));
        });
      });
    }
    // A root devDependency; loaded only when there is no etcdctl.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { Etcd3 } = require('etcd3') as { Etcd3: new (options: { hosts: string }) => { get(key: string): { buffer(): Promise<Buffer | null> }; close(): void } };
    const client = new Etcd3({ hosts: endpoint });
    try {
      const value = await client.get(key).buffer();
      if (value === null) throw new Error(`etcd has no key ${key}`);
      return value;
    } finally {
      client.close();
    }
  };

  beforeAll(async () => {
    cluster = await LaunchedCluster.up({ dataDirPrefix: 'kube-lite-workloads-', workers: INITIAL_WORKERS, portOffset: PORT_OFFSET, subnet: SUBNET, ingressPort: INGRESS_PORT, upTimeoutMs: UP_TIMEOUT_MS });
  }, UP_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    await cluster?.remove();
  }, 200_000);

  it('starts the control plane with local-path storage, the fast HPA profile and encryption at rest', () => {
    const missing = [
      ...['--encryption-provider-config'].filter((flag) => droppedFlags('kube-apiserver').includes(flag)).map((flag) => `kube-apiserver ${flag}`),
      ...['--local-path-root', '--horizontal-pod-autoscaler-sync-period', '--horizontal-pod-autoscaler-downscale-stabilization']
        .filter((flag) => droppedFlags('kube-controller-manager').includes(flag))
        .map((flag) => `kube-controller-manager ${flag}`),
    ];
    expect(missing).toEqual([]);
    const encryptionConfig = path.join(started().dataDir, 'auth', 'encryption-config.yaml');
    expect(fs.statSync(encryptionConfig).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(encryptionConfig, 'utf8')).toMatch(/kind: EncryptionConfiguration[\s\S]*- secrets[\s\S]*- aescbc:[\s\S]*- identity: \{\}/);
  });

  it('stores a Secret created with kubectl encrypted (k8s:enc:aescbc:v1:) and reads it back in plain text', async () => {
    requireFlag('kube-apiserver', '--encryption-provider-config', 'encryption at rest');
    const password = `s3cr3t-${process.pid}`;
    await kubectl(['create', 'secret', 'generic', 'e2e-secret', `--from-literal=password=${password}`]);
    const stored = await etcdValue('/registry/secrets/default/e2e-secret');
    expect(stored.subarray(0, AESCBC_PREFIX.length).toString()).toBe(AESCBC_PREFIX);
    expect(stored.includes(Buffer.from(password))).toBe(false);
    expect(stored.includes(Buffer.from(Buffer.from(password).toString('base64')))).toBe(false);
    const secret = await getObject('secret', 'e2e-secret');
    expect(Buffer.from(secret.data?.password ?? '', 'base64').toString()).toBe(password);
  }, 120_000);

  it('runs a Job of 5 completions with parallelism 2 to Complete, never more than 2 pods active', async () => {
    const inline: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'e2e-indexed' },
      spec: {
        completions: 5,
        parallelism: 2,
        completionMode: 'Indexed',
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox', command: ['sh', '-c', 'echo "item $JOB_COMPLETION_INDEX"; sleep 3'] }] } },
      },
    };
    const objects = await manifestFor('job-indexed.yaml', [inline], (candidates) => {
      const job = candidates.find((object) => object.kind === 'Job');
      if (job === undefined) return 'no Job in it';
      if (job.spec?.completions !== 5 || job.spec.parallelism !== 2) return `completions ${job.spec?.completions}, parallelism ${job.spec?.parallelism}; the case needs 5 and 2`;
      return shellTemplate(job.spec.template) ? undefined : 'its images are not shell images the process runtime runs';
    });
    const manifest = find(objects, 'Job');
    const name = manifest.metadata.name;
    await apply(objects);
    const job = await getObject('job', name);

    let maxActivePods = 0;
    let maxStatusActive = 0;
    let polling = true;
    const watcher = (async () => {
      while (polling) {
        const [pods, current] = await Promise.all([podsOwnedBy(job), getObject('job', name)]).catch(() => [[], undefined] as const);
        maxActivePods = Math.max(maxActivePods, pods.filter(live).length);
        maxStatusActive = Math.max(maxStatusActive, current?.status?.active ?? 0);
        await sleep(500);
      }
    })();
    try {
      await kubectl(['wait', '--for=condition=complete', `job/${name}`, '--timeout=300s'], 310_000);
    } finally {
      polling = false;
      await watcher;
    }
    const done = await getObject('job', name);
    expect(done.status?.succeeded).toBe(5);
    if (done.spec?.completionMode === 'Indexed') expect(done.status?.completedIndexes).toBe('0-4');
    expect(maxActivePods).toBeGreaterThanOrEqual(1);
    expect(maxActivePods).toBeLessThanOrEqual(2);
    expect(maxStatusActive).toBeLessThanOrEqual(2);
    const succeededPods = (await podsOwnedBy(job)).filter((pod) => pod.status?.phase === 'Succeeded');
    expect(succeededPods.length).toBeGreaterThanOrEqual(5);
  }, 360_000);

  it('fires a CronJob on a one-minute schedule: a Job of it appears and completes within 2.5 min', async () => {
    const inline: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'e2e-every-minute' },
      spec: {
        schedule: '* * * * *',
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'tick', image: 'busybox', command: ['sh', '-c', 'date; echo tick'] }] } } } },
      },
    };
    const objects = await manifestFor('cronjob.yaml', [inline], (candidates) => {
      const cronJob = candidates.find((object) => object.kind === 'CronJob');
      if (cronJob === undefined) return 'no CronJob in it';
      if (!['* * * * *', '*/1 * * * *'].includes(cronJob.spec?.schedule ?? '')) return `schedule "${cronJob.spec?.schedule}", not every minute`;
      return shellTemplate(cronJob.spec?.jobTemplate?.spec.template) ? undefined : 'its images are not shell images the process runtime runs';
    });
    const name = find(objects, 'CronJob').metadata.name;
    const appliedAtMs = Date.now();
    await apply(objects);
    const cronJob = await getObject('cronjob', name);
    const completed = await eventually(`a Job of CronJob ${name} Complete`, 160_000, async () => {
      const jobs = (await listObjects('jobs')).filter((job) => ownedBy(job, cronJob));
      if (jobs.length === 0) throw new Error('no Job of it yet');
      return jobs.find((job) => conditionTrue(job, 'Complete'));
    });
    expect(Date.now() - appliedAtMs).toBeLessThanOrEqual(165_000);
    expect(completed.metadata.name.startsWith(`${name}-`)).toBe(true);
    expect((await getObject('cronjob', name)).status?.lastScheduleTime).toBeDefined();
    // No more Jobs every minute while the other cases run.
    await kubectl(['delete', 'cronjob', name, '--wait=false']);
  }, 200_000);

  it('brings a StatefulSet of 3 up in order, and a deleted pod back under its name with its volume', async () => {
    const labels = { app: 'e2e-web' };
    const inline: KubeObject[] = [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'e2e-web' }, spec: { clusterIP: 'None', selector: labels, ports: [{ name: 'web', port: 80 }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'StatefulSet',
        metadata: { name: 'e2e-web' },
        spec: {
          serviceName: 'e2e-web',
          replicas: 3,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: 'web',
                  image: 'busybox',
                  // Written once, on the first start of the pod behind this claim.
                  command: ['sh', '-c', `d=${IN_CONTAINER_ROOT}/data; [ -f "$d/first-start" ] || echo "$HOSTNAME" > "$d/first-start"; exec sleep 3600`],
                  volumeMounts: [{ name: 'data', mountPath: '/data' }],
                },
              ],
            },
          },
          volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } } }],
        },
      },
    ];
    const objects = await manifestFor('statefulset.yaml', inline, (candidates) => {
      const set = candidates.find((object) => object.kind === 'StatefulSet');
      if (set === undefined) return 'no StatefulSet in it';
      if (set.spec?.replicas !== 3) return `replicas ${set.spec?.replicas}, not 3`;
      if ((set.spec.podManagementPolicy ?? 'OrderedReady') !== 'OrderedReady') return `podManagementPolicy ${set.spec.podManagementPolicy}`;
      const claim = set.spec.volumeClaimTemplates?.[0]?.metadata.name;
      if (claim === undefined) return 'no volumeClaimTemplates';
      if (!set.spec.template?.spec.containers[0]?.volumeMounts?.some((mount) => mount.name === claim)) return `its first container does not mount ${claim}`;
      return shellTemplate(set.spec.template) ? undefined : 'its images are not shell images the process runtime runs';
    });
    requireFlag('kube-controller-manager', '--local-path-root', 'local-path volumes for the claims');
    const manifest = find(objects, 'StatefulSet');
    const name = manifest.metadata.name;
    const claim = manifest.spec?.volumeClaimTemplates?.[0]?.metadata.name ?? '';
    const mountPath = manifest.spec?.template?.spec.containers[0]?.volumeMounts?.find((mount) => mount.name === claim)?.mountPath ?? '';
    const podNames = [0, 1, 2].map((ordinal) => `${name}-${ordinal}`);
    await apply(objects);

    // While they come up: no pod may exist before its predecessor is Running and Ready.
    const violations: string[] = [];
    const pods = await eventually(`${podNames.join(', ')} Running and Ready`, 300_000, async () => {
      const all = await listObjects('pods');
      const byName = podNames.map((podName) => all.find((pod) => pod.metadata.name === podName));
      byName.forEach((pod, ordinal) => {
        const previous = ordinal === 0 ? undefined : byName[ordinal - 1];
        if (pod !== undefined && ordinal > 0 && (previous === undefined || !runningReady(previous))) violations.push(`${pod.metadata.name} exists while ${podNames[ordinal - 1]} is not Ready`);
      });
      return byName.every((pod) => pod !== undefined && runningReady(pod)) ? (byName as KubeObject[]) : undefined;
    });
    expect(violations).toEqual([]);
    for (let ordinal = 1; ordinal < pods.length; ordinal++) {
      const previous = pods[ordinal - 1] as KubeObject;
      const pod = pods[ordinal] as KubeObject;
      const previousReadyAt = seconds(previous.status?.conditions?.find((condition) => condition.type === 'Ready')?.lastTransitionTime);
      expect(seconds(pod.metadata.creationTimestamp)).toBeGreaterThanOrEqual(seconds(previous.metadata.creationTimestamp));
      expect(seconds(pod.metadata.creationTimestamp)).toBeGreaterThanOrEqual(previousReadyAt);
    }
    const claims = await listObjects('pvc');
    for (const podName of podNames) {
      const bound = claims.find((candidate) => candidate.metadata.name === `${claim}-${podName}`);
      expect(bound?.status?.phase).toBe('Bound');
    }

    // The pod writes into its volume, is deleted, and comes back with the same name and the same volume.
    const victim = podNames[1] as string;
    const token = `written-by-${victim}-${Date.now()}`;
    const file = `${IN_CONTAINER_ROOT}${mountPath}/e2e-token`;
    await kubectl(['exec', victim, '--', 'sh', '-c', `echo ${token} > "${file}"`]);
    const before = await getObject('pod', victim);
    await kubectl(['delete', 'pod', victim, '--wait=false']);
    const after = await eventually(`${victim} back, Running and Ready`, 240_000, async () => {
      const pod = await getObject('pod', victim);
      return pod.metadata.uid !== before.metadata.uid && runningReady(pod) ? pod : undefined;
    });
    expect(after.metadata.name).toBe(victim);
    expect((await kubectl(['exec', victim, '--', 'sh', '-c', `cat "${file}"`])).trim()).toBe(token);
    if (manifest === inline[1]) expect((await kubectl(['exec', victim, '--', 'sh', '-c', `cat "${IN_CONTAINER_ROOT}/data/first-start"`])).trim()).toBe(victim);
  }, 600_000);

  it('runs a DaemonSet pod on every node, including one added later with kube-lite add-node', async () => {
    const labels = { app: 'e2e-node-agent' };
    const inline: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: { name: 'e2e-node-agent' },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'agent', image: 'busybox', command: ['sh', '-c', 'echo "agent on $HOSTNAME"; exec sleep 3600'] }] } } },
    };
    const objects = await manifestFor('daemonset.yaml', [inline], (candidates) => {
      const set = candidates.find((object) => object.kind === 'DaemonSet');
      if (set === undefined) return 'no DaemonSet in it';
      return shellTemplate(set.spec?.template) ? undefined : 'its images are not shell images the process runtime runs';
    });
    const name = find(objects, 'DaemonSet').metadata.name;
    await apply(objects);
    const daemonSet = await getObject('daemonset', name);
    const readyNodes = async (): Promise<string[]> => (await listObjects('nodes')).filter((node) => conditionTrue(node, 'Ready')).map((node) => node.metadata.name).sort();
    const nodesWithAgent = async (): Promise<string[]> => [...new Set((await podsOwnedBy(daemonSet)).filter(runningReady).map((pod) => pod.spec?.nodeName ?? ''))].sort();

    const initial = await readyNodes();
    expect(initial).toHaveLength(INITIAL_WORKERS);
    await eventually(`a Running ${name} pod on ${initial.join(', ')}`, 180_000, async () => ((await nodesWithAgent()).join() === initial.join() ? true : undefined));

    const added = await kubeLite(['add-node'], 240_000);
    const newNode = added.stdout.trim();
    expect(newNode).toBe(`worker-${INITIAL_WORKERS + 1}`);
    expect(await readyNodes()).toContain(newNode);
    const state = JSON.parse(fs.readFileSync(path.join(started().dataDir, 'state.json'), 'utf8')) as { components: { spec: { name: string } }[]; cluster: { options: { workers: number } } };
    expect(state.cluster.options.workers).toBe(INITIAL_WORKERS + 1);
    expect(state.components.map((component) => component.spec.name)).toEqual(expect.arrayContaining([`kubelet-${newNode}`, `kube-proxy-${newNode}`]));
    expect((await kubeLite(['status'])).stdout).toMatch(new RegExp(`${newNode}\\s+True`));

    const everyNode = await readyNodes();
    expect(everyNode).toHaveLength(INITIAL_WORKERS + 1);
    await eventually(`a Running ${name} pod on ${newNode} too`, 180_000, async () => ((await nodesWithAgent()).join() === everyNode.join() ? true : undefined));
    const status = await eventually(`${name} status counting ${everyNode.length} nodes`, 60_000, async () => {
      const current = await getObject('daemonset', name);
      return current.status?.desiredNumberScheduled === everyNode.length && current.status.numberReady === everyNode.length ? current.status : undefined;
    });
    expect(status.numberReady).toBe(INITIAL_WORKERS + 1);
  }, 600_000);

  it('scales a CPU-busy Deployment up with an HPA, shows it in kubectl top, and scales back down once idle', async () => {
    const labels = { app: 'e2e-cpu-burner' };
    const inline: KubeObject[] = [
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'e2e-cpu-burner' },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'burn', image: 'busybox', command: ['sh', '-c', 'while :; do :; done'], resources: { requests: { cpu: '100m' } } }] } },
        },
      },
      {
        apiVersion: 'autoscaling/v2',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'e2e-cpu-burner' },
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'e2e-cpu-burner' },
          minReplicas: 1,
          maxReplicas: 2,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
          behavior: { scaleDown: { stabilizationWindowSeconds: 15 } },
        },
      },
    ];
    const objects = await manifestFor('hpa.yaml', inline, (candidates) => {
      const autoscaler = candidates.find((object) => object.kind === 'HorizontalPodAutoscaler');
      if (autoscaler === undefined) return 'no HorizontalPodAutoscaler in it';
      const target = candidates.find((object) => object.kind === 'Deployment' && object.metadata.name === autoscaler.spec?.scaleTargetRef?.name);
      if (target === undefined) return 'the Deployment it scales is not in it';
      if (!autoscaler.spec?.metrics?.some((metric) => metric.resource?.name === 'cpu' && metric.resource.target?.type === 'Utilization')) return 'no CPU utilization target';
      if (target.spec?.template?.spec.containers[0]?.resources?.requests?.cpu === undefined) return 'its Deployment requests no CPU';
      return shellTemplate(target.spec.template) ? undefined : 'its images are not shell images the process runtime runs';
    });
    const autoscalerManifest = find(objects, 'HorizontalPodAutoscaler');
    const name = autoscalerManifest.metadata.name;
    const deploymentName = autoscalerManifest.spec?.scaleTargetRef?.name ?? '';
    const minReplicas = autoscalerManifest.spec?.minReplicas ?? 1;
    await apply(objects);
    // This case's own pace, whatever the manifest says: a short scale-down window, and few busy loops on a 2-core machine.
    await kubectl(['patch', 'hpa', name, '--type=merge', '-p', JSON.stringify({ spec: { maxReplicas: Math.min(autoscalerManifest.spec?.maxReplicas ?? MAX_BUSY_REPLICAS, MAX_BUSY_REPLICAS), behavior: { scaleDown: { stabilizationWindowSeconds: 15 } } } })]);

    const deploymentReplicas = async (): Promise<number> => (await getObject('deployment', deploymentName)).spec?.replicas ?? 0;
    try {
      const top = await eventually('a row of kubectl top pod', 180_000, async () => {
        const printed = await kubectl(['top', 'pod', '--no-headers']);
        return printed.split('\n').find((line) => line.startsWith(`${deploymentName}-`) && /\s\d+m\s/.test(line));
      });
      expect(top).toMatch(/^\S+\s+\d+m\s+\d+Mi/);
      const scaledUp = await eventually(`${deploymentName} scaled up by ${name}`, 240_000, async () => {
        const replicas = await deploymentReplicas();
        return replicas > minReplicas ? replicas : undefined;
      });
      expect(scaledUp).toBeGreaterThan(minReplicas);
    } finally {
      // The busy loop stops: every container of the Deployment now sleeps.
      await kubectl(['patch', 'deployment', deploymentName, '--type=json', '-p', JSON.stringify([
        { op: 'add', path: '/spec/template/spec/containers/0/command', value: ['sh', '-c', 'exec sleep 3600'] },
        { op: 'add', path: '/spec/template/spec/containers/0/args', value: [] },
      ])]);
    }
    await eventually(`${deploymentName} back to ${minReplicas} replica(s)`, 300_000, async () => ((await deploymentReplicas()) === minReplicas ? true : undefined));
    const autoscaler = await getObject('hpa', name);
    expect(autoscaler.status?.desiredReplicas).toBe(minReplicas);
  }, 720_000);
});
