// Validation of services, config, cluster, networking, autoscaling, policy and
// RBAC kinds.
import type { HorizontalPodAutoscaler } from '../types/autoscaling';
import type {
  ConfigMap,
  Endpoints,
  Event,
  Namespace,
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Secret,
  Service,
  ServiceAccount,
} from '../types/core';
import type { Ingress, IngressBackend, IngressClass } from '../types/networking';
import type { ObjectMeta } from '../types/meta';
import type { Lease, PodDisruptionBudget, PolicyRule, RoleBinding, Subject } from '../types/other';
import { Quantity } from '../quantity';
import { deepCopy } from '../deepcopy';
import { duplicate, FieldPath, forbidden, invalid, notSupported, required, tooLong, type FieldError } from './field';
import { validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidLabelValue,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNS1035Label,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
  nameIsPathSegment,
} from './names';
import { nonNegative, validatePortNumOrName } from './pod';
import { validateLabelSelector } from './workloads';

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPAddress(value: string): boolean {
  if (IPV4.test(value)) return true;
  // IPv6: hex groups and at most one "::"; good enough to reject typos.
  return /^[0-9a-fA-F:.]+$/.test(value) && value.includes(':') && (value.match(/::/g) ?? []).length <= 1;
}

const IP_MESSAGE = 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)';

// ---- Service ----

const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];

/** Prints a port/protocol pair as upstream's duplicate message shows its key. */
class PortKey {
  constructor(
    private readonly port: number,
    private readonly protocol: string,
  ) {}

  toString(): string {
    return `core.ServicePort{Port:${this.port}, Protocol:${JSON.stringify(this.protocol)}}`;
  }
}

export function validateService(service: Service): FieldError[] {
  const errors = validateObjectMeta(service.metadata, true, nameIsDNS1035Label);
  const spec = service.spec;
  const specPath = FieldPath.root('spec');
  if (!spec) return [...errors, required(specPath, '')];
  const type = spec.type ?? 'ClusterIP';
  if (!SERVICE_TYPES.includes(type)) errors.push(notSupported(specPath.child('type'), type, SERVICE_TYPES));
  const headless = spec.clusterIP === 'None';
  const ports = spec.ports ?? [];
  if (ports.length === 0 && !headless && type !== 'ExternalName') errors.push(required(specPath.child('ports'), ''));
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((port, i) => {
    const portPath = specPath.child('ports').index(i);
    if (ports.length > 1 && !port.name) errors.push(required(portPath.child('name'), ''));
    if (port.name) {
      for (const message of isDNS1123Label(port.name)) errors.push(invalid(portPath.child('name'), port.name, message));
      if (names.has(port.name)) errors.push(duplicate(portPath.child('name'), port.name));
      names.add(port.name);
    }
    for (const message of isValidPortNum(port.port)) errors.push(invalid(portPath.child('port'), port.port, message));
    const protocol = port.protocol ?? '';
    if (!PROTOCOLS.includes(protocol)) errors.push(protocol ? notSupported(portPath.child('protocol'), protocol, PROTOCOLS) : required(portPath.child('protocol'), ''));
    errors.push(...validatePortNumOrName(port.targetPort, portPath.child('targetPort')));
    const key = `${port.port}/${protocol}`;
    if (keys.has(key)) errors.push(duplicate(portPath, new PortKey(port.port, protocol)));
    keys.add(key);
    if (port.nodePort !== undefined && port.nodePort !== 0) {
      if (type === 'ClusterIP') errors.push(forbidden(portPath.child('nodePort'), "may not be used when `type` is 'ClusterIP'"));
      else for (const message of isValidPortNum(port.nodePort)) errors.push(invalid(portPath.child('nodePort'), port.nodePort, message));
    }
  });
  if (type === 'ExternalName') {
    if (!spec.externalName) errors.push(required(specPath.child('externalName'), ''));
    else for (const message of isDNS1123Subdomain(spec.externalName.replace(/\.$/, ''))) errors.push(invalid(specPath.child('externalName'), spec.externalName, message));
    if (spec.clusterIP && spec.clusterIP !== '') errors.push(forbidden(specPath.child('clusterIPs'), 'may not be set for ExternalName services'));
  } else if (spec.clusterIP && spec.clusterIP !== 'None' && !isIPAddress(spec.clusterIP)) {
    errors.push(invalid(specPath.child('clusterIPs').index(0), spec.clusterIP, IP_MESSAGE));
  }
  if (spec.selector) errors.push(...validateLabels(spec.selector, specPath.child('selector')));
  if (spec.sessionAffinity !== undefined && spec.sessionAffinity !== 'None' && spec.sessionAffinity !== 'ClientIP') {
    errors.push(notSupported(specPath.child('sessionAffinity'), spec.sessionAffinity, ['ClientIP', 'None']));
  }
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (timeout !== undefined && (timeout <= 0 || timeout > 86400)) {
    errors.push(invalid(specPath.child('sessionAffinityConfig', 'clientIP', 'timeoutSeconds'), timeout, 'must be greater than 0 and less than 86400'));
  }
  if (spec.externalTrafficPolicy !== undefined && type !== 'NodePort' && type !== 'LoadBalancer') {
    errors.push(forbidden(specPath.child('externalTrafficPolicy'), 'may only be set for externally-accessible services'));
  }
  (spec.externalIPs ?? []).forEach((ip, i) => {
    if (!isIPAddress(ip)) errors.push(invalid(specPath.child('externalIPs').index(i), ip, IP_MESSAGE));
  });
  return errors;
}

