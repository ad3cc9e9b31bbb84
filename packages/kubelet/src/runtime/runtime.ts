// The container runtime interface, in the spirit of the CRI: the kubelet asks
// for sandboxes (the pod's shared network identity) and containers inside
// them, and reads back their state. Everything the kubelet needs to adopt its
// own work after a restart is carried in labels (see labels.ts).
import type { Readable, Writable } from 'node:stream';

export interface PodSandboxConfig {
  /** Pod name, namespace and UID, as in the pod's metadata. */
  name: string;
  namespace: string;
  uid: string;
  /** How many sandboxes this pod had before this one (0 for the first). */
  attempt: number;
  /** The hostname processes of the pod see (HOSTNAME env under the process runtime). */
  hostname: string;
  /** Labels the kubelet reads back on relist; must include the pod labels of labels.ts. */
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Directory holding this pod's container logs. */
  logDirectory: string;
  /**
   * The pod's resolver settings (its resolv.conf), computed by the kubelet from
   * dnsPolicy, dnsConfig and --cluster-dns; absent: the runtime's default (the
   * node's). The process runtime applies it in a mount namespace of the pod's
   * own where it can, and always puts the search list and options in env
   * (LOCALDOMAIN, RES_OPTIONS); what it could not apply it reports in
   * PodSandbox.warnings.
   */
  dns?: DnsConfig;
  /**
   * The pod's kubelet-managed /etc/hosts (upstream writes one for every pod
   * outside the host network); absent: the runtime's default (the node's file
   * for the process runtime). Runtimes whose sandbox has a hosts file of its
   * own (Docker) ignore it.
   */
  hosts?: PodHostsConfig;
  /**
   * The pod's memory-backed emptyDir volumes (medium: Memory). A runtime that
   * keeps them in storage of its own (managesVolumeStorage) creates them with
   * the sandbox and holds them for the pod's life, so they survive container
   * restarts and are shared by the pod's containers.
   */
  memoryVolumes?: { name: string; sizeLimitBytes?: number }[];
}

/** What a pod's /etc/hosts holds beyond the localhost lines and its IP with its hostname. */
export interface PodHostsConfig {
  /** <hostname>.<subdomain>.<namespace>.svc.<cluster domain>, for a pod with spec.subdomain: listed before the hostname. */
  fullyQualifiedName?: string;
  /** spec.hostAliases: one line each, after the pod's own. */
  hostAliases: { ip: string; hostnames: string[] }[];
}

/** Something the runtime could not do for a sandbox that did not stop it from running. */
export interface SandboxWarning {
  /** The event reason, e.g. DNSConfigForming. */
  reason: string;
  /** What was not applied, and what the user can do instead. */
  message: string;
}

/** A resolv.conf: nameserver lines, the search line and the options line. */
export interface DnsConfig {
  servers: string[];
  searches: string[];
  /** "ndots:5", "edns0", ... */
  options: string[];
}

export type SandboxState = 'ready' | 'notready';

export interface PodSandbox {
  id: string;
  name: string;
  namespace: string;
  uid: string;
  attempt: number;
  state: SandboxState;
  createdAtMs: number;
  /** The pod IP the runtime assigned. */
  ip: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logDirectory: string;
  /**
   * What the runtime could not apply when it created the sandbox (a pod's
   * resolv.conf the process runtime cannot give it); the kubelet records each
   * as a Warning event on the pod once, right after creating the sandbox.
   */
  warnings?: SandboxWarning[];
}

