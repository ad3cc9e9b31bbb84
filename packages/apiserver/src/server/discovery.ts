// Legacy (unaggregated) discovery documents built from the served resources:
// /api (APIVersions), /apis (APIGroupList), /apis/<group> (APIGroup) and
// /api/v1, /apis/<group>/<version> (APIResourceList). kubectl accepts these
// when it asked for the aggregated form first.

import type { ResourceDescription } from './handler';

export interface GroupVersionDiscovery {
  groupVersion: string;
  version: string;
}

export interface ApiGroupDocument {
  name: string;
  versions: GroupVersionDiscovery[];
  preferredVersion: GroupVersionDiscovery;
}

export interface ApiResourceEntry {
  name: string;
  singularName: string;
  namespaced: boolean;
  kind: string;
  verbs: string[];
  group?: string;
  version?: string;
  shortNames?: string[];
  categories?: string[];
}

export interface ApiResourceList {
  kind: 'APIResourceList';
  apiVersion: 'v1';
  groupVersion: string;
  resources: ApiResourceEntry[];
}

/** One resource in aggregated discovery (apidiscovery.k8s.io APIResourceDiscovery). */
export interface ApiResourceDiscovery {
  resource: string;
  responseKind: { group: string; version: string; kind: string };
  scope: 'Namespaced' | 'Cluster';
  singularResource: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  subresources?: Array<{ subresource: string; responseKind: { group: string; version: string; kind: string }; verbs: string[] }>;
}

/** The aggregated discovery document of /api or /apis (apidiscovery.k8s.io APIGroupDiscoveryList). */
export interface ApiGroupDiscoveryList {
  kind: 'APIGroupDiscoveryList';
  apiVersion: string;
  metadata: Record<string, never>;
  items: Array<{
    metadata: { name?: string };
    versions: Array<{ version: string; resources: ApiResourceDiscovery[]; freshness: 'Current' }>;
  }>;
}

