// The generic registry store (upstream's registry/generic Store): the REST
// verbs of one resource over etcd, with the watch cache serving watches and
// cached reads. The kind's strategy decides what a create starts with and what
// an update may change; admission and validation run on every write;
// deletion honours finalizers, preconditions and graceful deletion.

import { randomInt, randomUUID } from 'node:crypto';
import {
  ConversionError,
  FieldSelectorParseError,
  LabelSelectorError,
  PatchError,
  UnsupportedFieldLabelError,
  apiVersionOf,
  applyDefaults,
  applyPatch,
  checkFieldSelector,
  convertObject,
  fieldSelectorMatches,
  formatTime,
  parseFieldSelector,
  parseSelector,
  schemaFor,
  storageKey,
  storageKeyPrefix,
  storageVersion,
  unknownFieldMessage,
  unknownFields,
  validateObject,
  validateObjectUpdate,
  type FieldError,
  type ResourceInfo,
} from '@kube-lite/api';
import type { AdmissionAttributes, AdmissionChain, AdmissionOperation } from '../admission';
import type { UserInfo } from '../auth';
import { buildTable } from '../printers';
import {
  OBJECT_MODIFIED_MESSAGE,
  StatusError,
  duplicateFieldMessage,
  type StatusDetails,
  badRequest,
  conflict,
  invalid,
  type DeleteOptions,
  type DeleteResult,
  type PatchRequest,
  type RequestContext,
  type ResourceHandler,
  type WatchSink,
  type WatchSubscription,
  type WriteResult,
} from '../server';
import { isStorageError, type EtcdStore, type WatchCache } from '../storage';
import { NO_EFFECTS, type LifecycleHooks, type WriteEffects } from './hooks';
import {
  applyConflictMessage,
  changedFieldSet,
  fieldSetOf,
  findApplyConflicts,
  managerFieldSet,
  otherManagersFieldSet,
  recordManagedFields,
  releaseConflicts,
  removeDroppedFields,
  type FieldConflict,
  type ManagerIdentity,
} from './managed-fields';
import { cloneObject, isRecord, jsonEquivalent, type ApiObject } from './object';
import { redactValues, secretValues } from './redact';
import { storageToStatus, toApiError, withApiErrors } from './status';
import type { KindStrategy } from './strategy';

/** What a write needs to know about its request; built from a RequestContext or by the server itself (bootstrap). */
export interface WriteRequest {
  /** `` for cluster-scoped resources. */
  namespace: string;
  /** The object name from the URL; `` for POST. */
  name: string;
  /** The API version the client speaks (objects are converted to and from it). */
  version: string;
  user: UserInfo;
  dryRun: boolean;
  fieldManager: string;
  fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  /** Keys the request body gave twice (`spec.replicas`), judged by fieldValidation like unknown fields. */
  duplicateFields?: readonly string[];
  /** Server-side apply: take over fields other managers own instead of failing with 409. */
  force?: boolean;
  addWarning(message: string): void;
}

/** Deletion as the store performs it (from DELETE, deletecollection, eviction). */
export interface DeleteRequest {
  namespace: string;
  name: string;
  user: UserInfo;
  options: DeleteOptions;
}

export interface RegistryStoreOptions {
  info: ResourceInfo;
  store: EtcdStore;
  cache: WatchCache<ApiObject>;
  strategy: KindStrategy;
  admission: AdmissionChain;
  hooks?: LifecycleHooks;
  /** Reads the time; tests pass a fixed clock. */
  nowMs?: () => number;
}

/** Objects per etcd read of an unpaginated list: well under the 4 MiB gRPC message limit for objects of a few KiB. */
const LIST_PAGE_SIZE = 500;
/** Bounds an unpaginated list (500 000 objects). */
const MAX_LIST_PAGES = 1000;
/** How many generated names are tried before a create with generateName gives up. */
const MAX_GENERATE_NAME_ATTEMPTS = 8;
/** Upstream's alphabet for generated name suffixes: no vowels, so no words, and no look-alike characters. */
const NAME_SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(length = 5): string {
  let suffix = '';
  for (let index = 0; index < length; index++) suffix += NAME_SUFFIX_ALPHABET[randomInt(0, NAME_SUFFIX_ALPHABET.length)];
  return suffix;
}

/** upstream's limit: generated names keep the prefix to 58 characters so the whole fits 63. */
function generatedName(prefix: string): string {
  return `${prefix.slice(0, 58)}${randomSuffix()}`;
}

const GC_FINALIZERS: Record<'Orphan' | 'Foreground', string> = { Orphan: 'orphan', Foreground: 'foregroundDeletion' };

export function writeRequestOf(context: RequestContext): WriteRequest {
  return {
    namespace: context.namespace,
    name: context.name,
    version: context.version,
    user: context.user,
    dryRun: context.write.dryRun,
    fieldManager: context.write.fieldManager,
    fieldValidation: context.write.fieldValidation,
    ...(context.write.duplicateFields !== undefined ? { duplicateFields: context.write.duplicateFields } : {}),
    force: context.write.force,
    addWarning: (message) => context.addWarning(message),
  };
}

