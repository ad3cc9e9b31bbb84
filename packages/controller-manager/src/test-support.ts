// Shared by this package's tests (not exported from index.ts): a FakeApiClient
// with real informers over it, a controllable clock, events recorded through a
// second fake so `client.writes` holds only what the controller wrote, and
// object builders.
import { formatTime, type Deployment, type KubeObject, type Lease, type Node, type Pod, type PodTemplateSpec, type ReplicaSet, type Service } from '@kube-lite/api';
import { EventRecorder, FakeApiClient, RESOURCES, SharedInformerFactory, silentLogger, type RecordedWrite } from '@kube-lite/client';
import { SimClock } from '@kube-lite/testing';
import { DEFAULT_CONTROLLER_SETTINGS, type ControllerContext, type ControllerSettings } from './controller';

export const START_MS = Date.parse('2024-05-01T10:00:00Z');

export interface Fixture {
  client: FakeApiClient;
  eventsClient: FakeApiClient;
  informers: SharedInformerFactory;
  clock: SimClock;
  context: ControllerContext;
  /** Starts the informers and waits for their first lists. */
  start(): Promise<void>;
  /** Waits until the informers have caught up with every write so far. */
  settle(): Promise<void>;
  /** Writes as tests compare them: verb, resource[/subresource], namespace/name. */
  writeSummary(): string[];
  /** Reasons of the events recorded so far, sorted. */
  eventReasons(): Promise<string[]>;
  stop(): Promise<void>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` until it holds; throws naming `what` after timeoutMs. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function summarize(write: RecordedWrite): string {
  const resource = write.subresource === undefined ? write.resource : `${write.resource}/${write.subresource}`;
  return `${write.verb} ${resource} ${write.namespace ? `${write.namespace}/` : ''}${write.name}`;
}

export function fixture(objects: KubeObject[] = [], settings: Partial<ControllerSettings> = {}): Fixture {
  const clock = new SimClock(START_MS);
  const nowMs = (): number => clock.nowMs;
  const client = new FakeApiClient({ objects, nowMs });
  const eventsClient = new FakeApiClient({ nowMs });
  const informers = new SharedInformerFactory(client);
  const recorder = new EventRecorder({ client: eventsClient, component: 'test-controller', nowMs });
  const context: ControllerContext = { client, informers, recorder, logger: silentLogger, nowMs, settings: { ...DEFAULT_CONTROLLER_SETTINGS, ...settings } };
  const watched = ['pods', 'replicaSets', 'deployments', 'nodes', 'leases', 'services', 'endpoints', 'namespaces', 'configMaps'] as const;
  const versions = (objects: KubeObject[]): string =>
    objects
      .map((object) => `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}@${object.metadata?.resourceVersion ?? ''}`)
      .sort()
      .join(',');
  return {
    client,
    eventsClient,
    informers,
    clock,
    context,
    async start() {
      informers.start();
      if (!(await informers.waitForCacheSync(5000))) throw new Error('informers did not sync');
    },
    async settle() {
      // Caught up: every started informer holds exactly the stored objects at their stored versions.
      await waitFor(
        () =>
          watched.every((name) => {
            const informer = informers.forResource(RESOURCES[name]);
            return !informer.hasSynced() || versions(informer.lister.list()) === versions(client.peekAll(RESOURCES[name]));
          }),
        'informers to catch up',
      );
    },
    writeSummary() {
      return client.writes.map(summarize);
    },
    async eventReasons() {
      await recorder.flush();
      return eventsClient.peekAll<KubeObject & { reason?: string }>(RESOURCES.events).map((event) => event.reason ?? '').sort();
    },
    async stop() {
      await informers.shutdown();
      await recorder.close();
      client.close();
      eventsClient.close();
    },
  };
}

// ---- builders ----

export function template(labels: Record<string, string>, image = 'nginx:1.25'): PodTemplateSpec {
  return { metadata: { labels }, spec: { containers: [{ name: 'app', image, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] } };
}

export interface PodOptions {
  labels?: Record<string, string>;
  owner?: KubeObject;
  ownerKind?: string;
  nodeName?: string;
  phase?: 'Pending' | 'Running' | 'Unknown' | 'Succeeded' | 'Failed';
  ready?: boolean;
  readySinceMs?: number;
  restarts?: number;
  createdMs?: number;
  podIP?: string;
  deleting?: boolean;
  tolerations?: NonNullable<Pod['spec']>['tolerations'];
  ports?: { name: string; containerPort: number }[];
  namespace?: string;
}

export function pod(name: string, options: PodOptions = {}): Pod {
  const result: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: options.namespace ?? 'default', labels: options.labels ?? { app: 'web' }, creationTimestamp: formatTime(options.createdMs ?? START_MS - 60_000) },
    spec: { containers: [{ name: 'app', image: 'nginx:1.25', ports: (options.ports ?? [{ name: 'http', containerPort: 8080 }]).map((port) => ({ ...port, protocol: 'TCP' as const })) }] },
    status: { phase: options.phase ?? 'Running' },
  };
  const meta = result.metadata as NonNullable<Pod['metadata']>;
  if (options.owner !== undefined) {
    meta.ownerReferences = [{ apiVersion: 'apps/v1', kind: options.ownerKind ?? 'ReplicaSet', name: options.owner.metadata?.name ?? '', uid: options.owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true }];
  }
  if (options.deleting) {
    meta.deletionTimestamp = formatTime(START_MS);
    meta.finalizers = ['test/hold'];
  }
  const spec = result.spec as NonNullable<Pod['spec']>;
  if (options.nodeName !== undefined) spec.nodeName = options.nodeName;
  if (options.tolerations !== undefined) spec.tolerations = options.tolerations;
  const status = result.status as NonNullable<Pod['status']>;
  if (options.podIP !== undefined) status.podIP = options.podIP;
  if (options.ready !== undefined) {
    status.conditions = [{ type: 'Ready', status: options.ready ? 'True' : 'False', lastTransitionTime: formatTime(options.readySinceMs ?? START_MS - 30_000) }];
  }
  if (options.restarts !== undefined) status.containerStatuses = [{ name: 'app', ready: options.ready ?? false, restartCount: options.restarts, image: 'nginx:1.25', imageID: '' }];
  return result;
}

export function replicaSet(name: string, uid: string, replicas: number, options: { labels?: Record<string, string>; minReadySeconds?: number; owner?: Deployment; revision?: number; image?: string; available?: number; createdMs?: number; hash?: string } = {}): ReplicaSet {
  const labels = { ...(options.labels ?? { app: 'web' }), ...(options.hash === undefined ? {} : { 'pod-template-hash': options.hash }) };
  const result: ReplicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', uid, labels, generation: 1, creationTimestamp: formatTime(options.createdMs ?? START_MS - 600_000) },
    spec: { replicas, selector: { matchLabels: labels }, template: template(labels, options.image) },
    status: { replicas, readyReplicas: options.available ?? replicas, availableReplicas: options.available ?? replicas, observedGeneration: 1 },
  };
  if (options.minReadySeconds !== undefined) (result.spec as NonNullable<ReplicaSet['spec']>).minReadySeconds = options.minReadySeconds;
  if (options.owner !== undefined) {
    (result.metadata as NonNullable<ReplicaSet['metadata']>).ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'Deployment', name: options.owner.metadata?.name ?? '', uid: options.owner.metadata?.uid ?? '', controller: true, blockOwnerDeletion: true },
    ];
  }
  if (options.revision !== undefined) (result.metadata as NonNullable<ReplicaSet['metadata']>).annotations = { 'deployment.kubernetes.io/revision': String(options.revision) };
  return result;
}

export function deployment(name: string, replicas: number, options: { image?: string; strategy?: NonNullable<Deployment['spec']>['strategy']; paused?: boolean; revisionHistoryLimit?: number; progressDeadlineSeconds?: number; generation?: number; status?: Deployment['status'] } = {}): Deployment {
  const result: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default', uid: `uid-deploy-${name}`, generation: options.generation ?? 1 },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: template({ app: name }, options.image),
      strategy: options.strategy ?? { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      progressDeadlineSeconds: options.progressDeadlineSeconds ?? 600,
    },
  };
  const spec = result.spec as NonNullable<Deployment['spec']>;
  if (options.paused !== undefined) spec.paused = options.paused;
  if (options.revisionHistoryLimit !== undefined) spec.revisionHistoryLimit = options.revisionHistoryLimit;
  if (options.status !== undefined) result.status = options.status;
  return result;
}

export function node(name: string, ready: 'True' | 'False' | 'Unknown' | undefined, options: { taints?: NonNullable<Node['spec']>['taints']; heartbeatMs?: number } = {}): Node {
  const result: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: {}, status: {} };
  if (ready !== undefined) {
    (result.status as NonNullable<Node['status']>).conditions = [
      { type: 'Ready', status: ready, reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: formatTime(options.heartbeatMs ?? START_MS), lastTransitionTime: formatTime(START_MS - 3_600_000) },
      { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: formatTime(options.heartbeatMs ?? START_MS), lastTransitionTime: formatTime(START_MS - 3_600_000) },
    ];
  }
  if (options.taints !== undefined) (result.spec as NonNullable<Node['spec']>).taints = options.taints;
  return result;
}

export function nodeLease(name: string, renewMs: number): Lease {
  return { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: new Date(renewMs).toISOString().replace('Z', '000Z') } };
}

export function service(name: string, selector: Record<string, string> | undefined, ports: NonNullable<Service['spec']>['ports'] = []): Service {
  const spec: NonNullable<Service['spec']> = { ports, clusterIP: '10.96.0.10' };
  if (selector !== undefined) spec.selector = selector;
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec };
}
