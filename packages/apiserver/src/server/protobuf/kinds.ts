// Which apiVersion/kind pairs a protobuf body may carry, and the message that
// decodes each. Only top-level kinds the API server serves are listed; every
// other kind is refused with a message that points the user to JSON.

/** `apiVersion` -> the protobuf package of k8s.io/api that holds its messages. */
const packageByApiVersion: Record<string, string> = {
  v1: 'k8s.io.api.core.v1',
  'apps/v1': 'k8s.io.api.apps.v1',
  'batch/v1': 'k8s.io.api.batch.v1',
  'rbac.authorization.k8s.io/v1': 'k8s.io.api.rbac.v1',
  'networking.k8s.io/v1': 'k8s.io.api.networking.v1',
  'policy/v1': 'k8s.io.api.policy.v1',
};

const kindsByApiVersion: Record<string, readonly string[]> = {
  v1: ['ConfigMap', 'Secret', 'Namespace', 'Service', 'ServiceAccount', 'Pod'],
  'apps/v1': ['Deployment'],
  'batch/v1': ['Job', 'CronJob'],
  'rbac.authorization.k8s.io/v1': ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'],
  'networking.k8s.io/v1': ['Ingress'],
  'policy/v1': ['PodDisruptionBudget', 'Eviction'],
};

/** The fully qualified message name for a decodable kind ("k8s.io.api.apps.v1.Deployment"), or undefined. */
export function messageNameFor(apiVersion: string, kind: string): string | undefined {
  const protoPackage = packageByApiVersion[apiVersion];
  if (protoPackage === undefined || !(kindsByApiVersion[apiVersion] ?? []).includes(kind)) return undefined;
  return `${protoPackage}.${kind}`;
}

/** Every decodable kind as "apiVersion/kind", for error messages and tests. */
export function decodableKinds(): string[] {
  return Object.entries(kindsByApiVersion).flatMap(([apiVersion, kinds]) => kinds.map((kind) => `${apiVersion}/${kind}`));
}
