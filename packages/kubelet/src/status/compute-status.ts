// The pod status the kubelet reports, computed as upstream's
// generateAPIPodStatus/getPhase do, from the spec and what the runtime shows.
// Pure: the caller passes the time and everything observed.
import { formatTime, podQOSClass, type Container, type ContainerState, type ContainerStatus as ApiContainerStatus, type Pod, type PodCondition, type PodPhase, type PodStatus } from '@kube-lite/api';
import type { ContainerStatus as RuntimeContainerStatus } from '../runtime/runtime';

export interface WaitingReason {
  reason: string;
  message?: string;
}

export interface PodObservation {
  pod: Pod;
  nowMs: number;
  hostIP: string;
  /** Empty until the sandbox exists. */
  podIP: string;
  sandboxReady: boolean;
  /** The scheme of container IDs ("process", "fake", "docker"). */
  runtimeName: string;
  /** Runtime instances by container name, newest (highest restart count) first. */
  instances: ReadonlyMap<string, RuntimeContainerStatus[]>;
  /** Why a container is not running right now, set by the pod worker. */
  waiting: ReadonlyMap<string, WaitingReason>;
  /** Messages the kubelet attaches to a terminated instance it killed (liveness failure ...), by container ID. */
  killMessages: ReadonlyMap<string, string>;
  isReady: (containerId: string) => boolean;
  isStarted: (containerId: string) => boolean;
  /** The pod was deleted and all its containers stopped: report a final phase. */
  terminated: boolean;
}

function terminatedState(instance: RuntimeContainerStatus, runtimeName: string, killMessage: string | undefined): ContainerState {
  return {
    terminated: {
      exitCode: instance.exitCode ?? 0,
      reason: instance.reason ?? (instance.exitCode === 0 ? 'Completed' : 'Error'),
      ...(killMessage ?? instance.message ? { message: killMessage ?? instance.message } : {}),
      ...(instance.startedAtMs !== undefined ? { startedAt: formatTime(instance.startedAtMs) } : {}),
      ...(instance.finishedAtMs !== undefined ? { finishedAt: formatTime(instance.finishedAtMs) } : {}),
      containerID: `${runtimeName}://${instance.id}`,
    },
  };
}

function containerStatus(container: Container, observation: PodObservation, init: boolean): ApiContainerStatus {
  const instances = observation.instances.get(container.name) ?? [];
  const [latest, previous] = instances;
  const waiting = observation.waiting.get(container.name);
  const status: ApiContainerStatus = { name: container.name, state: {}, lastState: {}, ready: false, restartCount: latest?.attempt ?? 0, image: container.image ?? '', imageID: latest?.imageRef ?? '', started: false };
  const terminated = (instance: RuntimeContainerStatus): ContainerState => terminatedState(instance, observation.runtimeName, observation.killMessages.get(instance.id));
  if (latest) status.containerID = `${observation.runtimeName}://${latest.id}`;
  if (latest?.state === 'running' && !waiting) {
    status.state = { running: { startedAt: formatTime(latest.startedAtMs ?? observation.nowMs) } };
    if (previous?.state === 'exited') status.lastState = terminated(previous);
    status.started = observation.isStarted(latest.id);
    status.ready = observation.isReady(latest.id);
  } else if (latest?.state === 'exited' && !waiting) {
    status.state = terminated(latest);
    if (previous?.state === 'exited') status.lastState = terminated(previous);
    // A completed init container counts as ready, as upstream reports it.
    status.ready = init && latest.exitCode === 0;
  } else {
    status.state = { waiting: waiting ? { ...waiting } : { reason: 'ContainerCreating' } };
    if (latest?.state === 'exited') status.lastState = terminated(latest);
    else if (previous?.state === 'exited') status.lastState = terminated(previous);
  }
  return status;
}

function initContainersDone(statuses: ApiContainerStatus[]): boolean {
  return statuses.every((status) => status.state?.terminated?.exitCode === 0);
}

