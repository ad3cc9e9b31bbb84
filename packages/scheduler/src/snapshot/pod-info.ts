// A pod plus what the scheduler derives from it once (requests, host ports,
// owner), so plugins read plain fields instead of walking the spec per node.
import { controllerOf, type Pod } from '@kube-lite/api';
import { podNonZeroRequests, podRequests, type Resources } from './resources';

export interface HostPort {
  /** "0.0.0.0" when the container port sets no hostIP. */
  hostIP: string;
  protocol: string;
  port: number;
}

export interface PodInfo {
  readonly pod: Pod;
  /** Stable identity in the snapshot: the UID, or namespace/name for a pod without one. */
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly requests: Resources;
  /** Requests with the scoring defaults for containers that set none. */
  readonly nonZeroRequests: Resources;
  readonly hostPorts: readonly HostPort[];
  /** UID of the controlling owner (ReplicaSet, StatefulSet, Job ...), if any. */
  readonly controllerUid: string | undefined;
}

export const DEFAULT_HOST_IP = '0.0.0.0';

export function podKey(pod: Pod): string {
  const uid = pod.metadata?.uid;
  return uid ? uid : `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** namespace/name, the queue's and the user's name for a pod. */
export function podName(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

function hostPortsOf(pod: Pod): HostPort[] {
  const ports: HostPort[] = [];
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const container of containers) {
    for (const port of container.ports ?? []) {
      if (!port.hostPort || port.hostPort <= 0) continue;
      ports.push({ hostIP: port.hostIP || DEFAULT_HOST_IP, protocol: port.protocol ?? 'TCP', port: port.hostPort });
    }
  }
  return ports;
}

export function newPodInfo(pod: Pod): PodInfo {
  return {
    pod,
    key: podKey(pod),
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    requests: podRequests(pod),
    nonZeroRequests: podNonZeroRequests(pod),
    hostPorts: hostPortsOf(pod),
    controllerUid: controllerOf(pod)?.uid,
  };
}

/** The same derived fields for a pod now bound to `nodeName` (the assumed copy). */
export function withNodeName(info: PodInfo, nodeName: string): PodInfo {
  return { ...info, pod: { ...info.pod, spec: { ...info.pod.spec, containers: info.pod.spec?.containers ?? [], nodeName } } };
}
