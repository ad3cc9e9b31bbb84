// The ReplicaSet controller: keeps spec.replicas pods matching the selector
// alive, as upstream's replica_set.go. It creates missing pods in slow-start
// batches, deletes the least valuable extras first, adopts orphans and
// releases pods that stopped matching, and writes status only on change.
// Expectations keep it from acting twice on its own writes before the
// informer has shown them.
import {
  deepCopy,
  formatTime,
  isPodAvailable,
  isPodReady,
  jsonEqual,
  labelSelectorAsSelector,
  type Pod,
  type ReplicaSet,
  type ReplicaSetStatus,
  type WorkloadCondition,
} from '@kube-lite/api';
import { isNotFound, objectKey, splitObjectKey, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { claimObjects, ControllerExpectations, freshOwnerCheck, isPodActive, ownedPodEventHandler, podFromTemplate, podsToDelete, resolveControllerRef, selectorMatchesPod, slowStartBatch } from '../../controller-utils';

export const REPLICA_SET_CONTROLLER_NAME = 'replicaset';
/** Most pods created or deleted in one sync (upstream BurstReplicas). */
export const BURST_REPLICAS = 500;
const API_VERSION = 'apps/v1';
const KIND = 'ReplicaSet';

export class ReplicaSetController extends QueueController {
  readonly expectations: ControllerExpectations;
  private readonly replicaSets: Lister<ReplicaSet>;
  private readonly pods: Lister<Pod>;

  constructor(context: ControllerContext) {
    super(REPLICA_SET_CONTROLLER_NAME, context);
    this.expectations = new ControllerExpectations(context.nowMs);
    const rsInformer = context.informers.replicaSets();
    const podInformer = context.informers.pods();
    this.replicaSets = rsInformer.lister;
    this.pods = podInformer.lister;
    rsInformer.addEventHandler({
      onAdd: (rs) => this.enqueue(rs),
      onUpdate: (_old, rs) => this.enqueue(rs),
      onDelete: (object) => {
        const rs = deletedObject(object);
        this.expectations.delete(objectKey(rs));
        this.enqueue(rs);
      },
    });
    podInformer.addEventHandler(
      ownedPodEventHandler<ReplicaSet>({
        resolve: (namespace, ref) => resolveControllerRef(this.replicaSets, namespace, ref, KIND),
        matching: (pod) => this.replicaSets.namespace(pod.metadata?.namespace ?? '').list().filter((rs) => selectorMatchesPod(rs.spec?.selector, pod)),
        creations: this.expectations,
        deletions: this.expectations,
        minReadySeconds: (rs) => rs.spec?.minReadySeconds ?? 0,
        enqueue: (rs) => this.enqueue(rs),
        enqueueAfter: (rs, delayMs) => this.enqueueAfter(rs, delayMs),
      }),
    );
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const cached = this.replicaSets.get(namespace, name);
    if (cached === undefined) {
      this.expectations.delete(key);
      return;
    }
    const rs = deepCopy(cached);
    const needsSync = this.expectations.satisfied(key);
    const selector = labelSelectorAsSelector(rs.spec?.selector);
    const active = this.pods.namespace(namespace).list().filter(isPodActive);
    const pods = await claimObjects(active, {
      owner: rs,
      ownerApiVersion: API_VERSION,
      ownerKind: KIND,
      selector,
      canAdopt: freshOwnerCheck(rs, () => this.client.replicaSets(namespace).get(name)),
      patch: (podName, patch) => this.client.pods(namespace).patch(podName, 'strategic', patch),
    });
    let manageError: unknown;
    if (needsSync && rs.metadata?.deletionTimestamp === undefined) {
      try {
        await this.manageReplicas(pods, rs, key);
      } catch (error) {
        manageError = error;
      }
    }
    const updated = await this.updateStatus(rs, this.calculateStatus(rs, pods, manageError));
    const replicas = updated.spec?.replicas ?? 1;
    const minReadySeconds = updated.spec?.minReadySeconds ?? 0;
    // Pods turn available minReadySeconds after turning ready, an event nobody sends: look again then.
    if (manageError === undefined && minReadySeconds > 0 && updated.status?.readyReplicas === replicas && updated.status?.availableReplicas !== replicas) {
      this.enqueueAfter(updated, minReadySeconds * 1000);
    }
    if (manageError !== undefined) throw manageError;
  }

  private async manageReplicas(pods: Pod[], rs: ReplicaSet, key: string): Promise<void> {
    const namespace = rs.metadata?.namespace ?? '';
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, count);
      this.logger.info('too few replicas; creating pods', { controller: this.name, replicaSet: key, need: rs.spec?.replicas ?? 1, have: pods.length, creating: count });
      const { successes, error } = await slowStartBatch(count, 1, async () => {
        try {
          const created = await this.client.pods(namespace).create(podFromTemplate(rs.spec?.template, rs, API_VERSION, KIND));
          this.context.recorder.record(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
        } catch (createError) {
          this.context.recorder.record(rs, 'Warning', 'FailedCreate', `Error creating: ${createError instanceof Error ? createError.message : String(createError)}`);
          throw createError;
        }
      });
      // Creations that failed or were never tried will not be observed.
      for (let skipped = count - successes; skipped > 0; skipped -= 1) this.expectations.creationObserved(key);
      if (error !== undefined) throw error;
    } else if (diff > 0) {
      const victims = podsToDelete(pods, Math.min(diff, BURST_REPLICAS));
      this.expectations.expectDeletions(key, victims.map(objectKey));
      this.logger.info('too many replicas; deleting pods', { controller: this.name, replicaSet: key, need: rs.spec?.replicas ?? 1, have: pods.length, deleting: victims.map((pod) => pod.metadata?.name) });
      const results = await Promise.allSettled(
        victims.map(async (pod) => {
          const podName = pod.metadata?.name ?? '';
          try {
            await this.client.pods(namespace).delete(podName);
            this.context.recorder.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${podName}`);
          } catch (deleteError) {
            if (isNotFound(deleteError)) return;
            this.expectations.deletionObserved(key, objectKey(pod));
            this.context.recorder.record(rs, 'Warning', 'FailedDelete', `Error deleting: ${deleteError instanceof Error ? deleteError.message : String(deleteError)}`);
            throw deleteError;
          }
        }),
      );
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
  }

  private calculateStatus(rs: ReplicaSet, pods: Pod[], manageError: unknown): ReplicaSetStatus {
    const status: ReplicaSetStatus = deepCopy(rs.status ?? { replicas: 0 });
    const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    const now = this.nowMs();
    status.replicas = pods.length;
    status.fullyLabeledReplicas = pods.filter((pod) => Object.entries(templateLabels).every(([label, value]) => pod.metadata?.labels?.[label] === value)).length;
    status.readyReplicas = pods.filter(isPodReady).length;
    status.availableReplicas = pods.filter((pod) => isPodAvailable(pod, minReadySeconds, now)).length;
    status.observedGeneration = rs.metadata?.generation ?? 0;
    const conditions = (status.conditions ?? []).filter((condition) => condition.type !== 'ReplicaFailure');
    const existing = status.conditions?.find((condition) => condition.type === 'ReplicaFailure');
    if (manageError !== undefined) {
      const reason = pods.length < (rs.spec?.replicas ?? 1) ? 'FailedCreate' : 'FailedDelete';
      const failure: WorkloadCondition = existing ?? { type: 'ReplicaFailure', status: 'True', lastTransitionTime: formatTime(now), reason, message: manageError instanceof Error ? manageError.message : String(manageError) };
      conditions.push(failure);
    }
    if (conditions.length > 0) status.conditions = conditions;
    else delete status.conditions;
    return status;
  }

  /** Writes the status when it changed (retrying once on a conflict with a fresh read); answers the ReplicaSet as stored. */
  private async updateStatus(rs: ReplicaSet, status: ReplicaSetStatus): Promise<ReplicaSet> {
    if (jsonEqual(rs.status ?? {}, status)) return rs;
    const namespace = rs.metadata?.namespace ?? '';
    try {
      return await this.client.replicaSets(namespace).updateStatus({ ...rs, status });
    } catch (error) {
      if (isNotFound(error)) return rs;
      const fresh = await this.client.replicaSets(namespace).get(rs.metadata?.name ?? '');
      status.observedGeneration = fresh.metadata?.generation ?? status.observedGeneration;
      return this.client.replicaSets(namespace).updateStatus({ ...fresh, status });
    }
  }
}
