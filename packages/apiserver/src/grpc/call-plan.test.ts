// The pure translation from RPC messages to what the REST frame would derive
// from the equivalent HTTP request.

import type { apiserverpb } from '@kube-lite/client';
import { StatusError } from '../server';
import {
  authorizationAttributes,
  decodeDeleteOptions,
  decodePatch,
  planBind,
  planCreate,
  planDelete,
  planEvict,
  planGet,
  planGetScale,
  planList,
  planPatch,
  planUpdate,
  planUpdateScale,
  planWatch,
  type CallPlan,
} from './call-plan';

const noWrite: apiserverpb.WriteOptionsMessage = { dry_run: false, field_manager: '' };

function ref(resource: string, namespace: string, name: string, group = '', version = 'v1'): apiserverpb.ResourceRefMessage {
  return { group, version, resource, namespace, name };
}

function list(overrides: Partial<apiserverpb.ListRequest> = {}): apiserverpb.ListRequest {
  return { ref: ref('pods', 'default', ''), label_selector: '', field_selector: '', limit: '0', continue_token: '', resource_version: '', resource_version_match: '', ...overrides };
}

function watch(overrides: Partial<apiserverpb.WatchRequest> = {}): apiserverpb.WatchRequest {
  return { ref: ref('pods', 'default', ''), label_selector: '', field_selector: '', resource_version: '', allow_watch_bookmarks: false, timeout_seconds: '0', ...overrides };
}

function summary(plan: CallPlan): [string, string, string, string, string, string] {
  return [plan.verb, plan.resource, plan.subresource, plan.namespace, plan.name, plan.path];
}

