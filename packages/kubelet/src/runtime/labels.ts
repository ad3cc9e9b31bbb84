// Label keys the kubelet puts on sandboxes and containers so that a restarted
// kubelet can tell which pod (and which instance of which container) a
// runtime object belongs to. The keys are upstream's where upstream has one.

export const POD_UID_LABEL = 'io.kubernetes.pod.uid';
export const POD_NAME_LABEL = 'io.kubernetes.pod.name';
export const POD_NAMESPACE_LABEL = 'io.kubernetes.pod.namespace';
export const CONTAINER_NAME_LABEL = 'io.kubernetes.container.name';
export const CONTAINER_RESTART_COUNT_LABEL = 'io.kubernetes.container.restartCount';
/** Hash of the container spec it was created from: a changed spec means restart. */
export const CONTAINER_HASH_LABEL = 'io.kubernetes.container.hash';
/** "init" or "app": init containers and app containers may share no names, but the kubelet needs the kind on relist. */
export const CONTAINER_KIND_LABEL = 'kube-lite.io/container-kind';
export const NODE_NAME_LABEL = 'kube-lite.io/node-name';
/** Set on the pod sandbox: the grace period to use if the pod is gone when the kubelet finds it. */
export const POD_GRACE_PERIOD_LABEL = 'kube-lite.io/termination-grace-period-seconds';

export function labelsMatch(have: Record<string, string>, want: Record<string, string> | undefined): boolean {
  if (!want) return true;
  return Object.entries(want).every(([key, value]) => have[key] === value);
}
