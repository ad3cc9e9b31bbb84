// The DaemonSet controller, as upstream's daemon package: one pod per node
// the template fits (placement.ts), created pinned to its node and left to
// the scheduler; failed pods replaced with back-off; pods on nodes that no
// longer fit deleted; rolled to a new template through ControllerRevisions
// (rolling.ts). Node events matter as much as pod events: a node added,
// relabelled or tainted changes where pods belong. Expectations keep a sync
// from acting on a cache that does not show its own writes yet.
import {
  deepCopy,
  isPodAvailable,
  isPodReady,
  isControlledBy,
  isPodTerminal,
  jsonEqual,
  labelSelectorAsSelector,
  semanticEqual,
  type ControllerRevision,
  type DaemonSet,
  type DaemonSetStatus,
  type Node,
  type Pod,
} from '@kube-lite/api';
import { isNotFound, objectKey, RESOURCES, splitObjectKey, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { claimObjects, ControllerExpectations, freshOwnerCheck, ownedPodEventHandler, resolveControllerRef, selectorMatchesPod, slowStartBatch } from '../../controller-utils';
import { CONTROLLER_REVISION_HASH_LABEL, createRevision, sortRevisions, templatePatch } from '../../controller-utils/history';
import { compareOldestScheduledFirst, DAEMON_SET_API_VERSION, DAEMON_SET_KIND, isPodUpdated, newDaemonPod, nodeShouldRunDaemonPod, targetNodeName } from './placement';
import { allowsSurge, planRollingUpdate } from './rolling';

export const DAEMON_SET_CONTROLLER_NAME = 'daemonset';
/** Most pods created or deleted in one sync (upstream BurstReplicas). */
export const DAEMON_SET_BURST_REPLICAS = 250;
/** Back-off before deleting the next failed daemon pod on a node: doubling from 1 s to 15 min (upstream failedPodsBackoff). */
export const FAILED_POD_BACKOFF_INITIAL_MS = 1000;
export const FAILED_POD_BACKOFF_MAX_MS = 15 * 60_000;

/** Per-key exponential back-off (client-go flowcontrol.Backoff, as the DaemonSet controller uses it). */
class FailedPodBackoff {
  private readonly entries = new Map<string, { delayMs: number; lastUpdateMs: number }>();

  inBackoff(key: string, nowMs: number): number | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined && nowMs - entry.lastUpdateMs < entry.delayMs ? entry.delayMs : undefined;
  }

  next(key: string, nowMs: number): void {
    const entry = this.entries.get(key);
    const expired = entry === undefined || nowMs - entry.lastUpdateMs > 2 * FAILED_POD_BACKOFF_MAX_MS;
    const delayMs = expired ? FAILED_POD_BACKOFF_INITIAL_MS : Math.min(entry.delayMs * 2, FAILED_POD_BACKOFF_MAX_MS);
    this.entries.set(key, { delayMs, lastUpdateMs: nowMs });
    // Bounded: forget entries long past.
    for (const [other, value] of this.entries) if (nowMs - value.lastUpdateMs > 2 * FAILED_POD_BACKOFF_MAX_MS) this.entries.delete(other);
  }
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class DaemonSetController extends QueueController {
  /** Pod creations awaited from the informer, per DaemonSet key. */
  readonly creations: ControllerExpectations;
  /** Pod deletions awaited from the informer, per DaemonSet key. */
  readonly deletions: ControllerExpectations;
  private readonly backoff = new FailedPodBackoff();
  private readonly daemonSets: Lister<DaemonSet>;
  private readonly pods: Lister<Pod>;
  private readonly nodes: Lister<Node>;
  private readonly revisions: Lister<ControllerRevision>;

  constructor(context: ControllerContext) {
    super(DAEMON_SET_CONTROLLER_NAME, context);
    this.creations = new ControllerExpectations(context.nowMs);
    this.deletions = new ControllerExpectations(context.nowMs);
    const dsInformer = context.informers.daemonSets();
    const podInformer = context.informers.pods();
    const nodeInformer = context.informers.nodes();
    this.daemonSets = dsInformer.lister;
    this.pods = podInformer.lister;
    this.nodes = nodeInformer.lister;
    this.revisions = context.informers.forResource<ControllerRevision>(RESOURCES.controllerRevisions).lister;
    dsInformer.addEventHandler({
      onAdd: (ds) => this.enqueue(ds),
      onUpdate: (_old, ds) => this.enqueue(ds),
      onDelete: (object) => {
        const ds = deletedObject(object);
        this.creations.delete(objectKey(ds));
        this.deletions.delete(objectKey(ds));
        this.enqueue(ds);
      },
    });
    podInformer.addEventHandler(
      ownedPodEventHandler<DaemonSet>({
        resolve: (namespace, ref) => resolveControllerRef(this.daemonSets, namespace, ref, DAEMON_SET_KIND),
        matching: (pod) => this.daemonSets.namespace(pod.metadata?.namespace ?? '').list().filter((ds) => selectorMatchesPod(ds.spec?.selector, pod)),
        creations: this.creations,
        deletions: this.deletions,
        minReadySeconds: (ds) => ds.spec?.minReadySeconds ?? 0,
        enqueue: (ds) => this.enqueue(ds),
        enqueueAfter: (ds, delayMs) => this.enqueueAfter(ds, delayMs),
      }),
    );
    nodeInformer.addEventHandler({
      onAdd: (node) => {
        for (const ds of this.daemonSets.list()) if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.enqueue(ds);
      },
      onUpdate: (old, node) => this.nodeUpdated(old, node),
      onDelete: () => {
        for (const ds of this.daemonSets.list()) this.enqueue(ds);
      },
    });
  }

  satisfied(key: string): boolean {
    return this.creations.satisfied(key) && this.deletions.satisfied(key);
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const cached = this.daemonSets.get(namespace, name);
    if (cached === undefined) {
      this.creations.delete(key);
      this.deletions.delete(key);
      return;
    }
    const ds = deepCopy(cached);
    let selector;
    try {
      selector = labelSelectorAsSelector(ds.spec?.selector);
    } catch (error) {
      this.logger.warn('invalid selector', { controller: this.name, daemonSet: key, error: errorText(error) });
      return;
    }
    if (selector.empty()) {
      this.context.recorder.record(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // Nothing to do for a DaemonSet on its way out: the garbage collector takes its pods.
    if (ds.metadata?.deletionTimestamp !== undefined) return;
    const ownerCheck = freshOwnerCheck(ds, () => this.client.daemonSets(namespace).get(name));
    const claimOptions = { owner: ds, ownerApiVersion: DAEMON_SET_API_VERSION, ownerKind: DAEMON_SET_KIND, selector, canAdopt: ownerCheck };
    const revisions = await claimObjects(this.revisions.namespace(namespace).list(), {
      ...claimOptions,
      patch: (revisionName, patch) => this.client.controllerRevisions(namespace).patch(revisionName, 'strategic', patch),
    });
    const pods = await claimObjects(this.pods.namespace(namespace).list(), {
      ...claimOptions,
      patch: (podName, patch) => this.client.pods(namespace).patch(podName, 'strategic', patch),
    });
    const nodes = [...this.nodes.list()].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    const podsByNode = groupByNode(pods);
    const { current: currentRevision, old, collisionCount } = await this.constructHistory(ds, revisions, pods);
    const hash = currentRevision.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? currentRevision.metadata?.name ?? '';
    let updateObservedGeneration = false;
    if (this.satisfied(key)) {
      updateObservedGeneration = true;
      await this.manage(ds, nodes, podsByNode, hash);
      if (this.satisfied(key) && ds.spec?.updateStrategy?.type !== 'OnDelete') {
        // Read again: the informer may already show what manage did.
        const current = groupByNode(this.pods.namespace(namespace).list().filter((pod) => isControlledBy(pod, ds)));
        const plan = planRollingUpdate(ds, nodes, current, hash, this.nowMs());
        await this.syncNodes(ds, plan.deletePods, plan.createOnNodes, hash);
      }
      await this.cleanupHistory(ds, old, pods);
    }
    await this.writeStatus(ds, nodes, podsByNode, hash, collisionCount, updateObservedGeneration);
  }

  /**
   * The revision of the current template (created, or renumbered past the
   * others when it is an old one back again) and the others, as upstream
   * constructHistory. Duplicates of the current revision are folded into it.
   */
  private async constructHistory(ds: DaemonSet, claimed: ControllerRevision[], pods: readonly Pod[]): Promise<{ current: ControllerRevision; old: ControllerRevision[]; collisionCount: number }> {
    const namespace = ds.metadata?.namespace ?? '';
    const revisionsClient = this.client.controllerRevisions(namespace);
    const wanted = templatePatch(ds.spec?.template);
    const revisions = sortRevisions(claimed);
    const matching = revisions.filter((revision) => semanticEqual(revision.data ?? {}, wanted));
    const old = revisions.filter((revision) => !matching.includes(revision));
    const nextNumber = old.reduce((highest, revision) => Math.max(highest, revision.revision), 0) + 1;
    let collisionCount = ds.status?.collisionCount ?? 0;
    let current = matching[matching.length - 1];
    if (current === undefined) {
      const created = await createRevision(revisionsClient, { owner: ds, ownerApiVersion: DAEMON_SET_API_VERSION, ownerKind: DAEMON_SET_KIND, template: ds.spec?.template, revision: nextNumber, collisionCount });
      ({ revision: current, collisionCount } = created);
    } else {
      const keptHash = current.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? current.metadata?.name ?? '';
      for (const duplicate of matching.slice(0, -1)) {
        const duplicateHash = duplicate.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? duplicate.metadata?.name ?? '';
        for (const pod of pods) {
          if (pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] !== duplicateHash) continue;
          await this.client.pods(namespace).patch(pod.metadata?.name ?? '', 'strategic', { metadata: { labels: { [CONTROLLER_REVISION_HASH_LABEL]: keptHash }, uid: pod.metadata?.uid } });
        }
        await revisionsClient.delete(duplicate.metadata?.name ?? '').catch((error: unknown) => {
          if (!isNotFound(error)) throw error;
        });
      }
      if (current.revision < nextNumber) current = await revisionsClient.update({ ...deepCopy(current), revision: nextNumber });
    }
    return { current, old, collisionCount };
  }

  /** Creates the missing daemon pods and deletes those that must go (upstream manage + podsShouldBeOnNode). */
  private async manage(ds: DaemonSet, nodes: readonly Node[], podsByNode: ReadonlyMap<string, Pod[]>, hash: string): Promise<void> {
    const key = objectKey(ds);
    const now = this.nowMs();
    const nodesNeedingPods: string[] = [];
    const toDelete: Pod[] = [];
    const surge = allowsSurge(ds);
    for (const node of nodes) {
      const nodeName = node.metadata?.name ?? '';
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const daemonPods = podsByNode.get(nodeName) ?? [];
      if (shouldRun && daemonPods.length === 0) {
        nodesNeedingPods.push(nodeName);
      } else if (shouldContinueRunning) {
        const running: Pod[] = [];
        for (const pod of daemonPods) {
          if (pod.metadata?.deletionTimestamp !== undefined) continue;
          const phase = pod.status?.phase;
          if (phase === 'Failed') {
            // The kubelet may keep rejecting the pod: replace it no faster than the back-off allows.
            const backoffKey = `${key}/${nodeName}`;
            const delayMs = this.backoff.inBackoff(backoffKey, now);
            if (delayMs !== undefined) {
              this.enqueueAfter(ds, delayMs);
              continue;
            }
            this.backoff.next(backoffKey, now);
            this.context.recorder.record(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${objectKey(pod)} on node ${nodeName}, will try to kill it`);
            toDelete.push(pod);
          } else if (phase === 'Succeeded') {
            toDelete.push(pod);
          } else {
            running.push(pod);
          }
        }
        running.sort(compareOldestScheduledFirst);
        if (!surge) {
          // One pod per node: the oldest stays.
          toDelete.push(...running.slice(1));
        } else if (running.length > 1) {
          // Surging: at most the oldest new and the oldest old pod; the old one goes once not ready or once the new one is available.
          const oldestNew = running.find((pod) => isPodUpdated(ds, pod, hash));
          const oldestOld = running.find((pod) => !isPodUpdated(ds, pod, hash));
          toDelete.push(...running.filter((pod) => pod !== oldestNew && pod !== oldestOld));
          if (oldestNew !== undefined && oldestOld !== undefined && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec?.minReadySeconds ?? 0, now))) toDelete.push(oldestOld);
        }
      } else {
        toDelete.push(...daemonPods.filter((pod) => pod.metadata?.deletionTimestamp === undefined));
      }
    }
    // Unscheduled pods meant for nodes that are gone (bound ones are the pod garbage collector's).
    const known = new Set(nodes.map((node) => node.metadata?.name ?? ''));
    for (const [nodeName, daemonPods] of podsByNode) {
      if (known.has(nodeName)) continue;
      toDelete.push(...daemonPods.filter((pod) => !pod.spec?.nodeName && pod.metadata?.deletionTimestamp === undefined));
    }
    await this.syncNodes(ds, toDelete, nodesNeedingPods, hash);
  }

  /** Creates a pod on each node (slow start) and deletes the pods, raising expectations first (upstream syncNodes). */
  private async syncNodes(ds: DaemonSet, toDelete: readonly Pod[], nodeNames: readonly string[], hash: string): Promise<void> {
    const key = objectKey(ds);
    const namespace = ds.metadata?.namespace ?? '';
    const creating = nodeNames.slice(0, DAEMON_SET_BURST_REPLICAS);
    const deleting = toDelete.slice(0, DAEMON_SET_BURST_REPLICAS);
    if (creating.length === 0 && deleting.length === 0) return;
    this.creations.expectCreations(key, creating.length);
    this.deletions.expectDeletions(key, deleting.map(objectKey));
    this.logger.info('syncing daemon pods', { controller: this.name, daemonSet: key, creatingOn: creating, deleting: deleting.map((pod) => pod.metadata?.name) });
    let next = 0;
    const { successes, error: createError } = await slowStartBatch(creating.length, 1, async () => {
      const nodeName = creating[next] ?? '';
      next += 1;
      try {
        const created = await this.client.pods(namespace).create(newDaemonPod(ds, nodeName, hash));
        this.context.recorder.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata?.name ?? ''}`);
      } catch (error) {
        this.context.recorder.record(ds, 'Warning', 'FailedCreate', `Error creating: ${errorText(error)}`);
        throw error;
      }
    });
    // Creations that failed or were never tried will not be observed.
    for (let skipped = creating.length - successes; skipped > 0; skipped -= 1) this.creations.creationObserved(key);
    const results = await Promise.allSettled(
      deleting.map(async (pod) => {
        const podName = pod.metadata?.name ?? '';
        try {
          await this.client.pods(namespace).delete(podName);
          this.context.recorder.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${podName}`);
        } catch (error) {
          this.deletions.deletionObserved(key, objectKey(pod));
          if (isNotFound(error)) return;
          this.context.recorder.record(ds, 'Warning', 'FailedDelete', `Error deleting: ${errorText(error)}`);
          throw error;
        }
      }),
    );
    if (createError !== undefined) throw createError;
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** Deletes the oldest revisions beyond revisionHistoryLimit whose hash no pod carries. */
  private async cleanupHistory(ds: DaemonSet, old: readonly ControllerRevision[], pods: readonly Pod[]): Promise<void> {
    let toKill = old.length - (ds.spec?.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const liveHashes = new Set(pods.map((pod) => pod.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '').filter((hash) => hash !== ''));
    for (const revision of sortRevisions(old)) {
      if (toKill <= 0) break;
      if (liveHashes.has(revision.metadata?.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? revision.metadata?.name ?? '')) continue;
      try {
        await this.client.controllerRevisions(ds.metadata?.namespace ?? '').delete(revision.metadata?.name ?? '');
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
      toKill -= 1;
    }
  }

  private async writeStatus(ds: DaemonSet, nodes: readonly Node[], podsByNode: ReadonlyMap<string, Pod[]>, hash: string, collisionCount: number, updateObservedGeneration: boolean): Promise<void> {
    const now = this.nowMs();
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    const counts = { desired: 0, current: 0, misscheduled: 0, ready: 0, available: 0, updated: 0 };
    for (const node of nodes) {
      const daemonPods = [...(podsByNode.get(node.metadata?.name ?? '') ?? [])].sort(compareOldestScheduledFirst);
      const oldest = daemonPods[0];
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) {
        if (oldest !== undefined) counts.misscheduled += 1;
        continue;
      }
      counts.desired += 1;
      if (oldest === undefined) continue;
      counts.current += 1;
      if (isPodReady(oldest)) {
        counts.ready += 1;
        if (isPodAvailable(oldest, minReadySeconds, now)) counts.available += 1;
      }
      if (isPodUpdated(ds, oldest, hash)) counts.updated += 1;
    }
    const status: DaemonSetStatus = {
      ...deepCopy(ds.status ?? { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 }),
      currentNumberScheduled: counts.current,
      numberMisscheduled: counts.misscheduled,
      desiredNumberScheduled: counts.desired,
      numberReady: counts.ready,
      updatedNumberScheduled: counts.updated,
      numberAvailable: counts.available,
      numberUnavailable: counts.desired - counts.available,
    };
    if (updateObservedGeneration) status.observedGeneration = ds.metadata?.generation ?? 0;
    if (collisionCount !== (ds.status?.collisionCount ?? 0)) status.collisionCount = collisionCount;
    // Ready pods turn available minReadySeconds later, an event nobody sends: look again then.
    if (minReadySeconds > 0 && counts.ready !== counts.available) this.enqueueAfter(ds, minReadySeconds * 1000);
    if (jsonEqual(ds.status ?? {}, status)) return;
    const daemonSets = this.client.daemonSets(ds.metadata?.namespace ?? '');
    try {
      await daemonSets.updateStatus({ ...ds, status });
    } catch (error) {
      if (isNotFound(error)) return;
      const fresh = await daemonSets.get(ds.metadata?.name ?? '');
      if (fresh.metadata?.uid !== ds.metadata?.uid) return;
      await daemonSets.updateStatus({ ...fresh, status });
    }
  }

  /** A node update matters to a DaemonSet when it changes whether its pod should run or stay there. */
  private nodeUpdated(old: Node, node: Node): void {
    if (old.metadata?.resourceVersion === node.metadata?.resourceVersion) return;
    const conditionStatuses = (n: Node): string => (n.status?.conditions ?? []).map((condition) => `${condition.type}=${condition.status}`).sort().join(',');
    const unchanged =
      jsonEqual(old.metadata?.labels ?? {}, node.metadata?.labels ?? {}) &&
      jsonEqual(old.spec?.taints ?? [], node.spec?.taints ?? []) &&
      (old.spec?.unschedulable ?? false) === (node.spec?.unschedulable ?? false) &&
      conditionStatuses(old) === conditionStatuses(node);
    if (unchanged) return;
    for (const ds of this.daemonSets.list()) {
      if (!jsonEqual(nodeShouldRunDaemonPod(old, ds), nodeShouldRunDaemonPod(node, ds))) this.enqueue(ds);
    }
  }
}

/** The DaemonSet's pods by the node they are for; finished pods already being deleted are left out (upstream getNodesToDaemonPods). */
function groupByNode(pods: readonly Pod[]): Map<string, Pod[]> {
  const byNode = new Map<string, Pod[]>();
  for (const pod of pods) {
    if (isPodTerminal(pod) && pod.metadata?.deletionTimestamp !== undefined) continue;
    const nodeName = targetNodeName(pod) ?? '';
    const list = byNode.get(nodeName) ?? [];
    list.push(pod);
    byNode.set(nodeName, list);
  }
  return byNode;
}
