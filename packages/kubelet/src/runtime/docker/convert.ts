// Pure translation between the runtime interface and the Docker Engine API:
// what to ask the daemon to create, and how to read back what it reports.
// No I/O here, so every rule (names, labels, entrypoint semantics, limits,
// states) is tested without a daemon.
import path from 'node:path';
import type Docker from 'dockerode';
import { CONTAINER_NAME_LABEL, CONTAINER_RESTART_COUNT_LABEL, NODE_NAME_LABEL, POD_NAME_LABEL, POD_NAMESPACE_LABEL, POD_UID_LABEL } from '../labels';
import type { ContainerConfig, ContainerState, ContainerStatus, Mount, PodSandbox, PodSandboxConfig, PullPolicy } from '../runtime';
import type { ServiceRoute } from './service-route';

/** "podsandbox" or "container": upstream dockershim's key, so `docker ps --filter` habits carry over. */
export const DOCKER_TYPE_LABEL = 'io.kubernetes.docker.type';
/** On containers: the id of the sandbox whose namespaces they share (dockershim's key). */
export const SANDBOX_ID_LABEL = 'io.kubernetes.sandbox.id';
/** Sandbox attempt, or the container's restart count. */
export const ATTEMPT_LABEL = 'kube-lite.io/attempt';
export const LOG_DIRECTORY_LABEL = 'kube-lite.io/log-directory';
export const LOG_PATH_LABEL = 'kube-lite.io/log-path';
/** The image as the pod spec named it (the daemon reports it normalized or as an id). */
export const IMAGE_LABEL = 'kube-lite.io/image';
/**
 * The Docker network of the cluster the object belongs to. Node names repeat
 * between clusters (worker-1 of a compose project and of a test run); the
 * network does not, so node name plus network is who owns an object.
 */
export const CLUSTER_NETWORK_LABEL = 'kube-lite.io/pod-network';
/** Docker has no annotations: they are stored as labels under this prefix, as dockershim did. */
export const ANNOTATION_PREFIX = 'annotation.';

const INTERNAL_LABELS = new Set([CLUSTER_NETWORK_LABEL, DOCKER_TYPE_LABEL, SANDBOX_ID_LABEL, ATTEMPT_LABEL, LOG_DIRECTORY_LABEL, LOG_PATH_LABEL, IMAGE_LABEL]);

export type { ContainerResources, PullPolicy } from '../runtime';

/** What the Docker runtime reads beyond the basics: resources.limits and imagePullPolicy (part of ContainerConfig). */
export type DockerContainerExtras = Pick<ContainerConfig, 'resources' | 'imagePullPolicy'>;

/** On volumes this runtime creates: what they hold (persistent or memory). */
export const VOLUME_KIND_LABEL = 'kube-lite.io/volume-kind';
/** On a PersistentVolume's named volume: the PV's name. */
export const PERSISTENT_VOLUME_LABEL = 'kube-lite.io/persistent-volume';
/** Where a sandbox mounts the pod's memory volumes to keep them alive for the pod's life. */
export const SANDBOX_MEMORY_VOLUME_DIRECTORY = '/.kube-lite/memory';

/** Settings every created object shares. */
export interface CreateContext {
  nodeName: string;
  /** The Docker network sandboxes join: pod IPs come from it. */
  podNetwork: string;
  pauseImage: string;
  /** Kubelet path -> path on the daemon's machine (for bind mounts). */
  hostPathOf: (kubeletPath: string) => string;
  /** Per-container json-file log cap: docker keeps two files of this size. */
  logMaxSizeBytes: number;
  /** The route new sandboxes get to the Service range (service-route.ts); none when absent. */
  serviceRoute?: ServiceRoute;
}

/** Docker names: [a-zA-Z0-9][a-zA-Z0-9_.-]*; pod and container names already fit, this is a guard. */
function nameSafe(text: string): string {
  return text.replace(/[^a-zA-Z0-9_.-]/g, '-');
}

export function sandboxContainerName(config: Pick<PodSandboxConfig, 'name' | 'namespace' | 'uid' | 'attempt'>): string {
  return ['k8s', 'POD', config.name, config.namespace, config.uid, String(config.attempt)].map(nameSafe).join('_');
}

export function containerName(config: Pick<ContainerConfig, 'name' | 'attempt'>, sandbox: Pick<PodSandbox, 'name' | 'namespace' | 'uid'>): string {
  return ['k8s', config.name, sandbox.name, sandbox.namespace, sandbox.uid, String(config.attempt)].map(nameSafe).join('_');
}

