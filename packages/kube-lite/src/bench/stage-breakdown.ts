// Splits each pod's startup latency into consecutive stages, from the
// client's timeline and the component logs, so a slow p99 points at the
// component that spent the time:
//
//   create sent -> bind done        API create, scheduler's watch delay, queue, Bind
//   bind done -> container started  kubelet's watch delay, pod worker, runtime start
//   container started -> status     kubelet status manager and its status write
//   status -> observed              the API server's watch fan-out to the benchmark
//
// The four add up to the startup latency of every pod that has all four.
import type { PodLogTimes } from './component-logs';
import type { PodTimeline } from './startup-tracker';

export interface StageSamples {
  stage: string;
  samplesMs: number[];
}

export const STAGE_NAMES = {
  createRequest: 'create request (client)',
  toBind: 'sent -> bind done',
  toContainerStart: 'bind -> container started',
  toStatusWrite: 'started -> status written',
  toObserved: 'status -> watch observed',
} as const;

/** The first status write the kubelet completed at or after the container started: the one carrying Running. */
function runningStatusWriteMs(times: PodLogTimes): number | undefined {
  if (times.containerStartedMs === undefined) return undefined;
  const started = times.containerStartedMs;
  return times.statusWritesMs.find((ms) => ms >= started);
}

export function stageBreakdown(timelines: readonly PodTimeline[], logTimes: ReadonlyMap<string, PodLogTimes>): StageSamples[] {
  const createRequest: number[] = [];
  const toBind: number[] = [];
  const toContainerStart: number[] = [];
  const toStatusWrite: number[] = [];
  const toObserved: number[] = [];
  for (const timeline of timelines) {
    if (timeline.createdMs !== undefined) createRequest.push(timeline.createdMs - timeline.createSentMs);
    const times = logTimes.get(timeline.name);
    if (times === undefined) continue;
    const statusMs = runningStatusWriteMs(times);
    if (times.boundMs !== undefined) toBind.push(times.boundMs - timeline.createSentMs);
    if (times.boundMs !== undefined && times.containerStartedMs !== undefined) toContainerStart.push(times.containerStartedMs - times.boundMs);
    if (times.containerStartedMs !== undefined && statusMs !== undefined) toStatusWrite.push(statusMs - times.containerStartedMs);
    if (statusMs !== undefined && timeline.runningObservedMs !== undefined) toObserved.push(timeline.runningObservedMs - statusMs);
  }
  return [
    { stage: STAGE_NAMES.createRequest, samplesMs: createRequest },
    { stage: STAGE_NAMES.toBind, samplesMs: toBind },
    { stage: STAGE_NAMES.toContainerStart, samplesMs: toContainerStart },
    { stage: STAGE_NAMES.toStatusWrite, samplesMs: toStatusWrite },
    { stage: STAGE_NAMES.toObserved, samplesMs: toObserved },
  ];
}
