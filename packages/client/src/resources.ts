// The resources components use, by the name of their typed view, so code
// writes `RESOURCES.pods` instead of spelling group, version and plural.
import { resourceFor, type ResourceInfo } from '@kube-lite/api';
import type { ResourceRef } from './api-client';

function ref(group: string, version: string, resource: string): ResourceRef {
  return Object.freeze({ group, version, resource });
}

export const RESOURCES = Object.freeze({
  pods: ref('', 'v1', 'pods'),
  nodes: ref('', 'v1', 'nodes'),
  namespaces: ref('', 'v1', 'namespaces'),
  services: ref('', 'v1', 'services'),
  endpoints: ref('', 'v1', 'endpoints'),
  configMaps: ref('', 'v1', 'configmaps'),
  secrets: ref('', 'v1', 'secrets'),
  events: ref('', 'v1', 'events'),
  serviceAccounts: ref('', 'v1', 'serviceaccounts'),
  persistentVolumeClaims: ref('', 'v1', 'persistentvolumeclaims'),
  persistentVolumes: ref('', 'v1', 'persistentvolumes'),
  deployments: ref('apps', 'v1', 'deployments'),
  replicaSets: ref('apps', 'v1', 'replicasets'),
  statefulSets: ref('apps', 'v1', 'statefulsets'),
  daemonSets: ref('apps', 'v1', 'daemonsets'),
  controllerRevisions: ref('apps', 'v1', 'controllerrevisions'),
  jobs: ref('batch', 'v1', 'jobs'),
  cronJobs: ref('batch', 'v1', 'cronjobs'),
  horizontalPodAutoscalers: ref('autoscaling', 'v2', 'horizontalpodautoscalers'),
  ingresses: ref('networking.k8s.io', 'v1', 'ingresses'),
  ingressClasses: ref('networking.k8s.io', 'v1', 'ingressclasses'),
  leases: ref('coordination.k8s.io', 'v1', 'leases'),
  podDisruptionBudgets: ref('policy', 'v1', 'poddisruptionbudgets'),
  storageClasses: ref('storage.k8s.io', 'v1', 'storageclasses'),
});

/** Thrown when a ResourceRef names nothing the scheme serves. */
export class UnknownResourceError extends Error {
  override readonly name = 'UnknownResourceError';
  constructor(readonly ref: ResourceRef) {
    super(`the server does not serve resource "${refString(ref)}"`);
  }
}

/** "pods", "deployments.apps/v1": for messages and cache keys. */
export function refString(ref: ResourceRef): string {
  return ref.group === '' ? `${ref.resource}/${ref.version}` : `${ref.resource}.${ref.group}/${ref.version}`;
}

/** The scheme entry of a ResourceRef; throws UnknownResourceError. */
export function resourceInfoOf(ref: ResourceRef): ResourceInfo {
  const info = resourceFor(ref.group, ref.resource, ref.version);
  if (info === undefined) throw new UnknownResourceError(ref);
  return info;
}
