// A container's environment as upstream's kubelet builds it: envFrom first,
// then env (later entries win), $(VAR) references expanded against what was
// defined before and the service variables, downward API fields and resource
// values resolved, then the service variables (service-env.ts) the container
// did not define itself. envFrom keys that are no valid variable name are
// skipped with an InvalidEnvironmentVariableNames warning. Values that come
// from Secrets are reported to the caller (secretValues), which keeps them out
// of logs, events and statuses.
import { Quantity, type Container, type ObjectFieldSelector, type Pod, type ResourceFieldSelector } from '@kube-lite/api';
import { ContainerConfigError } from '../errors';
import type { ConfigMapSource, SecretSource, ServiceSource } from '../sources';
import { clusterIPAddress, serviceEnvironment, type ServiceAddressMapper } from './service-env';

export interface EnvContext {
  pod: Pod;
  podIP: string;
  hostIP: string;
  /** What a container without limits sees for limits.cpu / limits.memory (the node's capacity). */
  nodeAllocatable: { cpuMillis: number; memoryBytes: number };
  secrets?: SecretSource;
  configMaps?: ConfigMapSource;
  /** The Services whose variables the container gets; none without it. */
  services?: ServiceSource;
  /** Where the container reaches a ClusterIP (the runtime decides); the ClusterIP itself by default. */
  serviceAddress?: ServiceAddressMapper;
  /** Receives what upstream records as Warning events about the pod (InvalidEnvironmentVariableNames); ignored without it. */
  warn?: (reason: string, message: string) => void;
  /** Collects every value read from a Secret, so the caller can redact it from anything it prints. */
  secretValues?: Set<string>;
}

/**
 * The API server's rule for variable names (upstream's relaxed rule, on by
 * default since 1.32): printable ASCII except '=', not empty.
 */
export function isValidEnvName(name: string): boolean {
  return name.length > 0 && /^[\x20-\x3c\x3e-\x7e]+$/.test(name);
}

function podName(pod: Pod): string {
  return `${pod.metadata?.namespace ?? 'default'}/${pod.metadata?.name ?? ''}`;
}