/** upstream getPhase, for a pod whose init containers may still run. */
export function podPhase(pod: Pod, init: ApiContainerStatus[], app: ApiContainerStatus[], terminated: boolean): PodPhase {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const initFailed = init.some((status) => {
    const exitCode = status.state?.terminated?.exitCode ?? status.lastState?.terminated?.exitCode;
    return exitCode !== undefined && exitCode !== 0 && status.state?.running === undefined;
  });
  if (initFailed && restartPolicy === 'Never') return 'Failed';
  if (!initContainersDone(init)) return terminated ? 'Failed' : 'Pending';
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const status of app) {
    if (status.state?.running) running++;
    else if (status.state?.terminated) {
      stopped++;
      if (status.state.terminated.exitCode === 0) succeeded++;
    } else if (status.state?.waiting) {
      if (status.lastState?.terminated) stopped++;
      else waiting++;
    }
  }
  if (terminated) return stopped > 0 && stopped === succeeded && waiting === 0 ? 'Succeeded' : 'Failed';
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function condition(type: string, ok: boolean, nowMs: number, reason?: string, message?: string): PodCondition {
  return { type, status: ok ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: formatTime(nowMs), ...(ok || !reason ? {} : { reason }), ...(ok || !message ? {} : { message }) };
}

function names(statuses: ApiContainerStatus[]): string {
  return `[${statuses.map((status) => status.name).join(' ')}]`;
}

export function computePodStatus(observation: PodObservation): PodStatus {
  const { pod, nowMs } = observation;
  const previous = pod.status ?? {};
  const init = (pod.spec?.initContainers ?? []).map((container) => containerStatus(container, observation, true));
  const app = (pod.spec?.containers ?? []).map((container) => containerStatus(container, observation, false));
  // A pod reported terminal stays terminal (upstream never moves a pod out of Succeeded/Failed).
  const phase = previous.phase === 'Succeeded' || previous.phase === 'Failed' ? previous.phase : podPhase(pod, init, app, observation.terminated);

  const notInitialized = init.filter((status) => status.state?.terminated?.exitCode !== 0);
  const notReady = app.filter((status) => !status.ready);
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const gates = pod.spec?.readinessGates ?? [];
  const failedGates = gates.filter((gate) => previous.conditions?.find((existing) => existing.type === gate.conditionType)?.status !== 'True');
  const containersReady = notReady.length === 0 && !terminal;
  const conditions: PodCondition[] = [
    condition('PodReadyToStartContainers', observation.sandboxReady && !observation.terminated, nowMs),
    condition('Initialized', notInitialized.length === 0, nowMs, 'ContainersNotInitialized', `containers with incomplete status: ${names(notInitialized)}`),
    containersReady || terminal
      ? condition('ContainersReady', containersReady, nowMs, 'PodCompleted')
      : condition('ContainersReady', false, nowMs, 'ContainersNotReady', `containers with unready status: ${names(notReady)}`),
    terminal
      ? condition('Ready', false, nowMs, 'PodCompleted')
      : !containersReady
        ? condition('Ready', false, nowMs, 'ContainersNotReady', `containers with unready status: ${names(notReady)}`)
        : failedGates.length > 0
          ? condition('Ready', false, nowMs, 'ReadinessGatesNotReady', `corresponding condition of pod readiness gate "${failedGates[0]?.conditionType}" does not exist.`)
          : condition('Ready', true, nowMs),
  ];
  // Conditions the kubelet does not own (PodScheduled, readiness gates, DisruptionTarget) pass through.
  const owned = new Set(conditions.map((entry) => entry.type));
  const passed = (previous.conditions ?? []).filter((entry) => !owned.has(entry.type));
  if (!passed.some((entry) => entry.type === 'PodScheduled')) passed.unshift(condition('PodScheduled', true, nowMs));

  const status: PodStatus = {
    phase,
    conditions: [...passed.filter((entry) => entry.type === 'PodScheduled'), ...conditions, ...passed.filter((entry) => entry.type !== 'PodScheduled')],
    hostIP: observation.hostIP,
    hostIPs: [{ ip: observation.hostIP }],
    startTime: previous.startTime ?? formatTime(nowMs),
    containerStatuses: app,
    qosClass: podQOSClass(pod),
  };
  if (init.length > 0) status.initContainerStatuses = init;
  const podIP = observation.podIP || previous.podIP;
  if (podIP) {
    status.podIP = podIP;
    status.podIPs = [{ ip: podIP }];
  }
  if (previous.nominatedNodeName) status.nominatedNodeName = previous.nominatedNodeName;
  return status;
}
