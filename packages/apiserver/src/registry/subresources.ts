// Subresources that read or change part of a stored object: status, scale
// (autoscaling/v1 Scale over Deployments, ReplicaSets, StatefulSets),
// pods/binding (the scheduler's decision), pods/eviction (graceful, budget
// aware deletion) and namespaces/finalize.

import {
  PatchError,
  applyPatch,
  formatTime,
  labelSelectorMatches,
  scaleOf,
  withScaleReplicas,
  type Pod,
  type PodCondition,
  type Scale,
} from '@kube-lite/api';
import {
  StatusError,
  badRequest,
  conflict,
  invalid,
  successStatus,
  tooManyRequests,
  type PatchRequest,
  type RequestContext,
  type ResourceHandler,
  type WriteResult,
} from '../server';
import { isStorageError } from '../storage';
import { cloneObject, isRecord, type ApiObject } from './object';
import { toApiError } from './status';
import { writeRequestOf, type RegistryStore } from './store';

/** GET/PUT/PATCH of `<resource>/<name>/status`: only status changes. */
export class StatusSubresource implements ResourceHandler {
  constructor(private readonly parent: RegistryStore) {}

  get(context: RequestContext): Promise<unknown> {
    return this.parent.get(context);
  }

  async update(context: RequestContext, body: unknown): Promise<WriteResult> {
    const request = writeRequestOf(context);
    const object = this.parent.decodeBody(request, body);
    this.parent.checkIdentity(request, object);
    const updated = await this.parent.updateObject(request, 'status', () => object, { manager: request.fieldManager, operation: 'Update' }, undefined, object.metadata?.resourceVersion);
    return { object: this.parent.toExternal(updated, context.version), created: false };
  }

  async patch(context: RequestContext, patch: PatchRequest): Promise<WriteResult> {
    const request = writeRequestOf(context);
    // An apply to status is merged like a strategic patch: the applied status fields win.
    const effective: PatchRequest = patch.type === 'apply' ? { type: 'strategic', patch: patch.patch } : patch;
    const updated = await this.parent.updateObject(request, 'status', (current) => this.parent.patchedObject(request, current, effective), {
      manager: request.fieldManager,
      operation: patch.type === 'apply' ? 'Apply' : 'Update',
    });
    return { object: this.parent.toExternal(updated, context.version), created: false };
  }
}