/** Labels (key=value) every object of this node and cluster carries: what list filters and ownership checks use. */
export function ownershipLabels(context: Pick<CreateContext, 'nodeName' | 'podNetwork'>, type: 'podsandbox' | 'container'): Record<string, string> {
  return { [NODE_NAME_LABEL]: context.nodeName, [CLUSTER_NETWORK_LABEL]: context.podNetwork, [DOCKER_TYPE_LABEL]: type };
}

/**
 * The named volume holding a PersistentVolume's data on this daemon. Named
 * after the PV alone, so the data outlives pods and nodes sharing the daemon
 * see the same volume (the compose cluster's workers do).
 */
export function persistentVolumeDockerName(persistentVolumeName: string): string {
  return `kube-lite-pv-${nameSafe(persistentVolumeName)}`;
}

/** The named tmpfs volume of a pod's memory-backed emptyDir. */
export function memoryVolumeDockerName(podUid: string, volumeName: string): string {
  return `kube-lite-mem-${nameSafe(podUid)}-${nameSafe(volumeName)}`;
}

export function persistentVolumeCreateOptions(persistentVolumeName: string, context: Pick<CreateContext, 'nodeName' | 'podNetwork'>): Docker.VolumeCreateOptions {
  return {
    Name: persistentVolumeDockerName(persistentVolumeName),
    Driver: 'local',
    Labels: { [VOLUME_KIND_LABEL]: 'persistent', [PERSISTENT_VOLUME_LABEL]: persistentVolumeName, [CLUSTER_NETWORK_LABEL]: context.podNetwork },
  };
}

/** A tmpfs volume, capped at sizeLimit when the pod gives one (else the kernel's default, half the memory). */
export function memoryVolumeCreateOptions(podUid: string, volume: { name: string; sizeLimitBytes?: number }, context: Pick<CreateContext, 'nodeName' | 'podNetwork'>): Docker.VolumeCreateOptions {
  const size = volume.sizeLimitBytes !== undefined && volume.sizeLimitBytes > 0 ? `size=${Math.ceil(volume.sizeLimitBytes)}` : undefined;
  return {
    Name: memoryVolumeDockerName(podUid, volume.name),
    Driver: 'local',
    DriverOpts: { type: 'tmpfs', device: 'tmpfs', ...(size ? { o: size } : {}) },
    Labels: { [VOLUME_KIND_LABEL]: 'memory', [POD_UID_LABEL]: podUid, [NODE_NAME_LABEL]: context.nodeName, [CLUSTER_NETWORK_LABEL]: context.podNetwork },
  };
}

/** A named volume mount; NoCopy: Kubernetes never seeds a volume with the image's files at the mount path. */
function volumeMount(source: string, mount: Mount, subPath: string | undefined): Docker.MountSettings {
  const options = { NoCopy: true, ...(subPath ? { Subpath: subPath } : {}) } as Docker.MountSettings['VolumeOptions'];
  return { Type: 'volume', Source: source, Target: mount.containerPath, ReadOnly: mount.readOnly, VolumeOptions: options };
}

/** How the daemon mounts one of the container's mounts. */
export function dockerMount(mount: Mount, sandbox: Pick<PodSandbox, 'uid'>, context: Pick<CreateContext, 'hostPathOf'>): Docker.MountSettings {
  const storage = mount.storage;
  switch (storage?.kind) {
    case 'persistentVolume':
      return volumeMount(persistentVolumeDockerName(storage.persistentVolumeName), mount, storage.subPath);
    case 'memory':
      return volumeMount(memoryVolumeDockerName(sandbox.uid, mount.volumeName), mount, storage.subPath);
    case 'directory':
    case undefined:
      return { Type: 'bind', Source: context.hostPathOf(mount.hostPath), Target: mount.containerPath, ReadOnly: mount.readOnly };
  }
}

/** Upstream's default: Always for ":latest" or no tag (and no digest), IfNotPresent otherwise. */
export function defaultPullPolicy(image: string): PullPolicy {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  if (colon < 0) return 'Always';
  return lastSegment.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function annotationLabels(annotations: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations ?? {}).map(([key, value]) => [`${ANNOTATION_PREFIX}${key}`, value]));
}

/** Splits stored labels back into the caller's labels and annotations. */
export function splitLabels(stored: Record<string, string> | undefined): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(stored ?? {})) {
    if (key.startsWith(ANNOTATION_PREFIX)) annotations[key.slice(ANNOTATION_PREFIX.length)] = value;
    else if (!INTERNAL_LABELS.has(key)) labels[key] = value;
  }
  return { labels, annotations };
}

