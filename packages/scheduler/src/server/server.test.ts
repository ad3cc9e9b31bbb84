import type { Event, Lease, Pod } from '@kube-lite/api';
import { FakeApiClient, RESOURCES } from '@kube-lite/client';
import { defaultConfiguration, SchedulerConfigError } from '../config';
import { makeNode, makePod } from '../test-fixtures';
import { FlagError, parseFlags } from './flags';
import { Scheduler } from './scheduler';

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('Scheduler against the fake API client', () => {
  test('binds pending pods, records events and marks unschedulable pods', async () => {
    const client = new FakeApiClient({
      objects: [makeNode('n1', { cpu: '2' }), makeNode('n2', { cpu: '2' }), makePod('small', { cpu: '1' }), makePod('huge', { cpu: '16' }), makePod('bound', { nodeName: 'n1', cpu: '1', phase: 'Running' })],
    });
    const config = defaultConfiguration();
    config.leaderElection.leaderElect = false;
    const scheduler = new Scheduler({ client, config, identity: 'test' });
    try {
      await scheduler.start();
      const small = await eventually(async () => {
        const pod = await client.get<Pod>(RESOURCES.pods, 'default', 'small');
        return pod.spec?.nodeName ? pod : undefined;
      }, 'small to be bound');
      // n1 already runs a 1-cpu pod, so LeastAllocated prefers n2.
      expect(small.spec?.nodeName).toBe('n2');
      const huge = await eventually(async () => {
        const pod = await client.get<Pod>(RESOURCES.pods, 'default', 'huge');
        return pod.status?.conditions?.some((c) => c.type === 'PodScheduled' && c.status === 'False') ? pod : undefined;
      }, 'huge to be marked unschedulable');
      expect(huge.status?.conditions?.find((c) => c.type === 'PodScheduled')).toMatchObject({ reason: 'Unschedulable', message: '0/2 nodes are available: 2 Insufficient cpu.' });
      const events = await eventually(async () => {
        const list = await client.list<Event>(RESOURCES.events, 'default');
        return list.items.length >= 2 ? list.items : undefined;
      }, 'events');
      expect(events.map((e) => [e.reason, e.message]).sort()).toEqual([
        ['FailedScheduling', '0/2 nodes are available: 2 Insufficient cpu.'],
        ['Scheduled', 'Successfully assigned default/small to n2'],
      ]);
    } finally {
      await scheduler.stop();
    }
  });
});

test('with leader election, schedules once it holds the kube-system/kube-scheduler lease', async () => {
  const client = new FakeApiClient({ objects: [makeNode('n1'), makePod('p', { cpu: '100m' })] });
  const scheduler = new Scheduler({ client, config: defaultConfiguration(), identity: 'replica-a' });
  try {
    await scheduler.start();
    const pod = await eventually(async () => {
      const current = await client.get<Pod>(RESOURCES.pods, 'default', 'p');
      return current.spec?.nodeName ? current : undefined;
    }, 'p to be bound');
    expect(pod.spec?.nodeName).toBe('n1');
    const lease = await client.get<Lease>(RESOURCES.leases, 'kube-system', 'kube-scheduler');
    expect(lease.spec?.holderIdentity).toBe('replica-a');
  } finally {
    await scheduler.stop();
  }
});

describe('flags', () => {
  const files: Record<string, string> = {
    'sched.yaml': 'apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nclientConnection: {kubeconfig: /etc/k/scheduler.conf}\nleaderElection: {leaderElect: true}\n',
    'bad.yaml': 'percentageOfNodesToScore: 500\n',
  };
  const read = (path: string) => {
    const text = files[path];
    if (text === undefined) throw new Error('ENOENT');
    return text;
  };

  test('defaults', () => {
    const flags = parseFlags([], read);
    expect([flags.kubeconfig, flags.master, flags.insecure, flags.config.leaderElection.leaderElect]).toEqual([undefined, undefined, false, true]);
  });

  test('--config, with flags winning', () => {
    const flags = parseFlags(['--config', 'sched.yaml', '--leader-elect=false', '--server', '127.0.0.1:6444'], read);
    expect(flags.kubeconfig).toBe('/etc/k/scheduler.conf');
    expect(flags.config.leaderElection.leaderElect).toBe(false);
    expect(flags.master).toBe('127.0.0.1:6444');
  });

  test.each([
    [['--bogus'], FlagError, /unknown option '--bogus'/],
    [['--leader-elect=maybe'], FlagError, /invalid value "maybe" for --leader-elect/],
    [['--config', 'missing.yaml'], FlagError, /--config: cannot read missing.yaml/],
    [['--config', 'bad.yaml'], SchedulerConfigError, /invalid bad.yaml: percentageOfNodesToScore: Invalid value: 500/],
  ])('rejects %j', (argv, type, message) => {
    expect(() => parseFlags(argv, read)).toThrow(type);
    expect(() => parseFlags(argv, read)).toThrow(message);
  });
});
