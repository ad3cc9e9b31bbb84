// Where a pod's start spent its time on this node, in the spirit of
// upstream's pod startup latency tracker ("Observed pod startup duration"):
// the worker stamps each stage the first time the pod reaches it, and the
// first status write that shows every container ready ends the pod's record
// and yields one log line. The stamps are offsets from the moment the pod
// reached the kubelet, so a slow start can be split into waiting for a
// worker, sandbox, volumes, container start and the status write, and
// joined with the API server's log on the `seenAt` wall-clock time.

/** The stages of a pod's start on this node, in the order they are reached. */
export const STARTUP_STAGES = ['syncStarted', 'sandboxReady', 'volumesReady', 'containersStarted', 'statusSent', 'statusWritten'] as const;
export type StartupStage = (typeof STARTUP_STAGES)[number];

/** One pod's finished record: when the kubelet first saw it, and each stage's offset from then. */
export interface PodStartupRecord {
  seenAtMs: number;
  /** Milliseconds from seenAtMs to each stage reached. */
  stageOffsetsMs: Partial<Record<StartupStage, number>>;
}

/** Pods tracked at once by default; the oldest record is dropped past it (a pod that never became ready). */
const DEFAULT_MAX_TRACKED_PODS = 1000;

export class PodStartupTracker {
  private readonly pods = new Map<string, { seenAtMs: number; stamps: Partial<Record<StartupStage, number>> }>();
  /** Pods whose start was reported: a pod is reported once, however often its ready status is written again. */
  private readonly finished = new Set<string>();

  constructor(
    private readonly nowMs: () => number,
    private readonly maxTrackedPods = DEFAULT_MAX_TRACKED_PODS,
  ) {}

  /** The pod reached this kubelet (its worker was created). */
  seen(uid: string): void {
    if (this.pods.has(uid) || this.finished.has(uid)) return;
    this.pods.set(uid, { seenAtMs: this.nowMs(), stamps: {} });
    while (this.pods.size > this.maxTrackedPods) this.pods.delete(this.pods.keys().next().value as string);
  }

  /** The pod reached a stage; only the first time counts. */
  mark(uid: string, stage: StartupStage): void {
    const entry = this.pods.get(uid);
    if (entry && entry.stamps[stage] === undefined) entry.stamps[stage] = this.nowMs();
  }

  /** Whether the pod's start is still being tracked (not yet reported, not forgotten). */
  tracking(uid: string): boolean {
    return this.pods.has(uid);
  }

  /** Ends the pod's record (its ready status was written) and returns it; undefined when it was not tracked. */
  finish(uid: string): PodStartupRecord | undefined {
    const entry = this.pods.get(uid);
    if (!entry) return undefined;
    this.pods.delete(uid);
    this.finished.add(uid);
    while (this.finished.size > this.maxTrackedPods) this.finished.delete(this.finished.keys().next().value as string);
    const stageOffsetsMs: Partial<Record<StartupStage, number>> = {};
    for (const stage of STARTUP_STAGES) {
      const stamp = entry.stamps[stage];
      if (stamp !== undefined) stageOffsetsMs[stage] = stamp - entry.seenAtMs;
    }
    return { seenAtMs: entry.seenAtMs, stageOffsetsMs };
  }

  /** The pod is gone from this node. */
  forget(uid: string): void {
    this.pods.delete(uid);
    this.finished.delete(uid);
  }
}