export function validateServiceUpdate(next: Service, previous: Service): FieldError[] {
  const errors = [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateService(next)];
  const oldIP = previous.spec?.clusterIP;
  const newIP = next.spec?.clusterIP;
  // Switching to ExternalName releases the address; otherwise it is fixed once allocated.
  if (oldIP && next.spec?.type !== 'ExternalName' && newIP !== oldIP) {
    errors.push(invalid(FieldPath.root('spec', 'clusterIPs').index(0), newIP ? [newIP] : [], 'may not change once set'));
  }
  return errors;
}

export function validateEndpoints(endpoints: Endpoints): FieldError[] {
  const errors = validateObjectMeta(endpoints.metadata, true, nameIsDNSSubdomain);
  (endpoints.subsets ?? []).forEach((subset, i) => {
    const subsetPath = FieldPath.root('subsets').index(i);
    for (const field of ['addresses', 'notReadyAddresses'] as const) {
      (subset[field] ?? []).forEach((address, j) => {
        if (!address.ip) errors.push(required(subsetPath.child(field).index(j).child('ip'), ''));
        else if (!isIPAddress(address.ip)) errors.push(invalid(subsetPath.child(field).index(j).child('ip'), address.ip, IP_MESSAGE));
      });
    }
    (subset.ports ?? []).forEach((port, j) => {
      const portPath = subsetPath.child('ports').index(j);
      for (const message of isValidPortNum(port.port)) errors.push(invalid(portPath.child('port'), port.port, message));
      if (port.protocol !== undefined && !PROTOCOLS.includes(port.protocol)) errors.push(notSupported(portPath.child('protocol'), port.protocol, PROTOCOLS));
    });
  });
  return errors;
}

// ---- ConfigMap / Secret ----

/** Upstream's cap on the data of one ConfigMap or Secret. */
export const MAX_CONFIG_SIZE_BYTES = 1024 * 1024;

function validateDataKeys(keys: string[], path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  for (const key of keys) for (const message of isConfigMapKey(key)) errors.push(invalid(path.key(key), key, message));
  return errors;
}

export function validateConfigMap(configMap: ConfigMap): FieldError[] {
  const errors = validateObjectMeta(configMap.metadata, true, nameIsDNSSubdomain);
  const data = configMap.data ?? {};
  const binary = configMap.binaryData ?? {};
  errors.push(...validateDataKeys(Object.keys(data), FieldPath.root('data')));
  errors.push(...validateDataKeys(Object.keys(binary), FieldPath.root('binaryData')));
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    total += Buffer.byteLength(String(value));
    if (key in binary) errors.push(invalid(FieldPath.root('data').key(key), key, 'duplicate of key present in binaryData'));
  }
  for (const value of Object.values(binary)) total += Buffer.from(String(value), 'base64').length;
  if (total > MAX_CONFIG_SIZE_BYTES) errors.push(tooLong(FieldPath.root(''), MAX_CONFIG_SIZE_BYTES));
  return errors;
}

