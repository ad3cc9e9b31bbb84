// The node lifecycle controller, as upstream's node_lifecycle_controller with
// taint-based eviction:
//
// - health: a node whose kubelet has not renewed its Lease in kube-node-lease
//   (nor posted a new Ready heartbeat) for --node-monitor-grace-period gets
//   Ready=Unknown ("Kubelet stopped posting node status."). Staleness is
//   judged by when *this process* saw the renewal change, so clock skew
//   between machines does not matter.
// - taints: Ready=Unknown -> node.kubernetes.io/unreachable, Ready=False ->
//   node.kubernetes.io/not-ready, each NoExecute and NoSchedule (plus the
//   pressure and unschedulable NoSchedule taints); removed when the node is
//   back.
// - eviction: a pod on a node with NoExecute taints is deleted once its
//   matching toleration's tolerationSeconds have passed since the taint's
//   timeAdded, at once when it has none, with a TaintManagerEviction event.
//   The API server's DefaultTolerationSeconds admission gives every pod
//   such tolerations (300 s upstream).
//
// One queue carries both kinds of keys: "node:<name>" and "pod:<ns>/<name>".
import { deepCopy, formatTime, jsonEqual, parseTime, type Lease, type Node, type NodeCondition, type Pod, type Taint } from '@kube-lite/api';
import { isConflict, isNotFound, NODE_NAME_INDEX, objectKey, splitObjectKey, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { desiredTaints, evictionDeadlineMs } from './taints';

export const NODE_LIFECYCLE_CONTROLLER_NAME = 'nodelifecycle';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const CONDITIONS_SET_UNKNOWN = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

interface Health {
  /** When this process last saw the node's Lease or Ready heartbeat change. */
  probeMs: number;
  renewTime: string | undefined;
  heartbeat: string | undefined;
}

export const nodeKey = (name: string): string => `node:${name}`;
export const podKey = (pod: Pod): string => `pod:${objectKey(pod)}`;

export class NodeLifecycleController extends QueueController {
  private readonly nodes: Lister<Node>;
  private readonly leases: Lister<Lease>;
  private readonly pods: Lister<Pod>;
  private readonly health = new Map<string, Health>();
  private monitorTimer: NodeJS.Timeout | undefined;

  constructor(context: ControllerContext) {
    super(NODE_LIFECYCLE_CONTROLLER_NAME, context);
    const nodeInformer = context.informers.nodes();
    const leaseInformer = context.informers.leases();
    const podInformer = context.informers.pods();
    this.nodes = nodeInformer.lister;
    this.leases = leaseInformer.lister;
    this.pods = podInformer.lister;
    nodeInformer.addEventHandler({
      onAdd: (node) => this.queue.add(nodeKey(node.metadata?.name ?? '')),
      onUpdate: (old, node) => {
        this.queue.add(nodeKey(node.metadata?.name ?? ''));
        // The taint manager's trigger: pods are looked at once the cache holds the new NoExecute taints
        // (queued from the write instead, a pod could be synced against the old node and never again).
        if (!jsonEqual(noExecuteKeys(old), noExecuteKeys(node))) for (const pod of this.pods.byIndex(NODE_NAME_INDEX, node.metadata?.name ?? '')) this.queue.add(podKey(pod));
      },
      onDelete: (object) => this.health.delete(deletedObject(object).metadata?.name ?? ''),
    });
    leaseInformer.addEventHandler({
      onUpdate: (_old, lease) => {
        if (lease.metadata?.namespace === NODE_LEASE_NAMESPACE) this.queue.add(nodeKey(lease.metadata.name ?? ''));
      },
    });
    podInformer.addEventHandler({
      onAdd: (pod) => this.podChanged(pod),
      onUpdate: (_old, pod) => this.podChanged(pod),
    });
  }

  override run(workers: number): Promise<void> {
    // Staleness is the absence of events: look at every node periodically.
    this.monitorTimer = setInterval(() => {
      for (const node of this.nodes.list()) this.queue.add(nodeKey(node.metadata?.name ?? ''));
    }, this.context.settings.nodeMonitorPeriodMs);
    return super.run(workers);
  }

  override async shutdown(): Promise<void> {
    if (this.monitorTimer !== undefined) clearInterval(this.monitorTimer);
    await super.shutdown();
  }

  async sync(key: string): Promise<void> {
    if (key.startsWith('node:')) await this.syncNode(key.slice('node:'.length));
    else if (key.startsWith('pod:')) await this.syncPod(key.slice('pod:'.length));
    else throw new Error(`nodelifecycle: malformed queue key "${key}"`);
  }

  private async syncNode(name: string): Promise<void> {
    const cached = this.nodes.get(undefined, name);
    if (cached === undefined) {
      this.health.delete(name);
      return;
    }
    const now = this.nowMs();
    let node = deepCopy(cached);
    const stale = this.observe(node, now);
    if (stale) {
      const changed = markUnknown(node, now);
      if (changed) {
        const graceSeconds = Math.round(this.context.settings.nodeMonitorGracePeriodMs / 1000);
        this.logger.warn('node stopped posting status; marking it Ready=Unknown', { controller: this.name, node: name, gracePeriodSeconds: graceSeconds });
        node = await this.client.nodes().updateStatus(node);
        this.context.recorder.record(node, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
      }
    }
    const taints = desiredTaints(node, formatTime(now));
    if (jsonEqual(node.spec?.taints ?? [], taints)) return;
    const before = noExecuteKeys(node);
    const after = noExecuteKeys({ spec: { taints } });
    // The resourceVersion makes the patch conditional: taints set by others meanwhile are not lost.
    const patch = { metadata: { resourceVersion: node.metadata?.resourceVersion }, spec: { taints: taints.length > 0 ? taints : null } };
    try {
      node = await this.client.nodes().patch(name, 'merge', patch);
    } catch (error) {
      if (isNotFound(error)) return;
      if (isConflict(error)) this.queue.add(nodeKey(name));
      throw error;
    }
    this.logger.info('node taints updated', { controller: this.name, node: name, noExecuteBefore: before, noExecuteAfter: after, taints: taints.map((taint) => `${taint.key}:${taint.effect}`) });
  }

  /** Records the node's latest Lease renewal and heartbeat; true when neither changed within the grace period. */
  private observe(node: Node, now: number): boolean {
    const name = node.metadata?.name ?? '';
    const renewTime = this.leases.get(NODE_LEASE_NAMESPACE, name)?.spec?.renewTime;
    const heartbeat = node.status?.conditions?.find((condition) => condition.type === 'Ready')?.lastHeartbeatTime;
    const known = this.health.get(name);
    if (known === undefined || known.renewTime !== renewTime || known.heartbeat !== heartbeat) {
      this.health.set(name, { probeMs: now, renewTime, heartbeat });
      return false;
    }
    return now - known.probeMs > this.context.settings.nodeMonitorGracePeriodMs;
  }

  private async syncPod(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const pod = this.pods.get(namespace, name);
    const nodeName = pod?.spec?.nodeName;
    if (pod === undefined || !nodeName || pod.metadata?.deletionTimestamp !== undefined) return;
    const taints = (this.nodes.get(undefined, nodeName)?.spec?.taints ?? []).filter((taint) => taint.effect === 'NoExecute');
    if (taints.length === 0) return;
    const now = this.nowMs();
    const deadline = evictionDeadlineMs(taints, pod.spec?.tolerations ?? [], now, (taint) => parseTime(taint.timeAdded) ?? now);
    if (deadline === Infinity) return;
    if (deadline > now) {
      this.queue.addAfter(`pod:${key}`, deadline - now);
      return;
    }
    try {
      await this.client.pods(namespace).delete(name, { preconditions: { uid: pod.metadata?.uid ?? '' } });
    } catch (error) {
      if (isNotFound(error) || isConflict(error)) return;
      throw error;
    }
    this.logger.info('evicted pod from tainted node', { controller: this.name, pod: key, node: nodeName, taints: taints.map((taint) => taint.key) });
    this.context.recorder.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
  }

  private podChanged(pod: Pod): void {
    const nodeName = pod.spec?.nodeName;
    if (!nodeName || pod.metadata?.deletionTimestamp !== undefined) return;
    const tainted = this.nodes.get(undefined, nodeName)?.spec?.taints?.some((taint) => taint.effect === 'NoExecute') ?? false;
    if (tainted) this.queue.add(podKey(pod));
  }
}

/** The keys of a node's NoExecute taints, sorted. */
function noExecuteKeys(node: Pick<Node, 'spec'>): string[] {
  return (node.spec?.taints ?? [])
    .filter((taint: Taint) => taint.effect === 'NoExecute')
    .map((taint) => taint.key)
    .sort();
}

/** Sets the kubelet-owned conditions to Unknown; true when anything changed. */
function markUnknown(node: Node, now: number): boolean {
  const status = (node.status ??= {});
  const conditions = (status.conditions ??= []);
  const time = formatTime(now);
  let changed = false;
  if (!conditions.some((condition) => condition.type === 'Ready')) {
    conditions.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata?.creationTimestamp ?? time, lastTransitionTime: time });
    changed = true;
  }
  for (const condition of conditions as NodeCondition[]) {
    if (!CONDITIONS_SET_UNKNOWN.includes(condition.type) || condition.status === 'Unknown') continue;
    condition.status = 'Unknown';
    condition.reason = 'NodeStatusUnknown';
    condition.message = 'Kubelet stopped posting node status.';
    condition.lastTransitionTime = time;
    changed = true;
  }
  return changed;
}
