// A minimal OpenAPI surface. kubectl create/apply/replace fetch /openapi/v3
// to learn whether the server validates fields itself: if the group-version
// document has, for the object's kind, a path whose `patch` operation carries
// x-kubernetes-group-version-kind and a `fieldValidation` query parameter,
// kubectl sends fieldValidation=Strict and leaves validation to us.
// /openapi/v2 holds the same paths in one document, as protobuf for kubectl
// (JSON for others): kubectl validates a `v1 List` (`kubectl get -o json |
// kubectl replace -f -`) client-side against it, and older kubectl versions
// look for the fieldValidation parameter there. Schemas (for `kubectl
// explain`) are not served yet, so client-side validation finds none and
// leaves every object to the server's.

import { createHash } from 'node:crypto';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import type { Discovery } from './discovery';
import type { ResourceDescription } from './handler';

/** What kubectl's discovery client asks /openapi/v2 for. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/** The Content-Type of that answer: as upstream's, with a dot for the `@`, which media type parsers (Go's mime, kubectl's) reject. */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

interface Parameter {
  name: string;
  in: 'query' | 'path';
  description: string;
  type: 'string' | 'boolean';
}

interface Operation {
  operationId: string;
  action: 'get' | 'patch';
  parameters: Parameter[];
  responseCodes: string[];
  gvk: GroupVersionKind;
}

/** One item path (`/apis/apps/v1/namespaces/{namespace}/deployments/{name}`) with its get and patch operations. */
interface ItemPath {
  path: string;
  parameters: Parameter[];
  get: Operation;
  patch: Operation;
}

const PATCH_PARAMETERS: Parameter[] = [
  { name: 'dryRun', in: 'query', type: 'string', description: 'When present, indicates that modifications should not be persisted.' },
  { name: 'fieldManager', in: 'query', type: 'string', description: 'A name associated with the actor or entity that is making these changes.' },
  { name: 'fieldValidation', in: 'query', type: 'string', description: 'How the server handles unknown or duplicate fields: Ignore, Warn or Strict.' },
  { name: 'force', in: 'query', type: 'boolean', description: 'Take over fields another field manager owns (apply patches only).' },
];

function itemPath(resource: ResourceDescription): ItemPath {
  const root = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const gvk = { group: resource.group, version: resource.version, kind: resource.kind };
  const pathParameter = (name: string): Parameter => ({ name, in: 'path', type: 'string', description: `${name} of the ${resource.kind}` });
  return {
    path: resource.namespaced ? `${root}/namespaces/{namespace}/${resource.name}/{name}` : `${root}/${resource.name}/{name}`,
    parameters: resource.namespaced ? [pathParameter('name'), pathParameter('namespace')] : [pathParameter('name')],
    get: { operationId: `read${resource.kind}`, action: 'get', parameters: [], responseCodes: ['200'], gvk },
    patch: { operationId: `patch${resource.kind}`, action: 'patch', parameters: PATCH_PARAMETERS, responseCodes: ['200', '201'], gvk },
  };
}

// ---- OpenAPI v3: one document per group-version ----

const objectResponseV3 = { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } };

function parameterV3(parameter: Parameter): object {
  return {
    name: parameter.name,
    in: parameter.in,
    description: parameter.description,
    ...(parameter.in === 'path' ? { required: true } : {}),
    schema: { type: parameter.type, uniqueItems: true },
  };
}

function operationV3(operation: Operation): object {
  return {
    operationId: operation.operationId,
    ...(operation.parameters.length > 0 ? { parameters: operation.parameters.map(parameterV3) } : {}),
    responses: Object.fromEntries(operation.responseCodes.map((code) => [code, objectResponseV3])),
    'x-kubernetes-action': operation.action,
    'x-kubernetes-group-version-kind': operation.gvk,
  };
}

function documentV3(version: string, items: readonly ItemPath[]): object {
  const paths = Object.fromEntries(items.map((item) => [item.path, { parameters: item.parameters.map(parameterV3), get: operationV3(item.get), patch: operationV3(item.patch) }]));
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version }, paths, components: { schemas: {} } };
}

// ---- OpenAPI v2: one document for everything ----

function parameterV2(parameter: Parameter): object {
  return { name: parameter.name, in: parameter.in, description: parameter.description, ...(parameter.in === 'path' ? { required: true } : {}), type: parameter.type, uniqueItems: true };
}

function operationV2(operation: Operation): object {
  return {
    operationId: operation.operationId,
    ...(operation.parameters.length > 0 ? { parameters: operation.parameters.map(parameterV2) } : {}),
    responses: Object.fromEntries(operation.responseCodes.map((code) => [code, { description: 'OK' }])),
    'x-kubernetes-action': operation.action,
    'x-kubernetes-group-version-kind': operation.gvk,
  };
}