function immutableData(next: { immutable?: boolean; data?: unknown }, previous: { immutable?: boolean; data?: unknown }, extraFields: string[]): FieldError[] {
  if (previous.immutable !== true) return [];
  const errors: FieldError[] = [];
  if (next.immutable !== true) errors.push(forbidden(FieldPath.root('immutable'), 'field is immutable when `immutable` is set'));
  for (const field of ['data', ...extraFields]) {
    const before = JSON.stringify((previous as Record<string, unknown>)[field] ?? {});
    const after = JSON.stringify((next as Record<string, unknown>)[field] ?? {});
    if (before !== after) errors.push(forbidden(FieldPath.root(field), 'field is immutable when `immutable` is set'));
  }
  return errors;
}

export function validateConfigMapUpdate(next: ConfigMap, previous: ConfigMap): FieldError[] {
  return [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateConfigMap(next), ...immutableData(next, previous, ['binaryData'])];
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function validateSecret(secret: Secret): FieldError[] {
  const errors = validateObjectMeta(secret.metadata, true, nameIsDNSSubdomain);
  const data = secret.data ?? {};
  errors.push(...validateDataKeys(Object.keys(data), FieldPath.root('data')));
  errors.push(...validateDataKeys(Object.keys(secret.stringData ?? {}), FieldPath.root('stringData')));
  let total = 0;
  for (const [key, value] of Object.entries(data)) {
    const text = String(value);
    if (text.length % 4 !== 0 || !BASE64.test(text)) errors.push(invalid(FieldPath.root('data').key(key), '<secret contents redacted>', 'illegal base64 data'));
    total += Buffer.from(text, 'base64').length;
  }
  if (total > MAX_CONFIG_SIZE_BYTES) errors.push(tooLong(FieldPath.root('data'), MAX_CONFIG_SIZE_BYTES));
  const has = (key: string) => key in data || key in (secret.stringData ?? {});
  const requireKeys = (...keys: string[]) => {
    for (const key of keys) if (!has(key)) errors.push(required(FieldPath.root('data').key(key), ''));
  };
  switch (secret.type) {
    case 'kubernetes.io/tls':
      requireKeys('tls.crt', 'tls.key');
      break;
    case 'kubernetes.io/dockerconfigjson':
      requireKeys('.dockerconfigjson');
      break;
    case 'kubernetes.io/dockercfg':
      requireKeys('.dockercfg');
      break;
    case 'kubernetes.io/ssh-auth':
      requireKeys('ssh-privatekey');
      break;
    case 'kubernetes.io/service-account-token':
      if (!secret.metadata?.annotations?.['kubernetes.io/service-account.name']) {
        errors.push(required(FieldPath.root('metadata', 'annotations').key('kubernetes.io/service-account.name'), ''));
      }
      break;
    default:
      break;
  }
  return errors;
}

export function validateSecretUpdate(next: Secret, previous: Secret): FieldError[] {
  const errors = [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateSecret(next), ...immutableData(next, previous, [])];
  if ((next.type ?? 'Opaque') !== (previous.type ?? 'Opaque')) errors.push(invalid(FieldPath.root('type'), next.type ?? '', 'field is immutable'));
  return errors;
}

// ---- cluster objects ----

export function validateNamespace(namespace: Namespace): FieldError[] {
  const errors = validateObjectMeta(namespace.metadata, false, nameIsDNSLabel);
  (namespace.spec?.finalizers ?? []).forEach((finalizer, i) => {
    for (const message of isQualifiedName(finalizer)) errors.push(invalid(FieldPath.root('spec', 'finalizers').index(i), finalizer, message));
  });
  return errors;
}

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateNode(node: Node): FieldError[] {
  const errors = validateObjectMeta(node.metadata, false, nameIsDNSSubdomain);
  const seen = new Set<string>();
  (node.spec?.taints ?? []).forEach((taint, i) => {
    const taintPath = FieldPath.root('spec', 'taints').index(i);
    for (const message of isQualifiedName(taint.key ?? '')) errors.push(invalid(taintPath.child('key'), taint.key ?? '', message));
    if (taint.value) for (const message of isValidLabelValue(taint.value)) errors.push(invalid(taintPath.child('value'), taint.value, message));
    if (!taint.effect) errors.push(required(taintPath.child('effect'), ''));
    else if (!TAINT_EFFECTS.includes(taint.effect)) errors.push(notSupported(taintPath.child('effect'), taint.effect, TAINT_EFFECTS));
    const key = `${taint.key}:${taint.effect}`;
    if (seen.has(key)) errors.push(duplicate(taintPath, `${taint.key}=${taint.value ?? ''}:${taint.effect}`));
    seen.add(key);
  });
  for (const field of ['capacity', 'allocatable'] as const) {
    for (const [name, value] of Object.entries(node.status?.[field] ?? {})) {
      if (!Quantity.tryParse(value)) errors.push(invalid(FieldPath.root('status', field).key(name), value, 'must be a valid quantity'));
    }
  }
  return errors;
}

export function validateEvent(event: Event): FieldError[] {
  const errors = validateObjectMeta(event.metadata, true, nameIsDNSSubdomain);
  const involvedNamespace = event.involvedObject?.namespace;
  if (involvedNamespace && event.metadata?.namespace && involvedNamespace !== event.metadata.namespace) {
    errors.push(invalid(FieldPath.root('involvedObject', 'namespace'), involvedNamespace, 'does not match event.namespace'));
  }
  return errors;
}

export function validateServiceAccount(account: ServiceAccount): FieldError[] {
  return validateObjectMeta(account.metadata, true, nameIsDNSSubdomain);
}

export function validatePersistentVolumeClaim(claim: PersistentVolumeClaim): FieldError[] {
  const errors = validateObjectMeta(claim.metadata, true, nameIsDNSSubdomain);
  const specPath = FieldPath.root('spec');
  const spec = claim.spec;
  if (!spec) return [...errors, required(specPath, '')];
  if (!spec.accessModes || spec.accessModes.length === 0) errors.push(required(specPath.child('accessModes'), 'at least 1 access mode is required'));
  const storage = spec.resources?.requests?.storage;
  const storagePath = specPath.child('resources').key('storage');
  if (storage === undefined) errors.push(required(storagePath, ''));
  else {
    const quantity = Quantity.tryParse(storage);
    if (!quantity || quantity.sign() <= 0) errors.push(invalid(storagePath, String(storage), 'must be greater than zero'));
  }
  if (spec.selector) errors.push(...validateLabelSelector(spec.selector, specPath.child('selector')));
  return errors;
}

export function validatePersistentVolume(volume: PersistentVolume): FieldError[] {
  const errors = validateObjectMeta(volume.metadata, false, nameIsPathSegment);
  const specPath = FieldPath.root('spec');
  if (volume.spec?.capacity?.storage === undefined) errors.push(required(specPath.child('capacity').key('storage'), ''));
  if (!volume.spec?.accessModes || volume.spec.accessModes.length === 0) errors.push(required(specPath.child('accessModes'), ''));
  return errors;
}

// ---- networking ----

const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'];

function validateHost(host: string, path: FieldPath): FieldError[] {
  if (isIPAddress(host)) return [invalid(path, host, 'must be a DNS name, not an IP address')];
  const problems = host.includes('*') ? isWildcardDNS1123Subdomain(host) : isDNS1123Subdomain(host);
  return problems.map((message) => invalid(path, host, message));
}

function validateIngressBackend(backend: IngressBackend | undefined, path: FieldPath): FieldError[] {
  if (!backend) return [required(path, '')];
  const errors: FieldError[] = [];
  if (backend.service && backend.resource) return [invalid(path, '', 'cannot set both resource and service backends')];
  if (!backend.service && !backend.resource) return [invalid(path, '', 'resource or service backend is required')];
  if (backend.service) {
    const servicePath = path.child('service');
    if (!backend.service.name) errors.push(required(servicePath.child('name'), ''));
    else for (const message of isDNS1035Label(backend.service.name)) errors.push(invalid(servicePath.child('name'), backend.service.name, message));
    const port = backend.service.port;
    if (!port || (port.name === undefined && port.number === undefined)) errors.push(required(servicePath.child('port'), 'port name or number is required'));
    else if (port.name && port.number) errors.push(invalid(servicePath.child('port'), `${port.name}/${port.number}`, 'cannot set both port name & port number'));
    else if (port.name) errors.push(...validatePortNumOrName(port.name, servicePath.child('port', 'name')));
    else if (port.number !== undefined) for (const message of isValidPortNum(port.number)) errors.push(invalid(servicePath.child('port', 'number'), port.number, message));
  }
  if (backend.resource) {
    if (!backend.resource.kind) errors.push(required(path.child('resource', 'kind'), ''));
    if (!backend.resource.name) errors.push(required(path.child('resource', 'name'), ''));
  }
  return errors;
}

/** Validates a networking.k8s.io/v1 Ingress (v1beta1 input is converted first). */
export function validateIngress(ingress: Ingress): FieldError[] {
  const errors = validateObjectMeta(ingress.metadata, true, nameIsDNSSubdomain);
  const spec = ingress.spec;
  const specPath = FieldPath.root('spec');
  if (!spec) return [...errors, required(specPath, '')];
  if (!spec.defaultBackend && (!spec.rules || spec.rules.length === 0)) {
    errors.push(invalid(specPath, '', 'either `defaultBackend` or `rules` must be specified'));
  }
  if (spec.defaultBackend) errors.push(...validateIngressBackend(spec.defaultBackend, specPath.child('defaultBackend')));
  if (spec.ingressClassName) {
    for (const message of isDNS1123Subdomain(spec.ingressClassName)) errors.push(invalid(specPath.child('ingressClassName'), spec.ingressClassName, message));
  }
  (spec.tls ?? []).forEach((tls, i) => {
    (tls.hosts ?? []).forEach((host, j) => errors.push(...validateHost(host, specPath.child('tls').index(i).child('hosts').index(j))));
  });
  (spec.rules ?? []).forEach((rule, i) => {
    const rulePath = specPath.child('rules').index(i);
    if (rule.host) errors.push(...validateHost(rule.host, rulePath.child('host')));
    if (!rule.http) return;
    const httpPath = rulePath.child('http');
    if (!rule.http.paths || rule.http.paths.length === 0) errors.push(required(httpPath.child('paths'), ''));
    (rule.http.paths ?? []).forEach((entry, j) => {
      const entryPath = httpPath.child('paths').index(j);
      const text = entry.path ?? '';
      if (entry.pathType === undefined) errors.push(required(entryPath.child('pathType'), 'pathType must be specified'));
      else if (!PATH_TYPES.includes(entry.pathType)) errors.push(notSupported(entryPath.child('pathType'), entry.pathType, PATH_TYPES));
      else if (entry.pathType === 'Exact' || entry.pathType === 'Prefix') {
        if (!text.startsWith('/')) errors.push(invalid(entryPath.child('path'), text, 'must be an absolute path'));
        for (const bad of ['//', '/./', '/../', '%2f', '%2F']) if (text.includes(bad)) errors.push(invalid(entryPath.child('path'), text, `must not contain '${bad}'`));
        for (const suffix of ['/..', '/.']) if (text.endsWith(suffix)) errors.push(invalid(entryPath.child('path'), text, `cannot end with '${suffix}'`));
      } else if (text !== '' && !text.startsWith('/')) {
        errors.push(invalid(entryPath.child('path'), text, 'must be an absolute path'));
      }
      errors.push(...validateIngressBackend(entry.backend, entryPath.child('backend')));
    });
  });
  return errors;
}

export function validateIngressClass(ingressClass: IngressClass): FieldError[] {
  const errors = validateObjectMeta(ingressClass.metadata, false, nameIsDNSSubdomain);
  const controller = ingressClass.spec?.controller;
  const controllerPath = FieldPath.root('spec', 'controller');
  if (!controller) errors.push(required(controllerPath, ''));
  else if (!/^[a-z0-9.-]+\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(controller)) {
    errors.push(invalid(controllerPath, controller, 'must be a domain-prefixed path (such as "acme.io/foo")'));
  }
  return errors;
}

// ---- autoscaling ----

const METRIC_TYPES = ['Object', 'Pods', 'Resource', 'ContainerResource', 'External'];
const TARGET_TYPES = ['Utilization', 'Value', 'AverageValue'];

export function validateHorizontalPodAutoscaler(hpa: HorizontalPodAutoscaler): FieldError[] {
  const errors = validateObjectMeta(hpa.metadata, true, nameIsPathSegment);
  const spec = hpa.spec;
  const specPath = FieldPath.root('spec');
  if (!spec) return [...errors, required(specPath, '')];
  const ref = spec.scaleTargetRef;
  const refPath = specPath.child('scaleTargetRef');
  if (!ref?.kind) errors.push(required(refPath.child('kind'), ''));
  if (!ref?.name) errors.push(required(refPath.child('name'), ''));
  const minReplicas = spec.minReplicas ?? 1;
  if (spec.minReplicas !== undefined && spec.minReplicas < 1) errors.push(invalid(specPath.child('minReplicas'), spec.minReplicas, 'must be greater than or equal to 1'));
  if (spec.maxReplicas === undefined || spec.maxReplicas < 1) errors.push(invalid(specPath.child('maxReplicas'), spec.maxReplicas ?? 0, 'must be greater than 0'));
  else if (spec.maxReplicas < minReplicas) errors.push(invalid(specPath.child('maxReplicas'), spec.maxReplicas, 'must be greater than or equal to `minReplicas`'));
  (spec.metrics ?? []).forEach((metric, i) => {
    const metricPath = specPath.child('metrics').index(i);
    if (!METRIC_TYPES.includes(metric.type)) {
      errors.push(notSupported(metricPath.child('type'), metric.type, METRIC_TYPES, false));
      return;
    }
    const source = metric.resource ?? metric.containerResource;
    if ((metric.type === 'Resource' || metric.type === 'ContainerResource') && source) {
      const sourcePath = metricPath.child(metric.type === 'Resource' ? 'resource' : 'containerResource');
      if (!source.name) errors.push(required(sourcePath.child('name'), 'must specify a resource name'));
      const target = source.target;
      if (!target || !TARGET_TYPES.includes(target.type)) {
        errors.push(notSupported(sourcePath.child('target', 'type'), target?.type ?? '', TARGET_TYPES, false));
      } else if (target.type === 'Utilization' && !(target.averageUtilization !== undefined && target.averageUtilization > 0)) {
        errors.push(invalid(sourcePath.child('target', 'averageUtilization'), target.averageUtilization ?? 0, 'must be greater than 0'));
      }
    } else if (metric.type === 'Resource' && !metric.resource) {
      errors.push(required(metricPath.child('resource'), 'must populate information for the given metric source'));
    }
  });
  for (const direction of ['scaleUp', 'scaleDown'] as const) {
    const rules = spec.behavior?.[direction];
    if (!rules) continue;
    const rulesPath = specPath.child('behavior', direction);
    const window = rules.stabilizationWindowSeconds;
    if (window !== undefined && (window < 0 || window > 3600)) errors.push(invalid(rulesPath.child('stabilizationWindowSeconds'), window, 'must be less than or equal to 3600'));
    (rules.policies ?? []).forEach((policy, i) => {
      const policyPath = rulesPath.child('policies').index(i);
      if (!(policy.value > 0)) errors.push(invalid(policyPath.child('value'), policy.value, 'must be greater than zero'));
      if (!(policy.periodSeconds > 0 && policy.periodSeconds <= 1800)) errors.push(invalid(policyPath.child('periodSeconds'), policy.periodSeconds, 'must be greater than zero and less than or equal to 1800'));
    });
  }
  return errors;
}

// ---- coordination / policy ----

export function validateLease(lease: Lease): FieldError[] {
  const errors = validateObjectMeta(lease.metadata, true, nameIsDNSSubdomain);
  const spec = lease.spec ?? {};
  if (spec.leaseDurationSeconds !== undefined && spec.leaseDurationSeconds <= 0) {
    errors.push(invalid(FieldPath.root('spec', 'leaseDurationSeconds'), spec.leaseDurationSeconds, 'must be greater than 0'));
  }
  errors.push(...nonNegative(spec.leaseTransitions, FieldPath.root('spec', 'leaseTransitions')));
  return errors;
}

export function validatePodDisruptionBudget(budget: PodDisruptionBudget): FieldError[] {
  const errors = validateObjectMeta(budget.metadata, true, nameIsDNSSubdomain);
  const spec = budget.spec ?? {};
  const specPath = FieldPath.root('spec');
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) {
    errors.push(invalid(specPath, '', 'minAvailable and maxUnavailable cannot be both set'));
  }
  for (const field of ['minAvailable', 'maxUnavailable'] as const) {
    const value = spec[field];
    if (value === undefined) continue;
    if (typeof value === 'number') errors.push(...nonNegative(value, specPath.child(field)));
    else if (!/^[0-9]+%$/.test(value)) errors.push(invalid(specPath.child(field), value, "must be an integer or percentage (e.g '5%')"));
    else if (Number(value.slice(0, -1)) > 100) errors.push(invalid(specPath.child(field), value, 'must not be greater than 100%'));
  }
  if (spec.selector) errors.push(...validateLabelSelector(spec.selector, specPath.child('selector')));
  if (spec.unhealthyPodEvictionPolicy !== undefined && !['IfHealthyBudget', 'AlwaysAllow'].includes(spec.unhealthyPodEvictionPolicy)) {
    errors.push(notSupported(specPath.child('unhealthyPodEvictionPolicy'), spec.unhealthyPodEvictionPolicy, ['AlwaysAllow', 'IfHealthyBudget']));
  }
  return errors;
}

