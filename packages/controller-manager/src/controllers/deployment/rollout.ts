// One sync of one Deployment, as upstream's deployment controller does it:
// find (or create) the new ReplicaSet, then either scale proportionally (a
// replicas change), roll (RollingUpdate or Recreate), or only refresh status
// (paused, being deleted); clean up old revisions; write status if changed.
// A Rollout lives for one sync: `d` is replaced by what the API server
// answers to each status write.
import {
  deepCopy,
  jsonEqual,
  newControllerRef,
  POD_TEMPLATE_HASH_LABEL,
  podTemplateHash,
  podTemplatesEqualIgnoringHash,
  type Deployment,
  type DeploymentStatus,
  type LabelSelector,
  type Pod,
  type ReplicaSet,
} from '@kube-lite/api';
import { isAlreadyExists, isNotFound, type ApiClient, type EventRecorder, type Lister, type Logger } from '@kube-lite/client';
import {
  activeReplicaSets,
  actualReplicas,
  availableReplicas,
  byCreation,
  deploymentComplete,
  deploymentProgressing,
  deploymentTimedOut,
  desiredReplicasAnnotation,
  FAILED_RS_CREATE_REASON,
  findNewReplicaSet,
  FOUND_NEW_RS_REASON,
  getCondition,
  hasProgressDeadline,
  isRollingUpdate,
  maxReplicasAnnotation,
  maxRevision,
  maxSurge,
  maxUnavailable,
  MINIMUM_REPLICAS_AVAILABLE,
  MINIMUM_REPLICAS_UNAVAILABLE,
  NEW_RS_AVAILABLE_REASON,
  NEW_RS_CREATED_REASON,
  newCondition,
  newReplicaSetReplicas,
  PAUSED_REASON,
  readyReplicas,
  removeCondition,
  replicasAnnotationsNeedUpdate,
  replicasOf,
  RESUMED_REASON,
  REVISION_ANNOTATION,
  revisionOf,
  roundHalfAwayFromZero,
  RS_UPDATED_REASON,
  setCondition,
  setNewReplicaSetAnnotations,
  setReplicasAnnotations,
  specReplicas,
  TIMED_OUT_REASON,
} from './util';

export interface RolloutDependencies {
  client: ApiClient;
  recorder: EventRecorder;
  logger: Logger;
  nowMs: () => number;
  replicaSetLister: Lister<ReplicaSet>;
  /** Re-queues the Deployment after a delay (progress deadline checks). */
  requeueAfter: (d: Deployment, delayMs: number) => void;
}

export class Rollout {
  private readonly namespace: string;

  constructor(
    private readonly deps: RolloutDependencies,
    /** The Deployment as last read or written. */
    public d: Deployment,
    /** The ReplicaSets it owns. */
    private replicaSets: ReplicaSet[],
    /** Its pods by owning ReplicaSet uid (Recreate waits for old pods to be gone). */
    private readonly podsByReplicaSetUid: Map<string, Pod[]>,
  ) {
    this.namespace = d.metadata?.namespace ?? '';
  }

  /** Runs the sync that fits the Deployment's state. */
  async run(): Promise<void> {
    if (this.d.metadata?.deletionTimestamp !== undefined) {
      const { newRS, oldRSs } = await this.replicaSetsAndSyncRevision(false);
      await this.syncStatusOnly([...oldRSs, newRS], newRS);
      return;
    }
    await this.checkPausedConditions();
    if (this.d.spec?.paused === true || (await this.isScalingEvent())) {
      await this.scaleOnly();
      return;
    }
    if (isRollingUpdate(this.d)) await this.rolloutRolling();
    else await this.rolloutRecreate();
  }

  // ---- the new ReplicaSet and revisions ----

