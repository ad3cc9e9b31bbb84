// Authorization: may this user do this verb on this resource? A fixed policy
// for now, expressed as RBAC-shaped rules (verbs x apiGroups x resources x
// namespaces x names, plus non-resource URLs) bound to users and groups, so an
// RBAC authorizer can replace it behind the same Authorizer interface. Rules
// that depend on the caller (a kubelet may touch only its own Node and the
// pods bound to it) are built per request from the node name.

import { exactFieldMatch } from './field-selector';
import {
  AUTHENTICATED_GROUP,
  MASTERS_GROUP,
  UNAUTHENTICATED_GROUP,
  nodeNameOf,
  type UserInfo,
} from './user';

/** What authorization is asked about; mirrors upstream's authorizer.Attributes. */
export interface AuthorizationAttributes {
  user: UserInfo;
  /** Resource verbs (get, list, watch, create, ...) or, for non-resource requests, the lower-cased method. */
  verb: string;
  isResourceRequest: boolean;
  /** The URL path; what non-resource rules match. */
  path: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  /** The object name, or for list/watch the one name a `metadata.name=` field selector pins; `` otherwise. */
  name: string;
  /** The raw field selector of list/watch requests, for rules that require one (a kubelet's pods). */
  fieldSelector: string;
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** Why not, appended to the 403 message after a colon; `` keeps upstream's plain wording. */
  reason: string;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): Promise<AuthorizationDecision>;
}

/** One grant, shaped like an RBAC PolicyRule. Omitted lists mean "any"; `*` also means any. */
export interface PolicyRule {
  verbs: readonly string[];
  apiGroups?: readonly string[];
  // `pods`, `pods/status`, `*`, or `*` + `/status` for one subresource of everything. A bare resource does not
  // cover its subresources, as in RBAC.
  resources?: readonly string[];
  namespaces?: readonly string[];
  names?: readonly string[];
  /** For non-resource requests: exact paths, or prefixes ending in `*`. */
  nonResourceURLs?: readonly string[];
  /** An extra condition, e.g. "the pod is bound to this node". */
  when?: (attributes: AuthorizationAttributes) => boolean | Promise<boolean>;
}

/** Rules granted to users and/or groups. */
export interface PolicyBinding {
  users?: readonly string[];
  groups?: readonly string[];
  rules: readonly PolicyRule[];
}

function anyOf(list: readonly string[] | undefined, value: string): boolean {
  return list === undefined || list.includes('*') || list.includes(value);
}

function resourceMatches(list: readonly string[] | undefined, resource: string, subresource: string): boolean {
  if (list === undefined) return true;
  const combined = subresource === '' ? resource : `${resource}/${subresource}`;
  return list.some((entry) => entry === '*' || entry === combined || (subresource !== '' && entry === `*/${subresource}`));
}

function pathMatches(list: readonly string[] | undefined, path: string): boolean {
  if (list === undefined) return false;
  return list.some((entry) => entry === '*' || entry === path || (entry.endsWith('*') && path.startsWith(entry.slice(0, -1))));
}

/** Does one rule grant the request? */
export async function ruleAllows(rule: PolicyRule, attributes: AuthorizationAttributes): Promise<boolean> {
  if (!anyOf(rule.verbs, attributes.verb)) return false;
  if (attributes.isResourceRequest) {
    if (rule.nonResourceURLs !== undefined && rule.resources === undefined) return false;
    if (!anyOf(rule.apiGroups, attributes.apiGroup)) return false;
    if (!resourceMatches(rule.resources, attributes.resource, attributes.subresource)) return false;
    if (rule.namespaces !== undefined && !anyOf(rule.namespaces, attributes.namespace)) return false;
    if (rule.names !== undefined && !anyOf(rule.names, attributes.name)) return false;
  } else if (!pathMatches(rule.nonResourceURLs, attributes.path)) {
    return false;
  }
  return rule.when === undefined ? true : await rule.when(attributes);
}

/**
 * upstream's forbiddenMessage: `User "alice" cannot list resource "pods" in API group "" in the namespace "default"`,
 * `... at the cluster scope`, or `User "x" cannot get path "/metrics"`.
 */
