// Per-kind rules the generic registry store applies (upstream's rest
// strategies): what a new object starts with, what an update may change, which
// kinds count spec changes in metadata.generation, graceful deletion, TTLs.

import { generateJobSelector, podQOSClass, type Pod, type Job, type ResourceInfo } from '@kube-lite/api';
import type { ApiObject } from './object';

export interface KindStrategy {
  /** metadata.generation starts at 1 and grows by one per spec change (workloads, Ingress, HPA, PDB). */
  tracksGeneration: boolean;
  /** The kind has a status subresource: status is reset on create, ignored by main-resource updates and is all /status may change. */
  hasStatusSubresource: boolean;
  /** Status given on create is kept (Nodes register themselves with their status). */
  keepsStatusOnCreate: boolean;
  /** Objects live this long after their last write (Events, upstream's --event-ttl). */
  ttlSeconds?: number;
  /** Kind-specific fixes to a new object after metadata is assigned (uid is known). */
  prepareForCreate?(object: ApiObject): void;
  /** Kind-specific carry-over from the stored object on a main-resource update. */
  prepareForUpdate?(next: ApiObject, previous: ApiObject): void;
  /**
   * Seconds the object may take to go away after a DELETE, 0 to delete at once. Undefined means the kind
   * has no graceful deletion.
   */
  gracePeriodSeconds?(object: ApiObject, requestedSeconds: number | undefined): number;
}

/** Kinds whose spec changes bump metadata.generation, as their upstream strategies do. */
const GENERATION_KINDS = new Set([
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'HorizontalPodAutoscaler',
  'Ingress',
  'PodDisruptionBudget',
]);

/** Default pod grace period when the spec does not give one (upstream's DefaultTerminationGracePeriodSeconds). */
export const DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS = 30;

function podGracePeriodSeconds(object: ApiObject, requestedSeconds: number | undefined): number {
  const pod = object as Pod;
  // An unscheduled pod has no kubelet to stop it; a finished one has nothing left to stop.
  if (!pod.spec?.nodeName) return 0;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return 0;
  const seconds = requestedSeconds ?? pod.spec.terminationGracePeriodSeconds ?? DEFAULT_TERMINATION_GRACE_PERIOD_SECONDS;
  // Upstream turns a negative request into 1 second rather than an immediate delete.
  return seconds < 0 ? 1 : seconds;
}

const podStrategy: Partial<KindStrategy> = {
  prepareForCreate(object) {
    const pod = object as Pod;
    pod.status = { phase: 'Pending', qosClass: podQOSClass(pod) };
  },
  gracePeriodSeconds: podGracePeriodSeconds,
};

const namespaceStrategy: Partial<KindStrategy> = {
  prepareForCreate(object) {
    // The namespace controller empties a namespace before removing this finalizer.
    const spec = (object.spec ??= {});
    const finalizers: string[] = Array.isArray(spec.finalizers) ? spec.finalizers : [];
    if (!finalizers.includes('kubernetes')) finalizers.push('kubernetes');
    spec.finalizers = finalizers;
    object.status = { phase: 'Active' };
  },
  prepareForUpdate(next, previous) {
    // spec.finalizers changes only through /finalize.
    next.spec = { ...(next.spec ?? {}), finalizers: previous.spec?.finalizers };
    if (next.spec.finalizers === undefined) delete next.spec.finalizers;
  },
};

const jobStrategy: Partial<KindStrategy> = {
  prepareForCreate(object) {
    generateJobSelector(object as Job);
  },
};

const claimStrategy: Partial<KindStrategy> = {
  prepareForCreate(object) {
    object.status = { phase: 'Pending' };
  },
};

const volumeStrategy: Partial<KindStrategy> = {
  prepareForCreate(object) {
    object.status = { phase: 'Pending' };
  },
};

/**
 * stringData is write-only, as upstream's conversion makes it: its entries replace those of data (base64
 * encoded) and it is never stored, so it never comes back in a read and is encrypted at rest like data.
 */
function mergeStringData(object: ApiObject): void {
  const stringData = object.stringData as Record<string, unknown> | undefined;
  delete object.stringData;
  if (typeof stringData !== 'object' || stringData === null || Array.isArray(stringData)) return;
  const data: Record<string, unknown> = typeof object.data === 'object' && object.data !== null && !Array.isArray(object.data) ? { ...(object.data as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(stringData)) {
    if (typeof value === 'string') data[key] = Buffer.from(value, 'utf8').toString('base64');
  }
  object.data = data;
}

const secretStrategy: Partial<KindStrategy> = {
  prepareForCreate: mergeStringData,
  prepareForUpdate: mergeStringData,
};

const KIND_STRATEGIES: Record<string, Partial<KindStrategy>> = {
  Secret: secretStrategy,
  Pod: podStrategy,
  Namespace: namespaceStrategy,
  Job: jobStrategy,
  PersistentVolumeClaim: claimStrategy,
  PersistentVolume: volumeStrategy,
  Node: { keepsStatusOnCreate: true },
};

export interface StrategyOptions {
  /** How long Events live (upstream --event-ttl, default 1 h). */
  eventTtlSeconds: number;
}

/** The strategy of a served resource. */
export function strategyFor(info: ResourceInfo, options: StrategyOptions): KindStrategy {
  const strategy: KindStrategy = {
    tracksGeneration: GENERATION_KINDS.has(info.kind),
    hasStatusSubresource: info.subresources.some((subresource) => subresource.name === 'status'),
    keepsStatusOnCreate: false,
    ...(KIND_STRATEGIES[info.kind] ?? {}),
  };
  if (info.kind === 'Event' && info.group === '') strategy.ttlSeconds = options.eventTtlSeconds;
  return strategy;
}
