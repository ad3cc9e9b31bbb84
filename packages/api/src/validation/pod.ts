// Pod and pod template validation (upstream pkg/apis/core/validation), for the
// fields this cluster serves.
import { Quantity } from '../quantity';
import type { IntOrString } from '../intstr';
import { semanticEqual } from '../semantic';
import type {
  Affinity,
  Container,
  EnvVar,
  NodeSelectorRequirement,
  Pod,
  PodAffinityTerm,
  PodSpec,
  PodTemplateSpec,
  Probe,
  ResourceRequirements,
  Toleration,
  Volume,
} from '../types/core';
import { duplicate, FieldPath, forbidden, invalid, notFound, notSupported, required, type FieldError } from './field';
import { validateAnnotations, validateLabels, validateObjectMeta, validateObjectMetaUpdate } from './meta';
import {
  inclusiveRangeError,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  nameIsDNSSubdomain,
} from './names';

const MAX_INT32 = 2147483647;

export function nonNegative(value: number | undefined, path: FieldPath): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, 'must be greater than or equal to 0')] : [];
}

/** A port that may be a number (1-65535) or an IANA service name. */
export function validatePortNumOrName(port: IntOrString | undefined, path: FieldPath): FieldError[] {
  if (port === undefined) return [required(path, '')];
  if (typeof port === 'number') return isValidPortNum(port).map((message) => invalid(path, port, message));
  if (port === '') return [required(path, '')];
  return isValidPortName(port).map((message) => invalid(path, port, message));
}

const VOLUME_SOURCES = ['emptyDir', 'hostPath', 'configMap', 'secret', 'projected', 'downwardAPI', 'persistentVolumeClaim', 'ephemeral', 'nfs', 'csi', 'image'];

function validateVolumes(volumes: Volume[] | undefined, path: FieldPath): { errors: FieldError[]; names: Set<string> } {
  const errors: FieldError[] = [];
  const names = new Set<string>();
  (volumes ?? []).forEach((volume, i) => {
    const volumePath = path.index(i);
    if (!volume.name) errors.push(required(volumePath.child('name'), ''));
    else {
      for (const message of isDNS1123Label(volume.name)) errors.push(invalid(volumePath.child('name'), volume.name, message));
      if (names.has(volume.name)) errors.push(duplicate(volumePath.child('name'), volume.name));
      names.add(volume.name);
    }
    const record = volume as unknown as Record<string, unknown>;
    const sources = VOLUME_SOURCES.filter((source) => record[source] !== undefined && record[source] !== null);
    if (sources.length === 0) errors.push(required(volumePath, 'must specify a volume type'));
    for (const extra of sources.slice(1)) errors.push(forbidden(volumePath.child(extra), 'may not specify more than 1 volume type'));
    if (volume.hostPath && !volume.hostPath.path) errors.push(required(volumePath.child('hostPath', 'path'), ''));
    if (volume.configMap && !volume.configMap.name) errors.push(required(volumePath.child('configMap', 'name'), ''));
    if (volume.secret && !volume.secret.secretName) errors.push(required(volumePath.child('secret', 'secretName'), ''));
    if (volume.persistentVolumeClaim && !volume.persistentVolumeClaim.claimName) {
      errors.push(required(volumePath.child('persistentVolumeClaim', 'claimName'), ''));
    }
    if (volume.emptyDir?.sizeLimit !== undefined) errors.push(...validateQuantity(volume.emptyDir.sizeLimit, volumePath.child('emptyDir', 'sizeLimit')));
    for (const [sourceName, items] of [
      ['configMap', volume.configMap?.items],
      ['secret', volume.secret?.items],
    ] as const) {
      (items ?? []).forEach((item, j) => {
        const itemPath = volumePath.child(sourceName, 'items').index(j);
        if (!item.key) errors.push(required(itemPath.child('key'), ''));
        if (!item.path) errors.push(required(itemPath.child('path'), ''));
        else if (item.path.startsWith('/')) errors.push(invalid(itemPath.child('path'), item.path, 'must be a relative path'));
        else if (item.path.split('/').includes('..')) errors.push(invalid(itemPath.child('path'), item.path, "must not contain '..'"));
      });
    }
  });
  return { errors, names };
}

