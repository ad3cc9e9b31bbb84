// An in-memory API server for unit tests of controllers, in the spirit of
// client-go's fake clientset: objects get resourceVersions from one counter
// (as etcd revisions), writes with a stale resourceVersion conflict, watches
// replay history from a version and answer 410 once it is compacted away,
// selectors filter lists and watches, and every call is recorded so a test
// can assert the exact writes a sync made. Reactors inject failures.
import {
  applyPatch,
  checkFieldSelector,
  deepCopy,
  fieldSelectorMatches,
  formatTime,
  jsonEqual,
  labelSelectorMatches,
  parseFieldSelector,
  parseSelector,
  resourceForObject,
  scaleOf,
  schemaFor,
  withScaleReplicas,
  type Binding,
  type DeleteOptions,
  type Eviction,
  type FieldSelector,
  type KubeList,
  type KubeObject,
  type PatchType,
  type Pod,
  type PodDisruptionBudget,
  type ResourceInfo,
  type Scale,
  type Selector,
  type Status,
} from '@kube-lite/api';
import {
  ApiClientBase,
  type CallOptions,
  type DeleteCallOptions,
  type GetOptions,
  type ListOptions,
  type PatchOptions,
  type ResourceRef,
  type UpdateOptions,
  type Watch,
  type WatchEvent,
  type WatchOptions,
  type WriteOptions,
} from '../api-client';
import {
  alreadyExistsError,
  ApiError,
  badRequestError,
  ClientClosedError,
  conflictError,
  goneError,
  invalidError,
  notFoundError,
  OPTIMISTIC_LOCK_MESSAGE,
  tooManyRequestsError,
} from '../errors';
import { RESOURCES, resourceInfoOf } from '../resources';
import { WatchChannel } from './watch-channel';

export type FakeVerb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

/** One call the fake received. */
export interface FakeAction {
  verb: FakeVerb;
  group: string;
  /** Plural resource name: "pods". */
  resource: string;
  /** "status", "scale", "binding", "eviction" for subresource calls. */
  subresource?: string;
  namespace: string | undefined;
  /** Absent for list, watch and create-with-generateName. */
  name?: string;
  /** What the caller sent: the object, the patch document, the DeleteOptions, the Binding... */
  object?: unknown;
  patchType?: PatchType;
}

/** A write as tests assert it: `{verb, resource, namespace, name, object}` plus group/subresource when set. */
export interface RecordedWrite {
  verb: 'create' | 'update' | 'patch' | 'delete';
  group: string;
  resource: string;
  subresource?: string;
  namespace: string | undefined;
  name: string;
  object?: unknown;
  patchType?: PatchType;
}

/** Called before every call is served; throw (an ApiError, usually) to make the call fail with it. */
export type Reactor = (action: FakeAction) => void;

export interface FakeApiClientOptions {
  /** Objects present from the start (apiVersion and kind required); not recorded as writes. */
  objects?: KubeObject[];
  /** Clock for creationTimestamp, deletionTimestamp and condition times; Date.now by default. */
  nowMs?: () => number;
  /** Events kept for watches that resume from a version; older ones answer 410. 1000 by default. */
  maxHistory?: number;
  /** Events a watcher may lag behind before its stream is ended. 10000 by default. */
  maxWatchBuffer?: number;
}

interface HistoryEntry {
  revision: number;
  resourceKey: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  previous: KubeObject | undefined;
}

interface Watcher {
  resourceKey: string;
  info: ResourceInfo;
  namespace: string | undefined;
  labelSelector: Selector | undefined;
  fieldSelector: FieldSelector | undefined;
  bookmarks: boolean;
  channel: WatchChannel<WatchEvent<KubeObject>>;
}