// ---- RBAC ----

const RBAC_GROUP = 'rbac.authorization.k8s.io';

export function validatePolicyRules(rules: PolicyRule[] | undefined, namespaced: boolean, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  (rules ?? []).forEach((rule, i) => {
    const rulePath = path.index(i);
    if (!rule.verbs || rule.verbs.length === 0) errors.push(required(rulePath.child('verbs'), 'verbs must contain at least one value'));
    const nonResource = (rule.nonResourceURLs ?? []).length > 0;
    if (nonResource) {
      if (namespaced) errors.push(invalid(rulePath.child('nonResourceURLs'), rule.nonResourceURLs ?? [], 'namespaced rules cannot apply to non-resource URLs'));
      if ((rule.apiGroups ?? []).length > 0 || (rule.resources ?? []).length > 0) {
        errors.push(invalid(rulePath.child('nonResourceURLs'), rule.nonResourceURLs ?? [], 'rules cannot apply to both regular resources and non-resource URLs'));
      }
      return;
    }
    if ((rule.apiGroups ?? []).length === 0) errors.push(required(rulePath.child('apiGroups'), 'resource rules must supply at least one api group'));
    if ((rule.resources ?? []).length === 0) errors.push(required(rulePath.child('resources'), 'resource rules must supply at least one resource'));
  });
  return errors;
}

