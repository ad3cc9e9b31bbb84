import type { HTTPIngressPath, Ingress } from '@kube-lite/api';
import { ingressOf } from '../test-fixtures';
import { hostMatches, IngressRouter, requestHostName } from './routes';

const to = (service: string, port: number | string = 80) => ({ service: { name: service, port: typeof port === 'number' ? { number: port } : { name: port } } });
const path = (p: string, pathType: HTTPIngressPath['pathType'], service: string): HTTPIngressPath => ({ path: p, pathType, backend: to(service) });

describe('hosts', () => {
  test.each([
    [undefined, 'anything.example', true],
    ['foo.bar.com', 'foo.bar.com', true],
    ['foo.bar.com', 'bar.com', false],
    ['*.bar.com', 'foo.bar.com', true],
    ['*.bar.com', 'baz.foo.bar.com', false],
    ['*.bar.com', 'bar.com', false],
    ['*.bar.com', 'xbar.com', false],
  ])('rule host %p vs request host %p -> %p', (ruleHost, requestHost, expected) => {
    expect(hostMatches(ruleHost, requestHost)).toBe(expected);
  });

  test.each([
    ['Foo.Example:8080', 'foo.example'],
    ['example', 'example'],
    ['[::1]:80', '::1'],
    [undefined, ''],
  ])('Host header %p is host %p', (header, expected) => {
    expect(requestHostName(header)).toBe(expected);
  });
});

