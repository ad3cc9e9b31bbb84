// TEST-ONLY support, not exported from index.ts: in-memory pods (with the
// status, binding and eviction subresources) and deployments (with status and
// scale), recording every RequestContext they are called with, so tests can
// check that a gRPC call reaches the same handler method, with the same
// context, that the equivalent REST request would.

import type { RequestContext, ResourceHandler, ServedResource, WatchSink, WriteResult } from '../server';
import { OBJECT_MODIFIED_MESSAGE, alreadyExists, conflict, notFound, successStatus, tooManyRequests } from '../server';

type StoredObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion: string; uid: string; [key: string]: unknown };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
};

/** One handler call as a test sees it. */
export interface RecordedCall {
  /** `pods.create`, `pods/binding.create`, `deployments/scale.update`, ... */
  call: string;
  context: RequestContext;
  body?: unknown;
}

/** A namespaced kind in a Map, shared by its subresource handlers. */
export class MemoryKind implements ResourceHandler {
  readonly objects = new Map<string, StoredObject>();
  subresources: Record<string, ResourceHandler> = {};
  private readonly watchers = new Set<WatchSink>();

  constructor(
    readonly resource: string,
    private readonly kind: string,
    private readonly apiVersion: string,
    private readonly calls: RecordedCall[],
    private readonly clock: { revision: number },
  ) {}

  record(call: string, context: RequestContext, body?: unknown): void {
    this.calls.push(body === undefined ? { call, context } : { call, context, body });
  }

  private key(namespace: string, name: string): string {
    return `${namespace}/${name}`;
  }

  current(context: RequestContext): StoredObject {
    const object = this.objects.get(this.key(context.namespace, context.name));
    if (object === undefined) throw notFound({ group: '', resource: this.resource }, context.name);
    return object;
  }

  /** Stores a new revision of the object and tells the watchers. */
  store(object: StoredObject, type: 'ADDED' | 'MODIFIED'): StoredObject {
    this.clock.revision += 1;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.clock.revision) } };
    this.objects.set(this.key(stored.metadata.namespace, stored.metadata.name), stored);
    for (const sink of this.watchers) sink.send({ type, object: stored });
    return stored;
  }

  remove(context: RequestContext): StoredObject {
    const object = this.current(context);
    this.objects.delete(this.key(context.namespace, context.name));
    for (const sink of this.watchers) sink.send({ type: 'DELETED', object });
    return object;
  }

  async get(context: RequestContext): Promise<unknown> {
    this.record(`${this.resource}.get`, context);
    return this.current(context);
  }

  async list(context: RequestContext): Promise<unknown> {
    this.record(`${this.resource}.list`, context);
    const items = [...this.objects.values()].filter((object) => context.namespace === '' || object.metadata.namespace === context.namespace);
    return { kind: `${this.kind}List`, apiVersion: this.apiVersion, metadata: { resourceVersion: String(this.clock.revision) }, items };
  }

  async create(context: RequestContext, body: unknown): Promise<unknown> {
    this.record(`${this.resource}.create`, context, body);
    const object = body as StoredObject;
    const name = object.metadata.name;
    if (this.objects.has(this.key(context.namespace, name))) throw alreadyExists({ group: '', resource: this.resource }, name);
    const created: StoredObject = { ...object, apiVersion: this.apiVersion, kind: this.kind, metadata: { ...object.metadata, namespace: context.namespace, uid: `uid-${name}`, resourceVersion: '' } };
    return context.write.dryRun ? created : this.store(created, 'ADDED');
  }

  async update(context: RequestContext, body: unknown): Promise<WriteResult> {
    this.record(`${this.resource}.update`, context, body);
    const current = this.current(context);
    const object = body as StoredObject;
    if (object.metadata.resourceVersion !== undefined && object.metadata.resourceVersion !== current.metadata.resourceVersion) {
      throw conflict({ group: '', resource: this.resource }, context.name, OBJECT_MODIFIED_MESSAGE);
    }
    // The status subresource owns status: a plain update keeps the stored one, as the registry does.
    return { object: this.store({ ...object, metadata: { ...current.metadata }, status: current.status ?? {} }, 'MODIFIED'), created: false };
  }

  async delete(context: RequestContext): Promise<{ object: unknown }> {
    this.record(`${this.resource}.delete`, context);
    return { object: this.remove(context) };
  }

  async watch(context: RequestContext, sink: WatchSink): Promise<{ stop(): void }> {
    this.record(`${this.resource}.watch`, context);
    this.watchers.add(sink);
    return { stop: () => this.watchers.delete(sink) };
  }

  get watcherCount(): number {
    return this.watchers.size;
  }
}