function scaleInvalid(name: string, replicas: unknown): StatusError {
  return invalid({ group: 'autoscaling', kind: 'Scale' }, name, [
    { reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` },
  ]);
}

function checkReplicas(name: string, scale: Scale): void {
  const replicas = scale.spec?.replicas;
  if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)) throw scaleInvalid(name, replicas);
}

/** GET/PUT/PATCH of `<resource>/<name>/scale` as an autoscaling/v1 Scale. */
export class ScaleSubresource implements ResourceHandler {
  constructor(private readonly parent: RegistryStore) {}

  async get(context: RequestContext): Promise<unknown> {
    return scaleOf(await this.parent.read(context.namespace, context.name, context.list.resourceVersion));
  }

  async update(context: RequestContext, body: unknown): Promise<WriteResult> {
    if (!isRecord(body)) throw badRequest('the request body must be an autoscaling/v1 Scale');
    const scale = body as Scale;
    const name = scale.metadata?.name;
    if (name !== undefined && name !== '' && name !== context.name) {
      throw badRequest(`the name of the object (${name}) does not match the name on the URL (${context.name})`);
    }
    checkReplicas(context.name, scale);
    const request = writeRequestOf(context);
    const updated = await this.parent.updateObject(
      request,
      '',
      (current) => {
        const next = withScaleReplicas(current, scale) as ApiObject;
        next.metadata.resourceVersion = scale.metadata?.resourceVersion || current.metadata.resourceVersion;
        return next;
      },
      { manager: request.fieldManager, operation: 'Update' },
    );
    return { object: scaleOf(updated), created: false };
  }

  async patch(context: RequestContext, patch: PatchRequest): Promise<WriteResult> {
    const request = writeRequestOf(context);
    const updated = await this.parent.updateObject(
      request,
      '',
      (current) => {
        const scale = scaleOf(current);
        let patched: Scale;
        try {
          patched = applyPatch(patch.type === 'json' ? 'json' : patch.type === 'merge' ? 'merge' : 'strategic', scale, patch.patch) as Scale;
        } catch (error) {
          if (error instanceof PatchError) throw new StatusError(422, 'Invalid', error.message, { name: context.name, kind: 'scale' });
          throw error;
        }
        checkReplicas(context.name, patched);
        const next = withScaleReplicas(current, patched) as ApiObject;
        next.metadata.resourceVersion = patched.metadata?.resourceVersion || current.metadata.resourceVersion;
        return next;
      },
      { manager: request.fieldManager, operation: patch.type === 'apply' ? 'Apply' : 'Update' },
    );
    return { object: scaleOf(updated), created: false };
  }
}

/** POST `pods/<name>/binding`: assigns the pod to a node, once. */
export class BindingSubresource implements ResourceHandler {
  constructor(private readonly pods: RegistryStore) {}

  async create(context: RequestContext, body: unknown): Promise<unknown> {
    if (!isRecord(body)) throw badRequest('the request body must be a v1 Binding');
    const binding = body as { metadata?: { name?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string> }; target?: { kind?: string; name?: string } };
    const name = context.name;
    if (binding.metadata?.name !== undefined && binding.metadata.name !== '' && binding.metadata.name !== name) {
      throw badRequest(`the name of the binding (${binding.metadata.name}) does not match the name of the pod (${name})`);
    }
    const nodeName = binding.target?.name ?? '';
    if (nodeName === '') {
      throw invalid({ group: '', kind: 'Binding' }, name, [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }]);
    }
    if (binding.target?.kind !== undefined && binding.target.kind !== '' && binding.target.kind !== 'Node') {
      throw invalid({ group: '', kind: 'Binding' }, name, [{ reason: 'FieldValueNotSupported', field: 'target.kind', message: `Unsupported value: "${binding.target.kind}": supported values: "Node"` }]);
    }
    if (context.write.dryRun) return successStatus(201);
    const bindingResource = { group: '', resource: 'pods/binding' };
    const nowMs = this.pods.nowMs();
    const preconditions: { uid?: string; resourceVersion?: string } = {};
    if (binding.metadata?.uid) preconditions.uid = binding.metadata.uid;
    if (binding.metadata?.resourceVersion) preconditions.resourceVersion = binding.metadata.resourceVersion;
    // The watch cache's copy spares the read before the write; the compare-and-swap still checks it is current.
    const suggestion = this.pods.cachedCopy(this.pods.keyFor(context.namespace, name), preconditions.resourceVersion);
    try {
      await this.pods.store.guaranteedUpdate<ApiObject>(
        this.pods.keyFor(context.namespace, name),
        (stored) => {
          const current = stored as Pod & ApiObject;
          if (current.metadata.deletionTimestamp !== undefined) throw conflict(bindingResource, name, `pod ${name} is being deleted, cannot be assigned to a host`);
          if (current.spec?.nodeName) throw conflict(bindingResource, name, `pod ${name} is already assigned to node "${current.spec.nodeName}"`);
          // Copies only the parts a binding changes; the rest stays shared with the stored (possibly frozen) object,
          // which the store only encodes. A deep copy of the whole pod per bind is measurable at hundreds of binds a second.
          const conditions: PodCondition[] = (current.status?.conditions ?? []).filter((condition) => condition.type !== 'PodScheduled');
          conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTime(nowMs) } as PodCondition);
          const pod: Pod & ApiObject = {
            ...current,
            metadata: { ...current.metadata },
            spec: { ...(current.spec ?? { containers: [] }), nodeName },
            status: { ...(current.status ?? {}), conditions },
          };
          if (binding.metadata?.annotations !== undefined) pod.metadata.annotations = { ...(current.metadata.annotations ?? {}), ...binding.metadata.annotations };
          return pod;
        },
        { ...(Object.keys(preconditions).length > 0 ? { preconditions } : {}), ...(suggestion === undefined ? {} : { suggestion }) },
      );
    } catch (error) {
      if (isStorageError(error, 'NotFound')) throw toApiError(error, { group: '', resource: 'pods' }, name);
      throw toApiError(error, bindingResource, name);
    }
    return successStatus(201);
  }
}

interface DisruptionBudget extends ApiObject {
  spec?: { selector?: Parameters<typeof labelSelectorMatches>[0] };
  status?: { disruptionsAllowed?: number; disruptedPods?: Record<string, string> };
}

/** POST `pods/<name>/eviction` (policy/v1 Eviction): a graceful delete that respects PodDisruptionBudgets. */
export class EvictionSubresource implements ResourceHandler {
  constructor(
    private readonly pods: RegistryStore,
    /** The PodDisruptionBudget store, when served. */
    private readonly budgets: RegistryStore | undefined,
  ) {}

  async create(context: RequestContext, body: unknown): Promise<unknown> {
    if (!isRecord(body)) throw badRequest('the request body must be a policy/v1 Eviction');
    const eviction = body as { metadata?: { name?: string }; deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } } };
    const name = context.name;
    if (eviction.metadata?.name !== undefined && eviction.metadata.name !== '' && eviction.metadata.name !== name) {
      throw badRequest(`name in URL does not match name in Eviction object`);
    }
    const pod = await this.pods.read(context.namespace, name);
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (!terminal && pod.metadata.deletionTimestamp === undefined) await this.checkBudgets(context, pod);
    const options = { dryRun: context.write.dryRun } as Parameters<RegistryStore['deleteObject']>[0]['options'];
    if (typeof eviction.deleteOptions?.gracePeriodSeconds === 'number') options.gracePeriodSeconds = eviction.deleteOptions.gracePeriodSeconds;
    if (eviction.deleteOptions?.preconditions !== undefined) options.preconditions = eviction.deleteOptions.preconditions;
    await this.pods.deleteObject({ namespace: context.namespace, name, user: context.user, options });
    return successStatus(201);
  }

  /** Takes one allowed disruption from every budget selecting the pod, or refuses with 429 as upstream. */
  private async checkBudgets(context: RequestContext, pod: ApiObject): Promise<void> {
    if (this.budgets === undefined) return;
    const budgets = await this.budgets.store.list<DisruptionBudget>(`/registry/poddisruptionbudgets/${context.namespace}/`);
    const matching = budgets.items.filter((budget) => labelSelectorMatches(budget.spec?.selector, pod.metadata.labels ?? {}));
    if (matching.length === 0) return;
    if (matching.length > 1) {
      throw new StatusError(500, 'InternalError', 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    }
    const budget = matching[0] as DisruptionBudget;
    if (context.write.dryRun) {
      if ((budget.status?.disruptionsAllowed ?? 0) < 1) throw this.refused(budget);
      return;
    }
    await this.budgets.store.guaranteedUpdate<DisruptionBudget>(this.budgets.keyFor(context.namespace, budget.metadata.name ?? ''), (stored) => {
      const current = cloneObject(stored as DisruptionBudget);
      const allowed = current.status?.disruptionsAllowed ?? 0;
      if (allowed < 1) throw this.refused(current);
      current.status = { ...(current.status ?? {}), disruptionsAllowed: allowed - 1 };
      current.status.disruptedPods = { ...(current.status.disruptedPods ?? {}), [pod.metadata.name ?? '']: formatTime(this.pods.nowMs()) };
      return current;
    });
  }

  private refused(budget: DisruptionBudget): StatusError {
    const error = tooManyRequests('Cannot evict pod as it would violate the pod\'s disruption budget.', 10);
    return new StatusError(error.code, error.reason, error.message, {
      ...(error.details ?? {}),
      causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${budget.metadata.name ?? ''} needs ${budget.status?.disruptionsAllowed ?? 0} healthy pods and has fewer.` }],
    });
  }
}

