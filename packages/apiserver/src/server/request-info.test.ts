import { parseRequestInfo, type RequestInfo } from './request-info';
import { StatusError } from './status-error';

function parse(method: string, target: string): RequestInfo {
  const question = target.indexOf('?');
  return parseRequestInfo(method, {
    pathname: question < 0 ? target : target.slice(0, question),
    searchParams: new URLSearchParams(question < 0 ? '' : target.slice(question + 1)),
  });
}

describe('parseRequestInfo', () => {
  test.each([
    { method: 'GET', target: '/api/v1/namespaces/default/pods', expected: { verb: 'list', apiGroup: '', apiVersion: 'v1', namespace: 'default', resource: 'pods', name: '', subresource: '' } },
    { method: 'GET', target: '/api/v1/namespaces/default/pods?watch=true', expected: { verb: 'watch', resource: 'pods' } },
    { method: 'GET', target: '/api/v1/namespaces/default/pods?watch=1', expected: { verb: 'watch' } },
    { method: 'GET', target: '/api/v1/namespaces/default/pods?watch=false', expected: { verb: 'list' } },
    { method: 'GET', target: '/api/v1/pods?fieldSelector=spec.nodeName%3Dn1', expected: { verb: 'list', namespace: '', resource: 'pods', selectedName: '' } },
    { method: 'GET', target: '/api/v1/nodes?fieldSelector=metadata.name%3Dn1', expected: { verb: 'list', resource: 'nodes', name: '', selectedName: 'n1' } },
    { method: 'GET', target: '/api/v1/namespaces/default/pods/x', expected: { verb: 'get', name: 'x' } },
    { method: 'HEAD', target: '/api/v1/namespaces/default/pods/x', expected: { verb: 'get', name: 'x' } },
    { method: 'GET', target: '/api/v1/namespaces/default/pods/x/log', expected: { verb: 'get', name: 'x', subresource: 'log' } },
    { method: 'POST', target: '/api/v1/namespaces/default/pods/x/eviction', expected: { verb: 'create', name: 'x', subresource: 'eviction' } },
    { method: 'GET', target: '/api/v1/namespaces/default/pods/x/exec?command=ls', expected: { verb: 'create', subresource: 'exec' } },
    { method: 'GET', target: '/api/v1/namespaces/default/pods/x/portforward', expected: { verb: 'create', subresource: 'portforward' } },
    { method: 'POST', target: '/api/v1/namespaces/default/pods/x/binding', expected: { verb: 'create', subresource: 'binding' } },
    { method: 'PUT', target: '/apis/apps/v1/namespaces/default/deployments/web/scale', expected: { verb: 'update', apiGroup: 'apps', resource: 'deployments', name: 'web', subresource: 'scale' } },
    { method: 'PATCH', target: '/apis/apps/v1/namespaces/default/deployments/web/status', expected: { verb: 'patch', subresource: 'status' } },
    { method: 'POST', target: '/apis/apps/v1/namespaces/default/deployments', expected: { verb: 'create', name: '' } },
    { method: 'DELETE', target: '/apis/batch/v1/namespaces/ns/jobs/j', expected: { verb: 'delete', apiGroup: 'batch', namespace: 'ns', name: 'j' } },
    { method: 'DELETE', target: '/apis/batch/v1/namespaces/ns/jobs', expected: { verb: 'deletecollection' } },
    { method: 'GET', target: '/api/v1/namespaces', expected: { verb: 'list', resource: 'namespaces', namespace: '' } },
    { method: 'GET', target: '/api/v1/namespaces/kube-system', expected: { verb: 'get', resource: 'namespaces', name: 'kube-system', namespace: '' } },
    { method: 'PUT', target: '/api/v1/namespaces/kube-system/finalize', expected: { verb: 'update', resource: 'namespaces', name: 'kube-system', subresource: 'finalize' } },
    { method: 'PATCH', target: '/api/v1/nodes/n1/status', expected: { verb: 'patch', resource: 'nodes', name: 'n1', subresource: 'status', namespace: '' } },
    { method: 'GET', target: '/api/v1/watch/namespaces/default/pods', expected: { verb: 'watch', resource: 'pods', legacyWatchPath: true } },
    { method: 'GET', target: '/api/v1/watch/namespaces/default/pods/x', expected: { verb: 'watch', name: '', selectedName: 'x' } },
    { method: 'GET', target: '/api/v1/namespaces/default/pods/x/proxy/a/b', expected: { subresource: 'proxy', extraPath: ['a', 'b'] } },
    { method: 'GET', target: '/api/v1/namespaces/default/configmaps/a%3Ab', expected: { name: 'a:b' } },
    { method: 'OPTIONS', target: '/api/v1/namespaces/default/pods', expected: { verb: undefined } },
  ])('$method $target', ({ method, target, expected }) => {
    const info = parse(method, target);
    expect(info.isResourceRequest).toBe(true);
    expect(info).toMatchObject(expected);
  });

  test.each([
    { method: 'GET', target: '/api', verb: 'get' },
    { method: 'GET', target: '/api/v1', verb: 'get' },
    { method: 'GET', target: '/apis', verb: 'get' },
    { method: 'GET', target: '/apis/apps', verb: 'get' },
    { method: 'GET', target: '/apis/apps/v1', verb: 'get' },
    { method: 'GET', target: '/healthz/etcd', verb: 'get' },
    { method: 'POST', target: '/version', verb: 'post' },
    { method: 'GET', target: '/', verb: 'get' },
  ])('$method $target is a non-resource request', ({ method, target, verb }) => {
    expect(parse(method, target)).toEqual({ isResourceRequest: false, path: target, verb });
  });

  test.each([
    '/api/v1/namespaces/default/pods/%zz',
    '/api/v1/namespaces/default/pods/..',
    '/api/v1/namespaces/default/pods/%2e%2e',
    '/api/v1/namespaces/a%2Fb/pods',
    '/api/v1/watch',
    '/api/v1/namespaces/default/pods?watch=yes',
  ])('%s is a 400', (target) => {
    expect(() => parse('GET', target)).toThrow(StatusError);
    try {
      parse('GET', target);
    } catch (error) {
      expect((error as StatusError).code).toBe(400);
    }
  });
});