function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map?.[key] ?? '')}`)
    .join('\n');
}

/** The value of a downward API fieldRef; undefined for a path the kubelet does not know. */
export function podFieldValue(context: Pick<EnvContext, 'pod' | 'podIP' | 'hostIP'>, selector: ObjectFieldSelector): string | undefined {
  const { pod } = context;
  const path = selector.fieldPath;
  const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (subscript) {
    const map = subscript[1] === 'labels' ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[subscript[2] ?? ''] ?? '';
  }
  switch (path) {
    case 'metadata.name':
      return pod.metadata?.name ?? '';
    case 'metadata.namespace':
      return pod.metadata?.namespace ?? 'default';
    case 'metadata.uid':
      return pod.metadata?.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata?.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata?.annotations);
    case 'spec.nodeName':
      return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec?.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return context.podIP;
    case 'status.hostIP':
    case 'status.hostIPs':
      return context.hostIP;
    default:
      return undefined;
  }
}

/** The value of a resourceFieldRef (limits.cpu, requests.memory, ...), divided by its divisor and rounded up. */
export function resourceFieldValue(context: Pick<EnvContext, 'pod' | 'nodeAllocatable'>, selector: ResourceFieldSelector, defaultContainer: string): string {
  const containerName = selector.containerName || defaultContainer;
  const container = [...(context.pod.spec?.containers ?? []), ...(context.pod.spec?.initContainers ?? [])].find((candidate) => candidate.name === containerName);
  const [kind, resource] = selector.resource.split('.') as [string, string | undefined];
  const list = kind === 'limits' ? container?.resources?.limits : container?.resources?.requests;
  let quantity = Quantity.tryParse(list?.[resource ?? '']);
  if (!quantity && kind === 'limits') {
    // Upstream: no limit means the node's allocatable amount.
    quantity = resource === 'cpu' ? Quantity.fromMilli(context.nodeAllocatable.cpuMillis) : resource === 'memory' ? Quantity.fromValue(context.nodeAllocatable.memoryBytes) : undefined;
  }
  if (!quantity) return '0';
  const divisor = Quantity.tryParse(selector.divisor ?? 1) ?? Quantity.fromValue(1);
  if (divisor.isZero()) return '0';
  return String(Math.ceil(Number(quantity.nanos) / Number(divisor.nanos)));
}

/** Replaces $(NAME) with defined values; $$ escapes; unknown references stay as written (upstream expansion). */
export function expandReferences(text: string, defined: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && defined.has(name) ? (defined.get(name) ?? '') : match;
  });
}

function decodeSecretValue(value: string): string {
  return Buffer.from(value, 'base64').toString('utf8');
}

async function configMapData(context: EnvContext, name: string): Promise<Record<string, string> | undefined> {
  const configMap = await context.configMaps?.getConfigMap(context.pod.metadata?.namespace ?? 'default', name);
  if (!configMap) return undefined;
  const data: Record<string, string> = { ...(configMap.data ?? {}) };
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) data[key] = decodeSecretValue(value);
  return data;
}

async function secretData(context: EnvContext, name: string): Promise<Record<string, string> | undefined> {
  const secret = await context.secrets?.getSecret(context.pod.metadata?.namespace ?? 'default', name);
  if (!secret) return undefined;
  const data: Record<string, string> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = decodeSecretValue(value);
  for (const [key, value] of Object.entries(secret.stringData ?? {})) data[key] = value;
  for (const value of Object.values(data)) context.secretValues?.add(value);
  return data;
}

/** Sets prefix+key for every key of an envFrom source; invalid names are skipped and reported once per source. */
function addFromSource(values: Map<string, string>, data: Record<string, string>, prefix: string, what: string, context: EnvContext): void {
  const invalid: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    const name = `${prefix}${key}`;
    if (!isValidEnvName(name)) {
      invalid.push(name);
      continue;
    }
    values.set(name, value);
  }
  if (invalid.length > 0) {
    context.warn?.('InvalidEnvironmentVariableNames', `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${what} were skipped since they are considered invalid environment variable names.`);
  }
}

/** The container's environment, in order. Throws ContainerConfigError for a missing non-optional reference. */
export async function buildContainerEnv(container: Container, context: EnvContext): Promise<{ name: string; value: string }[]> {
  const values = new Map<string, string>();
  const namespace = context.pod.metadata?.namespace ?? 'default';
  const services = context.services === undefined ? [] : await context.services.listServices();
  const serviceValues = serviceEnvironment(services, {
    namespace,
    enableServiceLinks: context.pod.spec?.enableServiceLinks ?? true,
    serviceAddress: context.serviceAddress ?? clusterIPAddress,
  });
  for (const source of container.envFrom ?? []) {
    const prefix = source.prefix ?? '';
    if (source.configMapRef) {
      const name = source.configMapRef.name ?? '';
      const data = await configMapData(context, name);
      if (!data && !source.configMapRef.optional) throw new ContainerConfigError(`configmap "${name}" not found`);
      addFromSource(values, data ?? {}, prefix, `configMap ${namespace}/${name}`, context);
    }
    if (source.secretRef) {
      const name = source.secretRef.name ?? '';
      const data = await secretData(context, name);
      if (!data && !source.secretRef.optional) throw new ContainerConfigError(`secret "${name}" not found`);
      addFromSource(values, data ?? {}, prefix, `secret ${namespace}/${name}`, context);
    }
  }
  for (const variable of container.env ?? []) {
    const from = variable.valueFrom;
    if (!from) {
      values.set(variable.name, expandReferences(variable.value ?? '', serviceValues.size === 0 ? values : new Map([...serviceValues, ...values])));
      continue;
    }
    if (from.fieldRef) {
      const value = podFieldValue(context, from.fieldRef);
      if (value === undefined) throw new ContainerConfigError(`unsupported fieldPath "${from.fieldRef.fieldPath}" in env ${variable.name} of pod ${podName(context.pod)}`);
      values.set(variable.name, value);
    } else if (from.resourceFieldRef) {
      values.set(variable.name, resourceFieldValue(context, from.resourceFieldRef, container.name));
    } else if (from.configMapKeyRef) {
      const { name = '', key, optional } = from.configMapKeyRef;
      const data = await configMapData(context, name);
      if (!data) {
        if (optional) continue;
        throw new ContainerConfigError(`configmap "${name}" not found`);
      }
      if (data[key] === undefined) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in ConfigMap ${namespace}/${name}`);
      }
      values.set(variable.name, data[key]);
    } else if (from.secretKeyRef) {
      const { name = '', key, optional } = from.secretKeyRef;
      const data = await secretData(context, name);
      if (!data) {
        if (optional) continue;
        throw new ContainerConfigError(`secret "${name}" not found`);
      }
      if (data[key] === undefined) {
        if (optional) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in Secret ${namespace}/${name}`);
      }
      values.set(variable.name, data[key]);
    }
  }
  // Every pod under kube-lite learns its IP, whatever its spec says.
  if (!values.has('POD_IP')) values.set('POD_IP', context.podIP);
  for (const [name, value] of serviceValues) if (!values.has(name)) values.set(name, value);
  return [...values].map(([name, value]) => ({ name, value }));
}