function logConfig(context: CreateContext): Docker.HostConfig['LogConfig'] {
  // Bounded: a chatty container must not fill the node's disk.
  return { Type: 'json-file', Config: { 'max-size': String(context.logMaxSizeBytes), 'max-file': '2' } };
}

export function sandboxCreateOptions(config: PodSandboxConfig, context: CreateContext): Docker.ContainerCreateOptions {
  return {
    name: sandboxContainerName(config),
    Image: context.pauseImage,
    // Linux caps host names at 63 bytes; a longer pod name still runs, under a cut name.
    Hostname: config.hostname.slice(0, 63).replace(/[.-]+$/, '') || 'pod',
    Labels: {
      ...config.labels,
      ...annotationLabels(config.annotations),
      [POD_UID_LABEL]: config.uid,
      [POD_NAME_LABEL]: config.name,
      [POD_NAMESPACE_LABEL]: config.namespace,
      [NODE_NAME_LABEL]: context.nodeName,
      [CLUSTER_NETWORK_LABEL]: context.podNetwork,
      [DOCKER_TYPE_LABEL]: 'podsandbox',
      [ATTEMPT_LABEL]: String(config.attempt),
      [LOG_DIRECTORY_LABEL]: config.logDirectory,
    },
    HostConfig: {
      NetworkMode: context.podNetwork,
      // The pod's containers join its IPC namespace, as they do its network.
      IpcMode: 'shareable',
      // docker-init as PID 1 passes SIGTERM on, so stopping a sandbox is immediate.
      Init: true,
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      LogConfig: logConfig(context),
      // For the runtime's root exec that adds the service route (an exec gets the container's capabilities).
      // The sandbox's own process runs as nobody with none effective; the pod's containers do not inherit it.
      ...(context.serviceRoute ? { CapAdd: ['NET_ADMIN'] } : {}),
      // The pod's containers join this network namespace and share its resolv.conf: DNS is set here only.
      ...(config.dns ? { Dns: config.dns.servers, DnsSearch: config.dns.searches, DnsOptions: config.dns.options } : {}),
      ...(config.memoryVolumes && config.memoryVolumes.length > 0
        ? {
            // Held by the sandbox, a tmpfs volume stays mounted (and keeps its files) while containers restart.
            Mounts: config.memoryVolumes.map((volume) => ({
              Type: 'volume' as const,
              Source: memoryVolumeDockerName(config.uid, volume.name),
              Target: `${SANDBOX_MEMORY_VOLUME_DIRECTORY}/${nameSafe(volume.name)}`,
              VolumeOptions: { NoCopy: true } as Docker.MountSettings['VolumeOptions'],
            })),
          }
        : {}),
    },
  };
}

export function containerCreateOptions(sandbox: PodSandbox, config: ContainerConfig, context: CreateContext): Docker.ContainerCreateOptions {
  const resources = config.resources ?? {};
  return {
    name: containerName(config, sandbox),
    Image: config.image,
    // Kubernetes semantics: command replaces ENTRYPOINT (and drops the image's CMD), args replace CMD.
    ...(config.command.length > 0 ? { Entrypoint: config.command, Cmd: config.args } : config.args.length > 0 ? { Cmd: config.args } : {}),
    Env: config.env.map((variable) => `${variable.name}=${variable.value}`),
    ...(config.workingDir ? { WorkingDir: config.workingDir } : {}),
    Tty: config.tty ?? false,
    OpenStdin: config.stdin ?? false,
    StdinOnce: false,
    Labels: {
      ...config.labels,
      ...annotationLabels(config.annotations),
      [CONTAINER_NAME_LABEL]: config.name,
      [CONTAINER_RESTART_COUNT_LABEL]: String(config.attempt),
      [POD_UID_LABEL]: sandbox.uid,
      [POD_NAME_LABEL]: sandbox.name,
      [POD_NAMESPACE_LABEL]: sandbox.namespace,
      [NODE_NAME_LABEL]: context.nodeName,
      [CLUSTER_NETWORK_LABEL]: context.podNetwork,
      [DOCKER_TYPE_LABEL]: 'container',
      [SANDBOX_ID_LABEL]: sandbox.id,
      [ATTEMPT_LABEL]: String(config.attempt),
      [LOG_PATH_LABEL]: path.join(sandbox.logDirectory, config.logPath),
      [IMAGE_LABEL]: config.image,
    },
    HostConfig: {
      // The pod's containers share the sandbox's network (pod IP, localhost, hostname) and IPC.
      NetworkMode: `container:${sandbox.id}`,
      IpcMode: `container:${sandbox.id}`,
      Mounts: config.mounts.map((mount) => dockerMount(mount, sandbox, context)),
      ...(resources.cpuMillis !== undefined && resources.cpuMillis > 0 ? { NanoCpus: Math.round(resources.cpuMillis * 1_000_000) } : {}),
      ...(resources.memoryBytes !== undefined && resources.memoryBytes > 0 ? { Memory: Math.round(resources.memoryBytes) } : {}),
      RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
      LogConfig: logConfig(context),
    },
  };
}

