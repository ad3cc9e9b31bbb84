import { resolveControllers, UnknownControllerError } from '../registry';
import { clientOptionsFromFlags } from './connection';
import { FlagError, parseDurationMs, parseFlags } from './flags';
import { grpcAddressOf } from '@kube-lite/client';

const WORKLOAD_CONTROLLERS = ['statefulset', 'daemonset', 'horizontalpodautoscaling', 'persistentvolume-binder', 'job', 'cronjob', 'ttl-after-finished'];

describe('--controllers', () => {
  test.each([
    [['*'], ['deployment', 'replicaset', 'endpoint', 'garbagecollector', 'namespace', 'nodelifecycle', ...WORKLOAD_CONTROLLERS]],
    [['*', '-garbagecollector'], ['deployment', 'replicaset', 'endpoint', 'namespace', 'nodelifecycle', ...WORKLOAD_CONTROLLERS]],
    [['deployment', 'replicaset'], ['deployment', 'replicaset']],
    [['-namespace'], []],
  ])('%j -> %j', (items, expected) => {
    expect(resolveControllers(items)).toEqual(expected);
  });

  test('an unknown controller is an error listing the known ones', () => {
    expect(() => resolveControllers(['*', '-replicationcontroller'])).toThrow(UnknownControllerError);
    expect(() => parseFlags(['--controllers', 'deploymnet'])).toThrow(
      '--controllers: unknown controller "deploymnet"; known controllers: cronjob, daemonset, deployment, endpoint, garbagecollector, horizontalpodautoscaling, job, namespace, nodelifecycle, persistentvolume-binder, replicaset, statefulset, ttl-after-finished',
    );
  });
});

describe('flags', () => {
  test('upstream defaults', () => {
    const flags = parseFlags(['--master', '127.0.0.1:6444', '--insecure']);
    expect(flags.leaderElection).toEqual({ enabled: true, namespace: 'kube-system', name: 'kube-controller-manager', leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 });
    expect(flags.settings).toEqual({
      nodeMonitorGracePeriodMs: 40_000,
      nodeMonitorPeriodMs: 5_000,
      horizontalPodAutoscalerSyncPeriodMs: 15_000,
      horizontalPodAutoscalerTolerance: 0.1,
      horizontalPodAutoscalerDownscaleStabilizationMs: 300_000,
      horizontalPodAutoscalerCpuInitializationPeriodMs: 300_000,
      horizontalPodAutoscalerInitialReadinessDelayMs: 30_000,
      localPathRoot: '/var/lib/kube-lite/local-path',
    });
    expect(flags.workers).toEqual({
      deployment: 5,
      replicaset: 5,
      endpoint: 5,
      garbagecollector: 20,
      namespace: 10,
      statefulset: 5,
      daemonset: 2,
      horizontalpodautoscaling: 5,
      job: 5,
      cronjob: 5,
      'ttl-after-finished': 5,
    });
    expect(flags.httpPort).toBe(10252);
  });

  test('the fast profile and overrides', () => {
    const flags = parseFlags(['--node-monitor-grace-period=10s', '--node-monitor-period', '1s', '--leader-elect=false', '--concurrent-deployment-syncs', '2', '--port', '0']);
    expect(flags.settings.nodeMonitorGracePeriodMs).toBe(10_000);
    expect(flags.leaderElection.enabled).toBe(false);
    expect(flags.workers['deployment']).toBe(2);
    expect(flags.httpPort).toBeUndefined();
  });

  test.each([
    [['--node-monitor-grace-period', 'forty'], 'invalid value "forty" for --node-monitor-grace-period: use a duration such as 40s, 1m30s or 500ms'],
    [['--concurrent-gc-syncs', '0'], 'invalid value "0" for --concurrent-gc-syncs: use an integer >= 1'],
    [['--leader-elect', 'maybe'], 'invalid value "maybe" for --leader-elect: use true or false'],
    [['--no-such-flag'], "unknown option '--no-such-flag'"],
  ])('%j is refused', (argv, message) => {
    expect(() => parseFlags(argv)).toThrow(FlagError);
    expect(() => parseFlags(argv)).toThrow(message);
  });

  test.each([
    ['40s', 40_000],
    ['1m30s', 90_000],
    ['500ms', 500],
  ])('duration %s', (text, ms) => {
    expect(parseDurationMs(text, 'x')).toBe(ms);
  });
});

describe('reaching the API server', () => {
  const kubeconfig = `
apiVersion: v1
kind: Config
current-context: admin
contexts: [{name: admin, context: {cluster: kube-lite, user: admin}}]
clusters: [{name: kube-lite, cluster: {server: "https://10.0.0.1:6443", certificate-authority-data: ${Buffer.from('CA PEM').toString('base64')}}}]
users: [{name: admin, user: {token: secret}}]
`;
  const files: Record<string, string> = { '/etc/kc': kubeconfig, '/etc/ca.pem': 'OTHER CA' };
  const read = (path: string): string => {
    const text = files[path];
    if (text === undefined) throw new Error(`ENOENT ${path}`);
    return text;
  };
  const base = { kubeconfig: undefined, master: undefined, token: undefined, caFile: undefined, apiserverGrpcPort: undefined, insecure: false };

  test('a kubeconfig gives server, CA and token; --apiserver-grpc-port replaces the port', () => {
    expect(clientOptionsFromFlags({ ...base, kubeconfig: '/etc/kc' }, read)).toEqual({ address: '10.0.0.1:6443', tls: { caPem: 'CA PEM' }, token: 'secret' });
    expect(clientOptionsFromFlags({ ...base, kubeconfig: '/etc/kc', apiserverGrpcPort: 6444 }, read).address).toBe('10.0.0.1:6444');
  });

  test('--master, --token and --ca-file win over the kubeconfig', () => {
    expect(clientOptionsFromFlags({ ...base, kubeconfig: '/etc/kc', master: 'apiserver:7000', token: 't2', caFile: '/etc/ca.pem' }, read)).toEqual({ address: 'apiserver:7000', tls: { caPem: 'OTHER CA' }, token: 't2' });
  });

  test.each([
    [{ ...base }, 'no API server: give --kubeconfig or --master'],
    [{ ...base, master: 'h:1' }, 'no cluster CA'],
    [{ ...base, kubeconfig: '/missing' }, '--kubeconfig: cannot read /missing'],
  ])('refuses %j', (flags, message) => {
    expect(() => clientOptionsFromFlags(flags, read)).toThrow(message);
  });

  test.each([
    ['https://10.0.0.1:6443', undefined, '10.0.0.1:6443'],
    ['https://apiserver', undefined, 'apiserver:443'],
    ['127.0.0.1:6444', undefined, '127.0.0.1:6444'],
    ['https://10.0.0.1:6443', 6444, '10.0.0.1:6444'],
  ])('grpcAddressOf(%s, %s) = %s', (server, port, expected) => {
    expect(grpcAddressOf(server, port)).toBe(expected);
  });
});