export class FakeApiClient extends ApiClientBase {
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private readonly history: HistoryEntry[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly reactors: Reactor[] = [];
  private readonly recordedActions: FakeAction[] = [];
  private readonly recordedWrites: RecordedWrite[] = [];
  private readonly nowMs: () => number;
  private readonly maxHistory: number;
  private readonly maxWatchBuffer: number;
  private revision = 0;
  private compactedRevision = 0;
  private uidCounter = 0;
  private nameCounter = 0;
  private closed = false;

  constructor(options: FakeApiClientOptions = {}) {
    super();
    this.nowMs = options.nowMs ?? Date.now;
    this.maxHistory = options.maxHistory ?? 1000;
    this.maxWatchBuffer = options.maxWatchBuffer ?? 10_000;
    this.seed(...(options.objects ?? []));
  }

  // ---- test controls ----

  /** Adds objects as they are (uid and creationTimestamp filled in when missing), emitting ADDED events but recording no writes. */
  seed(...objects: KubeObject[]): void {
    for (const object of objects) {
      const info = resourceForObject(object);
      if (info === undefined) throw new Error(`FakeApiClient.seed: no served kind for apiVersion ${object.apiVersion} kind ${object.kind}`);
      const copy = deepCopy(object);
      const meta = (copy.metadata ??= {});
      if (!meta.name) throw new Error('FakeApiClient.seed: object has no metadata.name');
      if (info.namespaced) meta.namespace = meta.namespace || 'default';
      else delete meta.namespace;
      meta.uid ??= this.nextUid();
      meta.creationTimestamp ??= formatTime(this.nowMs());
      this.commit(info, 'ADDED', copy, undefined);
    }
  }

  /** Every call received, reads included, in order. */
  get actions(): readonly FakeAction[] {
    return this.recordedActions;
  }

  /** Every write call received (create, update, patch, delete and their subresources), in order, failed ones included. */
  get writes(): readonly RecordedWrite[] {
    return this.recordedWrites;
  }

  clearActions(): void {
    this.recordedActions.length = 0;
    this.recordedWrites.length = 0;
  }

  /** Runs `reactor` before every call; returns a function removing it. */
  addReactor(reactor: Reactor): () => void {
    this.reactors.push(reactor);
    return () => {
      const index = this.reactors.indexOf(reactor);
      if (index >= 0) this.reactors.splice(index, 1);
    };
  }

  /** The latest resourceVersion handed out, as a number. */
  get currentRevision(): number {
    return this.revision;
  }

  /** A copy of one stored object, read without recording an action. */
  peek<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string): T | undefined {
    const info = resourceInfoOf(ref);
    const object = this.bucket(info).get(objectKey(info, namespace, name));
    return object === undefined ? undefined : (deepCopy(object) as T);
  }

  /** Copies of all stored objects of a resource, in key order. */
  peekAll<T extends KubeObject>(ref: ResourceRef): T[] {
    const bucket = this.bucket(resourceInfoOf(ref));
    return [...bucket.keys()].sort().map((key) => deepCopy(bucket.get(key)) as T);
  }

  /** Forgets history so watches resuming from any earlier version get 410 Expired. */
  compactHistory(): void {
    this.compactedRevision = this.revision;
    this.history.length = 0;
  }

  /** Ends every open watch stream, with `error` if given (as a dropped connection), else normally (as a server timeout). */
  breakWatches(error?: Error): void {
    for (const watcher of this.watchers) watcher.channel.end(error);
    this.watchers.clear();
  }

  /** Sends a BOOKMARK with the current version to watchers that asked for bookmarks. */
  sendBookmarks(): void {
    for (const watcher of this.watchers) {
      if (!watcher.bookmarks) continue;
      const bookmark: KubeObject = { apiVersion: apiVersion(watcher.info), kind: watcher.info.kind, metadata: { resourceVersion: String(this.revision) } };
      watcher.channel.push({ type: 'BOOKMARK', object: bookmark });
    }
  }

  /** Open watch streams. */
  get watcherCount(): number {
    for (const watcher of this.watchers) if (watcher.channel.isEnded) this.watchers.delete(watcher);
    return this.watchers.size;
  }

