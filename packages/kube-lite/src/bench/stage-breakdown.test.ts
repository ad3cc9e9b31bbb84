import type { PodLogTimes } from './component-logs';
import { STAGE_NAMES, stageBreakdown } from './stage-breakdown';
import type { PodTimeline } from './startup-tracker';

const samplesOf = (timelines: PodTimeline[], logs: Map<string, PodLogTimes>): Record<string, number[]> =>
  Object.fromEntries(stageBreakdown(timelines, logs).map((stage) => [stage.stage, stage.samplesMs]));

describe('stageBreakdown', () => {
  test('the consecutive stages add up to the startup latency', () => {
    const timeline: PodTimeline = { name: 'p', createSentMs: 1_000, createdMs: 1_050, boundObservedMs: 1_200, runningObservedMs: 2_000 };
    const logs = new Map<string, PodLogTimes>([['p', { boundMs: 1_150, containerStartedMs: 1_600, statusWritesMs: [1_100, 1_700, 1_900] }]]);
    const samples = samplesOf([timeline], logs);
    expect(samples).toEqual({
      [STAGE_NAMES.createRequest]: [50],
      [STAGE_NAMES.toBind]: [150],
      [STAGE_NAMES.toContainerStart]: [450],
      // The write before the start carried Pending; the first one after it carried Running.
      [STAGE_NAMES.toStatusWrite]: [100],
      [STAGE_NAMES.toObserved]: [300],
    });
    const total = [STAGE_NAMES.toBind, STAGE_NAMES.toContainerStart, STAGE_NAMES.toStatusWrite, STAGE_NAMES.toObserved].reduce((sum, name) => sum + (samples[name]?.[0] ?? 0), 0);
    expect(total).toBe(1_000);
  });

  test.each([
    { why: 'no logs for the pod', logs: new Map<string, PodLogTimes>(), counts: [1, 0, 0, 0, 0] },
    { why: 'bound but never started', logs: new Map<string, PodLogTimes>([['p', { boundMs: 10, statusWritesMs: [] }]]), counts: [1, 1, 0, 0, 0] },
    { why: 'started, no status write after the start', logs: new Map<string, PodLogTimes>([['p', { boundMs: 10, containerStartedMs: 20, statusWritesMs: [15] }]]), counts: [1, 1, 1, 0, 0] },
  ])('a stage without both ends is left out: $why', ({ logs, counts }) => {
    const timeline: PodTimeline = { name: 'p', createSentMs: 0, createdMs: 5, runningObservedMs: 100 };
    expect(stageBreakdown([timeline], logs).map((stage) => stage.samplesMs.length)).toEqual(counts);
  });
});
