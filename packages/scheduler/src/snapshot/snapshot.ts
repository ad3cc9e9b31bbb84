// The scheduler's view of the cluster: a NodeInfo per node, fed by the node
// and pod informers, plus the pods the scheduler has assumed onto nodes but
// the API server has not confirmed yet. Assuming updates the node at once, so
// a burst of pods spreads without waiting for the informer to catch up.
//
// JavaScript runs one scheduling cycle to completion before any informer
// event is handled, so cycles read this structure directly: upstream needs a
// per-cycle copy only because its informers run on other goroutines.
import { isPodTerminal, type Node, type Pod } from '@kube-lite/api';
import { NodeInfo } from './node-info';
import { newPodInfo, podKey, withNodeName, type PodInfo } from './pod-info';

/** An assume or forget that contradicts what the snapshot holds: a bug in the caller. */
export class SnapshotStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SnapshotStateError';
  }
}

interface PodEntry {
  info: PodInfo;
  nodeName: string;
  /** Placed by the scheduler, not yet seen bound through the informer. */
  assumed: boolean;
  /** The bind call returned; only the informer's confirmation is missing. */
  bindingFinished: boolean;
}

export class ClusterSnapshot {
  private readonly infos = new Map<string, NodeInfo>();
  private readonly podEntries = new Map<string, PodEntry>();
  private nodeListCache: NodeInfo[] | undefined;

  // ---- nodes ----

  /** Adds or replaces a node (informer add/update). */
  setNode(node: Node): void {
    const name = node.metadata?.name ?? '';
    let info = this.infos.get(name);
    if (!info) {
      info = new NodeInfo(name);
      this.infos.set(name, info);
    }
    if (!info.node) this.nodeListCache = undefined;
    info.setNode(node);
  }

  /** Forgets a node; its pods stay accounted until they are removed, as upstream keeps a "ghost" node. */
  removeNode(name: string): void {
    const info = this.infos.get(name);
    if (!info) return;
    this.nodeListCache = undefined;
    if (info.pods.size === 0) this.infos.delete(name);
    else info.setNode(undefined);
  }

  /** The nodes that exist, in a stable order (the order they were added). */
  nodeInfos(): readonly NodeInfo[] {
    this.nodeListCache ??= [...this.infos.values()].filter((info) => info.node !== undefined);
    return this.nodeListCache;
  }

  nodeInfo(name: string): NodeInfo | undefined {
    const info = this.infos.get(name);
    return info?.node ? info : undefined;
  }

  get numNodes(): number {
    return this.nodeInfos().length;
  }

  // ---- pods seen through the informer ----

  /**
   * Adds or updates a pod bound to a node (informer add/update of an assigned
   * pod). Confirms an assumed pod; terminal pods release their resources.
   */
  setPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec?.nodeName ?? '';
    if (!nodeName || isPodTerminal(pod)) {
      this.removePod(pod);
      return;
    }
    const existing = this.podEntries.get(key);
    if (existing) this.detach(key, existing);
    const info = newPodInfo(pod);
    this.attach(key, { info, nodeName, assumed: false, bindingFinished: false });
  }

  /** Removes a pod (informer delete), assumed or not. */
  removePod(pod: Pod): void {
    const key = podKey(pod);
    const existing = this.podEntries.get(key);
    if (existing) this.detach(key, existing);
  }

  // ---- pods placed by the scheduler ----

  /** Counts the pod on `nodeName` before the bind is confirmed (upstream Cache.AssumePod). */
  assumePod(info: PodInfo, nodeName: string): void {
    if (this.podEntries.has(info.key)) throw new SnapshotStateError(`pod ${info.namespace}/${info.name} is already in the snapshot`);
    this.attach(info.key, { info: withNodeName(info, nodeName), nodeName, assumed: true, bindingFinished: false });
  }

  /** The bind call succeeded; the informer will confirm the pod (upstream Cache.FinishBinding). */
  finishBinding(key: string): void {
    const entry = this.podEntries.get(key);
    if (entry?.assumed) entry.bindingFinished = true;
  }

  /** Undoes assumePod after a failed reserve or bind (upstream Cache.ForgetPod). */
  forgetPod(key: string): void {
    const entry = this.podEntries.get(key);
    if (!entry) return;
    if (!entry.assumed) throw new SnapshotStateError(`pod ${entry.info.namespace}/${entry.info.name} is bound, not assumed; it cannot be forgotten`);
    this.detach(key, entry);
  }

  isAssumed(key: string): boolean {
    return this.podEntries.get(key)?.assumed ?? false;
  }

  /** The node a pod is bound or assumed on. */
  nodeNameOf(key: string): string | undefined {
    return this.podEntries.get(key)?.nodeName;
  }

  get numPods(): number {
    return this.podEntries.size;
  }

  private attach(key: string, entry: PodEntry): void {
    let info = this.infos.get(entry.nodeName);
    if (!info) {
      // The pod's node is not known yet (pod informer ahead of the node informer).
      info = new NodeInfo(entry.nodeName);
      this.infos.set(entry.nodeName, info);
    }
    info.addPod(entry.info);
    this.podEntries.set(key, entry);
  }

  private detach(key: string, entry: PodEntry): void {
    this.podEntries.delete(key);
    const info = this.infos.get(entry.nodeName);
    if (!info) return;
    info.removePod(key);
    if (!info.node && info.pods.size === 0) this.infos.delete(entry.nodeName);
  }
}
