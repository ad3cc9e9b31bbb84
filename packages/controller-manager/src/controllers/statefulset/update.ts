// One pass of upstream's updateStatefulSet (stateful_set_control.go) over a
// StatefulSet's pods: create missing ordinals (claims first), replace failed
// pods under the same name, delete ordinals beyond the replicas from the
// highest down, then roll pods to the update revision from the highest
// ordinal down to the partition. OrderedReady ("monotonic") does one step at
// a time and only while every pod before it is Running and Ready; Parallel
// does every step it can. Returns the status the pass leaves behind.
import {
  deepCopy,
  isPodAvailable,
  scaledValueFromIntOrPercent,
  type ControllerRevision,
  type PersistentVolumeClaim,
  type Pod,
  type StatefulSet,
  type StatefulSetStatus,
} from '@kube-lite/api';
import { isAlreadyExists, isNotFound, objectKey, type ApiClient, type EventRecorder, type Lister, type Logger } from '@kube-lite/client';
import { templateOfRevision } from '../../controller-utils/history';
import {
  claimsFor,
  identityLabels,
  identityMatches,
  inOrdinalRange,
  isHealthy,
  isRunningAndReady,
  isTerminating,
  newStatefulSetPod,
  ordinalOf,
  podRevision,
  replicasOf,
  retentionOwnerReferences,
  startOrdinal,
} from './identity';
import type { PendingPodWrites } from './pending';

export interface StatefulSetUpdateDeps {
  client: ApiClient;
  recorder: EventRecorder;
  logger: Logger;
  nowMs: () => number;
  claims: Lister<PersistentVolumeClaim>;
  pending: PendingPodWrites;
}

/** A claim of the pod to create is still being deleted (scaled down, then up again before it went). */
export class StaleClaimError extends Error {
  override readonly name = 'StaleClaimError';
}

