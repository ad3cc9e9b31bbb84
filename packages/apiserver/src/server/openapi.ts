// A minimal OpenAPI v3 surface. kubectl create/apply/replace fetch /openapi/v3
// to learn whether the server validates fields itself: if the group-version
// document has, for the object's kind, a path whose `patch` operation carries
// x-kubernetes-group-version-kind and a `fieldValidation` query parameter,
// kubectl sends fieldValidation=Strict and leaves validation to us. Schemas
// (for `kubectl explain`) are not served yet.

import { createHash } from 'node:crypto';
import type { Discovery } from './discovery';
import type { ResourceDescription } from './handler';

const objectResponse = { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } };

function queryParameter(name: string, description: string): object {
  return { name, in: 'query', description, schema: { type: 'string', uniqueItems: true } };
}

function pathParameter(name: string): object {
  return { name, in: 'path', required: true, schema: { type: 'string', uniqueItems: true } };
}

function itemPath(resource: ResourceDescription): string {
  const root = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  return resource.namespaced ? `${root}/namespaces/{namespace}/${resource.name}/{name}` : `${root}/${resource.name}/{name}`;
}

function groupVersionDocument(version: string, resources: readonly ResourceDescription[]): object {
  const paths: Record<string, object> = {};
  for (const resource of resources) {
    const gvk = { group: resource.group, version: resource.version, kind: resource.kind };
    const parameters = resource.namespaced ? [pathParameter('name'), pathParameter('namespace')] : [pathParameter('name')];
    paths[itemPath(resource)] = {
      parameters,
      get: {
        operationId: `read${resource.kind}`,
        responses: { '200': objectResponse },
        'x-kubernetes-action': 'get',
        'x-kubernetes-group-version-kind': gvk,
      },
      patch: {
        operationId: `patch${resource.kind}`,
        parameters: [
          queryParameter('dryRun', 'When present, indicates that modifications should not be persisted.'),
          queryParameter('fieldManager', 'A name associated with the actor or entity that is making these changes.'),
          queryParameter('fieldValidation', 'How the server handles unknown or duplicate fields: Ignore, Warn or Strict.'),
          { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } },
        ],
        responses: { '200': objectResponse, '201': objectResponse },
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk,
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version },
    paths,
    components: { schemas: {} },
  };
}

/** Serves /openapi/v3 and /openapi/v3/<api|apis/...>; documents are built once, hashed for client caching. */
export class OpenApiV3 {
  private readonly documents = new Map<string, { body: string; hash: string }>();
  private readonly index: string;

  constructor(discovery: Discovery, serverVersion: string) {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const { group, version, path } of discovery.groupVersionPaths()) {
      const body = JSON.stringify(groupVersionDocument(serverVersion, discovery.resourcesIn(group, version)));
      const hash = createHash('sha512').update(body).digest('hex').toUpperCase().slice(0, 128);
      this.documents.set(path, { body, hash });
      paths[path] = { serverRelativeURL: `/openapi/v3/${path}?hash=${hash}` };
    }
    this.index = JSON.stringify({ paths });
  }

  /** The /openapi/v3 index document. */
  indexBody(): string {
    return this.index;
  }

  /** The document for `api/v1` or `apis/<group>/<version>`, or undefined when not served. */
  document(path: string): { body: string; hash: string } | undefined {
    return this.documents.get(path);
  }
}