function documentV2Json(version: string, items: readonly ItemPath[]): object {
  const paths = Object.fromEntries(items.map((item) => [item.path, { parameters: item.parameters.map(parameterV2), get: operationV2(item.get), patch: operationV2(item.patch) }]));
  return { swagger: '2.0', info: { title: 'Kubernetes', version }, paths };
}

/** proto/openapi at the repository root; src/server and dist/server are both four levels below it. */
const OPENAPI_PROTO = path.resolve(__dirname, '../../../../proto/openapi/openapi-v2.proto');

// gnostic's model: parameters and responses are oneof wrappers, vendor
// extensions are name + YAML text.
function parameterV2Proto(parameter: Parameter): object {
  const fields = { in: parameter.in, name: parameter.name, description: parameter.description, type: parameter.type, unique_items: true };
  const nonBody = parameter.in === 'path' ? { path_parameter_sub_schema: { ...fields, required: true } } : { query_parameter_sub_schema: fields };
  return { parameter: { non_body_parameter: nonBody } };
}

function operationV2Proto(operation: Operation): object {
  const { group, version, kind } = operation.gvk;
  return {
    operation_id: operation.operationId,
    parameters: operation.parameters.map(parameterV2Proto),
    responses: { response_code: operation.responseCodes.map((code) => ({ name: code, value: { response: { description: 'OK' } } })) },
    vendor_extension: [
      { name: 'x-kubernetes-action', value: { yaml: `${operation.action}\n` } },
      // JSON is YAML; quoting keeps an empty group a string.
      { name: 'x-kubernetes-group-version-kind', value: { yaml: `${JSON.stringify({ group, kind, version })}\n` } },
    ],
  };
}

function documentV2Protobuf(version: string, items: readonly ItemPath[]): Buffer {
  const Document = new protobuf.Root().loadSync(OPENAPI_PROTO, { keepCase: true }).lookupType('openapi.v2.Document');
  const message = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version },
    paths: {
      path: items.map((item) => ({ name: item.path, value: { parameters: item.parameters.map(parameterV2Proto), get: operationV2Proto(item.get), patch: operationV2Proto(item.patch) } })),
    },
  };
  return Buffer.from(Document.encode(Document.fromObject(message)).finish());
}

const hashOf = (body: string | Buffer): string => createHash('sha512').update(body).digest('hex').toUpperCase().slice(0, 128);

export interface OpenApiDocument {
  body: string | Buffer;
  hash: string;
}

/** Serves /openapi/v3, /openapi/v3/<api|apis/...> and /openapi/v2; documents are built once, hashed for client caching. */
export class OpenApi {
  private readonly v3Documents = new Map<string, OpenApiDocument>();
  private readonly v3IndexBody: string;
  private readonly v2Json: OpenApiDocument;
  private v2ProtobufDocument: OpenApiDocument | undefined;
  private readonly allItems: ItemPath[] = [];

  constructor(
    discovery: Discovery,
    private readonly serverVersion: string,
  ) {
    const paths: Record<string, { serverRelativeURL: string }> = {};
    for (const { group, version, path: documentPath } of discovery.groupVersionPaths()) {
      const items = discovery.resourcesIn(group, version).map(itemPath);
      this.allItems.push(...items);
      const body = JSON.stringify(documentV3(serverVersion, items));
      const hash = hashOf(body);
      this.v3Documents.set(documentPath, { body, hash });
      paths[documentPath] = { serverRelativeURL: `/openapi/v3/${documentPath}?hash=${hash}` };
    }
    this.v3IndexBody = JSON.stringify({ paths });
    const v2Body = JSON.stringify(documentV2Json(serverVersion, this.allItems));
    this.v2Json = { body: v2Body, hash: hashOf(v2Body) };
  }

  /** The /openapi/v3 index document. */
  v3Index(): string {
    return this.v3IndexBody;
  }

  /** The v3 document for `api/v1` or `apis/<group>/<version>`, or undefined when not served. */
  v3Document(documentPath: string): OpenApiDocument | undefined {
    return this.v3Documents.get(documentPath);
  }

  /** The v2 document, as protobuf (built on first use: only kubectl asks for it) or JSON. */
  v2Document(format: 'protobuf' | 'json'): OpenApiDocument {
    if (format === 'json') return this.v2Json;
    if (this.v2ProtobufDocument === undefined) {
      const body = documentV2Protobuf(this.serverVersion, this.allItems);
      this.v2ProtobufDocument = { body, hash: hashOf(body) };
    }
    return this.v2ProtobufDocument;
  }
}
