// Plugin interfaces, one per extension point, in the shape of upstream's
// scheduling framework. Filter and Score run synchronously for every node, so
// they take derived PodInfo/NodeInfo and return plain values; only Bind, which
// talks to the API server, is asynchronous.
import type { PersistentVolume, PersistentVolumeClaim, Pod, Service, StorageClass } from '@kube-lite/api';
import type { ClusterSnapshot, NodeInfo, PodInfo } from '../snapshot';
import type { ClusterEventWithHint } from './events';
import type { MaybeStatus, Status } from './status';

/** The highest score a Score plugin may give a node after normalization. */
export const MAX_NODE_SCORE = 100;
export const MIN_NODE_SCORE = 0;

/** Per-cycle scratch space plugins share between their extension points (PreFilter -> Filter ...). */
export class CycleState {
  private readonly data = new Map<string, unknown>();
  /** Plugins whose PreFilter returned Skip: their Filter is not run for this pod. */
  readonly skipFilterPlugins = new Set<string>();
  /** Plugins whose PreScore returned Skip: their Score is not run for this pod. */
  readonly skipScorePlugins = new Set<string>();

  write(key: string, value: unknown): void {
    this.data.set(key, value);
  }

  read<T>(key: string): T | undefined {
    return this.data.get(key) as T | undefined;
  }
}

/** A pod waiting in (or popped from) the scheduling queue. */
export interface QueuedPodInfo {
  podInfo: PodInfo;
  /** When the pod was last added to or moved inside the queue (orders the activeQ, starts backoff). */
  timestampMs: number;
  /** When the pod first entered the queue; for latency metrics. */
  initialAttemptTimestampMs: number;
  /** Scheduling attempts so far (incremented by pop); drives the backoff. */
  attempts: number;
  /** Plugins that rejected the pod in its last attempt; their events bring it back. */
  unschedulablePlugins: Set<string>;
}

export interface NodeScore {
  name: string;
  score: number;
}

export interface Plugin {
  readonly name: string;
}

export interface QueueSortPlugin extends Plugin {
  /** True when `a` must be scheduled before `b`. */
  less(a: QueuedPodInfo, b: QueuedPodInfo): boolean;
}

export interface PreFilterPlugin extends Plugin {
  /** Computes per-pod state once; may reject the pod for every node, or return Skip to skip this plugin's Filter. */
  preFilter(state: CycleState, pod: PodInfo): MaybeStatus;
}

export interface FilterPlugin extends Plugin {
  /** Whether the pod fits on the node; a rejection carries the reasons the user reads. */
  filter(state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus;
}

/** Why no node fits, as collected by the filter phase. */
export interface Diagnosis {
  /** The status that rejected each node. */
  nodeToStatus: Map<string, Status>;
  /** Plugins that rejected the pod somewhere (they decide which events requeue it). */
  unschedulablePlugins: Set<string>;
  /** Set when PreFilter rejected the pod: the message then replaces the per-node histogram. */
  preFilterMessage: string;
  /** Appended by PostFilter plugins (upstream's preemption summary). */
  postFilterMessage: string;
}

export interface PostFilterResult {
  status: Status;
  /** A node on which the pod should fit once victims are gone. */
  nominatedNodeName?: string;
}

export interface PostFilterPlugin extends Plugin {
  /** Runs after no node fits (upstream uses it for preemption); a Success status ends the attempt. */
  postFilter(state: CycleState, pod: PodInfo, diagnosis: Diagnosis): PostFilterResult;
}

export interface PreScorePlugin extends Plugin {
  /** Computes per-pod scoring state over the feasible nodes; Skip skips this plugin's Score. */
  preScore(state: CycleState, pod: PodInfo, nodes: readonly NodeInfo[]): MaybeStatus;
}

export interface ScorePlugin extends Plugin {
  /** A raw score for the node; in [0, 100] unless normalizeScore maps it there. Throwing is an Error status. */
  score(state: CycleState, pod: PodInfo, node: NodeInfo): number;
  /** Rewrites the raw scores of all feasible nodes in place (upstream ScoreExtensions.NormalizeScore). */
  normalizeScore?(state: CycleState, pod: PodInfo, scores: NodeScore[]): MaybeStatus;
}

export interface ReservePlugin extends Plugin {
  reserve(state: CycleState, pod: PodInfo, nodeName: string): MaybeStatus;
  /** Undoes reserve; must be idempotent and must not fail. */
  unreserve(state: CycleState, pod: PodInfo, nodeName: string): void;
}

export interface BindPlugin extends Plugin {
  /** Binds the pod to the node; Skip hands over to the next bind plugin. */
  bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<MaybeStatus>;
}

export interface EnqueueExtensions extends Plugin {
  /** The cluster events that may make a pod this plugin rejected schedulable. */
  eventsToRegister(): ClusterEventWithHint[];
}

/** Sends the binding to the API server (POST pods/<name>/binding). */
export interface PodBinder {
  /** Rejects with an error; isBindConflict tells apart "already bound or gone" from retryable failures. */
  bind(pod: Pod, nodeName: string): Promise<void>;
}

/** Services by namespace, for spreading pods of one Service. */
export interface ServiceLister {
  list(namespace: string): readonly Service[];
}

/** Claims, volumes and classes from the scheduler's informers, and the one claim write VolumeBinding makes. */
export interface VolumeAccess {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  storageClass(name: string): StorageClass | undefined;
  /** Every class, to find the default one for claims that name none. */
  storageClasses(): readonly StorageClass[];
  /** Sets volume.kubernetes.io/selected-node on a claim, telling the volume binder where its pod goes. */
  selectNode(namespace: string, claimName: string, nodeName: string): Promise<void>;
}

/** What plugins may use besides their args. */
export interface FrameworkHandle {
  readonly snapshot: ClusterSnapshot;
  readonly binder?: PodBinder;
  readonly services?: ServiceLister;
  readonly volumes?: VolumeAccess;
}

/** Builds a plugin from its pluginConfig args (undefined when none are configured). */
export type PluginFactory = (args: unknown, handle: FrameworkHandle) => Plugin;

export type Registry = ReadonlyMap<string, PluginFactory>;