/** PUT `namespaces/<name>/finalize`: the namespace controller removes spec.finalizers once the namespace is empty. */
export class FinalizeSubresource implements ResourceHandler {
  constructor(private readonly namespaces: RegistryStore) {}

  async update(context: RequestContext, body: unknown): Promise<WriteResult> {
    if (!isRecord(body)) throw badRequest('the request body must be a v1 Namespace');
    const finalizers = Array.isArray((body.spec as { finalizers?: unknown } | undefined)?.finalizers) ? ((body.spec as { finalizers: string[] }).finalizers) : [];
    const key = this.namespaces.keyFor('', context.name);
    const resource = this.namespaces.groupResource;
    let updated: ApiObject;
    try {
      updated = await this.namespaces.store.guaranteedUpdate<ApiObject>(key, (stored) => {
        const namespace = cloneObject(stored as ApiObject);
        const requested = (body.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
        if (requested && requested !== namespace.metadata.resourceVersion) throw conflict(resource, context.name, 'the object has been modified; please apply your changes to the latest version and try again');
        namespace.spec = { ...(namespace.spec ?? {}), finalizers };
        if (finalizers.length === 0) delete namespace.spec.finalizers;
        return namespace;
      });
    } catch (error) {
      throw toApiError(error, resource, context.name);
    }
    const done = updated.metadata.deletionTimestamp !== undefined && (updated.spec?.finalizers ?? []).length === 0 && (updated.metadata.finalizers ?? []).length === 0;
    if (done) {
      try {
        await this.namespaces.store.delete(key, { preconditions: { uid: updated.metadata.uid, resourceVersion: updated.metadata.resourceVersion } });
      } catch (error) {
        if (!isStorageError(error, 'NotFound')) throw toApiError(error, resource, context.name);
      }
    }
    return { object: this.namespaces.toExternal(updated, context.version), created: false };
  }
}