  /** Old ReplicaSets (not matching the template) and the new one, creating it when asked. */
  private async replicaSetsAndSyncRevision(create: boolean): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const existing = findNewReplicaSet(this.d, this.replicaSets);
    const oldRSs = this.replicaSets.filter((rs) => rs !== existing);
    const newRS = await this.newReplicaSet(existing, oldRSs, create);
    return { newRS, oldRSs };
  }

  private async newReplicaSet(existing: ReplicaSet | undefined, oldRSs: ReplicaSet[], create: boolean): Promise<ReplicaSet | undefined> {
    const d = this.d;
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing !== undefined) {
      const copy = deepCopy(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true);
      const minReadySeconds = d.spec?.minReadySeconds ?? 0;
      if (annotationsChanged || (copy.spec?.minReadySeconds ?? 0) !== minReadySeconds) {
        (copy.spec as NonNullable<ReplicaSet['spec']>).minReadySeconds = minReadySeconds;
        const updated = await this.deps.client.replicaSets(this.namespace).update(copy);
        // Later steps of this sync look the sets up again: they must see this version.
        this.replicaSets = this.replicaSets.map((rs) => (rs === existing ? updated : rs));
        await this.setRevision(revisionOf(updated));
        return updated;
      }
      await this.setRevision(revisionOf(copy));
      if (hasProgressDeadline(this.d) && getCondition(this.d.status, 'Progressing') === undefined) {
        const status = deepCopy(this.d.status ?? {});
        setCondition(status, newCondition('Progressing', 'True', FOUND_NEW_RS_REASON, `Found new replica set "${copy.metadata?.name ?? ''}"`, this.deps.nowMs()));
        await this.writeStatus(status);
      }
      return copy;
    }
    if (!create) return undefined;

    const template = deepCopy(d.spec?.template ?? {});
    const hash = podTemplateHash(template, d.status?.collisionCount);
    const templateMeta = (template.metadata ??= {});
    templateMeta.labels = { ...(templateMeta.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const selector: LabelSelector = deepCopy(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${d.metadata?.name ?? ''}-${hash}`;
    const fresh: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace: this.namespace, ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')], labels: { ...templateMeta.labels } },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    const replicas = newReplicaSetReplicas(d, [...oldRSs, fresh], fresh);
    (fresh.spec as NonNullable<ReplicaSet['spec']>).replicas = replicas;
    setNewReplicaSetAnnotations(d, fresh, newRevision, false);
    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = await this.deps.client.replicaSets(this.namespace).create(fresh);
    } catch (error) {
      if (isAlreadyExists(error)) {
        const found = this.deps.replicaSetLister.get(this.namespace, name) ?? (await this.deps.client.replicaSets(this.namespace).get(name));
        const ours = found.metadata?.ownerReferences?.some((ref) => ref.controller === true && ref.uid === d.metadata?.uid) ?? false;
        if (ours && podTemplatesEqualIgnoringHash(d.spec?.template, found.spec?.template)) {
          created = deepCopy(found);
          alreadyExisted = true;
        } else {
          // A hash collision with someone else's ReplicaSet: the next hash includes a bumped collisionCount.
          const status = deepCopy(d.status ?? {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await this.writeStatus(status);
          this.deps.logger.warn('pod-template-hash collision; retrying with a new collisionCount', { deployment: `${this.namespace}/${d.metadata?.name ?? ''}`, replicaSet: name });
          throw error;
        }
      } else {
        if (hasProgressDeadline(d)) {
          const status = deepCopy(d.status ?? {});
          setCondition(status, newCondition('Progressing', 'False', FAILED_RS_CREATE_REASON, `Failed to create new replica set "${name}": ${error instanceof Error ? error.message : String(error)}`, this.deps.nowMs()));
          await this.writeStatus(status);
        }
        throw error;
      }
    }
    if (!alreadyExisted) {
      this.deps.logger.info('created new replica set', { deployment: `${this.namespace}/${d.metadata?.name ?? ''}`, replicaSet: name, replicas, revision: newRevision });
      if (replicas > 0) this.deps.recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
    }
    await this.setRevision(revisionOf(created));
    if (!alreadyExisted && hasProgressDeadline(this.d)) {
      const status = deepCopy(this.d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', NEW_RS_CREATED_REASON, `Created new replica set "${name}"`, this.deps.nowMs()));
      await this.writeStatus(status);
    }
    return created;
  }

  /**
   * Shows the new ReplicaSet's revision on the Deployment too (kubectl
   * describe and rollout history read it there). A metadata-only merge patch:
   * it does not bump the generation.
   */
  private async setRevision(revision: number): Promise<void> {
    const current = Number(this.d.metadata?.annotations?.[REVISION_ANNOTATION] ?? '0');
    if (revision <= 0 || current === revision) return;
    const patch = { metadata: { annotations: { [REVISION_ANNOTATION]: String(revision) } } };
    this.d = await this.deps.client.deployments(this.namespace).patch(this.d.metadata?.name ?? '', 'merge', patch);
  }

  // ---- scaling ----

  private async isScalingEvent(): Promise<boolean> {
    const { newRS, oldRSs } = await this.replicaSetsAndSyncRevision(false);
    for (const rs of activeReplicaSets([...oldRSs, newRS])) {
      const desired = desiredReplicasAnnotation(rs);
      if (desired !== undefined && desired !== replicasOf(this.d)) return true;
    }
    return false;
  }

  /** Paused or resized: scale without rolling, clean up history when paused, refresh status. */
  private async scaleOnly(): Promise<void> {
    const found = await this.replicaSetsAndSyncRevision(false);
    const { newRS, oldRSs } = await this.scale(found.newRS, found.oldRSs);
    if (this.d.spec?.paused === true) await this.cleanup(oldRSs);
    await this.syncStatusOnly([...oldRSs, newRS], newRS);
  }

  /**
   * Brings the ReplicaSets' sizes to the Deployment's: the single active one
   * directly, otherwise (mid-rollout) proportionally to their sizes, the
   * remainder going to the largest (upstream scale()). Answers the sets as
   * they are after the writes.
   */
  private async scale(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const d = this.d;
    const replicas = replicasOf(d);
    const updated = new Map<ReplicaSet, ReplicaSet>();
    const resize = async (rs: ReplicaSet, size: number): Promise<void> => {
      updated.set(rs, await this.scaleReplicaSet(rs, size));
    };
    const newestOldFirst = [...oldRSs].sort((a, b) => byCreation(b, a));
    const active = activeReplicaSets([...newestOldFirst, newRS]);
    if (active.length <= 1) {
      // One active set (or none: then the newest) simply takes the Deployment's size.
      const only = active[0] ?? newRS ?? newestOldFirst[0];
      if (only !== undefined && replicasOf(only) !== replicas) await resize(only, replicas);
    } else if (newRS !== undefined && desiredReplicasAnnotation(newRS) === replicas && replicasOf(newRS) === replicas && (newRS.status?.availableReplicas ?? 0) === replicas) {
      // The new set is saturated: the old ones go to zero.
      for (const old of activeReplicaSets(oldRSs)) await resize(old, 0);
    } else if (isRollingUpdate(d)) {
      const allowed = replicas > 0 ? replicas + maxSurge(d) : 0;
      const toAdd = allowed - specReplicas(active);
      // Growing favours the largest, newest sets; shrinking the largest, oldest.
      const ordered = [...active].sort((a, b) => replicasOf(b) - replicasOf(a) || (toAdd > 0 ? byCreation(b, a) : byCreation(a, b)));
      const sizes = new Map<ReplicaSet, number>();
      let added = 0;
      for (const rs of ordered) {
        const share = this.proportion(rs, toAdd, added);
        sizes.set(rs, replicasOf(rs) + share);
        added += share;
      }
      const largest = ordered[0];
      if (largest !== undefined && toAdd !== added) sizes.set(largest, Math.max(0, (sizes.get(largest) ?? 0) + toAdd - added));
      for (const rs of ordered) await resize(rs, sizes.get(rs) ?? replicasOf(rs));
    }
    const current = (rs: ReplicaSet): ReplicaSet => updated.get(rs) ?? rs;
    return { newRS: newRS === undefined ? undefined : current(newRS), oldRSs: oldRSs.map(current) };
  }

  /** This ReplicaSet's share of `toAdd` (upstream GetProportion / getReplicaSetFraction). */
  private proportion(rs: ReplicaSet, toAdd: number, added: number): number {
    if (replicasOf(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    const d = this.d;
    let fraction: number;
    if (replicasOf(d) === 0) fraction = -replicasOf(rs);
    else {
      const deploymentReplicas = replicasOf(d) + maxSurge(d);
      const annotated = maxReplicasAnnotation(rs) ?? d.status?.replicas ?? 0;
      fraction = annotated === 0 ? 0 : roundHalfAwayFromZero((replicasOf(rs) * deploymentReplicas) / annotated) - replicasOf(rs);
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  /** Sets spec.replicas (and the replica annotations) when they differ; records the ScalingReplicaSet event. */
  private async scaleReplicaSet(rs: ReplicaSet, replicas: number): Promise<ReplicaSet> {
    const d = this.d;
    const sizeChanged = replicasOf(rs) !== replicas;
    const max = replicasOf(d) + maxSurge(d);
    if (!sizeChanged && !replicasAnnotationsNeedUpdate(rs, replicasOf(d), max)) return rs;
    const copy = deepCopy(rs);
    (copy.spec ??= { selector: {} }).replicas = replicas;
    setReplicasAnnotations(copy, replicasOf(d), max);
    const updated = await this.deps.client.replicaSets(this.namespace).update(copy);
    if (sizeChanged) {
      const direction = replicasOf(rs) < replicas ? 'up' : 'down';
      this.deps.recorder.record(d, 'Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${rs.metadata?.name ?? ''} from ${replicasOf(rs)} to ${replicas}`);
      this.deps.logger.info('scaled replica set', { deployment: `${this.namespace}/${d.metadata?.name ?? ''}`, replicaSet: rs.metadata?.name, from: replicasOf(rs), to: replicas });
    }
    return updated;
  }

  // ---- RollingUpdate ----

  private async rolloutRolling(): Promise<void> {
    const found = await this.replicaSetsAndSyncRevision(true);
    let newRS = found.newRS as ReplicaSet;
    let oldRSs = found.oldRSs;
    // 1. Grow the new ReplicaSet within maxSurge.
    const target = replicasOf(newRS) > replicasOf(this.d) ? replicasOf(this.d) : newReplicaSetReplicas(this.d, [...oldRSs, newRS], newRS);
    if (replicasOf(newRS) !== replicasOf(this.d) && target !== replicasOf(newRS)) {
      newRS = await this.scaleReplicaSet(newRS, target);
      await this.syncRolloutStatus([...oldRSs, newRS], newRS);
      return;
    }
    // 2. Shrink old ReplicaSets while keeping replicas - maxUnavailable available.
    const shrunk = await this.reconcileOldReplicaSets(oldRSs, newRS);
    oldRSs = shrunk.oldRSs;
    if (shrunk.scaledDown) {
      await this.syncRolloutStatus([...oldRSs, newRS], newRS);
      return;
    }
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanup(oldRSs);
    await this.syncRolloutStatus([...oldRSs, newRS], newRS);
  }

  private async reconcileOldReplicaSets(oldRSs: ReplicaSet[], newRS: ReplicaSet): Promise<{ oldRSs: ReplicaSet[]; scaledDown: boolean }> {
    const d = this.d;
    const oldPods = specReplicas(oldRSs);
    if (oldPods === 0) return { oldRSs, scaledDown: false };
    const allPods = specReplicas([...oldRSs, newRS]);
    const minAvailable = replicasOf(d) - maxUnavailable(d);
    const newUnavailable = replicasOf(newRS) - (newRS.status?.availableReplicas ?? 0);
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return { oldRSs, scaledDown: false };
    // Unhealthy old replicas go first: removing them costs no availability.
    const sorted = [...oldRSs].sort(byCreation);
    let cleaned = 0;
    for (let i = 0; i < sorted.length && cleaned < maxScaledDown; i += 1) {
      const rs = sorted[i] as ReplicaSet;
      const replicas = replicasOf(rs);
      const available = rs.status?.availableReplicas ?? 0;
      if (replicas === 0 || replicas === available) continue;
      const count = Math.min(maxScaledDown - cleaned, replicas - available);
      sorted[i] = await this.scaleReplicaSet(rs, replicas - count);
      cleaned += count;
    }
    // Then healthy ones, down to minAvailable available pods in total.
    const available = availableReplicas([...sorted, newRS]);
    let scaled = 0;
    if (available > minAvailable) {
      const total = available - minAvailable;
      for (let i = 0; i < sorted.length && scaled < total; i += 1) {
        const rs = sorted[i] as ReplicaSet;
        if (replicasOf(rs) === 0) continue;
        const count = Math.min(replicasOf(rs), total - scaled);
        sorted[i] = await this.scaleReplicaSet(rs, replicasOf(rs) - count);
        scaled += count;
      }
    }
    return { oldRSs: sorted, scaledDown: cleaned + scaled > 0 };
  }

  // ---- Recreate ----

  private async rolloutRecreate(): Promise<void> {
    let { newRS, oldRSs } = await this.replicaSetsAndSyncRevision(false);
    // 1. Scale every old ReplicaSet to zero.
    let scaledDown = false;
    for (let i = 0; i < oldRSs.length; i += 1) {
      const rs = oldRSs[i] as ReplicaSet;
      if (replicasOf(rs) === 0) continue;
      oldRSs[i] = await this.scaleReplicaSet(rs, 0);
      scaledDown = true;
    }
    if (scaledDown) {
      await this.syncRolloutStatus([...oldRSs, newRS], newRS);
      return;
    }
    // 2. Wait until no old pod runs.
    if (this.oldPodsRunning(newRS, oldRSs)) {
      await this.syncRolloutStatus([...oldRSs, newRS], newRS);
      return;
    }
    // 3. Create and scale up the new ReplicaSet.
    if (newRS === undefined) ({ newRS, oldRSs } = await this.replicaSetsAndSyncRevision(true));
    const created = newRS as ReplicaSet;
    newRS = replicasOf(created) === replicasOf(this.d) ? created : await this.scaleReplicaSet(created, replicasOf(this.d));
    if (deploymentComplete(this.d, this.d.status ?? {})) await this.cleanup(oldRSs);
    await this.syncRolloutStatus([...oldRSs, newRS], newRS);
  }

  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): boolean {
    if (actualReplicas(oldRSs) > 0) return true;
    for (const [uid, pods] of this.podsByReplicaSetUid) {
      if (newRS !== undefined && uid === newRS.metadata?.uid) continue;
      if (pods.some((pod) => pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded')) return true;
    }
    return false;
  }

  // ---- history ----

  /** Deletes the oldest fully scaled-down ReplicaSets beyond revisionHistoryLimit. */
  private async cleanup(oldRSs: ReplicaSet[]): Promise<void> {
    const limit = this.d.spec?.revisionHistoryLimit;
    if (limit === undefined) return;
    const cleanable = oldRSs.filter((rs) => rs.metadata?.deletionTimestamp === undefined);
    const excess = cleanable.length - limit;
    if (excess <= 0) return;
    const byRevision = [...cleanable].sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of byRevision.slice(0, excess)) {
      const busy = (rs.status?.replicas ?? 0) !== 0 || replicasOf(rs) !== 0 || (rs.metadata?.generation ?? 0) > (rs.status?.observedGeneration ?? 0);
      if (busy) continue;
      try {
        await this.deps.client.replicaSets(this.namespace).delete(rs.metadata?.name ?? '');
        this.deps.logger.info('deleted old replica set beyond revisionHistoryLimit', { deployment: `${this.namespace}/${this.d.metadata?.name ?? ''}`, replicaSet: rs.metadata?.name, revision: revisionOf(rs) });
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  // ---- status ----

  /** Pauses and resumes show as Progressing Unknown, as upstream. */
  private async checkPausedConditions(): Promise<void> {
    const d = this.d;
    if (!hasProgressDeadline(d)) return;
    const condition = getCondition(d.status, 'Progressing');
    if (condition?.reason === TIMED_OUT_REASON) return;
    const pausedShown = condition?.reason === PAUSED_REASON;
    const status = deepCopy(d.status ?? {});
    if (d.spec?.paused === true && !pausedShown) setCondition(status, newCondition('Progressing', 'Unknown', PAUSED_REASON, 'Deployment is paused', this.deps.nowMs()));
    else if (d.spec?.paused !== true && pausedShown) setCondition(status, newCondition('Progressing', 'Unknown', RESUMED_REASON, 'Deployment is resumed', this.deps.nowMs()));
    else return;
    await this.writeStatus(status);
  }

  private calculateStatus(all: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentStatus {
    const d = this.d;
    const available = availableReplicas(all);
    const status: DeploymentStatus = {
      observedGeneration: d.metadata?.generation ?? 0,
      replicas: actualReplicas(all),
      updatedReplicas: actualReplicas([newRS]),
      readyReplicas: readyReplicas(all),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, specReplicas(all) - available),
      conditions: deepCopy(d.status?.conditions ?? []),
    };
    if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
    const now = this.deps.nowMs();
    if (available >= replicasOf(d) - maxUnavailable(d)) setCondition(status, newCondition('Available', 'True', MINIMUM_REPLICAS_AVAILABLE, 'Deployment has minimum availability.', now));
    else setCondition(status, newCondition('Available', 'False', MINIMUM_REPLICAS_UNAVAILABLE, 'Deployment does not have minimum availability.', now));
    return status;
  }

  private async syncStatusOnly(all: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const status = this.calculateStatus(all, newRS);
    if (!jsonEqual(this.d.status ?? {}, status)) await this.writeStatus(status);
  }

  /** Status plus the Progressing condition: progressing, complete, or past its deadline. */
  private async syncRolloutStatus(all: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> {
    const d = this.d;
    const now = this.deps.nowMs();
    const status = this.calculateStatus(all, newRS);
    if (!hasProgressDeadline(d)) removeCondition(status, 'Progressing');
    const current = getCondition(d.status, 'Progressing');
    const complete = status.replicas === status.updatedReplicas && current?.reason === NEW_RS_AVAILABLE_REASON;
    const rsName = newRS?.metadata?.name ?? '';
    if (hasProgressDeadline(d) && !complete) {
      if (deploymentComplete(d, status)) {
        setCondition(status, newCondition('Progressing', 'True', NEW_RS_AVAILABLE_REASON, `ReplicaSet "${rsName}" has successfully progressed.`, now));
      } else if (deploymentProgressing(d, status)) {
        const condition = newCondition('Progressing', 'True', RS_UPDATED_REASON, `ReplicaSet "${rsName}" is progressing.`, now);
        if (current?.status === 'True' && current.lastTransitionTime !== undefined) condition.lastTransitionTime = current.lastTransitionTime;
        removeCondition(status, 'Progressing');
        setCondition(status, condition);
      } else if (deploymentTimedOut(d, status, now)) {
        setCondition(status, newCondition('Progressing', 'False', TIMED_OUT_REASON, `ReplicaSet "${rsName}" has timed out progressing.`, now));
        this.deps.logger.warn('deployment exceeded its progress deadline', { deployment: `${this.namespace}/${d.metadata?.name ?? ''}`, replicaSet: rsName });
      }
    }
    if (jsonEqual(d.status ?? {}, status)) {
      this.requeueStuck(status);
      return;
    }
    await this.writeStatus(status);
  }

  /** No event marks a deadline passing: look again when it would. */
  private requeueStuck(status: DeploymentStatus): void {
    const d = this.d;
    const condition = getCondition(status, 'Progressing');
    if (!hasProgressDeadline(d) || condition === undefined || condition.reason === NEW_RS_AVAILABLE_REASON || condition.reason === TIMED_OUT_REASON) return;
    if (deploymentComplete(d, status)) return;
    const from = Date.parse(condition.lastUpdateTime ?? '');
    if (Number.isNaN(from)) return;
    const afterMs = from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 - this.deps.nowMs();
    this.deps.requeueAfter(d, Math.max(0, afterMs) + 1000);
  }

  private async writeStatus(status: DeploymentStatus): Promise<void> {
    this.d = await this.deps.client.deployments(this.namespace).updateStatus({ ...this.d, status });
  }
}
