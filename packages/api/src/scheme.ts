// The registry of every served resource: where it lives in the REST API, what
// kubectl may call it, which verbs and subresources it has and where it is
// stored. The API server builds discovery and routing from this table.
import { ConversionError } from './errors';
import { deepCopy } from './deepcopy';
import { labelSelectorAsSelector } from './labels';
import type { APIGroup, APIResource, APIResourceList, KubeObject, LabelSelector } from './types/meta';
import type { Scale } from './types/autoscaling';
import type { Ingress, IngressBackend, IngressBackendV1beta1, IngressV1beta1 } from './types/networking';

export type Verb = 'create' | 'delete' | 'deletecollection' | 'get' | 'list' | 'patch' | 'update' | 'watch';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

export interface SubresourceInfo {
  /** Path segment after the object name: "status", "scale", "log", ... */
  name: string;
  /** Kind of the request/response body ("Scale", "Eviction", "Pod"...). */
  kind: string;
  /** Set when the body kind lives in another group than the parent (Scale: autoscaling, Eviction: policy). */
  group?: string;
  version?: string;
  verbs: Verb[];
}

export interface ResourceInfo {
  /** "" for the core group. */
  group: string;
  /** Served versions, the storage (preferred) version first. */
  versions: string[];
  kind: string;
  listKind: string;
  /** Plural resource name as in URLs: "deployments". */
  resource: string;
  singular: string;
  shortNames: string[];
  namespaced: boolean;
  verbs: Verb[];
  categories: string[];
  subresources: SubresourceInfo[];
  /**
   * Key prefix in etcd, without namespace or name: "/registry/services/specs".
   * Undefined for resources that are computed, not stored (metrics).
   */
  storagePrefix: string | undefined;
}

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const READ_VERBS: Verb[] = ['get', 'list'];
const STATUS: SubresourceInfo = { name: 'status', kind: '', verbs: ['get', 'patch', 'update'] };
const SCALE: SubresourceInfo = { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };

interface Entry {
  group: string;
  versions: string[];
  kind: string;
  resource: string;
  shortNames?: string[];
  namespaced?: boolean;
  verbs?: Verb[];
  all?: boolean;
  subresources?: SubresourceInfo[];
  storage?: string | null;
}