describe('IngressRouter.match', () => {
  const rules = (ingress: Ingress[]) => new IngressRouter(ingress);
  test.each<{ name: string; ingresses: Ingress[]; host?: string; target: string; service: string | undefined; upstream?: string }>([
    { name: 'Prefix /foo matches /foo', ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/foo', 'Prefix', 'a')] } }] })], target: '/foo', service: 'a' },
    { name: 'Prefix /foo matches /foo/bar', ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/foo', 'Prefix', 'a')] } }] })], target: '/foo/bar', service: 'a' },
    { name: 'Prefix /foo does not match /foobar', ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/foo', 'Prefix', 'a')] } }] })], target: '/foobar', service: undefined },
    { name: 'Prefix /foo/ matches /foo (trailing slash ignored)', ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/foo/', 'Prefix', 'a')] } }] })], target: '/foo', service: 'a' },
    { name: 'ImplementationSpecific is Prefix', ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/foo', 'ImplementationSpecific', 'a')] } }] })], target: '/foo/x', service: 'a' },
    { name: 'Exact /foo does not match /foo/', ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/foo', 'Exact', 'a')] } }] })], target: '/foo/', service: undefined },
    {
      name: 'longest path wins',
      ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/', 'Prefix', 'root'), path('/api/v1', 'Prefix', 'v1'), path('/api', 'Prefix', 'api')] } }] })],
      target: '/api/v1/users',
      service: 'v1',
    },
    {
      name: 'Exact beats Prefix of the same path',
      ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/foo', 'Prefix', 'prefix'), path('/foo', 'Exact', 'exact')] } }] })],
      target: '/foo',
      service: 'exact',
    },
    {
      name: 'exact host before wildcard before host-less',
      ingresses: [
        ingressOf('any', { rules: [{ http: { paths: [path('/', 'Prefix', 'any')] } }] }),
        ingressOf('wild', { rules: [{ host: '*.example.com', http: { paths: [path('/', 'Prefix', 'wild')] } }] }),
        ingressOf('exact', { rules: [{ host: 'shop.example.com', http: { paths: [path('/', 'Prefix', 'exact')] } }] }),
      ],
      host: 'shop.example.com:8080',
      target: '/',
      service: 'exact',
    },
    {
      name: 'wildcard host for another subdomain',
      ingresses: [
        ingressOf('wild', { rules: [{ host: '*.example.com', http: { paths: [path('/', 'Prefix', 'wild')] } }] }),
        ingressOf('exact', { rules: [{ host: 'shop.example.com', http: { paths: [path('/', 'Prefix', 'exact')] } }] }),
      ],
      host: 'blog.example.com',
      target: '/',
      service: 'wild',
    },
    {
      name: 'a host with no matching path falls through to host-less rules',
      ingresses: [
        ingressOf('exact', { rules: [{ host: 'shop.example.com', http: { paths: [path('/cart', 'Prefix', 'cart')] } }] }),
        ingressOf('any', { rules: [{ http: { paths: [path('/', 'Prefix', 'any')] } }] }),
      ],
      host: 'shop.example.com',
      target: '/other',
      service: 'any',
    },
    {
      name: 'unknown host without catch-all: no match',
      ingresses: [ingressOf('exact', { rules: [{ host: 'shop.example.com', http: { paths: [path('/', 'Prefix', 'shop')] } }] })],
      host: 'other.example.com',
      target: '/',
      service: undefined,
    },
    {
      name: 'defaultBackend catches the rest',
      ingresses: [ingressOf('i', { defaultBackend: to('fallback'), rules: [{ http: { paths: [path('/app', 'Prefix', 'app')] } }] })],
      target: '/elsewhere?q=1',
      service: 'fallback',
      upstream: '/elsewhere?q=1',
    },
    {
      name: 'rewrite-target / strips the matched prefix',
      ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/app', 'Prefix', 'app')] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } })],
      target: '/app/x?y=1',
      service: 'app',
      upstream: '/x?y=1',
    },
    {
      name: 'rewrite-target / on the bare prefix gives /',
      ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/app', 'Prefix', 'app')] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/' } })],
      target: '/app',
      service: 'app',
      upstream: '/',
    },
    {
      name: 'rewrite-target to another base',
      ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/app', 'Prefix', 'app')] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/v2' } })],
      target: '/app/x',
      service: 'app',
      upstream: '/v2/x',
    },
    {
      name: 'regex path with capture groups and use-regex',
      ingresses: [
        ingressOf('i', { rules: [{ http: { paths: [path('/something(/|$)(.*)', 'ImplementationSpecific', 'rx')] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2', 'nginx.ingress.kubernetes.io/use-regex': 'true' } }),
      ],
      target: '/something/new?a=b',
      service: 'rx',
      upstream: '/new?a=b',
    },
    {
      name: 'regex path: bare match rewrites to /',
      ingresses: [
        ingressOf('i', { rules: [{ http: { paths: [path('/something(/|$)(.*)', 'ImplementationSpecific', 'rx')] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/rewrite-target': '/$2', 'nginx.ingress.kubernetes.io/use-regex': 'true' } }),
      ],
      target: '/something',
      service: 'rx',
      upstream: '/',
    },
    {
      name: 'regex is case-insensitive and anchored at the start',
      ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/api/v[0-9]+', 'Prefix', 'rx')] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/use-regex': 'true' } })],
      target: '/API/V2/users',
      service: 'rx',
      upstream: '/API/V2/users',
    },
    {
      name: 'regex does not match in the middle',
      ingresses: [ingressOf('i', { rules: [{ http: { paths: [path('/api/v[0-9]+', 'Prefix', 'rx')] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/use-regex': 'true' } })],
      target: '/x/api/v2',
      service: undefined,
    },
    {
      name: 'on a tie the older Ingress wins',
      ingresses: [
        { ...ingressOf('newer', { rules: [{ http: { paths: [path('/', 'Prefix', 'newer')] } }] }), metadata: { name: 'newer', namespace: 'default', creationTimestamp: '2024-01-02T00:00:00Z' } },
        { ...ingressOf('older', { rules: [{ http: { paths: [path('/', 'Prefix', 'older')] } }] }), metadata: { name: 'older', namespace: 'default', creationTimestamp: '2024-01-01T00:00:00Z' } },
      ],
      target: '/',
      service: 'older',
    },
  ])('$name', ({ ingresses, host, target, service, upstream }) => {
    const found = rules(ingresses).match(host ?? 'example.com', target);
    expect(found?.route.backend.serviceName).toBe(service);
    if (upstream !== undefined) expect(found?.upstreamPath).toBe(upstream);
    else if (found) expect(found.upstreamPath).toBe(target);
  });

  test('ingress class filter keeps matching and class-less Ingresses', () => {
    const router = new IngressRouter(
      [
        ingressOf('mine', { ingressClassName: 'kube-lite', rules: [{ host: 'a', http: { paths: [path('/', 'Prefix', 'mine')] } }] }),
        ingressOf('theirs', { ingressClassName: 'other', rules: [{ host: 'b', http: { paths: [path('/', 'Prefix', 'theirs')] } }] }),
        ingressOf('legacy', { rules: [{ host: 'c', http: { paths: [path('/', 'Prefix', 'legacy')] } }] }, { annotations: { 'kubernetes.io/ingress.class': 'other' } }),
        ingressOf('none', { rules: [{ host: 'd', http: { paths: [path('/', 'Prefix', 'none')] } }] }),
      ],
      { ingressClassName: 'kube-lite' },
    );
    expect(router.routes.map((route) => route.backend.serviceName).sort()).toEqual(['mine', 'none']);
  });

  test('unservable paths are reported, not served', () => {
    const router = new IngressRouter([
      ingressOf('bad', {
        rules: [
          {
            http: {
              paths: [
                { path: '/r', pathType: 'Prefix', backend: { resource: { kind: 'Bucket', name: 'b' } } },
                { path: 'relative', pathType: 'Prefix', backend: to('x') },
                { path: '/ok', pathType: 'Prefix', backend: to('ok', 'http') },
              ],
            },
          },
        ],
      }),
      ingressOf('badregex', { rules: [{ http: { paths: [path('/(', 'Prefix', 'y')] } }] }, { annotations: { 'nginx.ingress.kubernetes.io/use-regex': 'true' } }),
    ]);
    expect(router.routes.map((route) => route.path)).toEqual(['/ok']);
    expect(router.problems.map((problem) => `${problem.ingress} ${problem.message.split(':')[0]}`)).toEqual([
      'default/bad spec.rules[0].http.paths[0].backend',
      'default/bad spec.rules[0].http.paths[1].path',
      'default/badregex spec.rules[0].http.paths[0].path',
    ]);
    expect(router.backends()).toEqual([{ namespace: 'default', serviceName: 'ok', port: { name: 'http' } }]);
  });
});
