// Defaults for pods and pod templates (upstream core/v1 SetDefaults_*).
import type { Container, HTTPGetAction, Pod, PodSpec, Probe, ResourceList, Toleration, Volume } from '../types/core';
import { Quantity } from '../quantity';

/** Parses an image reference far enough to find its tag; digests count as pinned. */
export function imageTag(image: string): { tag: string | undefined; digest: string | undefined } {
  const at = image.indexOf('@');
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  return { tag: colon >= 0 ? lastSegment.slice(colon + 1) : undefined, digest };
}

/** Always for ":latest" or an untagged, undigested image; IfNotPresent otherwise (upstream SetDefaults_Container). */
export function defaultImagePullPolicy(image: string | undefined): 'Always' | 'IfNotPresent' {
  const { tag, digest } = imageTag(image ?? '');
  const effectiveTag = tag ?? (digest === undefined ? 'latest' : undefined);
  return effectiveTag === 'latest' ? 'Always' : 'IfNotPresent';
}

/** Rewrites parseable quantities in canonical form ("0.5" -> "500m"), as upstream's decoder does. */
export function canonicalizeResourceList(list: ResourceList | undefined): void {
  if (!list) return;
  for (const [name, value] of Object.entries(list)) {
    const quantity = Quantity.tryParse(value);
    if (quantity) list[name] = quantity.toString();
  }
}

function defaultHTTPGet(action: HTTPGetAction | undefined): void {
  if (!action) return;
  action.path ??= '/';
  action.scheme ??= 'HTTP';
}

export function defaultProbe(probe: Probe | undefined): void {
  if (!probe) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  defaultHTTPGet(probe.httpGet);
}

export function defaultContainer(container: Container, hostNetwork: boolean): void {
  container.terminationMessagePath ??= '/dev/termination-log';
  container.terminationMessagePolicy ??= 'File';
  container.imagePullPolicy ??= defaultImagePullPolicy(container.image);
  container.resources ??= {};
  canonicalizeResourceList(container.resources.limits);
  canonicalizeResourceList(container.resources.requests);
  for (const port of container.ports ?? []) {
    port.protocol ??= 'TCP';
    // With the host's network the container port is the host port.
    if (hostNetwork && !port.hostPort) port.hostPort = port.containerPort;
  }
  for (const env of container.env ?? []) {
    const source = env.valueFrom;
    if (source?.fieldRef) source.fieldRef.apiVersion ??= 'v1';
    if (source?.resourceFieldRef) source.resourceFieldRef.divisor ??= '0';
  }
  defaultProbe(container.livenessProbe);
  defaultProbe(container.readinessProbe);
  defaultProbe(container.startupProbe);
  defaultHTTPGet(container.lifecycle?.postStart?.httpGet);
  defaultHTTPGet(container.lifecycle?.preStop?.httpGet);
}

/** 0644, the file mode upstream gives projected files. */
const DEFAULT_FILE_MODE = 420;

/** A volume naming no source at all is an emptyDir. */
export function defaultVolume(volume: Volume): void {
  const record = volume as unknown as Record<string, unknown>;
  const hasSource = Object.keys(record).some((key) => key !== 'name' && record[key] !== undefined);
  if (!hasSource) volume.emptyDir = {};
  if (volume.emptyDir?.sizeLimit !== undefined) {
    const quantity = Quantity.tryParse(volume.emptyDir.sizeLimit);
    if (quantity) volume.emptyDir.sizeLimit = quantity.toString();
  }
  if (volume.hostPath) volume.hostPath.type ??= '';
  if (volume.configMap) volume.configMap.defaultMode ??= DEFAULT_FILE_MODE;
  if (volume.secret) volume.secret.defaultMode ??= DEFAULT_FILE_MODE;
  if (volume.downwardAPI) {
    volume.downwardAPI.defaultMode ??= DEFAULT_FILE_MODE;
    for (const item of volume.downwardAPI.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ??= 'v1';
  }
  if (volume.projected) {
    volume.projected.defaultMode ??= DEFAULT_FILE_MODE;
    for (const source of volume.projected.sources ?? []) {
      if (source.serviceAccountToken) source.serviceAccountToken.expirationSeconds ??= 3600;
      for (const item of source.downwardAPI?.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ??= 'v1';
    }
  }
}

/** Defaults shared by pods and pod templates. */
export function defaultPodSpec(spec: PodSpec | undefined): void {
  if (!spec) return;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  // serviceAccount is the deprecated spelling; upstream keeps both in step.
  if (!spec.serviceAccountName && spec.serviceAccount) spec.serviceAccountName = spec.serviceAccount;
  if (spec.serviceAccountName && !spec.serviceAccount) spec.serviceAccount = spec.serviceAccountName;
  const hostNetwork = spec.hostNetwork === true;
  for (const container of spec.initContainers ?? []) defaultContainer(container, hostNetwork);
  for (const container of spec.containers ?? []) defaultContainer(container, hostNetwork);
  for (const volume of spec.volumes ?? []) defaultVolume(volume);
  canonicalizeResourceList(spec.overhead);
}

/** Requests default to limits for resources that have a limit only (pods, not templates). */
function defaultRequestsFromLimits(container: Container): void {
  const limits = container.resources?.limits;
  if (!limits || !container.resources) return;
  const requests = (container.resources.requests ??= {});
  for (const [name, value] of Object.entries(limits)) if (!(name in requests)) requests[name] = value;
}

export function defaultPod(pod: Pod): void {
  const spec = pod.spec;
  if (!spec) return;
  defaultPodSpec(spec);
  spec.enableServiceLinks ??= true;
  for (const container of spec.initContainers ?? []) defaultRequestsFromLimits(container);
  for (const container of spec.containers ?? []) defaultRequestsFromLimits(container);
}

export const NOT_READY_TAINT_KEY = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT_KEY = 'node.kubernetes.io/unreachable';

function toleratesNoExecute(tolerations: readonly Toleration[], key: string): boolean {
  return tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
}

/**
 * The DefaultTolerationSeconds admission plugin: pods that do not already
 * tolerate them get NoExecute tolerations for the not-ready and unreachable
 * node taints, so they are evicted that many seconds after their node fails.
 * Mutates `pod`.
 */
export function addDefaultTolerations(pod: Pod, notReadySeconds = 300, unreachableSeconds = 300): void {
  if (!pod.spec) return;
  const tolerations = (pod.spec.tolerations ??= []);
  if (!toleratesNoExecute(tolerations, NOT_READY_TAINT_KEY)) {
    tolerations.push({ key: NOT_READY_TAINT_KEY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: notReadySeconds });
  }
  if (!toleratesNoExecute(tolerations, UNREACHABLE_TAINT_KEY)) {
    tolerations.push({ key: UNREACHABLE_TAINT_KEY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: unreachableSeconds });
  }
}