export class RegistryStore implements ResourceHandler {
  readonly info: ResourceInfo;
  readonly store: EtcdStore;
  readonly cache: WatchCache<ApiObject>;
  readonly strategy: KindStrategy;
  private readonly admission: AdmissionChain;
  private readonly hooks: LifecycleHooks;
  readonly nowMs: () => number;
  readonly storageVersion: string;
  subresources: Record<string, ResourceHandler> = {};

  constructor(options: RegistryStoreOptions) {
    this.info = options.info;
    this.store = options.store;
    this.cache = options.cache;
    this.strategy = options.strategy;
    this.admission = options.admission;
    this.hooks = options.hooks ?? {};
    this.nowMs = options.nowMs ?? Date.now;
    this.storageVersion = storageVersion(options.info);
  }

  get groupResource(): { group: string; resource: string } {
    return { group: this.info.group, resource: this.info.resource };
  }

  private get groupKind(): { group: string; kind: string } {
    return { group: this.info.group, kind: this.info.kind };
  }

  keyFor(namespace: string, name: string): string {
    return storageKey(this.info, this.info.namespaced ? namespace : undefined, name);
  }

  private prefixFor(namespace: string): string {
    return storageKeyPrefix(this.info, this.info.namespaced && namespace !== '' ? namespace : undefined);
  }

  // ---- conversion between the client's version and the stored one ----

  /** The stored object as the client's version shows it. */
  toExternal(object: ApiObject, version: string): ApiObject {
    if (version === this.storageVersion) {
      const apiVersion = apiVersionOf(this.info.group, version);
      if (object.apiVersion === apiVersion && object.kind === this.info.kind) return object;
      return { ...object, apiVersion, kind: this.info.kind };
    }
    return convertObject({ ...object, apiVersion: apiVersionOf(this.info.group, this.storageVersion), kind: this.info.kind }, version) as ApiObject;
  }

  /** A client's object (already checked) in the stored version. */
  private toInternal(object: ApiObject): ApiObject {
    const { version } = splitApiVersion(object.apiVersion ?? '');
    if (version === this.storageVersion) return object;
    try {
      return convertObject(object, this.storageVersion) as ApiObject;
    } catch (error) {
      if (error instanceof ConversionError) throw badRequest(error.message);
      throw error;
    }
  }

