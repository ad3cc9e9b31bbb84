// Deployment arithmetic and bookkeeping, as upstream's deployment/util: the
// revision and replica annotations on ReplicaSets, the rolling-update fence
// posts, replica counts over sets of ReplicaSets, and status conditions.
import {
  formatTime,
  parseTime,
  podTemplatesEqualIgnoringHash,
  resolveFenceposts,
  type Deployment,
  type DeploymentStatus,
  type ReplicaSet,
  type WorkloadCondition,
} from '@kube-lite/api';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

/** Deployment annotations that are not copied to its ReplicaSets. */
const SKIPPED_ANNOTATIONS = new Set([LAST_APPLIED_ANNOTATION, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, DESIRED_REPLICAS_ANNOTATION, MAX_REPLICAS_ANNOTATION, 'deprecated.deployment.rollback.to']);

// Condition reasons, as upstream spells them (kubectl rollout status reads some).
export const NEW_RS_CREATED_REASON = 'NewReplicaSetCreated';
export const FOUND_NEW_RS_REASON = 'FoundNewReplicaSet';
export const RS_UPDATED_REASON = 'ReplicaSetUpdated';
export const NEW_RS_AVAILABLE_REASON = 'NewReplicaSetAvailable';
export const TIMED_OUT_REASON = 'ProgressDeadlineExceeded';
export const FAILED_RS_CREATE_REASON = 'ReplicaSetCreateError';
export const PAUSED_REASON = 'DeploymentPaused';
export const RESUMED_REASON = 'DeploymentResumed';
export const MINIMUM_REPLICAS_AVAILABLE = 'MinimumReplicasAvailable';
export const MINIMUM_REPLICAS_UNAVAILABLE = 'MinimumReplicasUnavailable';

export function replicasOf(object: Deployment | ReplicaSet | undefined): number {
  return object?.spec?.replicas ?? 1;
}

export function isRollingUpdate(d: Deployment): boolean {
  return (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
}

/** How many pods above spec.replicas a rolling update may run (maxSurge, rounded up). */
export function maxSurge(d: Deployment): number {
  if (!isRollingUpdate(d)) return 0;
  const rolling = d.spec?.strategy?.rollingUpdate;
  return resolveFenceposts(rolling?.maxSurge ?? '25%', rolling?.maxUnavailable ?? '25%', replicasOf(d)).surge;
}

/** How many pods below spec.replicas may be unavailable during a rolling update (maxUnavailable, rounded down). */
export function maxUnavailable(d: Deployment): number {
  const replicas = replicasOf(d);
  if (!isRollingUpdate(d) || replicas === 0) return 0;
  const rolling = d.spec?.strategy?.rollingUpdate;
  const { unavailable } = resolveFenceposts(rolling?.maxSurge ?? '25%', rolling?.maxUnavailable ?? '25%', replicas);
  return Math.min(unavailable, replicas);
}

export function revisionOf(rs: ReplicaSet): number {
  const value = Number(rs.metadata?.annotations?.[REVISION_ANNOTATION] ?? '0');
  return Number.isInteger(value) && value >= 0 ? value : 0;
}

export function maxRevision(replicaSets: readonly ReplicaSet[]): number {
  return Math.max(0, ...replicaSets.map(revisionOf));
}

function intAnnotation(rs: ReplicaSet, name: string): number | undefined {
  const text = rs.metadata?.annotations?.[name];
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isInteger(value) ? value : undefined;
}

export const desiredReplicasAnnotation = (rs: ReplicaSet): number | undefined => intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);
export const maxReplicasAnnotation = (rs: ReplicaSet): number | undefined => intAnnotation(rs, MAX_REPLICAS_ANNOTATION);

/** Sets desired-replicas and max-replicas; true when either changed. */
export function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = ((rs.metadata ??= {}).annotations ??= {});
  let changed = false;
  if (annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired)) {
    annotations[DESIRED_REPLICAS_ANNOTATION] = String(desired);
    changed = true;
  }
  if (annotations[MAX_REPLICAS_ANNOTATION] !== String(max)) {
    annotations[MAX_REPLICAS_ANNOTATION] = String(max);
    changed = true;
  }
  return changed;
}

export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = rs.metadata?.annotations ?? {};
  return annotations[DESIRED_REPLICAS_ANNOTATION] !== String(desired) || annotations[MAX_REPLICAS_ANNOTATION] !== String(max);
}

/**
 * Copies the Deployment's own annotations and raises the revision to
 * `newRevision` when it is higher (a rolled-back-to ReplicaSet gets a new
 * revision); for a new ReplicaSet also sets the replica annotations. True when
 * anything changed (upstream SetNewReplicaSetAnnotations).
 */
export function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: number, exists: boolean): boolean {
  const annotations = ((rs.metadata ??= {}).annotations ??= {});
  let changed = false;
  for (const [name, value] of Object.entries(d.metadata?.annotations ?? {})) {
    if (SKIPPED_ANNOTATIONS.has(name) || annotations[name] === value) continue;
    annotations[name] = value;
    changed = true;
  }
  if (revisionOf(rs) < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
  }
  if (!exists && setReplicasAnnotations(rs, replicasOf(d), replicasOf(d) + maxSurge(d))) changed = true;
  return changed;
}