  close(): void {
    this.closed = true;
    this.breakWatches();
  }

  // ---- reads ----

  async get<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, _options?: GetOptions): Promise<T> {
    const info = this.begin({ verb: 'get', group: ref.group, resource: ref.resource, namespace, name }, ref);
    return deepCopy(this.mustGet(info, namespace, name)) as T;
  }

  async list<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, options: ListOptions = {}): Promise<KubeList<T>> {
    const info = this.begin({ verb: 'list', group: ref.group, resource: ref.resource, namespace }, ref);
    const labelSelector = parseLabels(options.labelSelector);
    const fieldSelector = parseFields(info, options.fieldSelector);
    const bucket = this.bucket(info);
    let keys = [...bucket.keys()].sort().filter((key) => {
      const object = bucket.get(key) as KubeObject;
      return matches(info, object, namespace, labelSelector, fieldSelector);
    });
    if (options.continue) {
      const start = decodeContinue(options.continue);
      keys = keys.filter((key) => key > start);
    }
    const metadata: KubeList<T>['metadata'] = { resourceVersion: String(this.revision) };
    if (options.limit !== undefined && options.limit > 0 && keys.length > options.limit) {
      const page = keys.slice(0, options.limit);
      metadata.continue = Buffer.from(JSON.stringify({ start: page[page.length - 1] })).toString('base64');
      metadata.remainingItemCount = keys.length - page.length;
      keys = page;
    }
    return { apiVersion: apiVersion(info), kind: info.listKind, metadata, items: keys.map((key) => deepCopy(bucket.get(key)) as T) };
  }

  watch<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, options: WatchOptions = {}): Watch<T> {
    const channel = new WatchChannel<WatchEvent<KubeObject>>(this.maxWatchBuffer);
    let timer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      channel.close();
    };
    const watch: Watch<T> = {
      stop,
      [Symbol.asyncIterator]: () => channel.items() as AsyncIterator<WatchEvent<T>>,
    };
    let info: ResourceInfo;
    let watcher: Watcher;
    try {
      info = this.begin({ verb: 'watch', group: ref.group, resource: ref.resource, namespace }, ref);
      watcher = {
        resourceKey: resourceKey(info),
        info,
        namespace,
        labelSelector: parseLabels(options.labelSelector),
        fieldSelector: parseFields(info, options.fieldSelector),
        bookmarks: options.allowWatchBookmarks ?? false,
        channel,
      };
    } catch (error) {
      channel.end(error as Error);
      return watch;
    }
    const fromVersion = options.resourceVersion ?? '';
    if (fromVersion === '' || fromVersion === '0') {
      // Start with the current state, as the API server does for an unset version.
      const bucket = this.bucket(info);
      for (const key of [...bucket.keys()].sort()) {
        const object = bucket.get(key) as KubeObject;
        if (matches(info, object, namespace, watcher.labelSelector, watcher.fieldSelector)) channel.push({ type: 'ADDED', object: deepCopy(object) });
      }
    } else {
      const from = Number(fromVersion);
      if (!Number.isInteger(from) || from < 0) {
        channel.end(badRequestError(`invalid resource version "${fromVersion}"`));
        return watch;
      }
      if (from < this.compactedRevision) {
        channel.end(goneError(`too old resource version: ${from} (${this.compactedRevision})`));
        return watch;
      }
      for (const entry of this.history) {
        if (entry.revision > from && entry.resourceKey === watcher.resourceKey) this.deliver(watcher, entry);
      }
    }
    this.watchers.add(watcher);
    if (options.timeoutSeconds !== undefined && options.timeoutSeconds > 0) {
      // The server ends a watch normally after timeoutSeconds; unref'd so a forgotten watch never holds a test process open.
      timer = setTimeout(() => channel.end(), options.timeoutSeconds * 1000);
      timer.unref();
    }
    return watch;
  }

  // ---- writes ----

  async create<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options: WriteOptions = {}): Promise<T> {
    const write = this.recordWrite({ verb: 'create', group: ref.group, resource: ref.resource, namespace, name: object.metadata?.name ?? '', object: deepCopy(object) });
    const info = this.begin(write, ref);
    const created = deepCopy(object) as KubeObject;
    created.apiVersion ??= apiVersion(info);
    created.kind ??= info.kind;
    const meta = (created.metadata ??= {});
    const effectiveNamespace = requestNamespace(info, namespace, meta.namespace);
    if (info.namespaced) meta.namespace = effectiveNamespace;
    else delete meta.namespace;
    if (!meta.name) {
      if (!meta.generateName) throw invalidError(info.kind, '', 'metadata.name: Required value: name or generateName is required');
      meta.name = `${meta.generateName}${this.nextNameSuffix()}`;
    }
    if (this.bucket(info).has(objectKey(info, effectiveNamespace, meta.name))) throw alreadyExistsError(info.group, info.resource, meta.name);
    meta.uid = this.nextUid();
    meta.creationTimestamp = formatTime(this.nowMs());
    meta.generation = 1;
    delete meta.deletionTimestamp;
    if (options.dryRun) return deepCopy({ ...created, metadata: { ...meta, resourceVersion: String(this.revision) } }) as T;
    return this.commit(info, 'ADDED', created, undefined) as T;
  }

  async update<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options: UpdateOptions = {}): Promise<T> {
    if (options.subresource === 'status') return this.updateStatus(ref, namespace, object, options);
    if (options.subresource === 'finalize') return this.finalize(ref, namespace, object, options);
    const name = object.metadata?.name ?? '';
    const info = this.begin(this.recordWrite({ verb: 'update', group: ref.group, resource: ref.resource, namespace, name, object: deepCopy(object) }), ref);
    const stored = this.mustGet(info, namespace, name);
    checkResourceVersion(info, name, object.metadata?.resourceVersion, stored);
    const next = deepCopy(object) as KubeObject & { status?: unknown };
    if (hasStatus(info)) {
      // The main resource ignores status changes; updateStatus is the way to write it.
      const storedStatus = (stored as { status?: unknown }).status;
      if (storedStatus === undefined) delete next.status;
      else next.status = deepCopy(storedStatus);
    }
    if (info.kind === 'Namespace') {
      // As the API server: a namespace's spec.finalizers changes only through finalize.
      const storedFinalizers = namespaceFinalizers(stored);
      const spec = ((next as { spec?: { finalizers?: string[] } }).spec ??= {});
      if (storedFinalizers === undefined) delete spec.finalizers;
      else spec.finalizers = [...storedFinalizers];
    }
    return this.replace(info, stored, next, options) as T;
  }

  async updateStatus<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options: WriteOptions = {}): Promise<T> {
    const name = object.metadata?.name ?? '';
    const info = this.begin(this.recordWrite({ verb: 'update', group: ref.group, resource: ref.resource, subresource: 'status', namespace, name, object: deepCopy(object) }), ref);
    const stored = this.mustGet(info, namespace, name);
    checkResourceVersion(info, name, object.metadata?.resourceVersion, stored);
    const next = deepCopy(stored) as KubeObject & { status?: unknown };
    const status = (object as { status?: unknown }).status;
    if (status === undefined) delete next.status;
    else next.status = deepCopy(status);
    return this.replace(info, stored, next, options) as T;
  }

  /** PUT namespaces/<name>/finalize: only spec.finalizers is taken from the object. */
  private finalize<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, object: T, options: WriteOptions): T {
    const name = object.metadata?.name ?? '';
    const info = this.begin(this.recordWrite({ verb: 'update', group: ref.group, resource: ref.resource, subresource: 'finalize', namespace, name, object: deepCopy(object) }), ref);
    if (info.kind !== 'Namespace') throw notFoundError(info.group, `${info.resource}/finalize`, name);
    const stored = this.mustGet(info, namespace, name);
    checkResourceVersion(info, name, object.metadata?.resourceVersion, stored);
    const next = deepCopy(stored) as KubeObject & { spec?: { finalizers?: string[] } };
    const finalizers = (object as { spec?: { finalizers?: string[] } }).spec?.finalizers;
    next.spec = { ...next.spec };
    if (finalizers === undefined) delete next.spec.finalizers;
    else next.spec.finalizers = [...finalizers];
    return this.replace(info, stored, next, options) as T;
  }

  async patch<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string, patchType: PatchType, patch: unknown, options: PatchOptions = {}): Promise<T> {
    const write: RecordedWrite = { verb: 'patch', group: ref.group, resource: ref.resource, namespace, name, object: deepCopy(patch), patchType };
    if (options.subresource !== undefined) write.subresource = options.subresource;
    const info = this.begin(this.recordWrite(write), ref);
    const stored = this.mustGet(info, namespace, name);
    const target: KubeObject = options.subresource === 'scale' ? scaleOf(stored) : stored;
    let patched: KubeObject & { status?: unknown };
    try {
      patched = applyPatch(patchType, deepCopy(target), patch, schemaFor(target.apiVersion ?? '', target.kind ?? '')) as KubeObject;
    } catch (error) {
      throw new ApiError(422, 'Invalid', `the patch could not be applied to ${info.resource} "${name}": ${(error as Error).message}`, { name, kind: info.resource }, { cause: error });
    }
    // A resourceVersion written by the patch is a precondition, as upstream treats it.
    checkResourceVersion(info, name, patched.metadata?.resourceVersion, stored);
    let next: KubeObject & { status?: unknown };
    if (options.subresource === 'scale') {
      next = withScaleReplicas(stored, patched as Scale);
    } else if (options.subresource === 'status') {
      next = deepCopy(stored) as KubeObject & { status?: unknown };
      next.status = patched.status;
    } else {
      next = patched;
      if (hasStatus(info)) next.status = deepCopy((stored as { status?: unknown }).status);
    }
    const result = this.replace(info, stored, next, options);
    return (options.subresource === 'scale' ? scaleOf(result) : result) as T;
  }

  async delete(ref: ResourceRef, namespace: string | undefined, name: string, options: DeleteCallOptions = {}): Promise<KubeObject | Status> {
    const { timeoutMs: _timeoutMs, ...deleteOptions } = options;
    const info = this.begin(this.recordWrite({ verb: 'delete', group: ref.group, resource: ref.resource, namespace, name, object: deepCopy(deleteOptions) }), ref);
    return this.deleteObject(info, namespace, name, deleteOptions);
  }

  async bind(namespace: string, podName: string, binding: Binding, options: WriteOptions = {}): Promise<void> {
    const ref = RESOURCES.pods;
    const info = this.begin(this.recordWrite({ verb: 'create', group: '', resource: 'pods', subresource: 'binding', namespace, name: podName, object: deepCopy(binding) }), ref);
    const stored = this.mustGet(info, namespace, podName) as Pod;
    const nodeName = binding.target?.name ?? '';
    if (nodeName === '') throw invalidError('Binding', podName, 'target.name: Required value');
    if (stored.metadata?.deletionTimestamp) throw conflictError('', 'pods', podName, `pod ${podName} is being deleted, cannot be assigned to a host`);
    if (stored.spec?.nodeName) throw conflictError('', 'pods', podName, `pod ${podName} is already assigned to node "${stored.spec.nodeName}"`);
    const next = deepCopy(stored);
    next.spec = { ...(next.spec ?? { containers: [] }), nodeName };
    const status = (next.status ??= {});
    const conditions = (status.conditions ?? []).filter((condition) => condition.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastTransitionTime: formatTime(this.nowMs()) });
    status.conditions = conditions;
    this.replace(info, stored, next, options);
  }

  async evict(namespace: string, podName: string, eviction?: Eviction, _options?: CallOptions): Promise<void> {
    const write: RecordedWrite = { verb: 'create', group: '', resource: 'pods', subresource: 'eviction', namespace, name: podName };
    if (eviction !== undefined) write.object = deepCopy(eviction);
    const info = this.begin(this.recordWrite(write), RESOURCES.pods);
    const pod = this.mustGet(info, namespace, podName) as Pod;
    const budgetInfo = resourceInfoOf(RESOURCES.podDisruptionBudgets);
    const budgets = [...this.bucket(budgetInfo).values()].filter(
      (budget) => budget.metadata?.namespace === namespace && labelSelectorMatches((budget as PodDisruptionBudget).spec?.selector, pod.metadata?.labels),
    ) as PodDisruptionBudget[];
    for (const budget of budgets) {
      if ((budget.status?.disruptionsAllowed ?? 0) <= 0) {
        throw tooManyRequestsError("Cannot evict pod as it would violate the pod's disruption budget.");
      }
    }
    for (const budget of budgets) {
      const next = deepCopy(budget);
      if (next.status) next.status.disruptionsAllowed -= 1;
      this.replace(budgetInfo, budget, next, {});
    }
    this.deleteObject(info, namespace, podName, eviction?.deleteOptions ?? {});
  }

  async getScale(ref: ResourceRef, namespace: string, name: string, _options?: CallOptions): Promise<Scale> {
    const info = this.begin({ verb: 'get', group: ref.group, resource: ref.resource, subresource: 'scale', namespace, name }, ref);
    requireScale(info);
    return scaleOf(this.mustGet(info, namespace, name));
  }

  async updateScale(ref: ResourceRef, namespace: string, name: string, scale: Scale, options: WriteOptions = {}): Promise<Scale> {
    const info = this.begin(this.recordWrite({ verb: 'update', group: ref.group, resource: ref.resource, subresource: 'scale', namespace, name, object: deepCopy(scale) }), ref);
    requireScale(info);
    const stored = this.mustGet(info, namespace, name);
    checkResourceVersion(info, name, scale.metadata?.resourceVersion, stored);
    return scaleOf(this.replace(info, stored, withScaleReplicas(stored, scale), options));
  }

  // ---- internals ----

  private recordWrite(write: RecordedWrite): RecordedWrite {
    this.recordedWrites.push(write);
    return write;
  }

  /** Records the action, runs the reactors and resolves the resource. */
  private begin(action: FakeAction, ref: ResourceRef): ResourceInfo {
    if (this.closed) throw new ClientClosedError();
    const recorded: FakeAction = { ...action };
    this.recordedActions.push(recorded);
    for (const reactor of [...this.reactors]) reactor(recorded);
    const info = resourceInfoOf(ref);
    if (!info.verbs.includes(action.verb === 'watch' ? 'watch' : action.verb)) {
      throw new ApiError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    }
    return info;
  }

  private bucket(info: ResourceInfo): Map<string, KubeObject> {
    const key = resourceKey(info);
    let bucket = this.store.get(key);
    if (bucket === undefined) {
      bucket = new Map();
      this.store.set(key, bucket);
    }
    return bucket;
  }

  private mustGet(info: ResourceInfo, namespace: string | undefined, name: string): KubeObject {
    const object = this.bucket(info).get(objectKey(info, namespace, name));
    if (object === undefined) throw notFoundError(info.group, info.resource, name);
    return object;
  }

  /** Stores `next` in place of `stored`, keeping identity fields; deletes it when its last finalizer is gone. */
  private replace(info: ResourceInfo, stored: KubeObject, next: KubeObject, options: WriteOptions): KubeObject {
    const previous = stored.metadata ?? {};
    const meta = (next.metadata ??= {});
    meta.name = previous.name;
    if (info.namespaced) meta.namespace = previous.namespace;
    meta.uid = previous.uid;
    meta.creationTimestamp = previous.creationTimestamp;
    if (previous.deletionTimestamp !== undefined) meta.deletionTimestamp = previous.deletionTimestamp;
    else delete meta.deletionTimestamp;
    next.apiVersion = stored.apiVersion;
    next.kind = stored.kind;
    meta.generation = (previous.generation ?? 1) + (specChanged(stored, next) ? 1 : 0);
    if (options.dryRun) return deepCopy({ ...next, metadata: { ...meta, resourceVersion: previous.resourceVersion } });
    if (meta.deletionTimestamp !== undefined && (meta.finalizers ?? []).length === 0 && (namespaceFinalizers(next) ?? []).length === 0) {
      return this.commit(info, 'DELETED', next, stored);
    }
    return this.commit(info, 'MODIFIED', next, stored);
  }

  private deleteObject(info: ResourceInfo, namespace: string | undefined, name: string, options: DeleteOptions): KubeObject {
    const stored = this.mustGet(info, namespace, name);
    const preconditions = options.preconditions;
    if (preconditions?.uid !== undefined && preconditions.uid !== stored.metadata?.uid) {
      throw conflictError(info.group, info.resource, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${stored.metadata?.uid ?? ''}`);
    }
    if (preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== stored.metadata?.resourceVersion) {
      throw conflictError(
        info.group,
        info.resource,
        name,
        `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${stored.metadata?.resourceVersion ?? ''}`,
      );
    }
    if (options.dryRun !== undefined && options.dryRun.length > 0) return deepCopy(stored);
    if ((stored.metadata?.finalizers ?? []).length > 0 || (namespaceFinalizers(stored) ?? []).length > 0) {
      // Finalizers defer the deletion: mark it and let their controllers finish.
      if (stored.metadata?.deletionTimestamp !== undefined) return deepCopy(stored);
      const next = deepCopy(stored);
      const meta = (next.metadata ??= {});
      meta.deletionTimestamp = formatTime(this.nowMs());
      meta.deletionGracePeriodSeconds = 0;
      return this.commit(info, 'MODIFIED', next, stored);
    }
    return this.commit(info, 'DELETED', deepCopy(stored), stored);
  }

  /** Gives `object` the next resourceVersion, stores (or removes) it, appends history and notifies watchers. */
  private commit(info: ResourceInfo, type: HistoryEntry['type'], object: KubeObject, previous: KubeObject | undefined): KubeObject {
    this.revision += 1;
    const meta = (object.metadata ??= {});
    meta.resourceVersion = String(this.revision);
    const key = objectKey(info, meta.namespace, meta.name ?? '');
    if (type === 'DELETED') this.bucket(info).delete(key);
    else this.bucket(info).set(key, object);
    const entry: HistoryEntry = { revision: this.revision, resourceKey: resourceKey(info), type, object, previous };
    this.history.push(entry);
    while (this.history.length > this.maxHistory) {
      const dropped = this.history.shift() as HistoryEntry;
      this.compactedRevision = dropped.revision;
    }
    for (const watcher of this.watchers) {
      if (watcher.channel.isEnded) this.watchers.delete(watcher);
      else if (watcher.resourceKey === entry.resourceKey) this.deliver(watcher, entry);
    }
    return deepCopy(object);
  }

  /** Translates one change for a filtered watcher, as the API server's watch cache does. */
  private deliver(watcher: Watcher, entry: HistoryEntry): void {
    const test = (object: KubeObject | undefined): boolean =>
      object !== undefined && matches(watcher.info, object, watcher.namespace, watcher.labelSelector, watcher.fieldSelector);
    const now = test(entry.object);
    const before = entry.type !== 'ADDED' && test(entry.previous);
    let type: WatchEvent<KubeObject>['type'] | undefined;
    if (entry.type === 'DELETED') type = before ? 'DELETED' : undefined;
    else if (entry.type === 'ADDED') type = now ? 'ADDED' : undefined;
    else type = before && now ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    if (type !== undefined) watcher.channel.push({ type, object: deepCopy(entry.object) });
  }

  private nextUid(): string {
    this.uidCounter += 1;
    return `00000000-0000-4000-8000-${this.uidCounter.toString(16).padStart(12, '0')}`;
  }

  private nextNameSuffix(): string {
    this.nameCounter += 1;
    // Five characters as upstream's generateName, deterministic so tests can name them.
    return this.nameCounter.toString(36).padStart(5, '0');
  }
}

function resourceKey(info: ResourceInfo): string {
  return `${info.group}/${info.resource}`;
}

function objectKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return info.namespaced ? `${namespace ?? ''}/${name}` : name;
}

function apiVersion(info: ResourceInfo): string {
  const version = info.versions[0] ?? 'v1';
  return info.group === '' ? version : `${info.group}/${version}`;
}

function hasStatus(info: ResourceInfo): boolean {
  return info.subresources.some((sub) => sub.name === 'status');
}

function requireScale(info: ResourceInfo): void {
  if (!info.subresources.some((sub) => sub.name === 'scale')) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${info.resource}/scale)`);
}

function requestNamespace(info: ResourceInfo, requested: string | undefined, inObject: string | undefined): string | undefined {
  if (!info.namespaced) return undefined;
  if (requested && inObject && requested !== inObject) {
    throw badRequestError('the namespace of the provided object does not match the namespace sent on the request');
  }
  const namespace = requested || inObject;
  if (!namespace) throw badRequestError(`a namespace is required to create ${info.resource}`);
  return namespace;
}

function checkResourceVersion(info: ResourceInfo, name: string, sent: string | undefined, stored: KubeObject): void {
  if (sent !== undefined && sent !== '' && sent !== stored.metadata?.resourceVersion) throw conflictError(info.group, info.resource, name, OPTIMISTIC_LOCK_MESSAGE);
}

/** Whether anything but metadata and status differs: what bumps metadata.generation. */
function specChanged(before: KubeObject, after: KubeObject): boolean {
  const strip = (object: KubeObject): Record<string, unknown> => {
    const { metadata: _metadata, status: _status, ...rest } = object as KubeObject & { status?: unknown };
    return rest;
  };
  return !jsonEqual(strip(before), strip(after));
}

function parseLabels(selector: string | Selector | undefined): Selector | undefined {
  if (selector === undefined || selector === '') return undefined;
  if (typeof selector !== 'string') return selector;
  try {
    return parseSelector(selector);
  } catch (error) {
    throw badRequestError((error as Error).message);
  }
}

function parseFields(info: ResourceInfo, selector: string | FieldSelector | undefined): FieldSelector | undefined {
  if (selector === undefined || selector === '') return undefined;
  try {
    const parsed = typeof selector === 'string' ? parseFieldSelector(selector) : selector;
    checkFieldSelector(info.kind, parsed);
    return parsed;
  } catch (error) {
    throw badRequestError((error as Error).message);
  }
}

function matches(info: ResourceInfo, object: KubeObject, namespace: string | undefined, labels: Selector | undefined, fields: FieldSelector | undefined): boolean {
  if (info.namespaced && namespace && object.metadata?.namespace !== namespace) return false;
  if (labels !== undefined && !labels.matches(object.metadata?.labels)) return false;
  return fields === undefined || fieldSelectorMatches(info.kind, fields, object);
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { start?: unknown };
    if (typeof parsed.start === 'string') return parsed.start;
  } catch {
    // Reported below.
  }
  throw badRequestError('continue key is not valid');
}

/** spec.finalizers of a Namespace (what its content must be emptied of before it goes); undefined for other kinds. */
function namespaceFinalizers(object: KubeObject): string[] | undefined {
  if (object.kind !== 'Namespace') return undefined;
  return (object as { spec?: { finalizers?: string[] } }).spec?.finalizers;
}