function validateQuantity(value: unknown, path: FieldPath): FieldError[] {
  if (typeof value !== 'string' && typeof value !== 'number') return [invalid(path, value, 'must be a quantity')];
  try {
    const quantity = Quantity.parse(value);
    return quantity.sign() < 0 ? [invalid(path, String(value), 'must be greater than or equal to 0')] : [];
  } catch (error) {
    return [invalid(path, String(value), (error as Error).message)];
  }
}

/** Resource names: standard ones unqualified (cpu, memory, ...), extended ones as domain/name. */
function validateResourceName(name: string, path: FieldPath): FieldError[] {
  return isQualifiedName(name).map((message) => invalid(path, name, message));
}

export function validateResourceRequirements(resources: ResourceRequirements | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const limits = resources?.limits ?? {};
  const requests = resources?.requests ?? {};
  for (const [name, value] of Object.entries(limits)) {
    const entryPath = path.child('limits').key(name);
    errors.push(...validateResourceName(name, entryPath), ...validateQuantity(value, entryPath));
  }
  for (const [name, value] of Object.entries(requests)) {
    const entryPath = path.child('requests').key(name);
    errors.push(...validateResourceName(name, entryPath), ...validateQuantity(value, entryPath));
    const request = Quantity.tryParse(value);
    const limit = Quantity.tryParse(limits[name]);
    if (request && limit && request.cmp(limit) > 0) {
      errors.push(invalid(entryPath, request.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`));
    }
  }
  return errors;
}

const ENV_FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];
const RESOURCE_FIELD_REFS = ['limits.cpu', 'limits.memory', 'limits.ephemeral-storage', 'requests.cpu', 'requests.memory', 'requests.ephemeral-storage'];

function validateEnv(env: EnvVar[] | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  (env ?? []).forEach((variable, i) => {
    const varPath = path.index(i);
    if (!variable.name) errors.push(required(varPath.child('name'), ''));
    else for (const message of isEnvVarName(variable.name)) errors.push(invalid(varPath.child('name'), variable.name, message));
    const source = variable.valueFrom;
    if (!source) return;
    const sourcePath = varPath.child('valueFrom');
    const kinds = (['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'] as const).filter((k) => source[k] !== undefined);
    if (kinds.length === 0) {
      errors.push(invalid(sourcePath, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
    } else if (kinds.length > 1) {
      errors.push(invalid(sourcePath, '', 'may not have more than one field specified at a time'));
    }
    if (variable.value) errors.push(invalid(sourcePath, '', 'may not be specified when `value` is not empty'));
    if (source.fieldRef) {
      const fieldPath = source.fieldRef.fieldPath;
      const refPath = sourcePath.child('fieldRef', 'fieldPath');
      if (!fieldPath) errors.push(required(refPath, ''));
      else if (!ENV_FIELD_PATHS.includes(fieldPath) && !/^metadata\.(labels|annotations)\['[^']+'\]$/.test(fieldPath)) {
        errors.push(notSupported(refPath, fieldPath, ENV_FIELD_PATHS));
      }
    }
    if (source.resourceFieldRef) {
      const resource = source.resourceFieldRef.resource;
      const refPath = sourcePath.child('resourceFieldRef', 'resource');
      if (!resource) errors.push(required(refPath, ''));
      else if (!RESOURCE_FIELD_REFS.includes(resource)) errors.push(notSupported(refPath, resource, RESOURCE_FIELD_REFS));
    }
    for (const refName of ['configMapKeyRef', 'secretKeyRef'] as const) {
      const ref = source[refName];
      if (!ref) continue;
      const refPath = sourcePath.child(refName);
      if (!ref.name) errors.push(required(refPath.child('name'), ''));
      if (!ref.key) errors.push(required(refPath.child('key'), ''));
      else for (const message of isConfigMapKey(ref.key)) errors.push(invalid(refPath.child('key'), ref.key, message));
    }
  });
  return errors;
}

interface Handler {
  exec?: { command?: string[] };
  httpGet?: { port: IntOrString; scheme?: string; path?: string };
  tcpSocket?: { port: IntOrString };
  grpc?: { port: number };
  sleep?: { seconds: number };
}

function validateHandler(handler: Handler, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  const kinds = (['exec', 'httpGet', 'tcpSocket', 'grpc', 'sleep'] as const).filter((k) => handler[k] !== undefined && handler[k] !== null);
  if (kinds.length === 0) errors.push(required(path, 'must specify a handler type'));
  for (const extra of kinds.slice(1)) errors.push(forbidden(path.child(extra), 'may not specify more than 1 handler type'));
  if (handler.exec && (!handler.exec.command || handler.exec.command.length === 0)) errors.push(required(path.child('exec', 'command'), ''));
  if (handler.httpGet) {
    errors.push(...validatePortNumOrName(handler.httpGet.port, path.child('httpGet', 'port')));
    const scheme = handler.httpGet.scheme;
    if (scheme !== undefined && scheme !== 'HTTP' && scheme !== 'HTTPS') errors.push(notSupported(path.child('httpGet', 'scheme'), scheme, ['HTTP', 'HTTPS']));
  }
  if (handler.tcpSocket) errors.push(...validatePortNumOrName(handler.tcpSocket.port, path.child('tcpSocket', 'port')));
  if (handler.grpc) {
    for (const message of isValidPortNum(handler.grpc.port)) errors.push(invalid(path.child('grpc', 'port'), handler.grpc.port, message));
  }
  if (handler.sleep) errors.push(...nonNegative(handler.sleep.seconds, path.child('sleep', 'seconds')));
  return errors;
}

function validateProbe(probe: Probe | undefined, path: FieldPath, mustSucceedOnce: boolean): FieldError[] {
  if (!probe) return [];
  const errors = validateHandler(probe, path);
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold'] as const) {
    errors.push(...nonNegative(probe[field], path.child(field)));
  }
  if (mustSucceedOnce && probe.successThreshold !== undefined && probe.successThreshold !== 1) {
    errors.push(invalid(path.child('successThreshold'), probe.successThreshold, 'must be 1'));
  }
  if (probe.terminationGracePeriodSeconds !== undefined && probe.terminationGracePeriodSeconds <= 0) {
    errors.push(invalid(path.child('terminationGracePeriodSeconds'), probe.terminationGracePeriodSeconds, 'must be greater than 0'));
  }
  return errors;
}

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];

function validateContainer(
  container: Container,
  path: FieldPath,
  volumeNames: Set<string>,
  kind: 'container' | 'init',
  hostNetwork: boolean,
): FieldError[] {
  const errors: FieldError[] = [];
  if (!container.image) errors.push(required(path.child('image'), ''));
  if (container.imagePullPolicy !== undefined && !PULL_POLICIES.includes(container.imagePullPolicy)) {
    errors.push(notSupported(path.child('imagePullPolicy'), container.imagePullPolicy, PULL_POLICIES));
  }
  const policy = container.terminationMessagePolicy;
  if (policy !== undefined && policy !== 'File' && policy !== 'FallbackToLogsOnError') {
    errors.push(notSupported(path.child('terminationMessagePolicy'), policy, ['File', 'FallbackToLogsOnError']));
  }
  const portNames = new Set<string>();
  (container.ports ?? []).forEach((port, i) => {
    const portPath = path.child('ports').index(i);
    if (port.name) {
      for (const message of isValidPortName(port.name)) errors.push(invalid(portPath.child('name'), port.name, message));
      if (portNames.has(port.name)) errors.push(duplicate(portPath.child('name'), port.name));
      portNames.add(port.name);
    }
    if (port.containerPort === undefined || port.containerPort === 0) errors.push(required(portPath.child('containerPort'), ''));
    else for (const message of isValidPortNum(port.containerPort)) errors.push(invalid(portPath.child('containerPort'), port.containerPort, message));
    if (port.hostPort !== undefined && port.hostPort !== 0) {
      for (const message of isValidPortNum(port.hostPort)) errors.push(invalid(portPath.child('hostPort'), port.hostPort, message));
      if (hostNetwork && port.hostPort !== port.containerPort) {
        errors.push(invalid(portPath.child('containerPort'), port.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
      }
    }
    if (port.protocol === undefined) errors.push(required(portPath.child('protocol'), ''));
    else if (!PROTOCOLS.includes(port.protocol)) errors.push(notSupported(portPath.child('protocol'), port.protocol, PROTOCOLS));
  });
  errors.push(...validateEnv(container.env, path.child('env')));
  (container.envFrom ?? []).forEach((source, i) => {
    const sourcePath = path.child('envFrom').index(i);
    const count = (source.configMapRef ? 1 : 0) + (source.secretRef ? 1 : 0);
    if (count === 0) errors.push(invalid(sourcePath, '', 'must specify one of: `configMapRef` or `secretRef`'));
    if (count > 1) errors.push(invalid(sourcePath, '', 'may not have more than one field specified at a time'));
  });
  const mountPaths = new Set<string>();
  (container.volumeMounts ?? []).forEach((mount, i) => {
    const mountPath = path.child('volumeMounts').index(i);
    if (!mount.name) errors.push(required(mountPath.child('name'), ''));
    else if (!volumeNames.has(mount.name)) errors.push(notFound(mountPath.child('name'), mount.name));
    if (!mount.mountPath) errors.push(required(mountPath.child('mountPath'), ''));
    else if (mountPaths.has(mount.mountPath)) errors.push(invalid(mountPath.child('mountPath'), mount.mountPath, 'must be unique'));
    else mountPaths.add(mount.mountPath);
    if (mount.subPath && (mount.subPath.startsWith('/') || mount.subPath.split('/').includes('..'))) {
      errors.push(invalid(mountPath.child('subPath'), mount.subPath, "must be a relative path without '..'"));
    }
  });
  errors.push(...validateResourceRequirements(container.resources, path.child('resources')));
  const sidecar = kind === 'init' && container.restartPolicy === 'Always';
  if (container.restartPolicy !== undefined) {
    if (kind === 'container') errors.push(forbidden(path.child('restartPolicy'), 'may not be set for non-init containers'));
    else if (container.restartPolicy !== 'Always') errors.push(notSupported(path.child('restartPolicy'), container.restartPolicy, ['Always']));
  }
  if (kind === 'init' && !sidecar) {
    for (const field of ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle'] as const) {
      if (container[field]) errors.push(forbidden(path.child(field), 'may not be set for init containers without restartPolicy=Always'));
    }
  } else {
    errors.push(...validateProbe(container.livenessProbe, path.child('livenessProbe'), true));
    errors.push(...validateProbe(container.startupProbe, path.child('startupProbe'), true));
    errors.push(...validateProbe(container.readinessProbe, path.child('readinessProbe'), false));
    if (container.readinessProbe?.terminationGracePeriodSeconds !== undefined) {
      errors.push(invalid(path.child('readinessProbe', 'terminationGracePeriodSeconds'), container.readinessProbe.terminationGracePeriodSeconds, 'must not be set for readinessProbes'));
    }
    if (container.lifecycle?.postStart) errors.push(...validateHandler(container.lifecycle.postStart, path.child('lifecycle', 'postStart')));
    if (container.lifecycle?.preStop) errors.push(...validateHandler(container.lifecycle.preStop, path.child('lifecycle', 'preStop')));
  }
  return errors;
}

const TOLERATION_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export function validateTolerations(tolerations: Toleration[] | undefined, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  (tolerations ?? []).forEach((toleration, i) => {
    const tolerationPath = path.index(i);
    if (toleration.key) {
      for (const message of isQualifiedName(toleration.key)) errors.push(invalid(tolerationPath.child('key'), toleration.key, message));
    }
    const operator = toleration.operator ?? '';
    if (!toleration.key && operator !== 'Exists') {
      errors.push(invalid(tolerationPath.child('operator'), operator, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (toleration.tolerationSeconds !== undefined && toleration.effect !== 'NoExecute') {
      errors.push(invalid(tolerationPath.child('effect'), toleration.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (operator === '' || operator === 'Equal') {
      for (const message of isValidLabelValue(toleration.value ?? '')) errors.push(invalid(tolerationPath.child('operator'), toleration.value ?? '', message));
    } else if (operator === 'Exists') {
      if (toleration.value) errors.push(invalid(tolerationPath.child('operator'), toleration.value, "value must be empty when `operator` is 'Exists'"));
    } else {
      errors.push(notSupported(tolerationPath.child('operator'), operator, ['Equal', 'Exists']));
    }
    if (toleration.effect && !TOLERATION_EFFECTS.includes(toleration.effect)) {
      errors.push(notSupported(tolerationPath.child('effect'), toleration.effect, TOLERATION_EFFECTS));
    }
  });
  return errors;
}

function validateNodeSelectorRequirement(requirement: NodeSelectorRequirement, path: FieldPath, isField: boolean): FieldError[] {
  const errors: FieldError[] = [];
  const values = requirement.values ?? [];
  switch (requirement.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) errors.push(required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) errors.push(forbidden(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      break;
    case 'Gt':
    case 'Lt':
      if (values.length !== 1) errors.push(required(path.child('values'), "must be specified single value when `operator` is 'Lt' or 'Gt'"));
      break;
    default:
      errors.push(invalid(path.child('operator'), requirement.operator, 'not a valid selector operator'));
  }
  if (!isField) for (const message of isQualifiedName(requirement.key)) errors.push(invalid(path.child('key'), requirement.key, message));
  return errors;
}

function validateAffinityTerm(term: PodAffinityTerm, path: FieldPath): FieldError[] {
  const errors: FieldError[] = [];
  if (!term.topologyKey) errors.push(required(path.child('topologyKey'), 'can not be empty'));
  for (const message of isQualifiedName(term.topologyKey ?? '')) errors.push(invalid(path.child('topologyKey'), term.topologyKey ?? '', message));
  for (const namespace of term.namespaces ?? []) {
    for (const message of isDNS1123Label(namespace)) errors.push(invalid(path.child('namespaces'), namespace, message));
  }
  return errors;
}

function validateAffinity(affinity: Affinity | undefined, path: FieldPath): FieldError[] {
  if (!affinity) return [];
  const errors: FieldError[] = [];
  const nodeAffinity = affinity.nodeAffinity;
  const requiredTerms = nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (requiredTerms) {
    const termsPath = path.child('nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms');
    if (!requiredTerms.nodeSelectorTerms || requiredTerms.nodeSelectorTerms.length === 0) {
      errors.push(required(termsPath, 'must have at least one node selector term'));
    }
    (requiredTerms.nodeSelectorTerms ?? []).forEach((term, i) => {
      (term.matchExpressions ?? []).forEach((r, j) => errors.push(...validateNodeSelectorRequirement(r, termsPath.index(i).child('matchExpressions').index(j), false)));
      (term.matchFields ?? []).forEach((r, j) => errors.push(...validateNodeSelectorRequirement(r, termsPath.index(i).child('matchFields').index(j), true)));
    });
  }
  (nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((term, i) => {
    const termPath = path.child('nodeAffinity', 'preferredDuringSchedulingIgnoredDuringExecution').index(i);
    if (term.weight < 1 || term.weight > 100) errors.push(invalid(termPath.child('weight'), term.weight, 'must be in the range 1-100'));
    (term.preference?.matchExpressions ?? []).forEach((r, j) =>
      errors.push(...validateNodeSelectorRequirement(r, termPath.child('preference', 'matchExpressions').index(j), false)),
    );
  });
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const podAffinity = affinity[kind];
    if (!podAffinity) continue;
    (podAffinity.requiredDuringSchedulingIgnoredDuringExecution ?? []).forEach((term, i) =>
      errors.push(...validateAffinityTerm(term, path.child(kind, 'requiredDuringSchedulingIgnoredDuringExecution').index(i))),
    );
    (podAffinity.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((weighted, i) => {
      const termPath = path.child(kind, 'preferredDuringSchedulingIgnoredDuringExecution').index(i);
      if (weighted.weight < 1 || weighted.weight > 100) errors.push(invalid(termPath.child('weight'), weighted.weight, 'must be in the range 1-100'));
      errors.push(...validateAffinityTerm(weighted.podAffinityTerm ?? { topologyKey: '' }, termPath.child('podAffinityTerm')));
    });
  }
  return errors;
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];

/** Validates a (defaulted) PodSpec. */
export function validatePodSpec(spec: PodSpec | undefined, path: FieldPath): FieldError[] {
  if (!spec) return [required(path, '')];
  const errors: FieldError[] = [];
  const { errors: volumeErrors, names: volumeNames } = validateVolumes(spec.volumes, path.child('volumes'));
  errors.push(...volumeErrors);
  const hostNetwork = spec.hostNetwork === true;
  const containerNames = new Set<string>();
  const checkName = (container: Container, containerPath: FieldPath) => {
    if (!container.name) {
      errors.push(required(containerPath.child('name'), ''));
      return;
    }
    for (const message of isDNS1123Label(container.name)) errors.push(invalid(containerPath.child('name'), container.name, message));
    if (containerNames.has(container.name)) errors.push(duplicate(containerPath.child('name'), container.name));
    containerNames.add(container.name);
  };
  if (!spec.containers || spec.containers.length === 0) errors.push(required(path.child('containers'), ''));
  (spec.initContainers ?? []).forEach((container, i) => {
    const containerPath = path.child('initContainers').index(i);
    checkName(container, containerPath);
    errors.push(...validateContainer(container, containerPath, volumeNames, 'init', hostNetwork));
  });
  (spec.containers ?? []).forEach((container, i) => {
    const containerPath = path.child('containers').index(i);
    checkName(container, containerPath);
    errors.push(...validateContainer(container, containerPath, volumeNames, 'container', hostNetwork));
  });
  if (spec.restartPolicy === undefined) errors.push(required(path.child('restartPolicy'), ''));
  else if (!RESTART_POLICIES.includes(spec.restartPolicy)) errors.push(notSupported(path.child('restartPolicy'), spec.restartPolicy, RESTART_POLICIES));
  if (spec.dnsPolicy === undefined) errors.push(required(path.child('dnsPolicy'), ''));
  else if (!DNS_POLICIES.includes(spec.dnsPolicy)) errors.push(notSupported(path.child('dnsPolicy'), spec.dnsPolicy, DNS_POLICIES));
  else if (spec.dnsPolicy === 'None' && (!spec.dnsConfig?.nameservers || spec.dnsConfig.nameservers.length === 0)) {
    errors.push(required(path.child('dnsConfig'), 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }
  if (spec.activeDeadlineSeconds !== undefined && (spec.activeDeadlineSeconds < 1 || spec.activeDeadlineSeconds > MAX_INT32)) {
    errors.push(invalid(path.child('activeDeadlineSeconds'), spec.activeDeadlineSeconds, inclusiveRangeError(1, MAX_INT32)));
  }
  errors.push(...nonNegative(spec.terminationGracePeriodSeconds, path.child('terminationGracePeriodSeconds')));
  errors.push(...validateLabels(spec.nodeSelector, path.child('nodeSelector')));
  if (spec.serviceAccountName) {
    for (const message of isDNS1123Subdomain(spec.serviceAccountName)) errors.push(invalid(path.child('serviceAccountName'), spec.serviceAccountName, message));
  }
  if (spec.nodeName) for (const message of isDNS1123Subdomain(spec.nodeName)) errors.push(invalid(path.child('nodeName'), spec.nodeName, message));
  if (spec.hostname) for (const message of isDNS1123Label(spec.hostname)) errors.push(invalid(path.child('hostname'), spec.hostname, message));
  if (spec.subdomain) for (const message of isDNS1123Label(spec.subdomain)) errors.push(invalid(path.child('subdomain'), spec.subdomain, message));
  errors.push(...validateTolerations(spec.tolerations, path.child('tolerations')));
  errors.push(...validateAffinity(spec.affinity, path.child('affinity')));
  (spec.topologySpreadConstraints ?? []).forEach((constraint, i) => {
    const constraintPath = path.child('topologySpreadConstraints').index(i);
    if (!(constraint.maxSkew > 0)) errors.push(invalid(constraintPath.child('maxSkew'), constraint.maxSkew, 'must be greater than zero'));
    if (!constraint.topologyKey) errors.push(required(constraintPath.child('topologyKey'), 'can not be empty'));
    if (constraint.whenUnsatisfiable !== 'DoNotSchedule' && constraint.whenUnsatisfiable !== 'ScheduleAnyway') {
      errors.push(notSupported(constraintPath.child('whenUnsatisfiable'), constraint.whenUnsatisfiable, ['DoNotSchedule', 'ScheduleAnyway']));
    }
  });
  (spec.readinessGates ?? []).forEach((gate, i) => {
    for (const message of isQualifiedName(gate.conditionType)) {
      errors.push(invalid(path.child('readinessGates').index(i).child('conditionType'), gate.conditionType, message));
    }
  });
  (spec.imagePullSecrets ?? []).forEach((secret, i) => {
    if (!secret.name) errors.push(required(path.child('imagePullSecrets').index(i).child('name'), ''));
  });
  return errors;
}

export function validatePodTemplateSpec(template: PodTemplateSpec | undefined, path: FieldPath): FieldError[] {
  if (!template) return [required(path, '')];
  const errors: FieldError[] = [];
  errors.push(...validateLabels(template.metadata?.labels, path.child('metadata', 'labels')));
  errors.push(...validateAnnotations(template.metadata?.annotations, path.child('metadata', 'annotations')));
  errors.push(...validatePodSpec(template.spec, path.child('spec')));
  return errors;
}

export function validatePod(pod: Pod): FieldError[] {
  return [...validateObjectMeta(pod.metadata, true, nameIsDNSSubdomain), ...validatePodSpec(pod.spec, FieldPath.root('spec'))];
}

const POD_UPDATE_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** Which spec changes a running pod accepts (upstream ValidatePodUpdate). */
export function validatePodUpdate(next: Pod, previous: Pod): FieldError[] {
  const errors = [...validateObjectMetaUpdate(next.metadata, previous.metadata), ...validatePod(next)];
  const specPath = FieldPath.root('spec');
  const nextSpec = next.spec;
  const previousSpec = previous.spec;
  if (!nextSpec || !previousSpec) return errors;
  const oldDeadline = previousSpec.activeDeadlineSeconds;
  const newDeadline = nextSpec.activeDeadlineSeconds;
  if (oldDeadline !== undefined) {
    if (newDeadline === undefined) {
      errors.push(invalid(specPath.child('activeDeadlineSeconds'), '<nil>', 'must not update from a positive integer to nil value'));
    } else if (newDeadline > oldDeadline) {
      errors.push(invalid(specPath.child('activeDeadlineSeconds'), newDeadline, 'must be less than or equal to previous value'));
    }
  }
  const oldTolerations = previousSpec.tolerations ?? [];
  const newTolerations = nextSpec.tolerations ?? [];
  const tolerationsKept = oldTolerations.every((old) =>
    newTolerations.some(
      (candidate) =>
        candidate.key === old.key &&
        (candidate.operator ?? 'Equal') === (old.operator ?? 'Equal') &&
        (candidate.value ?? '') === (old.value ?? '') &&
        (candidate.effect ?? '') === (old.effect ?? '') &&
        (old.tolerationSeconds === undefined
          ? candidate.tolerationSeconds === undefined
          : candidate.tolerationSeconds !== undefined && candidate.tolerationSeconds <= old.tolerationSeconds),
    ),
  );
  if (!tolerationsKept) errors.push(forbidden(specPath.child('tolerations'), 'existing toleration can not be modified except its tolerationSeconds'));
  // Blank out what may change, then demand the rest be equal.
  const mungeImages = (containers: Container[] | undefined, from: Container[] | undefined) =>
    (containers ?? []).map((container, i) => ({ ...container, image: from?.[i]?.image ?? container.image }));
  const munged: PodSpec = {
    ...nextSpec,
    containers: mungeImages(nextSpec.containers, previousSpec.containers),
    initContainers: nextSpec.initContainers && mungeImages(nextSpec.initContainers, previousSpec.initContainers),
    activeDeadlineSeconds: previousSpec.activeDeadlineSeconds,
    tolerations: previousSpec.tolerations,
    terminationGracePeriodSeconds:
      (previousSpec.terminationGracePeriodSeconds ?? 0) < 0 && nextSpec.terminationGracePeriodSeconds === 1
        ? previousSpec.terminationGracePeriodSeconds
        : nextSpec.terminationGracePeriodSeconds,
  };
  if (!semanticEqual(munged, previousSpec)) errors.push(forbidden(specPath, POD_UPDATE_MESSAGE));
  return errors;
}