/** A slot of the ordinal range: the pod there, or the ordinal of the missing one. */
type Slot = { ordinal: number; pod: Pod | undefined };

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class StatefulSetUpdate {
  private readonly namespace: string;
  private readonly setKey: string;
  private readonly monotonic: boolean;
  private readonly minReadySeconds: number;

  constructor(
    private readonly deps: StatefulSetUpdateDeps,
    private readonly set: StatefulSet,
    private readonly current: ControllerRevision,
    private readonly update: ControllerRevision,
    collisionCount: number,
    private readonly pods: readonly Pod[],
  ) {
    this.namespace = set.metadata?.namespace ?? '';
    this.setKey = objectKey(set);
    this.monotonic = set.spec?.podManagementPolicy !== 'Parallel';
    this.minReadySeconds = set.spec?.minReadySeconds ?? 0;
    this.status = {
      observedGeneration: set.metadata?.generation ?? 0,
      replicas: 0,
      readyReplicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision: current.metadata?.name ?? '',
      updateRevision: update.metadata?.name ?? '',
      collisionCount,
    };
    if (set.status?.conditions !== undefined) this.status.conditions = deepCopy(set.status.conditions);
  }

  readonly status: StatefulSetStatus;

  /** Runs the pass; `act` false (writes of an earlier pass not yet seen) only computes the status. Returns the status. */
  async run(act: boolean): Promise<StatefulSetStatus> {
    const { replicas, condemned } = this.partition();
    const existing = [...replicas.flatMap((slot) => (slot.pod === undefined ? [] : [slot.pod])), ...condemned];
    this.countStatus(existing);
    if (!act || this.set.metadata?.deletionTimestamp !== undefined) return this.completed();
    // The lowest unhealthy ordinal (a missing pod counts, and then no condemned pod is first).
    const unhealthySlot = replicas.find((slot) => slot.pod === undefined || !isHealthy(slot.pod));
    const firstUnhealthy = unhealthySlot !== undefined ? unhealthySlot.pod : [...condemned].reverse().find((pod) => !isHealthy(pod));
    if (await this.forAll(replicas, (slot) => this.processReplica(slot))) return this.completed();
    if (await this.forAll(condemned, (pod) => this.fixClaims(pod).then(() => false))) return this.completed();
    if (await this.forAll(condemned, (pod) => this.processCondemned(pod, firstUnhealthy))) return this.completed();
    if (this.set.spec?.updateStrategy?.type === 'OnDelete') return this.completed();
    await this.rollingUpdate(replicas);
    return this.completed();
  }

  /** Pods in the ordinal range by slot (missing ones undefined), and the condemned ones beyond it, highest ordinal first. */
  private partition(): { replicas: Slot[]; condemned: Pod[] } {
    const start = startOrdinal(this.set);
    const replicas: Slot[] = Array.from({ length: replicasOf(this.set) }, (_unused, index) => ({ ordinal: start + index, pod: undefined }));
    const condemned: Pod[] = [];
    for (const pod of this.pods) {
      const ordinal = ordinalOf(pod);
      if (ordinal < 0) continue;
      const slot = replicas[ordinal - start];
      if (inOrdinalRange(this.set, ordinal) && slot !== undefined) slot.pod = pod;
      else condemned.push(pod);
    }
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
    return { replicas, condemned };
  }

  private countStatus(pods: readonly Pod[]): void {
    const status = this.status;
    const now = this.deps.nowMs();
    for (const pod of pods) {
      status.replicas += 1;
      if (isRunningAndReady(pod)) {
        status.readyReplicas = (status.readyReplicas ?? 0) + 1;
        if (isPodAvailable(pod, this.minReadySeconds, now)) status.availableReplicas = (status.availableReplicas ?? 0) + 1;
      }
      if (isTerminating(pod)) continue;
      if (podRevision(pod) === status.currentRevision) status.currentReplicas = (status.currentReplicas ?? 0) + 1;
      if (podRevision(pod) === status.updateRevision) status.updatedReplicas = (status.updatedReplicas ?? 0) + 1;
    }
  }

  /** Upstream completeRollingUpdate: once every pod is updated and ready, the update revision becomes the current one. */
  private completed(): StatefulSetStatus {
    const status = this.status;
    if (this.set.spec?.updateStrategy?.type !== 'OnDelete' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    return status;
  }

  /**
   * Monotonic: one item after another, stopping at the first that asks to
   * stop or fails. Parallel: every item, in slow-start batches, stopping
   * at the first batch with a failure. True when the pass must end here.
   */
  private async forAll<T>(items: readonly T[], step: (item: T) => Promise<boolean>): Promise<boolean> {
    if (this.monotonic) {
      for (const item of items) if (await step(item)) return true;
      return false;
    }
    let next = 0;
    for (let batch = 1; next < items.length; batch *= 2) {
      const results = await Promise.allSettled(items.slice(next, next + batch).map(step));
      next += batch;
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    }
    return false;
  }

  /** True when the pass must stop (monotonic) at this replica. */
  private async processReplica(slot: Slot): Promise<boolean> {
    const pod = slot.pod;
    if (pod === undefined) {
      await this.createPod(slot.ordinal);
      return this.monotonic;
    }
    const phase = pod.status?.phase;
    if (phase === 'Failed' || phase === 'Succeeded') {
      // Whatever the exit code, a stateful pod that stopped is replaced under the same name once it is gone.
      if (!isTerminating(pod)) {
        this.deps.recorder.record(this.set, 'Warning', phase === 'Failed' ? 'RecreatingFailedPod' : 'RecreatingTerminatedPod', `StatefulSet ${this.setKey} is recreating ${phase === 'Failed' ? 'failed' : 'terminated'} Pod ${pod.metadata?.name ?? ''}`);
        await this.deletePod(pod);
      }
      return true;
    }
    if (phase === undefined || phase === 'Pending') await this.createClaims(pod, ordinalOf(pod));
    if (this.monotonic && (isTerminating(pod) || !isRunningAndReady(pod) || !isPodAvailable(pod, this.minReadySeconds, this.deps.nowMs()))) return true;
    if (!identityMatches(this.set, pod)) await this.restoreIdentity(pod);
    await this.fixClaims(pod);
    return false;
  }

  /** True when the pass must stop at this condemned pod. */
  private async processCondemned(pod: Pod, firstUnhealthy: Pod | undefined): Promise<boolean> {
    if (isTerminating(pod)) return this.monotonic;
    if (this.monotonic && pod !== firstUnhealthy && (!isRunningAndReady(pod) || !isPodAvailable(pod, this.minReadySeconds, this.deps.nowMs()))) return true;
    await this.deletePod(pod);
    return this.monotonic;
  }

  /** Deletes pods not at the update revision, highest ordinal first, down to the partition. */
  private async rollingUpdate(replicas: readonly Slot[]): Promise<void> {
    const rolling = this.set.spec?.updateStrategy?.rollingUpdate;
    const partition = rolling?.partition ?? 0;
    const updateName = this.update.metadata?.name ?? '';
    const outdated = (pod: Pod): boolean => podRevision(pod) !== updateName && !isTerminating(pod);
    if (rolling?.maxUnavailable === undefined) {
      for (let index = replicas.length - 1; index >= partition; index -= 1) {
        const pod = replicas[index]?.pod;
        if (pod === undefined) return;
        if (outdated(pod)) {
          await this.deletePod(pod);
          this.status.currentReplicas = (this.status.currentReplicas ?? 0) - 1;
          return;
        }
        if (!isHealthy(pod)) return;
      }
      return;
    }
    // maxUnavailable: keep at most that many of the range unhealthy, deleting outdated pods from the top.
    const maxUnavailable = Math.max(1, scaledValueFromIntOrPercent(rolling.maxUnavailable, replicasOf(this.set), false));
    const unavailable = replicas.filter((slot) => slot.pod === undefined || !isHealthy(slot.pod)).length;
    let budget = maxUnavailable - unavailable;
    for (let index = replicas.length - 1; index >= partition && budget > 0; index -= 1) {
      const pod = replicas[index]?.pod;
      if (pod === undefined || !outdated(pod)) continue;
      await this.deletePod(pod);
      this.status.currentReplicas = (this.status.currentReplicas ?? 0) - 1;
      budget -= 1;
    }
  }

  // ---- writes ----

  private async createPod(ordinal: number): Promise<void> {
    const rolling = this.set.spec?.updateStrategy;
    // Ordinals below the partition stay at the current revision, even when recreated.
    const atCurrent =
      rolling?.type !== 'OnDelete' &&
      (rolling?.rollingUpdate === undefined
        ? ordinal < startOrdinal(this.set) + (this.set.status?.currentReplicas ?? 0)
        : ordinal < startOrdinal(this.set) + (rolling.rollingUpdate.partition ?? 0));
    const revision = atCurrent ? this.current : this.update;
    const pod = newStatefulSetPod(this.set, templateOfRevision(revision) ?? this.set.spec?.template, ordinal, revision.metadata?.name ?? '');
    const name = pod.metadata?.name ?? '';
    await this.createClaims(pod, ordinal);
    let created: Pod;
    try {
      created = await this.deps.client.pods(this.namespace).create(pod);
    } catch (error) {
      if (!isAlreadyExists(error)) this.deps.recorder.record(this.set, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${this.set.metadata?.name ?? ''} failed error: ${errorText(error)}`);
      throw error;
    }
    this.deps.pending.created(this.setKey, created);
    this.deps.recorder.record(this.set, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${this.set.metadata?.name ?? ''} successful`);
    this.deps.logger.info('created stateful pod', { statefulSet: this.setKey, pod: name, revision: revision.metadata?.name });
    await this.fixClaims(created);
  }

  /** Creates the claims of the pod that do not exist; fails while one is being deleted. */
  private async createClaims(pod: Pod, ordinal: number): Promise<void> {
    const setName = this.set.metadata?.name ?? '';
    const podName = pod.metadata?.name ?? '';
    for (const claim of claimsFor(this.set, ordinal)) {
      const claimName = claim.metadata?.name ?? '';
      const existing = this.deps.claims.get(this.namespace, claimName);
      if (existing !== undefined) {
        if (existing.metadata?.deletionTimestamp !== undefined) throw new StaleClaimError(`PersistentVolumeClaim ${this.namespace}/${claimName} of Pod ${podName} is being deleted; waiting for it to go`);
        continue;
      }
      // Owned as the retention policy says from the start (the set's reference when whenDeleted is Delete).
      const ownerReferences = retentionOwnerReferences(claim, this.set, pod);
      if (ownerReferences !== undefined && ownerReferences.length > 0) (claim.metadata as NonNullable<PersistentVolumeClaim['metadata']>).ownerReferences = ownerReferences;
      try {
        await this.deps.client.persistentVolumeClaims(this.namespace).create(claim);
        this.deps.recorder.record(this.set, 'Normal', 'SuccessfulCreate', `create Claim ${claimName} Pod ${podName} in StatefulSet ${setName} success`);
      } catch (error) {
        if (isAlreadyExists(error)) continue;
        this.deps.recorder.record(this.set, 'Warning', 'FailedCreate', `create Claim ${claimName} for Pod ${podName} in StatefulSet ${setName} failed error: ${errorText(error)}`);
        throw error;
      }
    }
  }

  private async deletePod(pod: Pod): Promise<void> {
    const name = pod.metadata?.name ?? '';
    try {
      await this.deps.client.pods(this.namespace).delete(name, pod.metadata?.uid === undefined ? {} : { preconditions: { uid: pod.metadata.uid } });
    } catch (error) {
      if (isNotFound(error)) return;
      this.deps.recorder.record(this.set, 'Warning', 'FailedDelete', `delete Pod ${name} in StatefulSet ${this.set.metadata?.name ?? ''} failed error: ${errorText(error)}`);
      throw error;
    }
    this.deps.pending.deleted(this.setKey, pod);
    this.deps.recorder.record(this.set, 'Normal', 'SuccessfulDelete', `delete Pod ${name} in StatefulSet ${this.set.metadata?.name ?? ''} successful`);
    this.deps.logger.info('deleted stateful pod', { statefulSet: this.setKey, pod: name });
  }

  private async restoreIdentity(pod: Pod): Promise<void> {
    await this.deps.client.pods(this.namespace).patch(pod.metadata?.name ?? '', 'strategic', { metadata: { labels: identityLabels(pod), uid: pod.metadata?.uid } });
  }

  /** Sets the owners of the pod's claims as the retention policy wants them. */
  private async fixClaims(pod: Pod): Promise<void> {
    for (const wanted of claimsFor(this.set, ordinalOf(pod))) {
      const claim = this.deps.claims.get(this.namespace, wanted.metadata?.name ?? '');
      if (claim === undefined || claim.metadata?.deletionTimestamp !== undefined) continue;
      const ownerReferences = retentionOwnerReferences(claim, this.set, pod);
      if (ownerReferences === undefined) continue;
      const updated = deepCopy(claim);
      (updated.metadata as NonNullable<PersistentVolumeClaim['metadata']>).ownerReferences = ownerReferences;
      await this.deps.client.persistentVolumeClaims(this.namespace).update(updated);
    }
  }
}
