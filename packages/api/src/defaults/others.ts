// Defaults for services, config, autoscaling, storage and RBAC kinds.
import type { HorizontalPodAutoscaler, HPAScalingRules } from '../types/autoscaling';
import type { Endpoints, Namespace, Node, PersistentVolume, PersistentVolumeClaim, Secret, Service } from '../types/core';
import type { RoleBinding } from '../types/other';
import { canonicalizeResourceList } from './pod';

/** Three hours, upstream's default ClientIP session stickiness. */
const DEFAULT_CLIENT_IP_TIMEOUT_SECONDS = 10800;

export function defaultService(service: Service): void {
  const spec = (service.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'ClientIP') {
    const config = (spec.sessionAffinityConfig ??= {});
    const clientIP = (config.clientIP ??= {});
    clientIP.timeoutSeconds ??= DEFAULT_CLIENT_IP_TIMEOUT_SECONDS;
  }
  for (const port of spec.ports ?? []) {
    port.protocol ??= 'TCP';
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
  if (spec.type !== 'ExternalName') {
    spec.internalTrafficPolicy ??= 'Cluster';
    // This cluster is IPv4 single-stack; upstream fills these when it allocates the IP.
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.ipFamilies ??= ['IPv4'];
  }
}

export function defaultEndpoints(endpoints: Endpoints): void {
  for (const subset of endpoints.subsets ?? []) for (const port of subset.ports ?? []) port.protocol ??= 'TCP';
}

export function defaultSecret(secret: Secret): void {
  secret.type ??= 'Opaque';
}

export function defaultNamespace(namespace: Namespace): void {
  const status = (namespace.status ??= {});
  status.phase ??= 'Active';
}

export function defaultNode(node: Node): void {
  canonicalizeResourceList(node.status?.capacity);
  canonicalizeResourceList(node.status?.allocatable);
}

export function defaultPersistentVolumeClaim(claim: PersistentVolumeClaim): void {
  if (!claim.spec) return;
  claim.spec.volumeMode ??= 'Filesystem';
  canonicalizeResourceList(claim.spec.resources?.requests);
  canonicalizeResourceList(claim.spec.resources?.limits);
}

export function defaultPersistentVolume(volume: PersistentVolume): void {
  if (!volume.spec) return;
  volume.spec.persistentVolumeReclaimPolicy ??= 'Retain';
  volume.spec.volumeMode ??= 'Filesystem';
  canonicalizeResourceList(volume.spec.capacity);
}

/** Target CPU utilisation of an HPA that names no metric. */
export const DEFAULT_CPU_UTILIZATION_PERCENT = 80;

function fillRules(rules: HPAScalingRules | undefined, defaults: HPAScalingRules): HPAScalingRules {
  const out: HPAScalingRules = { ...(rules ?? {}) };
  if (out.stabilizationWindowSeconds === undefined && defaults.stabilizationWindowSeconds !== undefined) {
    out.stabilizationWindowSeconds = defaults.stabilizationWindowSeconds;
  }
  out.selectPolicy ??= defaults.selectPolicy;
  out.policies ??= defaults.policies;
  return out;
}

export function defaultHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): void {
  const spec = hpa.spec;
  if (!spec) return;
  spec.minReplicas ??= 1;
  if (!spec.metrics || spec.metrics.length === 0) {
    spec.metrics = [
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION_PERCENT } } },
    ];
  }
  // Behavior is filled in only when the user gave one (upstream leaves nil as nil).
  if (spec.behavior) {
    spec.behavior.scaleUp = fillRules(spec.behavior.scaleUp, {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    });
    // scaleDown's window stays unset: the controller's flag (300s) applies.
    spec.behavior.scaleDown = fillRules(spec.behavior.scaleDown, {
      selectPolicy: 'Max',
      policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    });
  }
}

export function defaultRoleBinding(binding: RoleBinding): void {
  for (const subject of binding.subjects ?? []) {
    if (subject.apiGroup === undefined) {
      subject.apiGroup = subject.kind === 'User' || subject.kind === 'Group' ? 'rbac.authorization.k8s.io' : '';
    }
  }
}
