// The StatefulSet controller, as upstream's statefulset package: pods with a
// stable name, hostname and storage per ordinal, created in order and
// replaced under the same name, rolled to a new template through
// ControllerRevisions (see update.ts for one pass over the pods). sync(key)
// claims the set's pods and revisions, settles the current and update
// revisions, runs the pass, writes status on change and trims the history.
import {
  controllerOf,
  deepCopy,
  isPodReady,
  jsonEqual,
  labelSelectorAsSelector,
  type ControllerRevision,
  type OwnerReference,
  type PersistentVolumeClaim,
  type Pod,
  type StatefulSet,
  type StatefulSetStatus,
} from '@kube-lite/api';
import { isNotFound, objectKey, RESOURCES, splitObjectKey, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { claimObjects, freshOwnerCheck, resolveControllerRef } from '../../controller-utils';
import { createRevision, newRevision, nextRevisionNumber, revisionDataEqual, revisionsBeyondLimit, sortRevisions } from '../../controller-utils/history';
import { isMemberOf, podRevision, selectorMatches, STATEFUL_SET_API_VERSION, STATEFUL_SET_KIND } from './identity';
import { PendingPodWrites } from './pending';
import { StatefulSetUpdate } from './update';

export const STATEFUL_SET_CONTROLLER_NAME = 'statefulset';

export class StatefulSetController extends QueueController {
  readonly pending: PendingPodWrites;
  private readonly sets: Lister<StatefulSet>;
  private readonly pods: Lister<Pod>;
  private readonly revisions: Lister<ControllerRevision>;
  private readonly claims: Lister<PersistentVolumeClaim>;

  constructor(context: ControllerContext) {
    super(STATEFUL_SET_CONTROLLER_NAME, context);
    this.pending = new PendingPodWrites(context.nowMs);
    const setInformer = context.informers.statefulSets();
    const podInformer = context.informers.pods();
    this.sets = setInformer.lister;
    this.pods = podInformer.lister;
    this.revisions = context.informers.forResource<ControllerRevision>(RESOURCES.controllerRevisions).lister;
    this.claims = context.informers.forResource<PersistentVolumeClaim>(RESOURCES.persistentVolumeClaims).lister;
    setInformer.addEventHandler({
      onAdd: (set) => this.enqueue(set),
      onUpdate: (_old, set) => this.enqueue(set),
      onDelete: (object) => {
        const set = deletedObject(object);
        this.pending.forget(objectKey(set));
        this.enqueue(set);
      },
    });
    podInformer.addEventHandler({
      onAdd: (pod) => this.podChanged(pod),
      onUpdate: (old, pod) => this.podUpdated(old, pod),
      onDelete: (object) => this.podChanged(deletedObject(object)),
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const cached = this.sets.get(namespace, name);
    if (cached === undefined) {
      this.pending.forget(key);
      return;
    }
    const set = deepCopy(cached);
    let selector;
    try {
      selector = labelSelectorAsSelector(set.spec?.selector);
    } catch (error) {
      // A selector the API server let through but we cannot read: retrying will not help.
      this.logger.warn('invalid selector', { controller: this.name, statefulSet: key, error: error instanceof Error ? error.message : String(error) });
      return;
    }
    if (selector.empty()) {
      this.context.recorder.record(set, 'Warning', 'SelectingAll', 'This StatefulSet is selecting all pods. A non-empty selector is required.');
      return;
    }
    const ownerCheck = freshOwnerCheck(set, () => this.client.statefulSets(namespace).get(name));
    const claimedRevisions = await claimObjects(this.revisions.namespace(namespace).list(), {
      owner: set,
      ownerApiVersion: STATEFUL_SET_API_VERSION,
      ownerKind: STATEFUL_SET_KIND,
      selector,
      canAdopt: ownerCheck,
      patch: (revisionName, patch) => this.client.controllerRevisions(namespace).patch(revisionName, 'strategic', patch),
    });
    // Only pods whose names make them members may be adopted.
    const candidates = this.pods
      .namespace(namespace)
      .list()
      .filter((pod) => controllerOf(pod) !== undefined || isMemberOf(set, pod));
    const pods = await claimObjects(candidates, {
      owner: set,
      ownerApiVersion: STATEFUL_SET_API_VERSION,
      ownerKind: STATEFUL_SET_KIND,
      selector,
      canAdopt: ownerCheck,
      patch: (podName, patch) => this.client.pods(namespace).patch(podName, 'strategic', patch),
    });
    const revisions = sortRevisions(claimedRevisions);
    const { current, update, collisionCount } = await this.settleRevisions(set, revisions);
    const pass = new StatefulSetUpdate(
      { client: this.client, recorder: this.context.recorder, logger: this.logger, nowMs: this.nowMs, claims: this.claims, pending: this.pending },
      set,
      current,
      update,
      collisionCount,
      pods,
    );
    let passError: unknown;
    let status: StatefulSetStatus;
    try {
      status = await pass.run(this.pending.settled(key, pods));
    } catch (error) {
      passError = error;
      status = pass.status;
    }
    await this.writeStatus(set, status);
    await this.truncateHistory(set, revisions, pods, status);
    const minReadySeconds = set.spec?.minReadySeconds ?? 0;
    // Pods turn available minReadySeconds after turning ready, an event nobody sends: look again then.
    if (minReadySeconds > 0 && status.availableReplicas !== status.readyReplicas) this.enqueueAfter(set, minReadySeconds * 1000);
    if (passError !== undefined) throw passError;
  }

  /**
   * The revision pods are at (status.currentRevision) and the one they are
   * rolled to (the template's), creating the latter or renumbering an older
   * equal one (a rollback), as upstream getStatefulSetRevisions.
   */
  private async settleRevisions(set: StatefulSet, revisions: ControllerRevision[]): Promise<{ current: ControllerRevision; update: ControllerRevision; collisionCount: number }> {
    const namespace = set.metadata?.namespace ?? '';
    let collisionCount = set.status?.collisionCount ?? 0;
    const options = { owner: set, ownerApiVersion: STATEFUL_SET_API_VERSION, ownerKind: STATEFUL_SET_KIND, template: set.spec?.template, revision: nextRevisionNumber(revisions), collisionCount };
    const wanted = newRevision(options);
    const equal = revisions.filter((revision) => revisionDataEqual(revision, wanted));
    const latestEqual = equal[equal.length - 1];
    let update: ControllerRevision;
    if (latestEqual !== undefined && latestEqual === revisions[revisions.length - 1]) {
      update = latestEqual;
    } else if (latestEqual !== undefined) {
      update = await this.client.controllerRevisions(namespace).update({ ...deepCopy(latestEqual), revision: options.revision });
    } else {
      ({ revision: update, collisionCount } = await createRevision(this.client.controllerRevisions(namespace), options));
    }
    const current = revisions.find((revision) => revision.metadata?.name === set.status?.currentRevision) ?? update;
    return { current, update, collisionCount };
  }

  /** Writes the status when it changed (retrying once on a conflict with a fresh read). */
  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (jsonEqual(set.status ?? {}, status)) return;
    const statefulSets = this.client.statefulSets(set.metadata?.namespace ?? '');
    try {
      await statefulSets.updateStatus({ ...set, status });
    } catch (error) {
      if (isNotFound(error)) return;
      const fresh = await statefulSets.get(set.metadata?.name ?? '');
      if (fresh.metadata?.uid !== set.metadata?.uid) return;
      await statefulSets.updateStatus({ ...fresh, status });
    }
  }

  /** Deletes the oldest revisions beyond revisionHistoryLimit that neither the status nor any pod uses. */
  private async truncateHistory(set: StatefulSet, revisions: ControllerRevision[], pods: readonly Pod[], status: StatefulSetStatus): Promise<void> {
    const live = new Set<string>([status.currentRevision ?? '', status.updateRevision ?? '', ...pods.map(podRevision)]);
    for (const revision of revisionsBeyondLimit(revisions, live, set.spec?.revisionHistoryLimit ?? 10)) {
      try {
        await this.client.controllerRevisions(set.metadata?.namespace ?? '').delete(revision.metadata?.name ?? '');
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
  }

  // ---- event handlers: map pods to the sets that care ----

  private resolve(namespace: string, ref: OwnerReference | undefined): StatefulSet | undefined {
    return resolveControllerRef(this.sets, namespace, ref, STATEFUL_SET_KIND);
  }

  private podChanged(pod: Pod): void {
    const namespace = pod.metadata?.namespace ?? '';
    const ref = controllerOf(pod);
    if (ref !== undefined) {
      const set = this.resolve(namespace, ref);
      if (set !== undefined) this.enqueue(set);
      return;
    }
    // An orphan: the sets that would adopt it.
    for (const set of this.sets.namespace(namespace).list()) if (isMemberOf(set, pod) && selectorMatches(set, pod)) this.enqueue(set);
  }

  private podUpdated(old: Pod, pod: Pod): void {
    if (old.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    const oldRef = controllerOf(old);
    if (oldRef !== undefined && oldRef.uid !== controllerOf(pod)?.uid) this.podChanged(old);
    this.podChanged(pod);
    const set = this.resolve(pod.metadata?.namespace ?? '', controllerOf(pod));
    const minReadySeconds = set?.spec?.minReadySeconds ?? 0;
    if (set !== undefined && minReadySeconds > 0 && !isPodReady(old) && isPodReady(pod)) this.enqueueAfter(set, minReadySeconds * 1000 + 1000);
  }
}