function validateSubject(subject: Subject, clusterBinding: boolean, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  if (!subject.name) errors.push(required(path.child('name'), ''));
  switch (subject.kind) {
    case 'ServiceAccount':
      if (subject.apiGroup) errors.push(notSupported(path.child('apiGroup'), subject.apiGroup, ['']));
      if (subject.name) for (const message of isDNS1123Subdomain(subject.name)) errors.push(invalid(path.child('name'), subject.name, message));
      if (clusterBinding && !subject.namespace) errors.push(required(path.child('namespace'), ''));
      break;
    case 'User':
    case 'Group':
      if (subject.apiGroup !== RBAC_GROUP) errors.push(notSupported(path.child('apiGroup'), subject.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errors.push(notSupported(path.child('kind'), subject.kind, ['ServiceAccount', 'User', 'Group'], false));
  }
  return errors;
}

export function validateRoleBinding(binding: RoleBinding, clusterBinding: boolean): FieldError[] {
  const errors = validateObjectMeta(binding.metadata, !clusterBinding, nameIsPathSegment);
  const refPath = FieldPath.root('roleRef');
  const ref = binding.roleRef;
  if (ref?.apiGroup !== RBAC_GROUP) errors.push(notSupported(refPath.child('apiGroup'), ref?.apiGroup ?? '', [RBAC_GROUP]));
  const kinds = clusterBinding ? ['ClusterRole'] : ['Role', 'ClusterRole'];
  if (!ref?.kind || !kinds.includes(ref.kind)) errors.push(notSupported(refPath.child('kind'), ref?.kind ?? '', kinds, false));
  if (!ref?.name) errors.push(required(refPath.child('name'), ''));
  (binding.subjects ?? []).forEach((subject, i) => errors.push(...validateSubject(subject, clusterBinding, FieldPath.root('subjects').index(i))));
  return errors;
}

/** roleRef cannot change: a binding must be recreated to point elsewhere. */
export function validateRoleBindingUpdate(next: RoleBinding, previous: RoleBinding, clusterBinding: boolean): FieldError[] {
  const errors = [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validateRoleBinding(next, clusterBinding)];
  if (JSON.stringify(deepCopy(next.roleRef)) !== JSON.stringify(deepCopy(previous.roleRef))) {
    errors.push(invalid(FieldPath.root('roleRef'), `${next.roleRef?.kind}/${next.roleRef?.name}`, 'cannot change roleRef'));
  }
  return errors;
}

/** Role (namespaced) and ClusterRole. */
export function validateRole(role: { metadata?: ObjectMeta; rules?: PolicyRule[] }, namespaced: boolean): FieldError[] {
  return [...validateObjectMeta(role.metadata, namespaced, nameIsPathSegment), ...validatePolicyRules(role.rules, namespaced, FieldPath.root('rules'))];
}
