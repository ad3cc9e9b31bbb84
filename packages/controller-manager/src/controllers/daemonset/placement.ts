// Which nodes a DaemonSet's pod belongs on, and the pod it puts there, as
// upstream's daemon_controller.go NodeShouldRunDaemonPod and
// daemon/util: the template's nodeName, nodeSelector and required node
// affinity must match the node, and its taints must be tolerated, with the
// tolerations every daemon pod gets added. The pod is pinned to its node by
// a required node affinity term on metadata.name and left to the scheduler.
import {
  deepCopy,
  newControllerRef,
  nodeSelectorMapMatches,
  nodeSelectorTermsMatch,
  type Affinity,
  type DaemonSet,
  type Node,
  type Pod,
  type PodSpec,
  type Taint,
  type Toleration,
} from '@kube-lite/api';
import { CONTROLLER_REVISION_HASH_LABEL } from '../../controller-utils/history';

export const DAEMON_SET_API_VERSION = 'apps/v1';
export const DAEMON_SET_KIND = 'DaemonSet';
/** Upstream's deprecated template-generation annotation of a DaemonSet, copied to its pods' label when present. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/** What every daemon pod tolerates (upstream AddOrUpdateDaemonPodTolerations): node problems must not evict or block it. */
export function daemonTolerations(hostNetwork: boolean): Toleration[] {
  const tolerations: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (hostNetwork) tolerations.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  return tolerations;
}

const sameToleration = (a: Toleration, b: Toleration): boolean => (a.key ?? '') === (b.key ?? '') && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');

/** The spec's tolerations with the daemon ones added; a user toleration of the same taint is replaced (upstream AddOrUpdateTolerationInPodSpec). */
function withDaemonTolerations(spec: PodSpec): Toleration[] {
  const tolerations = [...(spec.tolerations ?? [])];
  for (const wanted of daemonTolerations(spec.hostNetwork === true)) {
    const index = tolerations.findIndex((existing) => sameToleration(existing, wanted));
    if (index >= 0) tolerations[index] = wanted;
    else tolerations.push(wanted);
  }
  return tolerations;
}

function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if ((toleration.operator ?? 'Equal') === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

function untolerated(taints: readonly Taint[], tolerations: readonly Toleration[], effects: readonly string[]): boolean {
  return taints.some((taint) => effects.includes(taint.effect) && !tolerations.some((toleration) => tolerates(toleration, taint)));
}

function nodeAffinityMatches(spec: PodSpec, node: Node): boolean {
  if (!nodeSelectorMapMatches(spec.nodeSelector ?? {}, node)) return false;
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  return terms === undefined || nodeSelectorTermsMatch(terms, node);
}

export interface NodeVerdict {
  /** A daemon pod should be created on the node if missing. */
  shouldRun: boolean;
  /** A daemon pod already on the node may stay (it tolerates every NoExecute taint). */
  shouldContinueRunning: boolean;
}

/** Upstream NodeShouldRunDaemonPod. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): NodeVerdict {
  const spec = ds.spec?.template?.spec ?? { containers: [] };
  const nodeName = node.metadata?.name ?? '';
  if (spec.nodeName && spec.nodeName !== nodeName) return { shouldRun: false, shouldContinueRunning: false };
  if (!nodeAffinityMatches(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const taints = node.spec?.taints ?? [];
  const tolerations = withDaemonTolerations(spec);
  if (untolerated(taints, tolerations, ['NoSchedule', 'NoExecute'])) return { shouldRun: false, shouldContinueRunning: !untolerated(taints, tolerations, ['NoExecute']) };
  return { shouldRun: true, shouldContinueRunning: true };
}

/** The node a daemon pod is for: its spec.nodeName, or the node its metadata.name affinity term names (upstream GetTargetNodeName). */
export function targetNodeName(pod: Pod): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const field of term.matchFields ?? []) {
      if (field.key === 'metadata.name' && field.operator === 'In' && field.values?.length === 1) return field.values[0];
    }
  }
  return undefined;
}

/** The affinity with its required node terms replaced by one pinning the pod to `nodeName` (upstream ReplaceDaemonSetPodNodeNameNodeAffinity). */
function pinnedAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const pinned = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In' as const, values: [nodeName] }] }] };
  const result = deepCopy(affinity ?? {});
  result.nodeAffinity = { ...(result.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: pinned };
  return result;
}

/** The daemon pod for `nodeName`: the template, its revision's hash label, the daemon tolerations, pinned to the node. */
export function newDaemonPod(ds: DaemonSet, nodeName: string, hash: string): Pod {
  const template = ds.spec?.template;
  const spec = deepCopy(template?.spec ?? { containers: [] });
  spec.tolerations = withDaemonTolerations(spec);
  spec.affinity = pinnedAffinity(spec.affinity, nodeName);
  const labels: Record<string, string> = { ...(template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash };
  const generation = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  if (generation !== undefined) labels[TEMPLATE_GENERATION_LABEL] = generation;
  const metadata: NonNullable<Pod['metadata']> = {
    generateName: `${ds.metadata?.name ?? ''}-`,
    namespace: ds.metadata?.namespace ?? '',
    labels,
    ownerReferences: [newControllerRef(ds, DAEMON_SET_API_VERSION, DAEMON_SET_KIND)],
  };
  if (template?.metadata?.annotations !== undefined) metadata.annotations = { ...template.metadata.annotations };
  if (template?.metadata?.finalizers !== undefined) metadata.finalizers = [...template.metadata.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/** Whether the pod is at the revision of `hash` (or of the template generation, for pods labelled that way). */
export function isPodUpdated(ds: DaemonSet, pod: Pod, hash: string): boolean {
  const labels = pod.metadata?.labels ?? {};
  const generation = ds.metadata?.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return labels[CONTROLLER_REVISION_HASH_LABEL] === hash || (generation !== undefined && labels[TEMPLATE_GENERATION_LABEL] === generation);
}

/** Scheduled pods first, then oldest first, then by name (upstream podByCreationTimestampAndPhase). */
export function compareOldestScheduledFirst(a: Pod, b: Pod): number {
  const scheduledA = a.spec?.nodeName ? 0 : 1;
  const scheduledB = b.spec?.nodeName ? 0 : 1;
  if (scheduledA !== scheduledB) return scheduledA - scheduledB;
  const createdA = Date.parse(a.metadata?.creationTimestamp ?? '') || 0;
  const createdB = Date.parse(b.metadata?.creationTimestamp ?? '') || 0;
  if (createdA !== createdB) return createdA - createdB;
  return (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? '');
}