/** Docker's zero time ("0001-01-01T00:00:00Z") and unparsable text are "never". */
export function parseDockerTime(text: string | undefined): number | undefined {
  if (!text || text.startsWith('0001-01-01')) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

export function sandboxFromSummary(summary: Docker.ContainerInfo, podNetwork: string): PodSandbox {
  const stored = summary.Labels ?? {};
  const { labels, annotations } = splitLabels(stored);
  const networks = summary.NetworkSettings?.Networks ?? {};
  const ip = networks[podNetwork]?.IPAddress ?? Object.values(networks)[0]?.IPAddress ?? '';
  return {
    id: summary.Id,
    name: stored[POD_NAME_LABEL] ?? '',
    namespace: stored[POD_NAMESPACE_LABEL] ?? '',
    uid: stored[POD_UID_LABEL] ?? '',
    attempt: Number(stored[ATTEMPT_LABEL] ?? 0),
    state: summary.State === 'running' ? 'ready' : 'notready',
    createdAtMs: summary.Created * 1000,
    ip,
    labels,
    annotations,
    logDirectory: stored[LOG_DIRECTORY_LABEL] ?? '',
  };
}

function containerState(inspect: Docker.ContainerInspectInfo): ContainerState {
  switch (inspect.State.Status) {
    case 'created':
      // A start that failed (missing executable...) leaves "created" with the error: it ran and ended.
      return inspect.State.Error ? 'exited' : 'created';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'exited':
    case 'dead':
    case 'removing':
      return 'exited';
    default:
      return 'unknown';
  }
}

export function containerStatusFromInspect(inspect: Docker.ContainerInspectInfo): ContainerStatus {
  const stored = inspect.Config.Labels ?? {};
  const { labels, annotations } = splitLabels(stored);
  const state = containerState(inspect);
  const status: ContainerStatus = {
    id: inspect.Id,
    sandboxId: stored[SANDBOX_ID_LABEL] ?? '',
    name: stored[CONTAINER_NAME_LABEL] ?? inspect.Name.replace(/^\//, ''),
    attempt: Number(stored[ATTEMPT_LABEL] ?? 0),
    image: stored[IMAGE_LABEL] ?? inspect.Config.Image,
    imageRef: `docker://${inspect.Image}`,
    state,
    createdAtMs: parseDockerTime(inspect.Created) ?? 0,
    labels,
    annotations,
    logPath: stored[LOG_PATH_LABEL] ?? inspect.LogPath,
  };
  const startedAtMs = parseDockerTime(inspect.State.StartedAt);
  if (startedAtMs !== undefined) status.startedAtMs = startedAtMs;
  if (state === 'exited') {
    const startFailed = inspect.State.Status === 'created';
    status.exitCode = inspect.State.ExitCode;
    status.finishedAtMs = parseDockerTime(inspect.State.FinishedAt) ?? startedAtMs ?? status.createdAtMs;
    if (startFailed) {
      status.startedAtMs ??= status.finishedAtMs;
      status.reason = 'StartError';
    } else {
      status.reason = inspect.State.OOMKilled ? 'OOMKilled' : inspect.State.ExitCode === 0 ? 'Completed' : 'Error';
    }
    if (inspect.State.Error) status.message = inspect.State.Error;
  }
  return status;
}

/** The CPU and memory figures of a one-shot stats answer. */
export function usageFromStats(stats: Docker.ContainerStats): { cpuNanoSeconds: number; workingSetBytes: number } {
  const memory = stats.memory_stats ?? ({} as Docker.ContainerStats['memory_stats']);
  const detail = (memory.stats ?? {}) as unknown as Record<string, number | undefined>;
  // Working set as the kubelet reports it: usage minus inactive page cache (cgroup v1 or v2 key).
  const inactive = detail['total_inactive_file'] ?? detail['inactive_file'] ?? 0;
  const usage = memory.usage ?? 0;
  return { cpuNanoSeconds: stats.cpu_stats?.cpu_usage?.total_usage ?? 0, workingSetBytes: Math.max(0, usage - (inactive < usage ? inactive : 0)) };
}
