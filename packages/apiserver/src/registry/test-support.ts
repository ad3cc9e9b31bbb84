// TEST-ONLY support, not exported from index.ts: a Registry on a real
// one-member etcd (or etcd-lite) and a compact way to call its handlers as
// the HTTP frame would, with a RequestContext per call.

import { startEtcdCluster, type EtcdCluster, type EtcdImplementation } from '@kube-lite/testing';
import { MASTERS_GROUP } from '../auth';
import type { DeleteOptions, PatchRequest, RequestContext, ResourceHandler, WatchEvent, WatchSink } from '../server';
import { StatusError } from '../server';
import { EtcdStore } from '../storage';
import { Registry, type RegistryOptions } from './registry';

export interface TestRegistry {
  etcd: EtcdCluster;
  store: EtcdStore;
  registry: Registry;
  stop(): Promise<void>;
}

export async function startTestRegistry(implementation: EtcdImplementation, options: Partial<RegistryOptions> = {}): Promise<TestRegistry> {
  const etcd = await startEtcdCluster({ implementation, members: 1, extraArgs: implementation === 'etcd' ? ['--experimental-watch-progress-notify-interval=300ms'] : [] });
  const store = new EtcdStore({ endpoints: etcd.members.map((member) => member.clientUrl) });
  let registry: Registry;
  try {
    registry = await Registry.start({
      store,
      serviceClusterIpRange: '10.96.0.0/24',
      serviceNodePortRange: { min: 30000, max: 30009 },
      watchCache: { bookmarkIntervalMs: 200 },
      ...options,
    });
    await registry.bootstrap({ advertiseAddress: '127.0.0.1', securePort: 6443, kubernetesServiceIp: '10.96.0.1' });
  } catch (error) {
    store.close();
    await etcd.stop();
    throw error;
  }
  return {
    etcd,
    store,
    registry,
    async stop() {
      registry.stop();
      store.close();
      await etcd.stop();
    },
  };
}

export interface CallOptions {
  namespace?: string;
  name?: string;
  subresource?: string;
  version?: string;
  query?: Record<string, string>;
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  /** Server-side apply's force. */
  force?: boolean;
  /** What the frame found given twice in the body. */
  duplicateFields?: string[];
  table?: boolean;
  warnings?: string[];
}

/** A RequestContext as the frame would build it for `group/resource`. */
export function contextFor(group: string, resource: string, options: CallOptions = {}): RequestContext {
  const query = new URLSearchParams(options.query ?? {});
  const list: RequestContext['list'] = {
    labelSelector: query.get('labelSelector') ?? '',
    fieldSelector: query.get('fieldSelector') ?? '',
    continue: query.get('continue') ?? '',
    resourceVersion: query.get('resourceVersion') ?? '',
    allowWatchBookmarks: query.get('allowWatchBookmarks') === 'true',
  };
  if (query.has('limit')) list.limit = Number(query.get('limit'));
  const context: RequestContext = {
    user: { name: 'admin', uid: 'admin', groups: [MASTERS_GROUP] },
    verb: 'get',
    group,
    version: options.version ?? (group === '' ? 'v1' : group === 'autoscaling' ? 'v2' : 'v1'),
    resource,
    subresource: options.subresource ?? '',
    namespace: options.namespace ?? '',
    name: options.name ?? '',
    list,
    write: {
      fieldManager: options.fieldManager ?? 'test',
      fieldValidation: options.fieldValidation ?? 'Strict',
      dryRun: options.dryRun ?? false,
      force: options.force ?? false,
      ...(options.duplicateFields !== undefined ? { duplicateFields: options.duplicateFields } : {}),
    },
    output: options.table === true ? { table: { version: 'v1', includeObject: 'Metadata' } } : {},
    query,
    signal: new AbortController().signal,
    addWarning: (message) => options.warnings?.push(message),
  };
  return context;
}

/** Calls handlers of one resource the way the frame does. */
export class Client {
  constructor(
    private readonly registry: Registry,
    readonly group: string,
    readonly resource: string,
  ) {}

  private handler(subresource = ''): ResourceHandler {
    const store = this.registry.store(this.group, this.resource);
    if (subresource === '') return store;
    const handler = store.subresources[subresource];
    if (handler === undefined) throw new Error(`no subresource ${subresource}`);
    return handler;
  }

  async create(body: unknown, options: CallOptions = {}): Promise<any> {
    return this.handler(options.subresource).create!(contextFor(this.group, this.resource, options), body);
  }

  async get(name: string, options: CallOptions = {}): Promise<any> {
    return this.handler(options.subresource).get!(contextFor(this.group, this.resource, { ...options, name }));
  }

  async list(options: CallOptions = {}): Promise<any> {
    return this.handler().list!(contextFor(this.group, this.resource, options));
  }

  async update(name: string, body: unknown, options: CallOptions = {}): Promise<any> {
    return (await this.handler(options.subresource).update!(contextFor(this.group, this.resource, { ...options, name }), body)).object;
  }

  async patch(name: string, patch: PatchRequest, options: CallOptions = {}): Promise<{ object: any; created: boolean }> {
    return this.handler(options.subresource).patch!(contextFor(this.group, this.resource, { ...options, name }), patch);
  }

  async delete(name: string, deleteOptions: Partial<DeleteOptions> = {}, options: CallOptions = {}): Promise<any> {
    return (await this.handler().delete!(contextFor(this.group, this.resource, { ...options, name }), { dryRun: false, ...deleteOptions })).object;
  }

  async deleteCollection(deleteOptions: Partial<DeleteOptions> = {}, options: CallOptions = {}): Promise<any> {
    return this.handler().deleteCollection!(contextFor(this.group, this.resource, options), { dryRun: false, ...deleteOptions });
  }

  /** Starts a watch and collects its events. */
  async watch(options: CallOptions = {}): Promise<TestWatch> {
    const events: WatchEvent[] = [];
    const controller = new AbortController();
    let failure: StatusError | undefined;
    let ended = false;
    const sink: WatchSink = {
      send: (event) => {
        events.push(event);
        return !ended;
      },
      fail: (error) => {
        failure = error;
        ended = true;
      },
      end: () => {
        ended = true;
      },
      signal: controller.signal,
    };
    const subscription = await this.handler().watch!(contextFor(this.group, this.resource, options), sink);
    return {
      events,
      get failure() {
        return failure;
      },
      stop: () => {
        ended = true;
        controller.abort();
        subscription.stop();
      },
    };
  }
}

export interface TestWatch {
  events: WatchEvent[];
  readonly failure: StatusError | undefined;
  stop(): void;
}

/** Waits until condition holds (polling), failing after timeoutMs. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The StatusError a promise rejects with (fails when it resolves). */
export async function statusOf(promise: Promise<unknown>): Promise<StatusError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof StatusError) return error;
    throw error;
  }
  throw new Error('expected the call to fail with a StatusError');
}
