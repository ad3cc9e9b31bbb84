import { loopbackServiceAddress, type Pod, type Service } from '@kube-lite/api';
import { InMemoryServiceSource } from '../sources';
import { buildContainerEnv } from './env';
import { clusterIPAddress, serviceEnvironment, servicesForPod, serviceVariables } from './service-env';

function service(namespace: string, name: string, clusterIP: string, ports: { port: number; name?: string; protocol?: 'TCP' | 'UDP' }[], type?: 'ExternalName'): Service {
  return { metadata: { namespace, name }, spec: { clusterIP, ports: ports.map((port) => ({ ...port, protocol: port.protocol ?? 'TCP' })), ...(type ? { type } : {}) } };
}

const kubernetes = service('default', 'kubernetes', '10.96.0.1', [{ port: 443, name: 'https' }]);
const web = service('shop', 'web-frontend', '10.96.3.7', [{ port: 80 }]);
const dns = service('shop', 'dns', '10.96.0.10', [{ port: 53, name: 'dns', protocol: 'UDP' }, { port: 53, name: 'dns-tcp' }]);
const headless = service('shop', 'db', 'None', [{ port: 5432 }]);
const otherNamespace = service('billing', 'ledger', '10.96.9.9', [{ port: 8080 }]);
const all = [kubernetes, web, dns, headless, otherNamespace];

describe('servicesForPod', () => {
  test.each([
    { name: 'own namespace and the master service', namespace: 'shop', links: true, expected: ['dns', 'kubernetes', 'web-frontend'] },
    { name: 'enableServiceLinks false: the master service only', namespace: 'shop', links: false, expected: ['kubernetes'] },
    { name: 'the default namespace', namespace: 'default', links: true, expected: ['kubernetes'] },
    { name: 'another namespace sees only its own', namespace: 'billing', links: true, expected: ['kubernetes', 'ledger'] },
  ])('$name', ({ namespace, links, expected }) => {
    expect(servicesForPod(all, { namespace, enableServiceLinks: links }).map((s) => s.metadata?.name)).toEqual(expected);
  });

  test("a namespace's own kubernetes Service wins over the master one", () => {
    const own = service('shop', 'kubernetes', '10.96.5.5', [{ port: 8443 }]);
    expect(servicesForPod([kubernetes, own], { namespace: 'shop', enableServiceLinks: true })).toEqual([own]);
    expect(servicesForPod([own, kubernetes], { namespace: 'shop', enableServiceLinks: true })).toEqual([own]);
  });

  test('leaves out ExternalName and unallocated Services', () => {
    const external = service('shop', 'mail', '', [{ port: 25 }], 'ExternalName');
    const pending = service('shop', 'new', '', [{ port: 80 }]);
    expect(servicesForPod([external, pending], { namespace: 'shop', enableServiceLinks: true })).toEqual([]);
  });
});

describe('serviceVariables', () => {
  test('one unnamed TCP port, mapped to loopback', () => {
    expect(Object.fromEntries(serviceVariables(web, loopbackServiceAddress))).toEqual({
      WEB_FRONTEND_SERVICE_HOST: '127.96.3.7',
      WEB_FRONTEND_SERVICE_PORT: '80',
      WEB_FRONTEND_PORT: 'tcp://127.96.3.7:80',
      WEB_FRONTEND_PORT_80_TCP: 'tcp://127.96.3.7:80',
      WEB_FRONTEND_PORT_80_TCP_PROTO: 'tcp',
      WEB_FRONTEND_PORT_80_TCP_PORT: '80',
      WEB_FRONTEND_PORT_80_TCP_ADDR: '127.96.3.7',
    });
  });

  test('named ports of two protocols, ClusterIP unchanged', () => {
    expect(serviceVariables(dns, clusterIPAddress)).toEqual([
      ['DNS_SERVICE_HOST', '10.96.0.10'],
      ['DNS_SERVICE_PORT', '53'],
      ['DNS_SERVICE_PORT_DNS', '53'],
      ['DNS_SERVICE_PORT_DNS_TCP', '53'],
      ['DNS_PORT', 'udp://10.96.0.10:53'],
      ['DNS_PORT_53_UDP', 'udp://10.96.0.10:53'],
      ['DNS_PORT_53_UDP_PROTO', 'udp'],
      ['DNS_PORT_53_UDP_PORT', '53'],
      ['DNS_PORT_53_UDP_ADDR', '10.96.0.10'],
      ['DNS_PORT_53_TCP', 'tcp://10.96.0.10:53'],
      ['DNS_PORT_53_TCP_PROTO', 'tcp'],
      ['DNS_PORT_53_TCP_PORT', '53'],
      ['DNS_PORT_53_TCP_ADDR', '10.96.0.10'],
    ]);
  });

  test('nothing for a Service without ports or an address the mapper refuses', () => {
    expect(serviceVariables(service('shop', 'empty', '10.96.1.1', []), clusterIPAddress)).toEqual([]);
    expect(serviceVariables(web, () => undefined)).toEqual([]);
  });
});

describe('service variables in a container environment', () => {
  const pod: Pod = { metadata: { name: 'shop-1', namespace: 'shop', uid: 'u' }, spec: { containers: [{ name: 'app' }] } };
  const source = new InMemoryServiceSource();
  source.services = all;

  test('come after the container env, which wins and can refer to them', async () => {
    const env = await buildContainerEnv(
      { name: 'app', env: [{ name: 'WEB_FRONTEND_SERVICE_PORT', value: '8080' }, { name: 'API', value: 'https://$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)' }] },
      { pod, podIP: '127.1.0.9', hostIP: '127.0.1.1', nodeAllocatable: { cpuMillis: 1000, memoryBytes: 1 }, services: source, serviceAddress: loopbackServiceAddress },
    );
    const values = Object.fromEntries(env.map((variable) => [variable.name, variable.value]));
    expect(env.slice(0, 3).map((variable) => variable.name)).toEqual(['WEB_FRONTEND_SERVICE_PORT', 'API', 'POD_IP']);
    expect(values).toMatchObject({
      WEB_FRONTEND_SERVICE_PORT: '8080',
      WEB_FRONTEND_SERVICE_HOST: '127.96.3.7',
      API: 'https://127.96.0.1:443',
      KUBERNETES_SERVICE_HOST: '127.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      DNS_SERVICE_HOST: '127.96.0.10',
    });
    expect(values).not.toHaveProperty('LEDGER_SERVICE_HOST');
    expect(values).not.toHaveProperty('DB_SERVICE_HOST');
  });

  test('without a service source there are none', async () => {
    const env = await buildContainerEnv({ name: 'app' }, { pod, podIP: '127.1.0.9', hostIP: '127.0.1.1', nodeAllocatable: { cpuMillis: 1000, memoryBytes: 1 } });
    expect(env).toEqual([{ name: 'POD_IP', value: '127.1.0.9' }]);
  });

  test('serviceEnvironment maps every address with the given mapper', () => {
    const variables = serviceEnvironment(all, { namespace: 'default', enableServiceLinks: true, serviceAddress: clusterIPAddress });
    expect(variables.get('KUBERNETES_SERVICE_HOST')).toBe('10.96.0.1');
    expect(variables.get('KUBERNETES_PORT')).toBe('tcp://10.96.0.1:443');
  });
});
