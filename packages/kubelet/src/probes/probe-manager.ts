// Periodic liveness, readiness and startup probes, one worker per container
// instance and kind, as upstream's prober workers: results only flip after
// successThreshold / failureThreshold consecutive outcomes; readiness starts
// failed, liveness starts passing, and neither runs before the startup probe
// has succeeded. A change of result asks the pod worker to sync.
import type { Container, Pod, Probe } from '@kube-lite/api';
import type { Clock, TimerHandle } from '../clock';
import type { ContainerRuntime } from '../runtime/runtime';
import { runHandler, type HandlerRunner } from './prober';

export type ProbeKind = 'liveness' | 'readiness' | 'startup';

interface Worker {
  kind: ProbeKind;
  podUid: string;
  containerId: string;
  container: Container;
  probe: Required<Pick<Probe, 'periodSeconds' | 'timeoutSeconds' | 'successThreshold' | 'failureThreshold' | 'initialDelaySeconds'>> & Probe;
  podIP: string;
  /** undefined until the first result for startup; see the file comment for the others. */
  result: boolean | undefined;
  successes: number;
  failures: number;
  lastMessage: string;
  timer?: TimerHandle;
  stopped: boolean;
}

export interface RunningContainer {
  container: Container;
  containerId: string;
  startedAtMs: number;
}

export interface ProbeManagerOptions {
  clock: Clock;
  runtime: ContainerRuntime;
  /** Called with the pod UID whenever a probe result flips. */
  onChange: (podUid: string) => void;
  /** Called on every failed probe run (upstream's Unhealthy event), whether or not the result flipped. */
  onFailure?: (podUid: string, failure: { kind: ProbeKind; containerName: string; message: string }) => void;
  /** Runs one probe; replaceable in tests. */
  runner?: HandlerRunner;
}

function withDefaults(probe: Probe): Worker['probe'] {
  return {
    ...probe,
    initialDelaySeconds: probe.initialDelaySeconds ?? 0,
    periodSeconds: probe.periodSeconds || 10,
    timeoutSeconds: probe.timeoutSeconds || 1,
    successThreshold: probe.successThreshold || 1,
    failureThreshold: probe.failureThreshold || 3,
  };
}

export class ProbeManager {
  private readonly workers = new Map<string, Worker>();
  private readonly runner: HandlerRunner;

  constructor(private readonly options: ProbeManagerOptions) {
    this.runner = options.runner ?? runHandler;
  }

  /** Starts workers for running containers that have probes; stops those of containers no longer running. */
  syncPod(pod: Pod, podIP: string, running: RunningContainer[]): void {
    const podUid = pod.metadata?.uid ?? '';
    const wanted = new Set<string>();
    for (const { container, containerId, startedAtMs } of running) {
      const kinds: [ProbeKind, Probe | undefined][] = [
        ['startup', container.startupProbe],
        ['liveness', container.livenessProbe],
        ['readiness', container.readinessProbe],
      ];
      for (const [kind, probe] of kinds) {
        if (!probe) continue;
        const key = `${containerId}/${kind}`;
        wanted.add(key);
        if (this.workers.has(key)) continue;
        const worker: Worker = {
          kind,
          podUid,
          containerId,
          container,
          probe: withDefaults(probe),
          podIP,
          result: kind === 'liveness' ? true : kind === 'readiness' ? false : undefined,
          successes: 0,
          failures: 0,
          lastMessage: '',
          stopped: false,
        };
        this.workers.set(key, worker);
        const firstAtMs = startedAtMs + worker.probe.initialDelaySeconds * 1000;
        this.schedule(worker, Math.max(0, firstAtMs - this.options.clock.nowMs()));
      }
    }
    for (const [key, worker] of this.workers) {
      if (worker.podUid === podUid && !wanted.has(key)) this.stopWorker(key, worker);
    }
  }

  /** Passed its startup probe, or has none. */
  isStarted(containerId: string): boolean {
    const startup = this.workers.get(`${containerId}/startup`);
    return !startup || startup.result === true;
  }

  /** Started and passing its readiness probe (or has none). */
  isReady(containerId: string): boolean {
    if (!this.isStarted(containerId)) return false;
    const readiness = this.workers.get(`${containerId}/readiness`);
    return !readiness || readiness.result === true;
  }

  /** The reason to restart the container, when its liveness or startup probe failed. */
  failure(containerId: string): { kind: ProbeKind; message: string } | undefined {
    for (const kind of ['startup', 'liveness'] as ProbeKind[]) {
      const worker = this.workers.get(`${containerId}/${kind}`);
      if (worker && worker.result === false) return { kind, message: worker.lastMessage };
    }
    return undefined;
  }

  removePod(podUid: string): void {
    for (const [key, worker] of this.workers) if (worker.podUid === podUid) this.stopWorker(key, worker);
  }

  stop(): void {
    for (const [key, worker] of this.workers) this.stopWorker(key, worker);
  }

  private stopWorker(key: string, worker: Worker): void {
    worker.stopped = true;
    worker.timer?.cancel();
    this.workers.delete(key);
  }

  private schedule(worker: Worker, delayMs: number): void {
    if (worker.stopped) return;
    worker.timer = this.options.clock.setTimer(() => void this.tick(worker), delayMs);
  }

  private async tick(worker: Worker): Promise<void> {
    if (worker.stopped) return;
    const gated = worker.kind !== 'startup' && !this.isStarted(worker.containerId);
    if (!gated) {
      const outcome = await this.runner(worker.probe, { podIP: worker.podIP, container: worker.container, containerId: worker.containerId, runtime: this.options.runtime, clock: this.options.clock }, worker.probe.timeoutSeconds * 1000);
      if (worker.stopped) return;
      this.record(worker, outcome.success, outcome.message);
      // A failed liveness or startup probe leads to a restart, a passed startup probe is final: either way this worker is done.
      if ((worker.kind !== 'readiness' && worker.result === false) || (worker.kind === 'startup' && worker.result === true)) return;
    }
    this.schedule(worker, worker.probe.periodSeconds * 1000);
  }

  private record(worker: Worker, success: boolean, message: string): void {
    worker.lastMessage = message;
    if (success) {
      worker.successes += 1;
      worker.failures = 0;
    } else {
      worker.failures += 1;
      worker.successes = 0;
      this.options.onFailure?.(worker.podUid, { kind: worker.kind, containerName: worker.container.name, message });
    }
    let next = worker.result;
    if (success && worker.successes >= worker.probe.successThreshold) next = true;
    if (!success && worker.failures >= worker.probe.failureThreshold) next = false;
    if (next !== worker.result) {
      worker.result = next;
      this.options.onChange(worker.podUid);
    }
  }
}