/** Oldest first; ties by name, as upstream's ReplicaSetsByCreationTimestamp. */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const createdA = parseTime(a.metadata?.creationTimestamp ?? undefined) ?? 0;
  const createdB = parseTime(b.metadata?.creationTimestamp ?? undefined) ?? 0;
  if (createdA !== createdB) return createdA - createdB;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}

/** The ReplicaSet whose template is the Deployment's (the oldest, should there be several). */
export function findNewReplicaSet(d: Deployment, replicaSets: readonly ReplicaSet[]): ReplicaSet | undefined {
  return [...replicaSets].sort(byCreation).find((rs) => podTemplatesEqualIgnoringHash(rs.spec?.template, d.spec?.template));
}

export function activeReplicaSets(replicaSets: readonly (ReplicaSet | undefined)[]): ReplicaSet[] {
  return replicaSets.filter((rs): rs is ReplicaSet => rs !== undefined && replicasOf(rs) > 0);
}

const sum = (replicaSets: readonly (ReplicaSet | undefined)[], pick: (rs: ReplicaSet) => number): number =>
  replicaSets.reduce((total, rs) => total + (rs === undefined ? 0 : pick(rs)), 0);

/** Sum of spec.replicas. */
export const specReplicas = (replicaSets: readonly (ReplicaSet | undefined)[]): number => sum(replicaSets, replicasOf);
/** Sum of status.replicas. */
export const actualReplicas = (replicaSets: readonly (ReplicaSet | undefined)[]): number => sum(replicaSets, (rs) => rs.status?.replicas ?? 0);
export const readyReplicas = (replicaSets: readonly (ReplicaSet | undefined)[]): number => sum(replicaSets, (rs) => rs.status?.readyReplicas ?? 0);
export const availableReplicas = (replicaSets: readonly (ReplicaSet | undefined)[]): number => sum(replicaSets, (rs) => rs.status?.availableReplicas ?? 0);

/**
 * How many replicas the new ReplicaSet should have now (upstream
 * NewRSNewReplicas): a rolling update grows it while the total stays within
 * replicas + maxSurge; Recreate jumps to replicas.
 */
export function newReplicaSetReplicas(d: Deployment, allReplicaSets: readonly (ReplicaSet | undefined)[], newRS: ReplicaSet): number {
  if (!isRollingUpdate(d)) return replicasOf(d);
  const current = specReplicas(allReplicaSets);
  const maxTotal = replicasOf(d) + maxSurge(d);
  if (current >= maxTotal) return replicasOf(newRS);
  const scaleUp = Math.min(maxTotal - current, replicasOf(d) - replicasOf(newRS));
  return replicasOf(newRS) + scaleUp;
}

/** The rollout is done: every replica updated and available, and the latest spec observed. */
export function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const replicas = replicasOf(d);
  return (
    (status.updatedReplicas ?? 0) === replicas &&
    (status.replicas ?? 0) === replicas &&
    (status.availableReplicas ?? 0) === replicas &&
    (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
  );
}

/** The rollout made progress since the status `d` carries. */
export function deploymentProgressing(d: Deployment, status: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOldReplicas = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOldReplicas = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (
    (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOldReplicas < oldOldReplicas ||
    (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

export function hasProgressDeadline(d: Deployment): boolean {
  const seconds = d.spec?.progressDeadlineSeconds;
  return seconds !== undefined && seconds !== 2_147_483_647;
}

export function getCondition(status: DeploymentStatus | undefined, type: string): WorkloadCondition | undefined {
  return status?.conditions?.find((condition) => condition.type === type);
}

export function newCondition(type: string, status: WorkloadCondition['status'], reason: string, message: string, nowMs: number): WorkloadCondition {
  const time = formatTime(nowMs);
  return { type, status, lastUpdateTime: time, lastTransitionTime: time, reason, message };
}

/** Sets a condition; the same status and reason change nothing, the same status keeps its transition time. */
export function setCondition(status: DeploymentStatus, condition: WorkloadCondition): void {
  const current = getCondition(status, condition.type);
  if (current !== undefined && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current !== undefined && current.status === condition.status && current.lastTransitionTime !== undefined) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((existing) => existing.type !== condition.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (status.conditions === undefined) return;
  status.conditions = status.conditions.filter((condition) => condition.type !== type);
}

/** The condition has gone without progress for longer than progressDeadlineSeconds. */
export function deploymentTimedOut(d: Deployment, status: DeploymentStatus, nowMs: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = getCondition(status, 'Progressing');
  if (condition === undefined || condition.reason === NEW_RS_AVAILABLE_REASON) return false;
  if (condition.reason === TIMED_OUT_REASON) return true;
  const from = parseTime(condition.lastUpdateTime ?? undefined);
  return from !== undefined && from + (d.spec?.progressDeadlineSeconds ?? 0) * 1000 < nowMs;
}

/** Go's math.Round: halves away from zero (Math.round rounds -2.5 to -2). */
export function roundHalfAwayFromZero(value: number): number {
  return Math.sign(value) * Math.round(Math.abs(value));
}