/**
 * What backs a mount. Every mount also has a hostPath: the runtimes that
 * expose host directories (the process runtime) use it whatever the kind.
 * - directory: the host directory (or file) at hostPath, prepared by the
 *   kubelet (emptyDir, configMap, secret, downwardAPI, projected, hostPath);
 *   a bind mount under Docker.
 * - persistentVolume: a PersistentVolume's data. A runtime with storage of its
 *   own (ContainerRuntime.managesVolumeStorage: Docker's named volume
 *   kube-lite-pv-<persistentVolumeName>) keeps it there, because its daemon
 *   may not see the kubelet's filesystem; others use hostPath (the PV's
 *   local/hostPath path, created by the kubelet).
 * - memory: a memory-backed emptyDir (medium Memory), one per pod and
 *   volume name (see PodSandboxConfig.memoryVolumes); others use hostPath, a
 *   directory under /dev/shm when the machine has one.
 * subPath (for the kinds other than directory, where it is already part of
 * hostPath): the sub-directory or file of the volume to mount.
 */
export type MountStorage =
  | { kind: 'directory' }
  | { kind: 'persistentVolume'; persistentVolumeName: string; subPath?: string }
  | { kind: 'memory'; subPath?: string };

export interface Mount {
  /** The path the pod spec asked for (volumeMounts[].mountPath). */
  containerPath: string;
  /** Where the data is on the kubelet's machine (subPath included). */
  hostPath: string;
  /** volumeMounts[].name: runtimes that cannot remap paths expose the host path under this name. */
  volumeName: string;
  readOnly: boolean;
  /** What backs the mount; a host directory when absent. */
  storage?: MountStorage;
}

/** When to pull an image: the container's imagePullPolicy. */
export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** CPU and memory caps for a container, from its resources.limits. */
export interface ContainerResources {
  /** limits.cpu in millicores (Docker: NanoCpus, 1000 m = 1e9). */
  cpuMillis?: number;
  /** limits.memory in bytes; the container is OOM-killed above it (Docker: Memory). */
  memoryBytes?: number;
}

export interface ContainerConfig {
  name: string;
  /** Restart count: 0 for the first instance of this container in the pod. */
  attempt: number;
  image: string;
  /** Entrypoint override (the pod's command); empty means the image's default. */
  command: string[];
  /** Arguments (the pod's args); with an empty command they replace the image's default arguments. */
  args: string[];
  workingDir?: string;
  env: { name: string; value: string }[];
  mounts: Mount[];
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  /** Log file path relative to the sandbox's logDirectory. */
  logPath: string;
  tty?: boolean;
  stdin?: boolean;
  /** resources.limits; runtimes without cgroups (the process runtime) only report them. */
  resources?: ContainerResources;
  /** imagePullPolicy of the container; absent: upstream's default for the image reference. Runtimes that never pull ignore it. */
  imagePullPolicy?: PullPolicy;
}

export type ContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface ContainerStatus {
  id: string;
  sandboxId: string;
  name: string;
  attempt: number;
  image: string;
  /** The runtime's identity for the image it actually ran. */
  imageRef: string;
  state: ContainerState;
  createdAtMs: number;
  startedAtMs?: number;
  finishedAtMs?: number;
  exitCode?: number;
  /** Completed / Error / OOMKilled ..., set once exited. */
  reason?: string;
  message?: string;
  /** Process id of the container's main process (process runtime only). */
  pid?: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Absolute path of the current log file. */
  logPath: string;
}

export interface ContainerFilter {
  id?: string;
  sandboxId?: string;
  state?: ContainerState;
  /** Every given label must match. */
  labels?: Record<string, string>;
}

export interface SandboxFilter {
  id?: string;
  state?: SandboxState;
  labels?: Record<string, string>;
}

export interface LogOptions {
  /** Only the last N lines. */
  tailLines?: number;
  /** Keep the stream open and send new lines until the container exits or the stream is destroyed. */
  follow?: boolean;
  /** Prefix each line with its RFC 3339 (nanosecond) timestamp, as `kubectl logs --timestamps`. */
  timestamps?: boolean;
  /** Only lines written at or after this time. */
  sinceMs?: number;
  /** Stop after this many bytes. */
  limitBytes?: number;
}