function statusSubresource(parent: MemoryKind): ResourceHandler {
  return {
    async update(context, body) {
      parent.record(`${parent.resource}/status.update`, context, body);
      const current = parent.current(context);
      return { object: parent.store({ ...current, status: (body as StoredObject).status ?? {} }, 'MODIFIED'), created: false };
    },
    async patch(context, patch) {
      parent.record(`${parent.resource}/status.patch`, context, patch);
      const current = parent.current(context);
      const status = (patch.patch as { status?: Record<string, unknown> }).status ?? {};
      return { object: parent.store({ ...current, status: { ...(current.status ?? {}), ...status } }, 'MODIFIED'), created: false };
    },
  };
}

function bindingSubresource(pods: MemoryKind): ResourceHandler {
  return {
    async create(context, body) {
      pods.record('pods/binding.create', context, body);
      const pod = pods.current(context);
      const nodeName = (body as { target?: { name?: string } }).target?.name ?? '';
      if (pod.spec?.nodeName !== undefined) throw conflict({ group: '', resource: 'pods/binding' }, context.name, `pod ${context.name} is already assigned to node "${String(pod.spec.nodeName)}"`);
      if (!context.write.dryRun) pods.store({ ...pod, spec: { ...(pod.spec ?? {}), nodeName } }, 'MODIFIED');
      return successStatus(201);
    },
  };
}

function evictionSubresource(pods: MemoryKind): ResourceHandler {
  return {
    async create(context, body) {
      pods.record('pods/eviction.create', context, body);
      const pod = pods.current(context);
      if ((pod.metadata.labels as Record<string, string> | undefined)?.protected === 'true') {
        throw tooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10);
      }
      if (!context.write.dryRun) pods.remove(context);
      return successStatus(201);
    },
  };
}

function scaleSubresource(deployments: MemoryKind): ResourceHandler {
  const scaleOf = (object: StoredObject): unknown => ({
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: { name: object.metadata.name, namespace: object.metadata.namespace, resourceVersion: object.metadata.resourceVersion },
    spec: { replicas: object.spec?.replicas ?? 1 },
    status: { replicas: object.status?.replicas ?? 0 },
  });
  return {
    async get(context) {
      deployments.record('deployments/scale.get', context);
      return scaleOf(deployments.current(context));
    },
    async update(context, body) {
      deployments.record('deployments/scale.update', context, body);
      const current = deployments.current(context);
      const replicas = (body as { spec?: { replicas?: number } }).spec?.replicas;
      return { object: scaleOf(deployments.store({ ...current, spec: { ...(current.spec ?? {}), replicas } }, 'MODIFIED')), created: false };
    },
  };
}

/** A handler whose only subresource streams, like pods/log: gRPC must refuse it. */
const logSubresource: ResourceHandler = {
  async connect() {
    throw new Error('connect must not be reached over gRPC');
  },
};

export interface MemoryWorkloads {
  pods: MemoryKind;
  deployments: MemoryKind;
  calls: RecordedCall[];
  resources: ServedResource[];
}

export function memoryWorkloads(): MemoryWorkloads {
  const calls: RecordedCall[] = [];
  const clock = { revision: 100 };
  const pods = new MemoryKind('pods', 'Pod', 'v1', calls, clock);
  pods.subresources = { status: statusSubresource(pods), binding: bindingSubresource(pods), eviction: evictionSubresource(pods), log: logSubresource };
  const deployments = new MemoryKind('deployments', 'Deployment', 'apps/v1', calls, clock);
  deployments.subresources = { status: statusSubresource(deployments), scale: scaleSubresource(deployments) };
  const verbs = ['create', 'delete', 'get', 'list', 'update', 'watch'];
  const resources: ServedResource[] = [
    {
      description: { group: '', version: 'v1', kind: 'Pod', name: 'pods', singularName: 'pod', namespaced: true, verbs },
      handler: pods,
    },
    {
      description: { group: 'apps', version: 'v1', kind: 'Deployment', name: 'deployments', singularName: 'deployment', namespaced: true, verbs },
      handler: deployments,
    },
  ];
  return { pods, deployments, calls, resources };
}