function groupVersionString(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Answers discovery questions about a fixed list of resources; the order given is the preference order. */
export class Discovery {
  constructor(
    private readonly resources: readonly ResourceDescription[],
    /** `host:port` clients should use, advertised in /api. */
    private readonly serverAddress: string,
  ) {}

  /** Versions of the core group, in order of first appearance. */
  private coreVersions(): string[] {
    return [...new Set(this.resources.filter((resource) => resource.group === '').map((resource) => resource.version))];
  }

  /** Named groups with their versions, in order of first appearance. */
  private groups(): Map<string, string[]> {
    const groups = new Map<string, string[]>();
    for (const resource of this.resources) {
      if (resource.group === '') continue;
      const versions = groups.get(resource.group) ?? [];
      if (!versions.includes(resource.version)) versions.push(resource.version);
      groups.set(resource.group, versions);
    }
    return groups;
  }

  apiVersions(): object {
    return {
      kind: 'APIVersions',
      versions: this.coreVersions().length > 0 ? this.coreVersions() : ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.serverAddress }],
    };
  }

  private groupDocument(name: string, versions: readonly string[]): ApiGroupDocument {
    const entries = versions.map((version) => ({ groupVersion: groupVersionString(name, version), version }));
    return { name, versions: entries, preferredVersion: entries[0] as GroupVersionDiscovery };
  }

  apiGroupList(): object {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...this.groups()].map(([name, versions]) => this.groupDocument(name, versions)),
    };
  }

  /** The APIGroup document of one named group, or undefined when the group is not served. */
  apiGroup(group: string): object | undefined {
    const versions = this.groups().get(group);
    if (versions === undefined) return undefined;
    return { kind: 'APIGroup', apiVersion: 'v1', ...this.groupDocument(group, versions) };
  }

  /** Whether any resource is served at this group/version. */
  servesGroupVersion(group: string, version: string): boolean {
    return this.resources.some((resource) => resource.group === group && resource.version === version);
  }

  /**
   * The APIResourceList of a group/version, or undefined when not served. Subresources appear as
   * `<resource>/<subresource>` entries, with group/version set when they differ (pods/eviction is policy/v1).
   */
  apiResourceList(group: string, version: string): ApiResourceList | undefined {
    if (!this.servesGroupVersion(group, version)) return undefined;
    const entries: ApiResourceEntry[] = [];
    for (const resource of this.resources) {
      if (resource.group !== group || resource.version !== version) continue;
      const entry: ApiResourceEntry = {
        name: resource.name,
        singularName: resource.singularName,
        namespaced: resource.namespaced,
        kind: resource.kind,
        verbs: [...resource.verbs],
      };
      if (resource.shortNames !== undefined && resource.shortNames.length > 0) entry.shortNames = [...resource.shortNames];
      if (resource.categories !== undefined && resource.categories.length > 0) entry.categories = [...resource.categories];
      entries.push(entry);
      for (const subresource of resource.subresources ?? []) {
        const subEntry: ApiResourceEntry = {
          name: `${resource.name}/${subresource.name}`,
          singularName: '',
          namespaced: resource.namespaced,
          kind: subresource.kind,
          verbs: [...subresource.verbs],
        };
        const subGroup = subresource.group ?? group;
        const subVersion = subresource.version ?? version;
        if (subGroup !== group || subVersion !== version) {
          subEntry.group = subGroup;
          subEntry.version = subVersion;
        }
        entries.push(subEntry);
      }
    }
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionString(group, version), resources: entries };
  }

  /** Every group/version served, as `api/v1` or `apis/<group>/<version>` (OpenAPI v3 path keys). */
  groupVersionPaths(): Array<{ group: string; version: string; path: string }> {
    const seen = new Set<string>();
    const result: Array<{ group: string; version: string; path: string }> = [];
    for (const resource of this.resources) {
      const path = resource.group === '' ? `api/${resource.version}` : `apis/${resource.group}/${resource.version}`;
      if (seen.has(path)) continue;
      seen.add(path);
      result.push({ group: resource.group, version: resource.version, path });
    }
    return result;
  }

  /**
   * Aggregated discovery: every group (core for /api, the named ones for /apis) with every version and
   * resource in one document, so a client needs two requests instead of one per group/version.
   */
  aggregated(root: 'api' | 'apis', discoveryVersion: 'v2' | 'v2beta1'): ApiGroupDiscoveryList {
    const groups: Array<[string, readonly string[]]> = root === 'api' ? [['', this.coreVersions()]] : [...this.groups()];
    return {
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${discoveryVersion}`,
      metadata: {},
      items: groups
        .filter(([, versions]) => versions.length > 0)
        .map(([group, versions]) => ({
          metadata: group === '' ? {} : { name: group },
          versions: versions.map((version) => ({
            version,
            resources: this.resourcesIn(group, version).map((resource) => resourceDiscovery(resource)),
            freshness: 'Current' as const,
          })),
        })),
    };
  }

  resourcesIn(group: string, version: string): ResourceDescription[] {
    return this.resources.filter((resource) => resource.group === group && resource.version === version);
  }
}

function resourceDiscovery(resource: ResourceDescription): ApiResourceDiscovery {
  const entry: ApiResourceDiscovery = {
    resource: resource.name,
    responseKind: { group: resource.group, version: resource.version, kind: resource.kind },
    scope: resource.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: resource.singularName,
    verbs: [...resource.verbs],
  };
  if (resource.shortNames !== undefined && resource.shortNames.length > 0) entry.shortNames = [...resource.shortNames];
  if (resource.categories !== undefined && resource.categories.length > 0) entry.categories = [...resource.categories];
  const subresources = resource.subresources ?? [];
  if (subresources.length > 0) {
    entry.subresources = subresources.map((subresource) => ({
      subresource: subresource.name,
      responseKind: { group: subresource.group ?? resource.group, version: subresource.version ?? resource.version, kind: subresource.kind },
      verbs: [...subresource.verbs],
    }));
  }
  return entry;
}