// storage: upstream's etcd prefixes where they differ from the resource name.
const ENTRIES: Entry[] = [
  {
    group: '',
    versions: ['v1'],
    kind: 'Pod',
    resource: 'pods',
    shortNames: ['po'],
    all: true,
    subresources: [
      STATUS,
      { name: 'binding', kind: 'Binding', verbs: ['create'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'log', kind: 'Pod', verbs: ['get'] },
      { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
      { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
    ],
  },
  { group: '', versions: ['v1'], kind: 'Service', resource: 'services', shortNames: ['svc'], all: true, subresources: [STATUS], storage: 'services/specs' },
  { group: '', versions: ['v1'], kind: 'Endpoints', resource: 'endpoints', shortNames: ['ep'], storage: 'services/endpoints' },
  { group: '', versions: ['v1'], kind: 'Node', resource: 'nodes', shortNames: ['no'], namespaced: false, subresources: [STATUS], storage: 'minions' },
  { group: '', versions: ['v1'], kind: 'Namespace', resource: 'namespaces', shortNames: ['ns'], namespaced: false, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], subresources: [STATUS, { name: 'finalize', kind: 'Namespace', verbs: ['update'] }] },
  { group: '', versions: ['v1'], kind: 'ConfigMap', resource: 'configmaps', shortNames: ['cm'] },
  { group: '', versions: ['v1'], kind: 'Secret', resource: 'secrets' },
  { group: '', versions: ['v1'], kind: 'Event', resource: 'events', shortNames: ['ev'] },
  { group: '', versions: ['v1'], kind: 'ServiceAccount', resource: 'serviceaccounts', shortNames: ['sa'] },
  { group: '', versions: ['v1'], kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', shortNames: ['pvc'], subresources: [STATUS] },
  { group: '', versions: ['v1'], kind: 'PersistentVolume', resource: 'persistentvolumes', shortNames: ['pv'], namespaced: false, subresources: [STATUS] },
  { group: 'apps', versions: ['v1'], kind: 'Deployment', resource: 'deployments', shortNames: ['deploy'], all: true, subresources: [STATUS, SCALE] },
  { group: 'apps', versions: ['v1'], kind: 'ReplicaSet', resource: 'replicasets', shortNames: ['rs'], all: true, subresources: [STATUS, SCALE] },
  { group: 'apps', versions: ['v1'], kind: 'StatefulSet', resource: 'statefulsets', shortNames: ['sts'], all: true, subresources: [STATUS, SCALE] },
  { group: 'apps', versions: ['v1'], kind: 'DaemonSet', resource: 'daemonsets', shortNames: ['ds'], all: true, subresources: [STATUS] },
  { group: 'apps', versions: ['v1'], kind: 'ControllerRevision', resource: 'controllerrevisions' },
  { group: 'batch', versions: ['v1'], kind: 'Job', resource: 'jobs', all: true, subresources: [STATUS] },
  { group: 'batch', versions: ['v1'], kind: 'CronJob', resource: 'cronjobs', shortNames: ['cj'], all: true, subresources: [STATUS] },
  { group: 'autoscaling', versions: ['v2'], kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', shortNames: ['hpa'], all: true, subresources: [STATUS] },
  { group: 'networking.k8s.io', versions: ['v1', 'v1beta1'], kind: 'Ingress', resource: 'ingresses', shortNames: ['ing'], subresources: [STATUS], storage: 'ingress' },
  { group: 'networking.k8s.io', versions: ['v1'], kind: 'IngressClass', resource: 'ingressclasses', namespaced: false },
  { group: 'coordination.k8s.io', versions: ['v1'], kind: 'Lease', resource: 'leases' },
  { group: 'policy', versions: ['v1'], kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets', shortNames: ['pdb'], subresources: [STATUS] },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], kind: 'Role', resource: 'roles' },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], kind: 'ClusterRole', resource: 'clusterroles', namespaced: false },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], kind: 'RoleBinding', resource: 'rolebindings' },
  { group: 'rbac.authorization.k8s.io', versions: ['v1'], kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', namespaced: false },
  { group: 'storage.k8s.io', versions: ['v1'], kind: 'StorageClass', resource: 'storageclasses', shortNames: ['sc'], namespaced: false },
  { group: 'metrics.k8s.io', versions: ['v1beta1'], kind: 'PodMetrics', resource: 'pods', verbs: READ_VERBS, storage: null },
  { group: 'metrics.k8s.io', versions: ['v1beta1'], kind: 'NodeMetrics', resource: 'nodes', namespaced: false, verbs: READ_VERBS, storage: null },
];

function toInfo(entry: Entry): ResourceInfo {
  return {
    group: entry.group,
    versions: entry.versions,
    kind: entry.kind,
    listKind: `${entry.kind}List`,
    resource: entry.resource,
    singular: entry.kind.toLowerCase(),
    shortNames: entry.shortNames ?? [],
    namespaced: entry.namespaced ?? true,
    verbs: entry.verbs ?? ALL_VERBS,
    categories: entry.all ? ['all'] : [],
    subresources: (entry.subresources ?? []).map((sub) => ({ ...sub, kind: sub.kind || entry.kind })),
    storagePrefix: entry.storage === null ? undefined : `/registry/${entry.storage ?? entry.resource}`,
  };
}

const RESOURCES: readonly ResourceInfo[] = ENTRIES.map(toInfo);

/** The core group's version list and the named groups, in discovery order. */
const GROUP_ORDER = ['', 'apps', 'batch', 'autoscaling', 'networking.k8s.io', 'coordination.k8s.io', 'policy', 'rbac.authorization.k8s.io', 'storage.k8s.io', 'metrics.k8s.io'];

export function allResources(): readonly ResourceInfo[] {
  return RESOURCES;
}

/** "apps/v1" for named groups, "v1" for the core group. */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Splits an apiVersion ("apps/v1", "v1") into group and version. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** The resource served for a group/version/kind, or undefined. */
export function resourceForGVK(gvk: GroupVersionKind): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === gvk.group && r.kind === gvk.kind && r.versions.includes(gvk.version));
}

/** The resource for an object's apiVersion and kind. */
export function resourceForObject(object: KubeObject): ResourceInfo | undefined {
  if (!object.apiVersion || !object.kind) return undefined;
  const { group, version } = parseApiVersion(object.apiVersion);
  return resourceForGVK({ group, version, kind: object.kind });
}

/** Lookup by group and plural resource name ("apps", "deployments"); version optional. */
export function resourceFor(group: string, resource: string, version?: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.resource === resource && (version === undefined || r.versions.includes(version)));
}

/** Lookup by group and kind, any version. */
export function resourceForKind(group: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.group === group && r.kind === kind);
}

/** Lookup by short name ("deploy", "svc"). */
export function resourceForShortName(shortName: string): ResourceInfo | undefined {
  return RESOURCES.find((r) => r.shortNames.includes(shortName));
}

/**
 * Resolves what a user types (`po`, `pods`, `pod`, `Pod`, `deployments.apps`,
 * `deploy.apps`), as kubectl's RESTMapper does. Core and then the other
 * groups in discovery order win ties, so "pods" is core pods, not metrics.
 */
export function resolveResource(name: string): ResourceInfo | undefined {
  const dot = name.indexOf('.');
  const head = (dot < 0 ? name : name.slice(0, dot)).toLowerCase();
  const group = dot < 0 ? undefined : name.slice(dot + 1);
  const candidates = RESOURCES.filter((r) => group === undefined || r.group === group).sort(
    (a, b) => GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group),
  );
  return (
    candidates.find((r) => r.resource === head) ??
    candidates.find((r) => r.singular === head) ??
    candidates.find((r) => r.shortNames.includes(head))
  );
}

/** etcd key of one object: `/registry/<prefix>/<namespace>/<name>` or `/registry/<prefix>/<name>`. */
export function storageKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${storageKeyPrefix(info, namespace)}${name}`;
}

/**
 * Range prefix for listing: all namespaces (namespace undefined) or one;
 * ends with '/' so "pods/default" never matches "pods/default2".
 */
export function storageKeyPrefix(info: ResourceInfo, namespace?: string): string {
  if (info.storagePrefix === undefined) throw new ConversionError(`${info.resource}.${info.group} is not stored`);
  if (info.namespaced && namespace !== undefined && namespace !== '') return `${info.storagePrefix}/${namespace}/`;
  return `${info.storagePrefix}/`;
}

// ---- discovery ----

/** Group list as GET /apis answers it (the core group is served at /api instead). */
export function apiGroups(): APIGroup[] {
  const groups: APIGroup[] = [];
  for (const group of GROUP_ORDER) {
    if (group === '') continue;
    const versions: string[] = [];
    for (const info of RESOURCES) {
      if (info.group !== group) continue;
      for (const version of info.versions) if (!versions.includes(version)) versions.push(version);
    }
    if (versions.length === 0) continue;
    const entries = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
    groups.push({ name: group, versions: entries, preferredVersion: entries[0] });
  }
  return groups;
}

/** The APIResourceList of one group version (GET /api/v1, GET /apis/apps/v1), subresources included. */
export function apiResourceList(group: string, version: string): APIResourceList {
  const resources: APIResource[] = [];
  for (const info of RESOURCES) {
    if (info.group !== group || !info.versions.includes(version)) continue;
    const entry: APIResource = { name: info.resource, singularName: info.singular, namespaced: info.namespaced, kind: info.kind, verbs: [...info.verbs] };
    if (info.shortNames.length > 0) entry.shortNames = [...info.shortNames];
    if (info.categories.length > 0) entry.categories = [...info.categories];
    resources.push(entry);
    for (const sub of info.subresources) {
      const subEntry: APIResource = { name: `${info.resource}/${sub.name}`, singularName: '', namespaced: info.namespaced, kind: sub.kind, verbs: [...sub.verbs] };
      if (sub.group !== undefined) subEntry.group = sub.group;
      if (sub.version !== undefined) subEntry.version = sub.version;
      resources.push(subEntry);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

// ---- conversion ----

/** The version objects of a resource are stored in. */
export function storageVersion(info: ResourceInfo): string {
  const version = info.versions[0];
  if (version === undefined) throw new ConversionError(`${info.resource} has no versions`);
  return version;
}

/**
 * Converts an object between served versions of its kind. Objects of kinds
 * with a single version only get their apiVersion checked. Returns a copy.
 */
export function convertObject(object: KubeObject, toVersion: string): KubeObject {
  if (!object.apiVersion || !object.kind) throw new ConversionError('object has no apiVersion or kind');
  const { group, version } = parseApiVersion(object.apiVersion);
  const info = resourceForGVK({ group, version, kind: object.kind });
  if (!info) throw new ConversionError(`no kind "${object.kind}" is registered for version "${object.apiVersion}"`);
  if (!info.versions.includes(toVersion)) {
    throw new ConversionError(`${info.kind} cannot be converted to version "${apiVersionOf(group, toVersion)}"`);
  }
  if (version === toVersion) return deepCopy(object);
  if (info.group === 'networking.k8s.io' && info.kind === 'Ingress') {
    return toVersion === 'v1' ? ingressFromV1beta1(object as IngressV1beta1) : ingressToV1beta1(object as Ingress);
  }
  return { ...deepCopy(object), apiVersion: apiVersionOf(group, toVersion) };
}

function backendFromV1beta1(backend: IngressBackendV1beta1): IngressBackend {
  if (backend.resource) return { resource: backend.resource };
  const port = typeof backend.servicePort === 'string' ? { name: backend.servicePort } : backend.servicePort !== undefined ? { number: backend.servicePort } : undefined;
  return { service: port ? { name: backend.serviceName ?? '', port } : { name: backend.serviceName ?? '' } };
}

function backendToV1beta1(backend: IngressBackend): IngressBackendV1beta1 {
  if (backend.resource) return { resource: backend.resource };
  const out: IngressBackendV1beta1 = {};
  if (backend.service) {
    out.serviceName = backend.service.name;
    const port = backend.service.port;
    if (port?.name) out.servicePort = port.name;
    else if (port?.number !== undefined) out.servicePort = port.number;
  }
  return out;
}

/** networking.k8s.io/v1beta1 -> v1: serviceName/servicePort become service.name/port, pathType defaults to ImplementationSpecific. */
export function ingressFromV1beta1(object: IngressV1beta1): Ingress {
  const source = deepCopy(object);
  const out: Ingress = { ...source, apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', spec: undefined };
  if (source.spec) {
    const { backend, rules, ...rest } = source.spec;
    out.spec = { ...rest };
    if (backend) out.spec.defaultBackend = backendFromV1beta1(backend);
    if (rules) {
      out.spec.rules = rules.map((rule) => ({
        ...rule,
        http: rule.http && {
          paths: rule.http.paths.map((path) => ({
            ...path,
            pathType: path.pathType ?? 'ImplementationSpecific',
            backend: backendFromV1beta1(path.backend),
          })),
        },
      }));
    }
  }
  if (out.spec === undefined) delete out.spec;
  return stripUndefined(out);
}

/** networking.k8s.io/v1 -> v1beta1, the reverse of ingressFromV1beta1. */
export function ingressToV1beta1(object: Ingress): IngressV1beta1 {
  const source = deepCopy(object);
  const out: IngressV1beta1 = { ...source, apiVersion: 'networking.k8s.io/v1beta1', kind: 'Ingress', spec: undefined };
  if (source.spec) {
    const { defaultBackend, rules, ...rest } = source.spec;
    out.spec = { ...rest };
    if (defaultBackend) out.spec.backend = backendToV1beta1(defaultBackend);
    if (rules) {
      out.spec.rules = rules.map((rule) => ({
        ...rule,
        http: rule.http && { paths: rule.http.paths.map((path) => ({ ...path, backend: backendToV1beta1(path.backend) })) },
      }));
    }
  }
  if (out.spec === undefined) delete out.spec;
  return stripUndefined(out);
}

function stripUndefined<T>(value: T): T {
  return deepCopy(value);
}

// ---- autoscaling/v1 Scale ----

interface Scalable extends KubeObject {
  spec?: { replicas?: number; selector?: LabelSelector };
  status?: { replicas?: number };
}

/**
 * The autoscaling/v1 Scale view of a Deployment, ReplicaSet or StatefulSet
 * (GET .../scale). status.selector is the label selector in string form.
 */
export function scaleOf(object: Scalable): Scale {
  const meta = object.metadata ?? {};
  const scale: Scale = {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: meta.name,
      namespace: meta.namespace,
      uid: meta.uid,
      resourceVersion: meta.resourceVersion,
      creationTimestamp: meta.creationTimestamp,
    },
    spec: { replicas: object.spec?.replicas ?? 0 },
    status: { replicas: object.status?.replicas ?? 0 },
  };
  const selector = object.spec?.selector;
  if (selector && scale.status) {
    try {
      scale.status.selector = labelSelectorAsSelector(selector).toString();
    } catch {
      // An invalid stored selector cannot be shown; validation keeps them out.
    }
  }
  return deepCopy(scale);
}

/** The object with spec.replicas taken from a Scale (PUT/PATCH .../scale). Returns a copy. */
export function withScaleReplicas<T extends Scalable>(object: T, scale: Scale): T {
  const copy = deepCopy(object);
  copy.spec = { ...(copy.spec ?? {}), replicas: scale.spec?.replicas ?? 0 };
  return copy;
}
