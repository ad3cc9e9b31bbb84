import { MetricsStorage } from './storage';
import type { NodeSummary, UsageSample } from './summary';

const T0 = Date.parse('2024-05-01T10:00:00Z');

function sample(offsetMs: number, cpuSeconds: number, memoryBytes = 1024 * 1024, startOffsetMs?: number): UsageSample {
  const result: UsageSample = { timestampMs: T0 + offsetMs, cumulativeCpuNanoSeconds: cpuSeconds * 1e9, memoryWorkingSetBytes: memoryBytes };
  if (startOffsetMs !== undefined) result.startMs = T0 + startOffsetMs;
  return result;
}

function summary(node: UsageSample | undefined, containers: Record<string, UsageSample>, uid = 'uid-1'): NodeSummary {
  return { nodeName: 'node-1', node, pods: [{ namespace: 'default', name: 'web', uid, containers: new Map(Object.entries(containers)) }] };
}

describe('MetricsStorage', () => {
  const storage = (): MetricsStorage => new MetricsStorage({ freshContainerWindowMs: 22_500 });

  test.each([
    {
      name: 'two scrapes rate the counter over the window between them',
      scrapes: [summary(sample(0, 100), { app: sample(0, 10, 1000, -600_000) }), summary(sample(15_000, 115), { app: sample(15_000, 11.5, 2048, -600_000) })],
      node: { cpuNanoCores: 1_000_000_000, windowMs: 15_000 },
      pod: { app: { cpuNanoCores: 100_000_000, memoryWorkingSetBytes: 2048 }, windowMs: 15_000 },
    },
    {
      name: 'one scrape of an old container has no rate yet',
      scrapes: [summary(sample(0, 100), { app: sample(0, 10, 1000, -600_000) })],
      node: undefined,
      pod: undefined,
    },
    {
      name: 'a container that started since is rated from its start after one scrape',
      scrapes: [summary(sample(0, 100), { app: sample(10_000, 5, 1000, 0) })],
      node: undefined,
      pod: { app: { cpuNanoCores: 500_000_000, memoryWorkingSetBytes: 1000 }, windowMs: 10_000 },
    },
    {
      name: 'a restarted container (new start time, counter reset) starts over',
      scrapes: [summary(sample(0, 100), { app: sample(0, 50, 1000, -600_000) }), summary(sample(15_000, 115), { app: sample(15_000, 1, 1000, -100_000) })],
      node: { cpuNanoCores: 1_000_000_000, windowMs: 15_000 },
      pod: undefined,
    },
    {
      name: 'a pod recreated under the same name starts over',
      scrapes: [summary(undefined, { app: sample(0, 50, 1000, -600_000) }, 'uid-1'), summary(undefined, { app: sample(15_000, 51, 1000, -600_000) }, 'uid-2')],
      node: undefined,
      pod: undefined,
    },
    {
      name: 'the same reading twice keeps the earlier rate',
      scrapes: [
        summary(sample(0, 100), { app: sample(0, 10, 1000, -600_000) }),
        summary(sample(15_000, 103), { app: sample(15_000, 13, 1000, -600_000) }),
        summary(sample(15_000, 103), { app: sample(15_000, 13, 1000, -600_000) }),
      ],
      node: { cpuNanoCores: 200_000_000, windowMs: 15_000 },
      pod: { app: { cpuNanoCores: 200_000_000, memoryWorkingSetBytes: 1000 }, windowMs: 15_000 },
    },
    {
      name: 'a pod with one container still without a rate is left out',
      scrapes: [
        summary(sample(0, 100), { app: sample(0, 10, 1000, -600_000) }),
        summary(sample(15_000, 115), { app: sample(15_000, 11, 1000, -600_000), sidecar: sample(15_000, 1, 1000, -600_000) }),
      ],
      node: { cpuNanoCores: 1_000_000_000, windowMs: 15_000 },
      pod: undefined,
    },
  ])('$name', ({ scrapes, node, pod }) => {
    const store = storage();
    for (const scrape of scrapes) store.store([scrape]);
    const nodeUsage = store.nodeUsage('node-1');
    if (node === undefined) expect(nodeUsage).toBeUndefined();
    else expect(nodeUsage).toMatchObject(node);
    const podUsage = store.podUsage('default', 'web');
    if (pod === undefined) {
      expect(podUsage).toBeUndefined();
      return;
    }
    const { windowMs, ...containers } = pod;
    expect(podUsage?.windowMs).toBe(windowMs);
    expect(Object.fromEntries((podUsage?.containers ?? []).map((container) => [container.name, { cpuNanoCores: container.usage.cpuNanoCores, memoryWorkingSetBytes: container.usage.memoryWorkingSetBytes }]))).toEqual(containers);
  });

  test('a node or pod missing from the latest cycle is gone', () => {
    const store = storage();
    store.store([summary(sample(0, 100), { app: sample(0, 10, 1000, -600_000) })]);
    store.store([summary(sample(15_000, 115), { app: sample(15_000, 11, 1000, -600_000) })]);
    expect(store.nodeUsage('node-1')).toBeDefined();
    store.store([]);
    expect(store.nodeUsage('node-1')).toBeUndefined();
    expect(store.podUsage('default', 'web')).toBeUndefined();
  });
});
