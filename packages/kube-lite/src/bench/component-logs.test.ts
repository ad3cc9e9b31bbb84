import { podLogTimes } from './component-logs';

const request = (ts: string, verb: string, path: string, code = 200): string => JSON.stringify({ transport: 'grpc', path, verb, user: 'u', code, latencyMs: 5, level: 'info', ts, msg: 'request' });
const started = (ts: string, pod: string, container = 'pause'): string => JSON.stringify({ level: 'info', ts, msg: 'ContainerStarted', pod, container, restartCount: 0 });
const ms = (iso: string): number => Date.parse(iso);

describe('podLogTimes', () => {
  const names = new Set(['p1', 'p2']);

  test('reads the bind, the status writes and the container start of each pod', () => {
    const apiserver = [
      request('2026-01-01T00:00:00.100Z', 'POST', '/api/v1/namespaces/default/pods/p1/binding', 201),
      request('2026-01-01T00:00:00.300Z', 'PUT', '/api/v1/namespaces/default/pods/p1/status'),
      request('2026-01-01T00:00:00.200Z', 'PATCH', '/api/v1/namespaces/default/pods/p1/status'),
      'not json at all',
      '=== kube-lite started kube-apiserver at ...',
    ].join('\n');
    const kubelet = [started('2026-01-01T00:00:00.250Z', 'default/p1'), '{"broken json'].join('\n');
    const times = podLogTimes('default', names, apiserver, kubelet);
    expect(times.get('p1')).toEqual({
      boundMs: ms('2026-01-01T00:00:00.100Z'),
      containerStartedMs: ms('2026-01-01T00:00:00.250Z'),
      statusWritesMs: [ms('2026-01-01T00:00:00.200Z'), ms('2026-01-01T00:00:00.300Z')],
    });
    expect(times.has('p2')).toBe(false);
  });

  test.each([
    { why: 'another namespace', line: request('2026-01-01T00:00:01Z', 'POST', '/api/v1/namespaces/other/pods/p1/binding', 201) },
    { why: 'a pod the benchmark did not create', line: request('2026-01-01T00:00:01Z', 'POST', '/api/v1/namespaces/default/pods/p9/binding', 201) },
    { why: 'a failed bind', line: request('2026-01-01T00:00:01Z', 'POST', '/api/v1/namespaces/default/pods/p1/binding', 409) },
    { why: 'a GET of the status', line: request('2026-01-01T00:00:01Z', 'GET', '/api/v1/namespaces/default/pods/p1/status') },
    { why: 'a write of the pod itself', line: request('2026-01-01T00:00:01Z', 'PUT', '/api/v1/namespaces/default/pods/p1') },
    { why: 'a line without a time', line: JSON.stringify({ msg: 'request', verb: 'POST', code: 201, path: '/api/v1/namespaces/default/pods/p1/binding' }) },
  ])('ignores $why', ({ line }) => {
    expect(podLogTimes('default', names, line, '').get('p1')).toBeUndefined();
  });

  test('a pod is started when its last container is, and restarts do not count', () => {
    const kubelet = [
      started('2026-01-01T00:00:01.000Z', 'default/p1', 'a'),
      started('2026-01-01T00:00:01.500Z', 'default/p1', 'b'),
      started('2026-01-01T00:00:09.000Z', 'default/p1', 'a'),
      started('2026-01-01T00:00:02.000Z', 'other/p1', 'c'),
    ].join('\n');
    expect(podLogTimes('default', names, '', kubelet).get('p1')?.containerStartedMs).toBe(ms('2026-01-01T00:00:01.500Z'));
  });
});