describe('call plans', () => {
  it.each([
    ['Get', () => planGet({ ref: ref('pods', 'default', 'a'), resource_version: '' }), ['get', 'pods', '', 'default', 'a', '/api/v1/namespaces/default/pods/a']],
    ['List', () => planList(list()), ['list', 'pods', '', 'default', '', '/api/v1/namespaces/default/pods']],
    ['List across namespaces', () => planList(list({ ref: ref('deployments', '', '', 'apps') })), ['list', 'deployments', '', '', '', '/apis/apps/v1/deployments']],
    ['Watch', () => planWatch(watch()), ['watch', 'pods', '', 'default', '', '/api/v1/namespaces/default/pods']],
    ['Create', () => planCreate({ ref: ref('pods', 'default', ''), object: Buffer.from('{}'), options: noWrite }), ['create', 'pods', '', 'default', '', '/api/v1/namespaces/default/pods']],
    ['Update', () => planUpdate({ ref: ref('pods', 'default', 'a'), object: Buffer.from('{}'), options: noWrite, subresource: '' }, false), ['update', 'pods', '', 'default', 'a', '/api/v1/namespaces/default/pods/a']],
    ['UpdateStatus', () => planUpdate({ ref: ref('pods', 'default', 'a'), object: Buffer.from('{}'), options: noWrite, subresource: '' }, true), ['update', 'pods', 'status', 'default', 'a', '/api/v1/namespaces/default/pods/a/status']],
    ['Update of status', () => planUpdate({ ref: ref('pods', 'default', 'a'), object: Buffer.from('{}'), options: noWrite, subresource: 'status' }, false), ['update', 'pods', 'status', 'default', 'a', '/api/v1/namespaces/default/pods/a/status']],
    ['Update of finalize', () => planUpdate({ ref: ref('namespaces', 'team', 'team'), object: Buffer.from('{}'), options: noWrite, subresource: 'finalize' }, false), ['update', 'namespaces', 'finalize', '', 'team', '/api/v1/namespaces/team/finalize']],
    [
      'Patch scale',
      () => planPatch({ ref: ref('deployments', 'default', 'web', 'apps'), patch_type: 'MERGE_PATCH', patch: Buffer.from('{}'), subresource: 'scale', options: noWrite }),
      ['patch', 'deployments', 'scale', 'default', 'web', '/apis/apps/v1/namespaces/default/deployments/web/scale'],
    ],
    ['Delete', () => planDelete({ ref: ref('pods', 'default', 'a'), options: Buffer.alloc(0) }), ['delete', 'pods', '', 'default', 'a', '/api/v1/namespaces/default/pods/a']],
    ['Bind', () => planBind({ ref: ref('pods', 'default', 'a'), binding: Buffer.from('{}'), options: noWrite }), ['create', 'pods', 'binding', 'default', 'a', '/api/v1/namespaces/default/pods/a/binding']],
    ['Bind with a bare ref', () => planBind({ ref: ref('', 'default', 'a', '', ''), binding: Buffer.from('{}'), options: noWrite }), ['create', 'pods', 'binding', 'default', 'a', '/api/v1/namespaces/default/pods/a/binding']],
    ['Evict', () => planEvict({ ref: ref('pods', 'default', 'a'), eviction: Buffer.alloc(0) }, undefined), ['create', 'pods', 'eviction', 'default', 'a', '/api/v1/namespaces/default/pods/a/eviction']],
    ['GetScale', () => planGetScale({ ref: ref('statefulsets', 'db', 'pg', 'apps') }), ['get', 'statefulsets', 'scale', 'db', 'pg', '/apis/apps/v1/namespaces/db/statefulsets/pg/scale']],
    [
      'UpdateScale',
      () => planUpdateScale({ ref: ref('replicasets', 'db', 'rs', 'apps'), scale: Buffer.from('{}'), options: noWrite }),
      ['update', 'replicasets', 'scale', 'db', 'rs', '/apis/apps/v1/namespaces/db/replicasets/rs/scale'],
    ],
    ['Get of a Namespace (cluster-scoped)', () => planGet({ ref: ref('namespaces', 'team', 'team'), resource_version: '' }), ['get', 'namespaces', '', '', 'team', '/api/v1/namespaces/team']],
    ['Get of a name needing escapes', () => planGet({ ref: ref('configmaps', 'default', 'a b'), resource_version: '' }), ['get', 'configmaps', '', 'default', 'a b', '/api/v1/namespaces/default/configmaps/a%20b']],
  ] as const)('%s', (_name, build, expected) => {
    expect(summary(build())).toEqual(expected);
  });

  it('builds list options with the REST parser', () => {
    const plan = planList(list({ label_selector: 'app=web', field_selector: 'spec.nodeName=n1', limit: '20', continue_token: 'c', resource_version: '7', resource_version_match: 'Exact' }));
    expect(plan.list).toEqual({ labelSelector: 'app=web', fieldSelector: 'spec.nodeName=n1', limit: 20, continue: 'c', resourceVersion: '7', resourceVersionMatch: 'Exact', allowWatchBookmarks: false });
    expect(plan.query.toString()).toBe('labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1&limit=20&continue=c&resourceVersion=7&resourceVersionMatch=Exact');
  });

  it('narrows a watch of one object to a metadata.name field selector that authorization sees', () => {
    const plan = planWatch(watch({ ref: ref('pods', 'default', 'a'), field_selector: 'spec.nodeName=n1', allow_watch_bookmarks: true, timeout_seconds: '30', resource_version: '5' }));
    expect(plan.name).toBe('');
    expect(plan.selectedName).toBe('a');
    expect(plan.list).toMatchObject({ fieldSelector: 'spec.nodeName=n1,metadata.name=a', allowWatchBookmarks: true, timeoutSeconds: 30, resourceVersion: '5' });
    const attributes = authorizationAttributes(plan, { name: 'u', uid: '', groups: [] });
    expect(attributes).toMatchObject({ verb: 'watch', name: 'a', fieldSelector: 'spec.nodeName=n1,metadata.name=a', namespace: 'default', resource: 'pods', isResourceRequest: true });
  });

  it.each([
    ['List', () => planList(list({ ref: ref('nodes', '', ''), field_selector: 'metadata.name=node-1' })), 'list'],
    ['Watch', () => planWatch(watch({ ref: ref('nodes', '', ''), field_selector: 'metadata.name=node-1' })), 'watch'],
  ] as const)('authorizes a %s narrowed by a metadata.name field selector as a read of that name, as REST does', (_name, build, verb) => {
    const plan = build();
    expect(plan.name).toBe('');
    expect(authorizationAttributes(plan, { name: 'system:node:node-1', uid: '', groups: ['system:nodes'] })).toMatchObject({ verb, resource: 'nodes', name: 'node-1' });
  });

  it('carries write options as dryRun=All and fieldManager', () => {
    const plan = planCreate({ ref: ref('pods', 'default', ''), object: Buffer.from('{}'), options: { dry_run: true, field_manager: 'kubelet' } });
    expect(plan.write).toEqual({ fieldManager: 'kubelet', fieldValidation: 'Warn', dryRun: true, force: false });
    expect(planEvict({ ref: ref('pods', 'default', 'a'), eviction: Buffer.alloc(0) }, { deleteOptions: { dryRun: ['All'] } }).write.dryRun).toBe(true);
  });

  it.each([
    ['Get without a name', () => planGet({ ref: ref('pods', 'default', ''), resource_version: '' }), 400, 'Get: ref.name is required'],
    ['List with a name', () => planList(list({ ref: ref('pods', 'default', 'a') })), 400, 'List: ref.name must be empty'],
    ['Create with a name', () => planCreate({ ref: ref('pods', 'default', 'a'), object: Buffer.from('{}'), options: noWrite }), 400, "the name comes from the object's metadata"],
    ['a negative limit', () => planList(list({ limit: '-1' })), 400, 'invalid value for query parameter limit: -1'],
    ['an unknown resource_version_match', () => planList(list({ resource_version: '1', resource_version_match: 'Newest' })), 400, 'resourceVersionMatch: "Newest"'],
    ['resource_version_match without a version', () => planList(list({ resource_version_match: 'Exact' })), 400, 'resourceVersionMatch is forbidden unless resourceVersion is provided'],
    ['a long field manager', () => planCreate({ ref: ref('pods', 'default', ''), object: Buffer.from('{}'), options: { dry_run: false, field_manager: 'x'.repeat(129) } }), 400, 'fieldManager'],
    ['UpdateStatus of another subresource', () => planUpdate({ ref: ref('namespaces', 'team', 'team'), object: Buffer.from('{}'), options: noWrite, subresource: 'finalize' }, true), 400, 'UpdateStatus: subresource must be empty or "status"'],
    ['a missing ref', () => planGet({ resource_version: '' } as unknown as apiserverpb.GetRequest), 400, 'ref.name is required'],
    ['an unspecified patch type', () => decodePatch({ ref: ref('pods', 'default', 'a'), patch_type: 'PATCH_TYPE_UNSPECIFIED', patch: Buffer.from('{}'), subresource: '', options: noWrite }), 415, 'patch_type'],
    ['a JSON patch that is not an array', () => decodePatch({ ref: ref('pods', 'default', 'a'), patch_type: 'JSON_PATCH', patch: Buffer.from('{}'), subresource: '', options: noWrite }), 400, 'JSON array'],
    ['a merge patch that is an array', () => decodePatch({ ref: ref('pods', 'default', 'a'), patch_type: 'MERGE_PATCH', patch: Buffer.from('[]'), subresource: '', options: noWrite }), 400, 'single JSON object'],
    ['a patch that is not JSON', () => decodePatch({ ref: ref('pods', 'default', 'a'), patch_type: 'MERGE_PATCH', patch: Buffer.from('{'), subresource: '', options: noWrite }), 400, 'patch is not valid JSON'],
    ['bad delete options', () => decodeDeleteOptions({ ref: ref('pods', 'default', 'a'), options: Buffer.from('{"propagationPolicy":"Sometimes"}') }), 400, 'Unsupported value: "Sometimes"'],
  ] as const)('rejects %s', (_name, build, code, message) => {
    let caught: unknown;
    try {
      build();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StatusError);
    expect(caught).toMatchObject({ code });
    expect((caught as StatusError).message).toContain(message);
  });

  it('decodes patches and delete options as REST does', () => {
    expect(decodePatch({ ref: ref('pods', 'default', 'a'), patch_type: 'STRATEGIC_MERGE_PATCH', patch: Buffer.from('{"a":1}'), subresource: '', options: noWrite })).toEqual({ type: 'strategic', patch: { a: 1 } });
    expect(decodeDeleteOptions({ ref: ref('pods', 'default', 'a'), options: Buffer.alloc(0) })).toEqual({ dryRun: false });
    expect(
      decodeDeleteOptions({ ref: ref('pods', 'default', 'a'), options: Buffer.from('{"gracePeriodSeconds":0,"propagationPolicy":"Foreground","preconditions":{"uid":"u1"},"dryRun":["All"]}') }),
    ).toEqual({ gracePeriodSeconds: 0, propagationPolicy: 'Foreground', preconditions: { uid: 'u1' }, dryRun: true });
  });
});
