import type { Endpoints, Service } from '@kube-lite/api';
import { cidrContains, loopbackServiceAddress } from './addresses';
import { LoadBalancer, poolsFromTable } from './load-balancer';
import { buildServiceTable, diffTables, endpointString, type ServiceEndpoint } from './service-table';
import { endpointsOf, serviceOf } from '../test-fixtures';

describe('addresses', () => {
  test.each([
    ['10.96.0.1', '127.96.0.1'],
    ['10.111.255.254', '127.111.255.254'],
    ['None', undefined],
    ['', undefined],
    ['10.96.0.300', undefined],
  ])('loopbackServiceAddress(%p) = %p', (clusterIP, expected) => {
    expect(loopbackServiceAddress(clusterIP)).toBe(expected);
  });

  test.each([
    ['127.0.0.0/8', '127.0.2.5', true],
    ['127.0.1.0/24', '127.0.2.5', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['10.96.0.0/12', '10.111.1.1', true],
    ['10.96.0.0/12', '10.112.0.0', false],
  ])('cidrContains(%p, %p) = %p', (cidr, address, expected) => {
    expect(cidrContains(cidr, address)).toBe(expected);
  });

  test('a bad CIDR is an error', () => {
    expect(() => cidrContains('10.0.0.0', '10.0.0.1')).toThrow('"10.0.0.0" is not an IPv4 CIDR');
  });
});

describe('buildServiceTable', () => {
  const ready = (ip: string, nodeName = 'n1') => ({ ip, nodeName });
  test.each<{ name: string; services: Service[]; endpoints: Endpoints[]; nodeName?: string; expected: Record<string, object> }>([
    {
      name: 'one unnamed port',
      services: [serviceOf('web', { clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }] })],
      endpoints: [endpointsOf('web', [{ addresses: [ready('127.1.0.3'), ready('127.1.0.2')], ports: [{ port: 8080 }] }])],
      expected: {
        'default/web:': { clusterIP: '10.96.0.10', port: 80, protocol: 'TCP', nodePort: undefined, affinityTimeoutSeconds: undefined, clusterEndpoints: [{ ip: '127.1.0.2', port: 8080, nodeName: 'n1' }, { ip: '127.1.0.3', port: 8080, nodeName: 'n1' }] },
      },
    },
    {
      name: 'named ports pick their own subset port; not-ready addresses are left out',
      services: [serviceOf('db', { clusterIP: '10.96.0.11', ports: [{ name: 'sql', port: 5432 }, { name: 'metrics', port: 9000, protocol: 'TCP' }] })],
      endpoints: [
        endpointsOf('db', [
          { addresses: [ready('127.1.0.2')], notReadyAddresses: [ready('127.1.0.9')], ports: [{ name: 'sql', port: 15432 }, { name: 'metrics', port: 19000 }] },
        ]),
      ],
      expected: {
        'default/db:sql': { port: 5432, clusterEndpoints: [{ ip: '127.1.0.2', port: 15432, nodeName: 'n1' }] },
        'default/db:metrics': { port: 9000, clusterEndpoints: [{ ip: '127.1.0.2', port: 19000, nodeName: 'n1' }] },
      },
    },
    {
      name: 'protocol must match the subset port',
      services: [serviceOf('dns', { clusterIP: '10.96.0.12', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] })],
      endpoints: [endpointsOf('dns', [{ addresses: [ready('127.1.0.2')], ports: [{ name: 'dns', port: 1053, protocol: 'UDP' }, { name: 'dns-tcp', port: 1053, protocol: 'UDP' }] }])],
      expected: {
        'default/dns:dns': { protocol: 'UDP', clusterEndpoints: [{ ip: '127.1.0.2', port: 1053, nodeName: 'n1' }] },
        'default/dns:dns-tcp': { protocol: 'TCP', clusterEndpoints: [] },
      },
    },
    {
      name: 'headless and ExternalName Services are not proxied',
      services: [serviceOf('headless', { clusterIP: 'None', ports: [{ port: 80 }] }), serviceOf('ext', { type: 'ExternalName', externalName: 'example.org' })],
      endpoints: [],
      expected: {},
    },
    {
      name: 'NodePort, ClientIP affinity with the default timeout, no Endpoints object yet',
      services: [serviceOf('np', { type: 'NodePort', clusterIP: '10.96.0.13', sessionAffinity: 'ClientIP', ports: [{ port: 80, nodePort: 30080 }] })],
      endpoints: [],
      expected: { 'default/np:': { nodePort: 30080, affinityTimeoutSeconds: 10800, clusterEndpoints: [], externalEndpoints: [] } },
    },
    {
      name: 'explicit affinity timeout',
      services: [serviceOf('aff', { clusterIP: '10.96.0.14', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ port: 80 }] })],
      endpoints: [],
      expected: { 'default/aff:': { affinityTimeoutSeconds: 60 } },
    },
    {
      name: 'Local traffic policies keep this node\'s endpoints',
      nodeName: 'n2',
      services: [serviceOf('local', { type: 'NodePort', clusterIP: '10.96.0.15', externalTrafficPolicy: 'Local', ports: [{ port: 80, nodePort: 30081 }] })],
      endpoints: [endpointsOf('local', [{ addresses: [ready('127.1.0.2', 'n1'), ready('127.2.0.2', 'n2')], ports: [{ port: 80 }] }])],
      expected: {
        'default/local:': { clusterEndpoints: [{ ip: '127.1.0.2', port: 80, nodeName: 'n1' }, { ip: '127.2.0.2', port: 80, nodeName: 'n2' }], externalEndpoints: [{ ip: '127.2.0.2', port: 80, nodeName: 'n2' }] },
      },
    },
  ])('$name', ({ services, endpoints, nodeName, expected }) => {
    const table = buildServiceTable(services, endpoints, nodeName === undefined ? {} : { nodeName });
    expect([...table.keys()].sort()).toEqual(Object.keys(expected).sort());
    for (const [key, fields] of Object.entries(expected)) expect(table.get(key)).toMatchObject(fields);
  });

  test('diffTables names added and removed ports and departed endpoints', () => {
    const services = [serviceOf('a', { clusterIP: '10.96.0.1', ports: [{ port: 80 }] }), serviceOf('b', { clusterIP: '10.96.0.2', ports: [{ port: 80 }] })];
    const before = buildServiceTable(services, [endpointsOf('a', [{ addresses: [{ ip: '127.1.0.2' }, { ip: '127.1.0.3' }], ports: [{ port: 80 }] }])]);
    const after = buildServiceTable(
      [services[0] as Service, serviceOf('c', { clusterIP: '10.96.0.3', ports: [{ port: 80 }] })],
      [endpointsOf('a', [{ addresses: [{ ip: '127.1.0.3' }], ports: [{ port: 80 }] }])],
    );
    const diff = diffTables(before, after);
    expect(diff.added).toEqual(['default/c:']);
    expect(diff.removed).toEqual(['default/b:']);
    expect([...diff.removedEndpoints]).toEqual([['default/a:', ['127.1.0.2:80']]]);
  });
});