  /** Checks a request body's type and unknown fields; returns a mutable copy in the client's version. */
  decodeBody(request: WriteRequest, body: unknown): ApiObject {
    if (!isRecord(body)) throw badRequest('the request body must be a JSON object');
    const expected = apiVersionOf(this.info.group, request.version);
    const object = cloneObject(body) as ApiObject;
    if (object.apiVersion === undefined || object.apiVersion === '') object.apiVersion = expected;
    if (object.kind === undefined || object.kind === '') object.kind = this.info.kind;
    if (object.apiVersion !== expected) {
      throw badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${expected})`);
    }
    if (object.kind !== this.info.kind) {
      throw badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${this.info.kind})`);
    }
    if (!isRecord(object.metadata)) object.metadata = {};
    this.checkUnknownFields(request, object);
    return object;
  }

  /**
   * Unknown and duplicate fields: dropped (Ignore), a Warning header each (Warn), or 422 Invalid naming every
   * one of them (Strict). Upstream answers Strict with 400 BadRequest; a 422 with causes is what kubectl prints
   * field by field (`The Deployment "web" is invalid: spec.foo: unknown field "spec.foo"`).
   */
  private checkUnknownFields(request: WriteRequest, object: ApiObject): void {
    if (request.fieldValidation === 'Ignore') return;
    const unknown = unknownFields(this.info.kind, object, object.apiVersion);
    const duplicates = request.duplicateFields ?? [];
    if (unknown.length === 0 && duplicates.length === 0) return;
    const causes: FieldError[] = [
      ...duplicates.map((field): FieldError => ({ reason: 'FieldValueDuplicate', field, message: duplicateFieldMessage(field) })),
      ...unknown.map((field): FieldError => ({ reason: 'FieldValueInvalid', field, message: unknownFieldMessage(field) })),
    ];
    if (request.fieldValidation === 'Strict') {
      const { version } = splitApiVersion(object.apiVersion ?? '');
      const name = typeof object.metadata?.name === 'string' && object.metadata.name !== '' ? object.metadata.name : request.name;
      const details: StatusDetails = { name, kind: this.info.kind, causes: causes.map((cause) => ({ reason: cause.reason, message: cause.message, field: cause.field })) };
      if (this.info.group !== '') details.group = this.info.group;
      throw new StatusError(
        422,
        'Invalid',
        `${this.info.kind} in version "${version}" cannot be handled as a ${this.info.kind}: strict decoding error: ${causes.map((cause) => cause.message).join(', ')}`,
        details,
      );
    }
    for (const cause of causes) request.addWarning(cause.message);
  }

  private rejectInvalid(name: string, errors: readonly FieldError[]): void {
    if (errors.length > 0) throw invalid(this.groupKind, name, errors);
  }

  private admissionAttributes(operation: AdmissionOperation, request: { namespace: string; name: string; user: UserInfo; dryRun?: boolean }, subresource: string, object?: ApiObject, oldObject?: ApiObject): AdmissionAttributes {
    const attributes: AdmissionAttributes = {
      operation,
      kind: this.info.kind,
      resource: this.groupResource,
      subresource,
      namespace: this.info.namespaced ? request.namespace : '',
      name: request.name,
      dryRun: request.dryRun ?? false,
      user: request.user,
    };
    if (object !== undefined) attributes.object = object;
    if (oldObject !== undefined) attributes.oldObject = oldObject;
    return attributes;
  }

  // ---- reads ----

  async get(context: RequestContext): Promise<unknown> {
    const object = await this.read(context.namespace, context.name, context.list.resourceVersion);
    const external = this.toExternal(object, context.version);
    if (context.output.table !== undefined) {
      return buildTable(this.info.kind, [external], { ...context.output.table, resourceVersion: object.metadata.resourceVersion, nowMs: this.nowMs() });
    }
    return external;
  }

  /** The stored object: from etcd for resourceVersion "", from the watch cache otherwise. */
  async read(namespace: string, name: string, resourceVersion = ''): Promise<ApiObject> {
    const key = this.keyFor(namespace, name);
    return withApiErrors(this.groupResource, name, () => (resourceVersion === '' ? this.store.get<ApiObject>(key) : this.cache.get(key, { resourceVersion })));
  }

  /** Builds the predicate of a list or watch from its selectors; 400 when they do not parse or name unknown fields. */
  predicateFor(labelSelector: string, fieldSelector: string): ((object: ApiObject) => boolean) | undefined {
    let labels;
    let fields;
    try {
      labels = labelSelector === '' ? undefined : parseSelector(labelSelector);
      fields = fieldSelector === '' ? undefined : parseFieldSelector(fieldSelector);
      if (fields !== undefined) checkFieldSelector(this.info.kind, fields);
    } catch (error) {
      if (error instanceof LabelSelectorError || error instanceof FieldSelectorParseError || error instanceof UnsupportedFieldLabelError) {
        throw badRequest(error.message);
      }
      throw error;
    }
    if (labels === undefined && (fields === undefined || fields.empty())) return undefined;
    const kind = this.info.kind;
    return (object) => (labels === undefined || labels.matches(object.metadata?.labels ?? {})) && (fields === undefined || fieldSelectorMatches(kind, fields, object));
  }

  async list(context: RequestContext): Promise<unknown> {
    const predicate = this.predicateFor(context.list.labelSelector, context.list.fieldSelector);
    const options: Parameters<WatchCache<ApiObject>['list']>[1] = {
      resourceVersion: context.list.resourceVersion,
      continue: context.list.continue,
    };
    if (context.list.limit !== undefined) options.limit = context.list.limit;
    if (context.list.resourceVersionMatch !== undefined) options.resourceVersionMatch = context.list.resourceVersionMatch;
    if (predicate !== undefined) options.predicate = predicate;
    const result = await withApiErrors(this.groupResource, '', () =>
      context.list.limit === undefined && context.list.continue === '' && context.list.resourceVersion === '' && context.list.resourceVersionMatch === undefined
        ? this.consistentListInPages(this.prefixFor(context.namespace), predicate)
        : this.cache.list(this.prefixFor(context.namespace), options),
    );
    const items = result.items.map((item) => this.toExternal(item, context.version));
    if (context.output.table !== undefined) {
      const tableOptions: Parameters<typeof buildTable>[2] = { ...context.output.table, resourceVersion: result.resourceVersion, nowMs: this.nowMs() };
      if (result.continue !== undefined) tableOptions.continue = result.continue;
      if (result.remainingItemCount !== undefined) tableOptions.remainingItemCount = result.remainingItemCount;
      return buildTable(this.info.kind, items, tableOptions);
    }
    const metadata: Record<string, unknown> = { resourceVersion: result.resourceVersion };
    if (result.continue !== undefined) metadata.continue = result.continue;
    if (result.remainingItemCount !== undefined) metadata.remainingItemCount = result.remainingItemCount;
    return { kind: this.info.listKind, apiVersion: apiVersionOf(this.info.group, context.version), metadata, items };
  }

  /**
   * An unpaginated consistent list, read from etcd in pages at one revision: one etcd response for a large
   * collection would exceed the gRPC message limit. Filtering happens here so every page stays small.
   */
  private async consistentListInPages(prefix: string, predicate: ((object: ApiObject) => boolean) | undefined): Promise<{ items: ApiObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number }> {
    const items: ApiObject[] = [];
    let token = '';
    let resourceVersion = '';
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const result = await this.store.list<ApiObject>(prefix, token === '' ? { limit: LIST_PAGE_SIZE } : { limit: LIST_PAGE_SIZE, continue: token });
      if (resourceVersion === '') resourceVersion = result.resourceVersion;
      for (const item of result.items) if (predicate === undefined || predicate(item)) items.push(item);
      if (result.continue === undefined) return { items, resourceVersion };
      token = result.continue;
    }
    throw new StatusError(500, 'InternalError', `Internal error occurred: more than ${MAX_LIST_PAGES * LIST_PAGE_SIZE} ${this.info.resource} to list`);
  }

  async watch(context: RequestContext, sink: WatchSink): Promise<WatchSubscription> {
    const predicate = this.predicateFor(context.list.labelSelector, context.list.fieldSelector);
    const watchOptions: Parameters<WatchCache<ApiObject>['watch']>[1] = {
      resourceVersion: context.list.resourceVersion,
      allowWatchBookmarks: context.list.allowWatchBookmarks,
    };
    if (predicate !== undefined) watchOptions.predicate = predicate;
    const watch = withStatusErrors(this.groupResource, () => this.cache.watch(this.prefixFor(context.namespace), watchOptions));
    const table = context.output.table;
    const render = (object: ApiObject): unknown => {
      const external = this.toExternal(object, context.version);
      if (table === undefined) return external;
      return buildTable(this.info.kind, [external], { ...table, resourceVersion: object.metadata.resourceVersion, nowMs: this.nowMs() });
    };
    void (async () => {
      try {
        for await (const event of watch) {
          if (event.type === 'ERROR') {
            sink.fail(storageToStatus(event.object, this.groupResource, ''));
            return;
          }
          if (event.type === 'BOOKMARK') {
            const resourceVersion = event.object.metadata.resourceVersion;
            const object =
              table === undefined
                ? { kind: this.info.kind, apiVersion: apiVersionOf(this.info.group, context.version), metadata: { resourceVersion } }
                : { kind: 'Table', apiVersion: `meta.k8s.io/${table.version}`, metadata: { resourceVersion }, columnDefinitions: [], rows: [] };
            if (!sink.send({ type: 'BOOKMARK', object })) return;
            continue;
          }
          if (!sink.send({ type: event.type, object: render(event.object as ApiObject) })) return;
        }
        sink.end();
      } catch (error) {
        sink.fail(storageToStatusOrInternal(error, this.groupResource));
      }
    })();
    return { stop: () => watch.stop() };
  }

  // ---- create ----

  async create(context: RequestContext, body: unknown): Promise<unknown> {
    const request = writeRequestOf(context);
    const object = this.decodeBody(request, body);
    const created = await this.createObject(request, this.toInternal(object), { manager: request.fieldManager, operation: 'Update' });
    return this.toExternal(created, context.version);
  }

  /**
   * Creates an object given in the stored version: assigns name, uid and timestamps, resets what the strategy
   * says, defaults, admits, validates, then stores (retrying generated names that collide).
   */
  async createObject(request: WriteRequest, input: ApiObject, manager: { manager: string; operation: 'Apply' | 'Update' }): Promise<ApiObject> {
    const object = cloneObject(input);
    object.apiVersion = apiVersionOf(this.info.group, this.storageVersion);
    object.kind = this.info.kind;
    const metadata = (object.metadata ??= {});
    if (this.info.namespaced) {
      if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== request.namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      metadata.namespace = request.namespace;
    } else {
      delete metadata.namespace;
    }
    const generate = (metadata.name === undefined || metadata.name === '') && typeof metadata.generateName === 'string' && metadata.generateName !== '';
    if (generate) metadata.name = generatedName(metadata.generateName as string);
    if (metadata.name === undefined || metadata.name === '') {
      throw invalid(this.groupKind, '', [{ reason: 'FieldValueRequired', field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    const nowMs = this.nowMs();
    metadata.uid = randomUUID();
    metadata.creationTimestamp = formatTime(nowMs);
    delete metadata.resourceVersion;
    delete metadata.deletionTimestamp;
    delete metadata.deletionGracePeriodSeconds;
    delete metadata.selfLink;
    if (this.strategy.tracksGeneration) metadata.generation = 1;
    else delete metadata.generation;
    if (this.strategy.hasStatusSubresource && !this.strategy.keepsStatusOnCreate) delete object.status;
    this.strategy.prepareForCreate?.(object);

    let prepared = applyDefaults(object) as ApiObject;
    const attributes = this.admissionAttributes('CREATE', { ...request, name: metadata.name }, '', prepared);
    await this.admission.admit(attributes);
    prepared = (attributes.object as ApiObject | undefined) ?? prepared;
    if (!Array.isArray(input.metadata?.managedFields) || input.metadata.managedFields.length === 0) delete prepared.metadata.managedFields;
    recordManagedFields(prepared, { ...manager, apiVersion: apiVersionOf(this.info.group, request.version), subresource: '' }, fieldSetOf(input), nowMs);
    this.rejectInvalid(prepared.metadata.name ?? '', validateObject(prepared));
    await this.admission.validate(attributes);

    for (let attempt = 1; ; attempt++) {
      const name = prepared.metadata.name as string;
      const effects = (await this.hooks.beforeCreate?.(prepared)) ?? NO_EFFECTS;
      if (request.dryRun) {
        await effects.rollback();
        return prepared;
      }
      try {
        const ttl = this.strategy.ttlSeconds;
        const stored = await this.store.create<ApiObject>(this.keyFor(request.namespace, name), prepared, ttl === undefined ? {} : { ttlSeconds: ttl });
        await effects.commit();
        return stored;
      } catch (error) {
        await effects.rollback();
        if (generate && isStorageError(error, 'AlreadyExists') && attempt < MAX_GENERATE_NAME_ATTEMPTS) {
          prepared.metadata.name = generatedName(prepared.metadata.generateName as string);
          continue;
        }
        throw toApiError(error, this.groupResource, name);
      }
    }
  }

  // ---- update and patch ----

  async update(context: RequestContext, body: unknown): Promise<WriteResult> {
    const request = writeRequestOf(context);
    const object = this.decodeBody(request, body);
    this.checkIdentity(request, object);
    const internal = this.toInternal(object);
    const updated = await this.updateObject(request, '', () => cloneObject(internal), { manager: request.fieldManager, operation: 'Update' }, undefined, internal.metadata?.resourceVersion);
    return { object: this.toExternal(updated, context.version), created: false };
  }

  /** The body must name the object of the URL (upstream rejects a PUT that renames or moves). */
  checkIdentity(request: WriteRequest, object: ApiObject): void {
    const name = object.metadata?.name;
    if (name !== undefined && name !== '' && name !== request.name) {
      throw badRequest(`the name of the object (${name}) does not match the name on the URL (${request.name})`);
    }
    const namespace = object.metadata?.namespace;
    if (this.info.namespaced && namespace !== undefined && namespace !== '' && namespace !== request.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
  }

  async patch(context: RequestContext, patch: PatchRequest): Promise<WriteResult> {
    const request = writeRequestOf(context);
    if (patch.type === 'apply') return this.applyPatchRequest(request, patch.patch, context.version);
    const updated = await this.updateObject(request, '', (current) => this.patchedObject(request, current, patch), {
      manager: request.fieldManager,
      operation: 'Update',
    });
    return { object: this.toExternal(updated, context.version), created: false };
  }

  /** Applies a JSON, merge or strategic patch to the stored object in the client's version; returns the result in the stored version. */
  patchedObject(request: WriteRequest, current: ApiObject, patch: PatchRequest): ApiObject {
    const external = this.toExternal(current, request.version);
    let patched: unknown;
    try {
      patched = applyPatch(patch.type as 'json' | 'merge' | 'strategic', external, patch.patch, schemaFor(apiVersionOf(this.info.group, request.version), this.info.kind));
    } catch (error) {
      if (error instanceof PatchError) throw new StatusError(422, 'Invalid', this.patchErrorMessage(error, patch.patch, current), { name: request.name, kind: this.info.resource });
      throw error;
    }
    const object = this.decodeBody(request, patched);
    this.checkIdentity(request, object);
    return this.toInternal(object);
  }

  /** A patcher's message, without the values of a Secret (the patchers quote the maps they fail on). */
  private patchErrorMessage(error: PatchError, patch: unknown, current: ApiObject): string {
    if (this.info.group !== '' || this.info.kind !== 'Secret') return error.message;
    return redactValues(error.message, secretValues(patch, current));
  }

  /** Server-side apply: creates the object when missing, else merges the applied fields over it. */
  private async applyPatchRequest(request: WriteRequest, body: unknown, version: string): Promise<WriteResult> {
    if (request.fieldManager === '') {
      throw invalid({ group: 'meta.k8s.io', kind: 'PatchOptions' }, '', [{ reason: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' }]);
    }
    if (!isRecord(body) || typeof body.apiVersion !== 'string' || typeof body.kind !== 'string') {
      throw badRequest('an apply patch must be a complete object with apiVersion and kind');
    }
    const applied = this.decodeBody(request, body);
    this.checkIdentity(request, applied);
    const identity = { manager: request.fieldManager, operation: 'Apply' as const };
    const appliedSet = fieldSetOf(applied);
    for (let attempt = 0; attempt < 2; attempt++) {
      let exists = true;
      try {
        await this.read(request.namespace, request.name);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
        exists = false;
      }
      if (!exists) {
        const object = cloneObject(applied);
        object.metadata.name = request.name;
        try {
          const created = await this.createObject(request, this.toInternal(object), identity);
          return { object: this.toExternal(created, version), created: true };
        } catch (error) {
          // Someone else created it meanwhile: apply over theirs.
          if (error instanceof StatusError && error.reason === 'AlreadyExists' && attempt === 0) continue;
          throw error;
        }
      }
      const apiVersion = apiVersionOf(this.info.group, version);
      const updated = await this.updateObject(
        request,
        '',
        (current) => {
          const external = cloneObject(this.toExternal(current, version));
          const managerIdentity: ManagerIdentity = { ...identity, apiVersion, subresource: '' };
          const previousSet = managerFieldSet(current, managerIdentity);
          const patch = cloneObject(applied) as Record<string, unknown>;
          const patchMetadata = patch.metadata as Record<string, unknown>;
          for (const field of ['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'managedFields', 'generation']) delete patchMetadata[field];
          let merged: ApiObject;
          try {
            merged = applyPatch('strategic', external, patch, schemaFor(apiVersion, this.info.kind)) as ApiObject;
          } catch (error) {
            if (error instanceof PatchError) throw new StatusError(422, 'Invalid', this.patchErrorMessage(error, patch, current), { name: request.name, kind: this.info.resource });
            throw error;
          }
          removeDroppedFields(merged, previousSet, appliedSet, true, otherManagersFieldSet(external, managerIdentity));
          const conflicts = findApplyConflicts(external, merged, appliedSet, managerIdentity);
          if (conflicts.length > 0) {
            if (request.force !== true) throw applyConflict(conflicts);
            releaseConflicts(merged, conflicts);
          }
          merged.metadata.resourceVersion = current.metadata.resourceVersion;
          return this.toInternal(merged);
        },
        identity,
        appliedSet,
      );
      return { object: this.toExternal(updated, version), created: false };
    }
    throw conflict(this.groupResource, request.name, OBJECT_MODIFIED_MESSAGE);
  }

  /**
   * Reads, derives the next version with `produce`, checks and stores it with compare-and-swap (re-deriving
   * from the fresh object when another writer got there first). `subresource` is `` or `status`.
   * `appliedFields` replaces the computed change set for managedFields (server-side apply).
   * `expectedResourceVersion` is the version the request body names, if any: a cached copy older than it is
   * not worth starting from.
   */
  async updateObject(
    request: WriteRequest,
    subresource: string,
    produce: (current: ApiObject) => ApiObject | Promise<ApiObject>,
    manager: { manager: string; operation: 'Apply' | 'Update' },
    appliedFields?: ReturnType<typeof fieldSetOf>,
    expectedResourceVersion?: string,
  ): Promise<ApiObject> {
    const key = this.keyFor(request.namespace, request.name);
    const suggestion = this.cachedCopy(key, expectedResourceVersion);
    let effects: WriteEffects = NO_EFFECTS;
    let deleteAfterWrite = false;
    let result: ApiObject;
    try {
      result = await this.store.guaranteedUpdate<ApiObject>(key, async (stored) => {
        await effects.rollback();
        effects = NO_EFFECTS;
        const current = stored as ApiObject;
        const previous = cloneObject(current);
        const proposed = await produce(cloneObject(current));
        const requestedVersion = proposed.metadata?.resourceVersion;
        if (requestedVersion !== undefined && requestedVersion !== '' && requestedVersion !== current.metadata.resourceVersion) {
          throw conflict(this.groupResource, request.name, OBJECT_MODIFIED_MESSAGE);
        }
        const requestedUid = proposed.metadata?.uid;
        if (requestedUid !== undefined && requestedUid !== '' && requestedUid !== current.metadata.uid) {
          throw conflict(this.groupResource, request.name, `Precondition failed: UID in precondition: ${requestedUid}, UID in object meta: ${current.metadata.uid ?? ''}`);
        }
        let next = this.prepareForUpdate(proposed, previous, subresource);
        if (subresource === '') next = applyDefaults(next) as ApiObject;
        this.hooks.fillFromPrevious?.(next, previous);
        const attributes = this.admissionAttributes('UPDATE', request, subresource, next, previous);
        await this.admission.admit(attributes);
        next = (attributes.object as ApiObject | undefined) ?? next;
        this.rejectInvalid(request.name, validateObjectUpdate(next, previous));
        await this.admission.validate(attributes);
        const identity: ManagerIdentity = { ...manager, apiVersion: apiVersionOf(this.info.group, request.version), subresource };
        // An apply that changes no value may still change ownership (a new co-owner, a forced takeover): that is written.
        const ownershipChanged =
          appliedFields !== undefined &&
          (!jsonEquivalent(managerFieldSet(previous, identity), appliedFields) || !jsonEquivalent(next.metadata.managedFields ?? [], previous.metadata.managedFields ?? []));
        if (withoutManagedFields(next, previous) && !ownershipChanged) return null;
        recordManagedFields(next, identity, appliedFields ?? changedFieldSet(previous, next), this.nowMs());
        effects = (await this.hooks.beforeUpdate?.(next, previous)) ?? NO_EFFECTS;
        deleteAfterWrite =
          next.metadata.deletionTimestamp !== undefined &&
          (next.metadata.finalizers ?? []).length === 0 &&
          next.metadata.deletionGracePeriodSeconds === 0 &&
          // A namespace also waits for its content to be gone (spec.finalizers, emptied through /finalize).
          !(this.info.kind === 'Namespace' && (next.spec?.finalizers ?? []).length > 0);
        if (request.dryRun) throw new DryRunResult(next);
        delete next.metadata.resourceVersion;
        return next;
      }, suggestion === undefined ? {} : { suggestion });
    } catch (error) {
      await effects.rollback();
      if (error instanceof DryRunResult) return error.object;
      throw toApiError(error, this.groupResource, request.name);
    }
    await effects.commit();
    if (deleteAfterWrite) {
      // The last finalizer went away on an object already being deleted: it goes now.
      await this.removeFromStorage(request.name, request.namespace, result, { resourceVersion: result.metadata.resourceVersion });
    }
    return result;
  }

  /**
   * The watch cache's copy of the object, for guaranteedUpdate to start from without reading etcd (the
   * compare-and-swap still checks it); undefined when the cache lacks it or it is older than the version the
   * request names, which a read from etcd would serve better.
   */
  cachedCopy(key: string, expectedResourceVersion?: string): ApiObject | undefined {
    const cached = this.cache.peek(key);
    if (cached === undefined || expectedResourceVersion === undefined || expectedResourceVersion === '') return cached;
    return Number(cached.metadata.resourceVersion) < Number(expectedResourceVersion) ? undefined : cached;
  }

  /** Carries over what a main-resource or status update may not change. */
  private prepareForUpdate(proposed: ApiObject, previous: ApiObject, subresource: string): ApiObject {
    if (subresource === 'status') {
      const next = cloneObject(previous);
      next.status = proposed.status;
      if (next.status === undefined) delete next.status;
      next.metadata.resourceVersion = proposed.metadata?.resourceVersion ?? previous.metadata.resourceVersion;
      return next;
    }
    const next = proposed;
    next.apiVersion = apiVersionOf(this.info.group, this.storageVersion);
    next.kind = this.info.kind;
    const metadata = (next.metadata ??= {});
    const old = previous.metadata;
    metadata.name = old.name;
    if (this.info.namespaced) metadata.namespace = old.namespace;
    else delete metadata.namespace;
    metadata.uid = old.uid;
    metadata.creationTimestamp = old.creationTimestamp;
    delete metadata.selfLink;
    copyOrDelete(metadata, old, 'deletionTimestamp');
    copyOrDelete(metadata, old, 'deletionGracePeriodSeconds');
    if (metadata.managedFields === undefined || metadata.managedFields.length === 0) copyOrDelete(metadata, old, 'managedFields');
    if (old.deletionTimestamp !== undefined) {
      const added = (metadata.finalizers ?? []).filter((finalizer) => !(old.finalizers ?? []).includes(finalizer));
      if (added.length > 0) {
        throw invalid(this.groupKind, old.name ?? '', [
          { reason: 'FieldValueForbidden', field: 'metadata.finalizers', message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((finalizer) => `"${finalizer}"`).join(', ')}}` },
        ]);
      }
    }
    if (this.strategy.hasStatusSubresource) {
      if (previous.status === undefined) delete next.status;
      else next.status = cloneObject(previous.status);
    }
    this.strategy.prepareForUpdate?.(next, previous);
    if (this.strategy.tracksGeneration) {
      const generation = typeof old.generation === 'number' ? old.generation : 1;
      metadata.generation = jsonEquivalent(next.spec, previous.spec) ? generation : generation + 1;
    } else {
      copyOrDelete(metadata, old, 'generation');
    }
    return next;
  }

  // ---- delete ----

  async delete(context: RequestContext, options: DeleteOptions): Promise<DeleteResult> {
    const object = await this.deleteObject({ namespace: context.namespace, name: context.name, user: context.user, options });
    return { object: this.toExternal(object, context.version) };
  }

  /**
   * Deletes at once, or marks the object deleted (deletionTimestamp) when finalizers or a grace period keep it
   * for a while; returns the object's last (or current) state.
   */
  async deleteObject(request: DeleteRequest): Promise<ApiObject> {
    const { options } = request;
    const key = this.keyFor(request.namespace, request.name);
    const current = await this.read(request.namespace, request.name);
    checkDeletePreconditions(this.groupResource, request.name, current, options.preconditions);
    await this.admission.validate(this.admissionAttributes('DELETE', { ...request, dryRun: options.dryRun }, '', undefined, current));
    const graceSeconds = this.strategy.gracePeriodSeconds?.(current, options.gracePeriodSeconds) ?? 0;
    const finalizers = finalizersForPolicy(current.metadata.finalizers ?? [], options.propagationPolicy);
    const terminatingNamespace = this.info.kind === 'Namespace' && this.info.group === '' && (current.spec?.finalizers ?? []).length > 0;
    if (finalizers.length === 0 && graceSeconds === 0 && !terminatingNamespace) {
      if (options.dryRun) return current;
      return this.removeFromStorage(request.name, request.namespace, current, options.preconditions);
    }
    const markDeleted = (object: ApiObject): ApiObject | null => {
      const metadata = object.metadata;
      const nowMs = this.nowMs();
      let changed = !jsonEquivalent(metadata.finalizers ?? [], finalizers);
      if (finalizers.length > 0) metadata.finalizers = finalizers;
      else delete metadata.finalizers;
      const existingGrace = metadata.deletionGracePeriodSeconds;
      if (metadata.deletionTimestamp === undefined || existingGrace === undefined || graceSeconds < existingGrace) {
        // A shorter grace period wins over a longer one already running, as upstream.
        metadata.deletionTimestamp = formatTime(nowMs + graceSeconds * 1000);
        metadata.deletionGracePeriodSeconds = graceSeconds;
        changed = true;
      }
      if (terminatingNamespace && object.status?.phase !== 'Terminating') {
        object.status = { ...(object.status ?? {}), phase: 'Terminating' };
        changed = true;
      }
      if (this.strategy.tracksGeneration && changed && metadata.deletionTimestamp !== undefined && current.metadata.deletionTimestamp === undefined) {
        metadata.generation = (metadata.generation ?? 1) + 1;
      }
      return changed ? object : null;
    };
    if (options.dryRun) return markDeleted(cloneObject(current)) ?? current;
    const preconditions = options.preconditions;
    const marked = await withApiErrors(this.groupResource, request.name, () =>
      this.store.guaranteedUpdate<ApiObject>(
        key,
        (stored) => markDeleted(cloneObject(stored as ApiObject)),
        preconditions === undefined ? {} : { preconditions },
      ),
    );
    // Nothing holds it any more (a pod already past its grace period was deleted again with 0 seconds).
    if ((marked.metadata.finalizers ?? []).length === 0 && marked.metadata.deletionGracePeriodSeconds === 0 && !terminatingNamespace) {
      return this.removeFromStorage(request.name, request.namespace, marked, { resourceVersion: marked.metadata.resourceVersion });
    }
    return marked;
  }

  private async removeFromStorage(name: string, namespace: string, current: ApiObject, preconditions: DeleteOptions['preconditions']): Promise<ApiObject> {
    const key = this.keyFor(namespace, name);
    const conditions: { uid?: string; resourceVersion?: string } = { uid: current.metadata.uid };
    if (preconditions?.uid !== undefined) conditions.uid = preconditions.uid;
    if (preconditions?.resourceVersion !== undefined) conditions.resourceVersion = preconditions.resourceVersion;
    const deleted = await withApiErrors(this.groupResource, name, () => this.store.delete<ApiObject>(key, { preconditions: conditions }));
    await this.hooks.afterDelete?.(deleted);
    return deleted;
  }

  async deleteCollection(context: RequestContext, options: DeleteOptions): Promise<unknown> {
    const predicate = this.predicateFor(context.list.labelSelector, context.list.fieldSelector);
    const listOptions: Parameters<EtcdStore['list']>[1] = {};
    if (predicate !== undefined) listOptions.predicate = predicate as never;
    const listed = await withApiErrors(this.groupResource, '', () => this.store.list<ApiObject>(this.prefixFor(context.namespace), listOptions));
    const deleted: ApiObject[] = [];
    for (const item of listed.items) {
      try {
        const object = await this.deleteObject({
          namespace: item.metadata.namespace ?? '',
          name: item.metadata.name ?? '',
          user: context.user,
          options: { ...options, preconditions: { ...(options.preconditions ?? {}) } },
        });
        deleted.push(this.toExternal(object, context.version));
      } catch (error) {
        // Gone meanwhile: that is what was asked for.
        if (error instanceof StatusError && error.code === 404) continue;
        throw error;
      }
    }
    return { kind: this.info.listKind, apiVersion: apiVersionOf(this.info.group, context.version), metadata: { resourceVersion: listed.resourceVersion }, items: deleted };
  }
}

/** Carries a dry-run update's result out of guaranteedUpdate without writing. */
class DryRunResult extends Error {
  constructor(readonly object: ApiObject) {
    super('dry run');
  }
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function copyOrDelete<K extends keyof ApiObject['metadata']>(target: ApiObject['metadata'], source: ApiObject['metadata'], field: K): void {
  if (source[field] === undefined) delete target[field];
  else target[field] = cloneObject(source[field]);
}

/** True when next differs from previous in nothing but managedFields (a no-op write). */
/** 409 as upstream's field manager answers an apply that would change other managers' fields without force. */
function applyConflict(conflicts: readonly FieldConflict[]): StatusError {
  return new StatusError(409, 'Conflict', applyConflictMessage(conflicts), {
    causes: conflicts.map((conflict) => ({ reason: 'FieldManagerConflict', message: `conflict with ${conflict.manager}`, field: conflict.field })),
  });
}

function withoutManagedFields(next: ApiObject, previous: ApiObject): boolean {
  const strip = (object: ApiObject): ApiObject => {
    const metadata = { ...object.metadata };
    delete metadata.managedFields;
    delete metadata.resourceVersion;
    return { ...object, metadata };
  };
  return jsonEquivalent(strip(next), strip(previous));
}

function checkDeletePreconditions(resource: { group: string; resource: string }, name: string, current: ApiObject, preconditions: DeleteOptions['preconditions']): void {
  if (preconditions?.uid !== undefined && preconditions.uid !== current.metadata.uid) {
    throw conflict(resource, name, `Precondition failed: UID in precondition: ${preconditions.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
  }
  if (preconditions?.resourceVersion !== undefined && preconditions.resourceVersion !== current.metadata.resourceVersion) {
    throw conflict(
      resource,
      name,
      `Precondition failed: ResourceVersion in precondition: ${preconditions.resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`,
    );
  }
}

/** The finalizers after a DELETE with `policy`: Orphan and Foreground add their garbage-collector finalizer, an explicit policy drops the other's. */
export function finalizersForPolicy(finalizers: readonly string[], policy: DeleteOptions['propagationPolicy']): string[] {
  if (policy === undefined) return [...finalizers];
  const result = finalizers.filter((finalizer) => finalizer !== GC_FINALIZERS.Orphan && finalizer !== GC_FINALIZERS.Foreground);
  if (policy === 'Orphan' || policy === 'Foreground') result.push(GC_FINALIZERS[policy]);
  return result;
}

function withStatusErrors<T>(resource: { group: string; resource: string }, operation: () => T): T {
  try {
    return operation();
  } catch (error) {
    throw toApiError(error, resource, '');
  }
}

function storageToStatusOrInternal(error: unknown, resource: { group: string; resource: string }): StatusError {
  const mapped = toApiError(error, resource, '');
  if (mapped instanceof StatusError) return mapped;
  return new StatusError(500, 'InternalError', `Internal error occurred: ${mapped instanceof Error ? mapped.message : String(mapped)}`);
}

