import type { Endpoints } from '@kube-lite/api';
import { RESOURCES } from '@kube-lite/client';
import { fixture, pod, service } from '../../test-support';
import { EndpointController, resolvePort } from './controller';

async function setup(objects: Parameters<typeof fixture>[0]) {
  const f = fixture(objects);
  const controller = new EndpointController(f.context);
  await f.start();
  return { f, controller };
}

const uidOf = (f: ReturnType<typeof fixture>, name: string) => f.client.peek(RESOURCES.pods, 'default', name)?.metadata?.uid ?? '';

describe('endpoints controller', () => {
  test.each([
    ['number', { port: 80, targetPort: 9090 }, 9090],
    ['numeric string', { port: 80, targetPort: '9091' }, 9091],
    ['absent: the service port', { port: 80 }, 80],
    ['named, present', { port: 80, targetPort: 'http' }, 8080],
    ['named, absent', { port: 80, targetPort: 'metrics' }, undefined],
    ['named, other protocol', { port: 80, targetPort: 'http', protocol: 'UDP' as const }, undefined],
  ])('resolvePort: %s', (_name, servicePort, expected) => {
    expect(resolvePort(pod('p'), servicePort)).toBe(expected);
  });

  test('ready and not-ready addresses with targetRef and nodeName, named ports resolved per pod', async () => {
    const svc = service('web', { app: 'web' }, [
      { name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' },
      { name: 'admin', port: 9000, targetPort: 'admin', protocol: 'TCP' },
    ]);
    const { f, controller } = await setup([
      svc,
      pod('ready-a', { nodeName: 'n1', ready: true, podIP: '10.0.0.2', ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9001 }] }),
      pod('ready-b', { nodeName: 'n2', ready: true, podIP: '10.0.0.1', ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9001 }] }),
      pod('starting', { nodeName: 'n1', ready: false, podIP: '10.0.0.3', ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9001 }] }),
      pod('http-only', { nodeName: 'n2', ready: true, podIP: '10.0.0.4', ports: [{ name: 'http', containerPort: 8081 }] }),
      pod('no-ports', { nodeName: 'n2', ready: true, podIP: '10.0.0.5', ports: [] }),
      pod('terminating', { nodeName: 'n1', ready: true, podIP: '10.0.0.6', deleting: true }),
      pod('no-ip', { nodeName: 'n1', ready: false }),
      pod('other-app', { nodeName: 'n1', ready: true, podIP: '10.0.0.7', labels: { app: 'db' } }),
    ]);
    await controller.sync('default/web');
    expect(f.writeSummary()).toEqual(['create endpoints default/web']);
    const address = (name: string, ip: string, nodeName: string) => ({ ip, nodeName, targetRef: { kind: 'Pod', namespace: 'default', name, uid: uidOf(f, name) } });
    const endpoints = f.client.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web');
    expect(endpoints?.subsets).toEqual([
      { addresses: [address('http-only', '10.0.0.4', 'n2')], ports: [{ name: 'http', port: 8081, protocol: 'TCP' }] },
      {
        addresses: [address('ready-b', '10.0.0.1', 'n2'), address('ready-a', '10.0.0.2', 'n1')],
        notReadyAddresses: [address('starting', '10.0.0.3', 'n1')],
        ports: [
          { name: 'admin', port: 9001, protocol: 'TCP' },
          { name: 'http', port: 8080, protocol: 'TCP' },
        ],
      },
    ]);
    // Nothing changed: nothing written.
    await f.settle();
    f.client.clearActions();
    await controller.sync('default/web');
    expect(f.writeSummary()).toEqual([]);
    // A pod turning ready moves to addresses: one update.
    const starting = f.client.peek(RESOURCES.pods, 'default', 'starting') as ReturnType<typeof pod>;
    await f.client.pods('default').updateStatus({ ...starting, status: { ...starting.status, conditions: [{ type: 'Ready', status: 'True' }] } });
    await f.settle();
    f.client.clearActions();
    await controller.sync('default/web');
    expect(f.writeSummary()).toEqual(['update endpoints default/web']);
    expect(f.client.peek<Endpoints>(RESOURCES.endpoints, 'default', 'web')?.subsets?.[1]?.notReadyAddresses).toBeUndefined();
    await f.stop();
  });

  test('the Endpoints of a Service without a selector are left alone', async () => {
    const manual: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external', namespace: 'default' }, subsets: [{ addresses: [{ ip: '192.168.1.10' }], ports: [{ port: 5432 }] }] };
    const { f, controller } = await setup([service('external', undefined, [{ port: 5432 }]), manual]);
    await controller.sync('default/external');
    expect(f.writeSummary()).toEqual([]);
    await f.stop();
  });

  test('a deleted Service takes its Endpoints along', async () => {
    const stale: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'gone', namespace: 'default' }, subsets: [] };
    const { f, controller } = await setup([stale]);
    await controller.sync('default/gone');
    expect(f.writeSummary()).toEqual(['delete endpoints default/gone']);
    await f.stop();
  });

  test('headless Service: the headless label, bare addresses when it has no ports', async () => {
    const svc = service('db', { app: 'db' });
    (svc.spec as NonNullable<typeof svc.spec>).clusterIP = 'None';
    const { f, controller } = await setup([svc, pod('db-0', { labels: { app: 'db' }, nodeName: 'n1', ready: true, podIP: '10.0.1.1' })]);
    await controller.sync('default/db');
    const endpoints = f.client.peek<Endpoints>(RESOURCES.endpoints, 'default', 'db');
    expect(endpoints?.metadata?.labels).toEqual({ 'service.kubernetes.io/headless': '' });
    expect(endpoints?.subsets).toEqual([{ addresses: [{ ip: '10.0.1.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'db-0', uid: uidOf(f, 'db-0') } }] }]);
    await f.stop();
  });
});