describe('LoadBalancer', () => {
  const endpoints = (...ips: string[]): ServiceEndpoint[] => ips.map((ip) => ({ ip, port: 80 }));
  type Step =
    | { pick: string | undefined; client?: string; exclude?: string[] }
    | { update: string[]; affinitySeconds?: number }
    | { advanceMs: number };

  test.each<{ name: string; initial: string[]; affinitySeconds?: number; steps: Step[] }>([
    {
      name: 'round robin over every endpoint in order',
      initial: ['a', 'b', 'c'],
      steps: [{ pick: 'a' }, { pick: 'b' }, { pick: 'c' }, { pick: 'a' }],
    },
    {
      name: 'no endpoints: nothing to pick',
      initial: [],
      steps: [{ pick: undefined }],
    },
    {
      name: 'a removed endpoint is never picked again',
      initial: ['a', 'b', 'c'],
      steps: [{ pick: 'a' }, { update: ['a', 'c'] }, { pick: 'a' }, { pick: 'c' }, { pick: 'a' }, { update: [] }, { pick: undefined }],
    },
    {
      name: 'excluded endpoints are skipped (retry on another endpoint)',
      initial: ['a', 'b', 'c'],
      steps: [{ pick: 'b', exclude: ['a:80'] }, { pick: 'a', exclude: ['c:80'] }, { pick: undefined, exclude: ['a:80', 'b:80', 'c:80'] }],
    },
    {
      name: 'ClientIP affinity sticks per client, others rotate',
      initial: ['a', 'b', 'c'],
      affinitySeconds: 10,
      steps: [{ pick: 'a', client: 'x' }, { pick: 'b', client: 'y' }, { pick: 'a', client: 'x' }, { pick: 'c', client: 'z' }, { pick: 'b', client: 'y' }],
    },
    {
      name: 'affinity expires after timeoutSeconds of idleness, and is refreshed by use',
      initial: ['a', 'b'],
      affinitySeconds: 10,
      steps: [{ pick: 'a', client: 'x' }, { advanceMs: 9000 }, { pick: 'a', client: 'x' }, { advanceMs: 9000 }, { pick: 'a', client: 'x' }, { advanceMs: 10_001 }, { pick: 'b', client: 'x' }],
    },
    {
      name: 'affinity to a removed endpoint is dropped, other clients keep theirs',
      initial: ['a', 'b'],
      affinitySeconds: 100,
      steps: [{ pick: 'a', client: 'x' }, { pick: 'b', client: 'y' }, { update: ['b', 'c'], affinitySeconds: 100 }, { pick: 'b', client: 'y' }, { pick: 'b', client: 'x' }, { pick: 'b', client: 'x' }],
    },
    {
      name: 'affinity yields to an excluded endpoint and moves to the new one',
      initial: ['a', 'b'],
      affinitySeconds: 100,
      steps: [{ pick: 'a', client: 'x' }, { pick: 'b', client: 'x', exclude: ['a:80'] }, { pick: 'b', client: 'x' }],
    },
  ])('$name', ({ initial, affinitySeconds, steps }) => {
    let now = 1_000_000;
    const balancer = new LoadBalancer({ nowMs: () => now });
    balancer.update([{ key: 'svc', endpoints: endpoints(...initial), affinityTimeoutSeconds: affinitySeconds }]);
    steps.forEach((step, index) => {
      if ('advanceMs' in step) now += step.advanceMs;
      else if ('update' in step) balancer.update([{ key: 'svc', endpoints: endpoints(...step.update), affinityTimeoutSeconds: step.affinitySeconds }]);
      else expect([index, balancer.next('svc', step.client, new Set(step.exclude ?? []))?.ip]).toEqual([index, step.pick]);
    });
  });

  test('affinity entries are bounded per pool (least recently used goes first)', () => {
    const balancer = new LoadBalancer({ maxAffinityEntriesPerPool: 2 });
    balancer.update([{ key: 'svc', endpoints: endpoints('a', 'b', 'c'), affinityTimeoutSeconds: 100 }]);
    expect(balancer.next('svc', 'x')?.ip).toBe('a');
    expect(balancer.next('svc', 'y')?.ip).toBe('b');
    expect(balancer.next('svc', 'x')?.ip).toBe('a');
    expect(balancer.next('svc', 'z')?.ip).toBe('c'); // evicts y, the least recently used
    expect(balancer.next('svc', 'x')?.ip).toBe('a');
    expect(balancer.next('svc', 'y')?.ip).toBe('a'); // y lost its entry and rotates again
  });

  test('poolsFromTable gives NodePorts their own pool', () => {
    const table = buildServiceTable(
      [serviceOf('np', { type: 'NodePort', clusterIP: '10.96.0.1', ports: [{ port: 80, nodePort: 30000 }] })],
      [endpointsOf('np', [{ addresses: [{ ip: '127.1.0.2' }], ports: [{ port: 80 }] }])],
    );
    expect(poolsFromTable(table).map((pool) => [pool.key, pool.endpoints.map(endpointString)])).toEqual([
      ['default/np:', ['127.1.0.2:80']],
      ['default/np:@nodeport', ['127.1.0.2:80']],
    ]);
  });
});
