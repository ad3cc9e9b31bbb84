import { FixedPolicyAuthorizer, forbiddenMessage, type AuthorizationAttributes } from './policy';
import { withAuthenticatedGroup, type UserInfo } from './user';

const users: Record<string, UserInfo> = {
  admin: withAuthenticatedGroup({ name: 'admin', uid: '', groups: ['system:masters'] }),
  alice: withAuthenticatedGroup({ name: 'alice', uid: '', groups: [] }),
  anonymous: { name: 'system:anonymous', uid: '', groups: ['system:unauthenticated'] },
  node: withAuthenticatedGroup({ name: 'system:node:worker-1', uid: '', groups: ['system:nodes'] }),
  fakeNode: withAuthenticatedGroup({ name: 'system:node:worker-1', uid: '', groups: [] }),
  scheduler: withAuthenticatedGroup({ name: 'system:kube-scheduler', uid: '', groups: [] }),
  controllers: withAuthenticatedGroup({ name: 'system:kube-controller-manager', uid: '', groups: [] }),
  monitor: withAuthenticatedGroup({ name: 'prometheus', uid: '', groups: ['system:monitoring'] }),
};

function resource(user: string, verb: string, target: string, extra: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes {
  // target: [group/]resource[/subresource] [namespace] [name]
  const [what = '', namespace = '', name = ''] = target.split(' ');
  const parts = what.split('/');
  const hasGroup = parts[0]?.includes('.') === true || parts[0] === 'apps' || parts[0] === 'batch' || parts[0] === 'policy';
  const apiGroup = hasGroup ? (parts.shift() as string) : '';
  return {
    user: users[user] as UserInfo,
    verb,
    isResourceRequest: true,
    path: '',
    apiGroup,
    apiVersion: 'v1',
    resource: parts[0] ?? '',
    subresource: parts[1] ?? '',
    namespace: namespace === '-' ? '' : namespace,
    name,
    fieldSelector: '',
    ...extra,
  };
}

function path(user: string, verb: string, url: string): AuthorizationAttributes {
  return { user: users[user] as UserInfo, verb, isResourceRequest: false, path: url, apiGroup: '', apiVersion: '', namespace: '', resource: '', subresource: '', name: '', fieldSelector: '' };
}

const authorizer = new FixedPolicyAuthorizer({
  podNodeName: async (namespace, name) => (namespace === 'default' && name === 'mine' ? 'worker-1' : name === 'missing' ? undefined : 'worker-2'),
});

describe('FixedPolicyAuthorizer', () => {
  test.each<{ case: string; attributes: AuthorizationAttributes; allowed: boolean }>([
    { case: 'masters do anything', attributes: resource('admin', 'deletecollection', 'apps/deployments prod'), allowed: true },
    { case: 'masters read any path', attributes: path('admin', 'get', '/metrics'), allowed: true },
    { case: 'anonymous health', attributes: path('anonymous', 'get', '/readyz/etcd'), allowed: true },
    { case: 'anonymous version', attributes: path('anonymous', 'get', '/version'), allowed: true },
    { case: 'anonymous discovery', attributes: path('anonymous', 'get', '/apis'), allowed: false },
    { case: 'anonymous resources', attributes: resource('anonymous', 'list', 'pods default'), allowed: false },
    { case: 'authenticated discovery', attributes: path('alice', 'get', '/apis/apps/v1'), allowed: true },
    { case: 'authenticated openapi', attributes: path('alice', 'get', '/openapi/v3/api/v1'), allowed: true },
    { case: 'plain user cannot list pods', attributes: resource('alice', 'list', 'pods default'), allowed: false },
    { case: 'plain user cannot post discovery', attributes: path('alice', 'post', '/api'), allowed: false },
    { case: 'monitoring reads metrics', attributes: path('monitor', 'get', '/metrics'), allowed: true },
    { case: 'node reads own node', attributes: resource('node', 'get', 'nodes - worker-1'), allowed: true },
    { case: 'node patches own node status', attributes: resource('node', 'patch', 'nodes/status - worker-1'), allowed: true },
    { case: 'node cannot patch other node', attributes: resource('node', 'patch', 'nodes - worker-2'), allowed: false },
    { case: 'node cannot list all nodes', attributes: resource('node', 'list', 'nodes -'), allowed: false },
    { case: 'node watches own node by field selector', attributes: resource('node', 'watch', 'nodes - worker-1'), allowed: true },
    { case: 'node registers itself', attributes: resource('node', 'create', 'nodes -'), allowed: true },
    { case: 'node cannot delete its node', attributes: resource('node', 'delete', 'nodes - worker-1'), allowed: false },
    { case: 'node updates own lease', attributes: resource('node', 'update', 'coordination.k8s.io/leases kube-node-lease worker-1'), allowed: true },
    { case: 'node cannot update other lease', attributes: resource('node', 'update', 'coordination.k8s.io/leases kube-node-lease worker-2'), allowed: false },
    { case: 'node cannot touch kube-system leases', attributes: resource('node', 'update', 'coordination.k8s.io/leases kube-system worker-1'), allowed: false },
    { case: 'node lists its pods', attributes: resource('node', 'list', 'pods -', { fieldSelector: 'spec.nodeName=worker-1' }), allowed: true },
    { case: 'node watches its pods with more terms', attributes: resource('node', 'watch', 'pods -', { fieldSelector: 'status.phase!=Failed,spec.nodeName==worker-1' }), allowed: true },
    { case: 'node cannot list pods of another node', attributes: resource('node', 'list', 'pods -', { fieldSelector: 'spec.nodeName=worker-2' }), allowed: false },
    { case: 'node cannot list pods without selector', attributes: resource('node', 'list', 'pods default'), allowed: false },
    { case: 'node cannot list with negated selector', attributes: resource('node', 'list', 'pods -', { fieldSelector: 'spec.nodeName!=worker-1' }), allowed: false },
    { case: 'node gets a bound pod', attributes: resource('node', 'get', 'pods default mine'), allowed: true },
    { case: 'node updates status of a bound pod', attributes: resource('node', 'update', 'pods/status default mine'), allowed: true },
    { case: 'node deletes a bound pod', attributes: resource('node', 'delete', 'pods default mine'), allowed: true },
    { case: 'node cannot get a pod bound elsewhere', attributes: resource('node', 'get', 'pods default theirs'), allowed: false },
    { case: 'node cannot get a missing pod', attributes: resource('node', 'get', 'pods default missing'), allowed: false },
    { case: 'node cannot update a bound pod spec', attributes: resource('node', 'update', 'pods default mine'), allowed: false },
    { case: 'node creates events', attributes: resource('node', 'create', 'events default'), allowed: true },
    { case: 'node gets a secret by name', attributes: resource('node', 'get', 'secrets default db'), allowed: true },
    { case: 'node cannot list all secrets', attributes: resource('node', 'list', 'secrets default'), allowed: false },
    { case: 'node gets a claim by name', attributes: resource('node', 'get', 'persistentvolumeclaims default data-web-0'), allowed: true },
    { case: 'node cannot list claims', attributes: resource('node', 'list', 'persistentvolumeclaims default'), allowed: false },
    { case: 'a user named like a node without the group gets nothing', attributes: resource('fakeNode', 'get', 'nodes - worker-1'), allowed: false },
    { case: 'scheduler watches pods', attributes: resource('scheduler', 'watch', 'pods -'), allowed: true },
    { case: 'scheduler binds pods', attributes: resource('scheduler', 'create', 'pods/binding default p'), allowed: true },
    { case: 'scheduler cannot create pods', attributes: resource('scheduler', 'create', 'pods default'), allowed: false },
    { case: 'scheduler renews its lease', attributes: resource('scheduler', 'update', 'coordination.k8s.io/leases kube-system kube-scheduler'), allowed: true },
    { case: 'scheduler cannot take the controller lease', attributes: resource('scheduler', 'update', 'coordination.k8s.io/leases kube-system kube-controller-manager'), allowed: false },
    { case: 'controllers create replicasets', attributes: resource('controllers', 'create', 'apps/replicasets default'), allowed: true },
    { case: 'controllers update deployment status', attributes: resource('controllers', 'update', 'apps/deployments/status default web'), allowed: true },
    { case: 'controllers create pods', attributes: resource('controllers', 'create', 'pods default'), allowed: true },
    { case: 'controllers cannot create nodes', attributes: resource('controllers', 'create', 'nodes -'), allowed: false },
    { case: 'controllers cannot read metrics', attributes: path('controllers', 'get', '/metrics'), allowed: false },
  ])('$case -> $allowed', async ({ attributes, allowed }) => {
    expect((await authorizer.authorize(attributes)).allowed).toBe(allowed);
  });

  test('without a pod lookup a node cannot get single pods', async () => {
    const strict = new FixedPolicyAuthorizer();
    expect((await strict.authorize(resource('node', 'get', 'pods default mine'))).allowed).toBe(false);
  });
});

describe('forbiddenMessage', () => {
  test.each([
    { attributes: resource('alice', 'list', 'pods default'), message: 'User "alice" cannot list resource "pods" in API group "" in the namespace "default"' },
    { attributes: resource('alice', 'get', 'apps/deployments/scale prod web'), message: 'User "alice" cannot get resource "deployments/scale" in API group "apps" in the namespace "prod"' },
    { attributes: resource('alice', 'list', 'nodes -'), message: 'User "alice" cannot list resource "nodes" in API group "" at the cluster scope' },
    { attributes: path('alice', 'get', '/metrics'), message: 'User "alice" cannot get path "/metrics"' },
  ])('$message', ({ attributes, message }) => {
    expect(forbiddenMessage(attributes)).toBe(message);
  });
});