export interface ExecOptions {
  command: string[];
  /** Give the process a writable stdin. */
  stdin: boolean;
  /** Run under a pseudo-terminal: stdout carries both streams, stderr stays empty. */
  tty: boolean;
  /** Initial terminal size when tty. */
  columns?: number;
  rows?: number;
}

/** A running exec: streams plus its exit. */
export interface ExecSession {
  stdin: Writable | undefined;
  stdout: Readable;
  stderr: Readable;
  resize(columns: number, rows: number): void;
  /** Kill the exec'd process (e.g. when the client went away or a probe timed out). */
  kill(): void;
  /** Resolves with the exit code once the process ended and its output was read. */
  exited: Promise<{ exitCode: number }>;
}

export interface ContainerStats {
  containerId: string;
  timestampMs: number;
  /** Cumulative CPU time of the container's processes. */
  cpuUsageCoreNanoSeconds: number;
  /** CPU rate over the interval since the previous sample (0 for the first). */
  cpuUsageNanoCores: number;
  memoryWorkingSetBytes: number;
}

export type RuntimeEvent =
  | { type: 'ContainerStarted'; containerId: string; labels: Record<string, string> }
  | { type: 'ContainerExited'; containerId: string; labels: Record<string, string> };

/** What a kubelet needs from a container runtime. */
export interface ContainerRuntime {
  /** "process", "fake", "docker": the scheme of containerIDs in pod status. */
  readonly name: string;
  /**
   * true when the runtime keeps PersistentVolume data and memory-backed
   * emptyDirs in storage of its own (Docker named volumes) instead of at the
   * host paths of their mounts: the kubelet then creates no host directory
   * for them. Absent: false.
   */
  readonly managesVolumeStorage?: boolean;
  /**
   * true when the runtime does something with PodSandboxConfig.dns and .hosts
   * (Docker: the sandbox's resolv.conf; the process runtime: a mount
   * namespace where it can, env always). The kubelet computes (and warns
   * about) pod DNS only for such runtimes. Absent: false.
   */
  readonly appliesPodDns?: boolean;

  runPodSandbox(config: PodSandboxConfig): Promise<string>;
  /** Stops every container of the sandbox (grace 0) and marks it notready; the IP stays reserved. */
  stopPodSandbox(sandboxId: string): Promise<void>;
  /** Removes the sandbox and its containers and releases its IP. Idempotent. */
  removePodSandbox(sandboxId: string): Promise<void>;
  listPodSandboxes(filter?: SandboxFilter): Promise<PodSandbox[]>;

  /** Throws ImageNotKnownError (or another RuntimeError) when the container cannot be created. */
  createContainer(sandboxId: string, config: ContainerConfig): Promise<string>;
  startContainer(containerId: string): Promise<void>;
  /** SIGTERM, then SIGKILL once timeoutSeconds passed; resolves when the container exited. */
  stopContainer(containerId: string, timeoutSeconds: number): Promise<void>;
  removeContainer(containerId: string): Promise<void>;
  listContainers(filter?: ContainerFilter): Promise<ContainerStatus[]>;
  /** Throws ContainerNotFoundError for an unknown id. */
  containerStatus(containerId: string): Promise<ContainerStatus>;

  containerLogs(containerId: string, options: LogOptions): Promise<Readable>;
  exec(containerId: string, options: ExecOptions): Promise<ExecSession>;
  /**
   * The stdin of a running container created with stdin: true, for
   * `kubectl attach -i`. Ending the returned stream detaches this client only:
   * the container's stdin stays open for the next one. Throws
   * StdinNotAvailableError when there is none. Absent: the runtime cannot
   * attach stdin (attach then carries output only).
   */
  attachStdin?(containerId: string): Promise<Writable>;
  containerStats(containerId: string): Promise<ContainerStats>;

  /** Container lifecycle events (the kubelet's PLEG); returns an unsubscribe function. */
  subscribe(listener: (event: RuntimeEvent) => void): () => void;
  /** Releases the runtime's own resources (log readers, timers) without stopping any container. */
  close(): Promise<void>;
}