export function forbiddenMessage(attributes: AuthorizationAttributes): string {
  const user = attributes.user.name;
  if (!attributes.isResourceRequest) return `User "${user}" cannot ${attributes.verb} path "${attributes.path}"`;
  const resource = attributes.subresource === '' ? attributes.resource : `${attributes.resource}/${attributes.subresource}`;
  const scope = attributes.namespace === '' ? 'at the cluster scope' : `in the namespace "${attributes.namespace}"`;
  return `User "${user}" cannot ${attributes.verb} resource "${resource}" in API group "${attributes.apiGroup}" ${scope}`;
}

const readVerbs = ['get', 'list', 'watch'] as const;
const eventRules: PolicyRule[] = [
  { verbs: ['create', 'patch', 'update'], apiGroups: ['', 'events.k8s.io'], resources: ['events'] },
];
const healthPaths = ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/version', '/version/'];

/** The policy's static part; node rules are added per request by FixedPolicyAuthorizer. */
export const defaultPolicyBindings: readonly PolicyBinding[] = [
  // Like upstream's system:public-info-viewer: health and version for everyone, even anonymous callers.
  { groups: [UNAUTHENTICATED_GROUP, AUTHENTICATED_GROUP], rules: [{ verbs: ['get'], nonResourceURLs: healthPaths }] },
  // Like system:discovery and system:basic-user.
  {
    groups: [AUTHENTICATED_GROUP],
    rules: [
      { verbs: ['get'], nonResourceURLs: ['/api', '/api/*', '/apis', '/apis/*', '/openapi', '/openapi/*'] },
      {
        verbs: ['create'],
        apiGroups: ['authorization.k8s.io', 'authentication.k8s.io'],
        resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'selfsubjectreviews'],
      },
    ],
  },
  { groups: [MASTERS_GROUP], rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }] },
  { groups: ['system:monitoring'], rules: [{ verbs: ['get'], nonResourceURLs: ['/metrics', '/metrics/*'] }] },
  {
    users: ['system:kube-scheduler'],
    rules: [
      {
        verbs: readVerbs,
        apiGroups: [''],
        resources: ['pods', 'nodes', 'namespaces', 'services', 'replicationcontrollers', 'persistentvolumeclaims', 'persistentvolumes'],
      },
      { verbs: readVerbs, apiGroups: ['apps'], resources: ['replicasets', 'statefulsets'] },
      { verbs: readVerbs, apiGroups: ['policy'], resources: ['poddisruptionbudgets'] },
      { verbs: readVerbs, apiGroups: ['storage.k8s.io'], resources: ['storageclasses', 'csinodes', 'csidrivers', 'csistoragecapacities'] },
      { verbs: ['create'], apiGroups: [''], resources: ['pods/binding', 'bindings'] },
      { verbs: ['patch', 'update'], apiGroups: [''], resources: ['pods/status'] },
      // VolumeBinding names the chosen node on a WaitForFirstConsumer claim (volume.kubernetes.io/selected-node).
      { verbs: ['patch', 'update'], apiGroups: [''], resources: ['persistentvolumeclaims'] },
      // Preemption deletes lower-priority pods.
      { verbs: ['delete'], apiGroups: [''], resources: ['pods'] },
      ...eventRules,
      { verbs: ['create'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['kube-system'] },
      { verbs: ['get', 'update', 'patch', 'watch'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['kube-system'], names: ['kube-scheduler'] },
    ],
  },
  {
    // kube-lite's controller manager runs every controller under its own identity (upstream's
    // --use-service-account-credentials=false): the garbage collector and namespace controller alone need to
    // read, update and delete anything, so only `create` is narrowed to the kinds controllers make.
    users: ['system:kube-controller-manager'],
    rules: [
      { verbs: [...readVerbs, 'update', 'patch', 'delete', 'deletecollection'], apiGroups: ['*'], resources: ['*'] },
      {
        verbs: ['create'],
        apiGroups: [''],
        resources: ['pods', 'endpoints', 'services', 'serviceaccounts', 'secrets', 'configmaps', 'replicationcontrollers', 'persistentvolumeclaims', 'persistentvolumes', 'pods/eviction', 'pods/binding'],
      },
      // The local-path provisioner makes its default StorageClass.
      { verbs: ['create'], apiGroups: ['storage.k8s.io'], resources: ['storageclasses'] },
      { verbs: ['create'], apiGroups: ['apps'], resources: ['replicasets', 'controllerrevisions', 'deployments', 'statefulsets', 'daemonsets'] },
      { verbs: ['create'], apiGroups: ['batch'], resources: ['jobs', 'cronjobs'] },
      { verbs: ['create'], apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
      { verbs: ['create'], apiGroups: ['policy'], resources: ['poddisruptionbudgets'] },
      ...eventRules,
      { verbs: ['create'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['kube-system'] },
    ],
  },
  {
    users: ['system:kube-proxy'],
    rules: [
      { verbs: readVerbs, apiGroups: [''], resources: ['services', 'endpoints', 'nodes'] },
      { verbs: readVerbs, apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
      { verbs: readVerbs, apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses'] },
      { verbs: ['update', 'patch'], apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'] },
      ...eventRules,
    ],
  },
];

/** Looks up which node a pod is bound to (spec.nodeName), or undefined if the pod does not exist. */
export type PodNodeLookup = (namespace: string, name: string) => Promise<string | undefined>;

/**
 * What a kubelet `system:node:<nodeName>` may do: its own Node and Lease, the pods bound to it, events, and the
 * configmaps/secrets its pods mount. Node self-registration (`create nodes`) and lease creation are not limited
 * by name here: that needs the object body, which is admission's job (upstream's NodeRestriction).
 */
export function nodeRules(nodeName: string, podNodeName: PodNodeLookup | undefined): PolicyRule[] {
  const boundToThisNode = async (attributes: AuthorizationAttributes): Promise<boolean> =>
    podNodeName !== undefined && attributes.name !== '' && (await podNodeName(attributes.namespace, attributes.name)) === nodeName;
  const selectsThisNode = (attributes: AuthorizationAttributes): boolean =>
    exactFieldMatch(attributes.fieldSelector, 'spec.nodeName') === nodeName;
  const namedOnly = (attributes: AuthorizationAttributes): boolean => attributes.name !== '';
  return [
    { verbs: ['create'], apiGroups: [''], resources: ['nodes'] },
    { verbs: ['get', 'list', 'watch', 'update', 'patch'], apiGroups: [''], resources: ['nodes', 'nodes/status'], names: [nodeName] },
    { verbs: ['create'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['kube-node-lease'] },
    { verbs: ['get', 'update', 'patch'], apiGroups: ['coordination.k8s.io'], resources: ['leases'], namespaces: ['kube-node-lease'], names: [nodeName] },
    { verbs: ['list', 'watch'], apiGroups: [''], resources: ['pods'], when: selectsThisNode },
    { verbs: ['get', 'delete'], apiGroups: [''], resources: ['pods'], when: boundToThisNode },
    { verbs: ['update', 'patch'], apiGroups: [''], resources: ['pods/status'], when: boundToThisNode },
    ...eventRules,
    { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['configmaps', 'secrets'], when: namedOnly },
    // Mounting a claim: the kubelet reads the claim, then the volume bound to it (upstream's node authorizer follows the pod's graph).
    { verbs: ['get'], apiGroups: [''], resources: ['persistentvolumeclaims', 'persistentvolumes'], when: namedOnly },
    { verbs: readVerbs, apiGroups: [''], resources: ['services'] },
  ];
}

export interface FixedPolicyOptions {
  /** Replaces defaultPolicyBindings (tests, or a deployment with extra identities). */
  bindings?: readonly PolicyBinding[];
  /** How node identities learn where a pod runs; without it a kubelet cannot get or update single pods. */
  podNodeName?: PodNodeLookup;
}

/** The fixed first-step policy: static bindings plus per-node rules. */
export class FixedPolicyAuthorizer implements Authorizer {
  private readonly bindings: readonly PolicyBinding[];
  private readonly podNodeName: PodNodeLookup | undefined;

  constructor(options: FixedPolicyOptions = {}) {
    this.bindings = options.bindings ?? defaultPolicyBindings;
    this.podNodeName = options.podNodeName;
  }

  private rulesFor(user: UserInfo): PolicyRule[] {
    const rules: PolicyRule[] = [];
    for (const binding of this.bindings) {
      const byUser = binding.users?.includes(user.name) ?? false;
      const byGroup = binding.groups?.some((group) => user.groups.includes(group)) ?? false;
      if (byUser || byGroup) rules.push(...binding.rules);
    }
    const nodeName = nodeNameOf(user);
    if (nodeName !== undefined) rules.push(...nodeRules(nodeName, this.podNodeName));
    return rules;
  }

  async authorize(attributes: AuthorizationAttributes): Promise<AuthorizationDecision> {
    for (const rule of this.rulesFor(attributes.user)) {
      if (await ruleAllows(rule, attributes)) return { allowed: true, reason: '' };
    }
    return { allowed: false, reason: '' };
  }
}
