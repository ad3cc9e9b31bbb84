// The Deployment controller: owns ReplicaSets named <deployment>-<pod-template-hash>
// and rolls pods from the old template to the new one (see rollout.ts), as
// upstream's deployment_controller.go. Handlers map ReplicaSet and pod events
// to the owning Deployment's key; sync(key) claims the ReplicaSets its
// selector matches and runs one Rollout.
import { controllerOf, deepCopy, labelSelectorAsSelector, type Deployment, type OwnerReference, type Pod, type ReplicaSet } from '@kube-lite/api';
import { splitObjectKey, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { claimObjects, freshOwnerCheck, resolveControllerRef } from '../../controller-utils';
import { Rollout } from './rollout';

export const DEPLOYMENT_CONTROLLER_NAME = 'deployment';

export class DeploymentController extends QueueController {
  private readonly deployments: Lister<Deployment>;
  private readonly replicaSets: Lister<ReplicaSet>;
  private readonly pods: Lister<Pod>;

  constructor(context: ControllerContext) {
    super(DEPLOYMENT_CONTROLLER_NAME, context);
    const deploymentInformer = context.informers.deployments();
    const rsInformer = context.informers.replicaSets();
    const podInformer = context.informers.pods();
    this.deployments = deploymentInformer.lister;
    this.replicaSets = rsInformer.lister;
    this.pods = podInformer.lister;
    deploymentInformer.addEventHandler({
      onAdd: (d) => this.enqueue(d),
      onUpdate: (_old, d) => this.enqueue(d),
      onDelete: (object) => this.enqueue(deletedObject(object)),
    });
    rsInformer.addEventHandler({
      onAdd: (rs) => this.replicaSetChanged(rs),
      onUpdate: (old, rs) => {
        if (old.metadata?.resourceVersion === rs.metadata?.resourceVersion) return;
        const oldOwner = this.resolve(old.metadata?.namespace ?? '', controllerOf(old));
        if (oldOwner !== undefined && controllerOf(rs)?.uid !== oldOwner.metadata?.uid) this.enqueue(oldOwner);
        this.replicaSetChanged(rs);
      },
      onDelete: (object) => {
        const rs = deletedObject(object);
        const owner = this.resolve(rs.metadata?.namespace ?? '', controllerOf(rs));
        if (owner !== undefined) this.enqueue(owner);
      },
    });
    // Recreate waits for the old pods to be gone; their deletions are what it waits on.
    podInformer.addEventHandler({
      onDelete: (object) => {
        const pod = deletedObject(object);
        const namespace = pod.metadata?.namespace ?? '';
        const rsRef = controllerOf(pod);
        if (rsRef?.kind !== 'ReplicaSet') return;
        const rs = this.replicaSets.get(namespace, rsRef.name);
        const d = rs === undefined ? undefined : this.resolve(namespace, controllerOf(rs));
        if (d !== undefined && d.spec?.strategy?.type === 'Recreate') this.enqueue(d);
      },
    });
  }

  async sync(key: string): Promise<void> {
    const { namespace = '', name } = splitObjectKey(key);
    const cached = this.deployments.get(namespace, name);
    if (cached === undefined) return;
    const d = deepCopy(cached);
    const selector = labelSelectorAsSelector(d.spec?.selector);
    if (selector.empty()) {
      // An empty selector would adopt every pod in the namespace: refuse, as upstream.
      this.context.recorder.record(d, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((d.metadata?.generation ?? 0) > (d.status?.observedGeneration ?? 0)) {
        await this.client.deployments(namespace).updateStatus({ ...d, status: { ...(d.status ?? {}), observedGeneration: d.metadata?.generation ?? 0 } });
      }
      return;
    }
    const replicaSets = await claimObjects(this.replicaSets.namespace(namespace).list(), {
      owner: d,
      ownerApiVersion: 'apps/v1',
      ownerKind: 'Deployment',
      selector,
      canAdopt: freshOwnerCheck(d, () => this.client.deployments(namespace).get(name)),
      patch: (rsName, patch) => this.client.replicaSets(namespace).patch(rsName, 'strategic', patch),
    });
    const podsByReplicaSetUid = new Map<string, Pod[]>(replicaSets.map((rs) => [rs.metadata?.uid ?? '', []]));
    for (const pod of this.pods.namespace(namespace).list(selector)) {
      const owner = controllerOf(pod);
      if (owner !== undefined) podsByReplicaSetUid.get(owner.uid)?.push(pod);
    }
    const rollout = new Rollout(
      {
        client: this.client,
        recorder: this.context.recorder,
        logger: this.logger,
        nowMs: this.nowMs,
        replicaSetLister: this.replicaSets,
        requeueAfter: (deployment, delayMs) => this.enqueueAfter(deployment, delayMs),
      },
      d,
      replicaSets.map((rs) => deepCopy(rs)),
      podsByReplicaSetUid,
    );
    await rollout.run();
  }

  private resolve(namespace: string, ref: OwnerReference | undefined): Deployment | undefined {
    return resolveControllerRef(this.deployments, namespace, ref, 'Deployment');
  }

  private replicaSetChanged(rs: ReplicaSet): void {
    const namespace = rs.metadata?.namespace ?? '';
    const ref = controllerOf(rs);
    if (ref !== undefined) {
      const d = this.resolve(namespace, ref);
      if (d !== undefined) this.enqueue(d);
      return;
    }
    // An orphan: the Deployments that would adopt it.
    for (const d of this.deployments.namespace(namespace).list()) {
      try {
        const selector = labelSelectorAsSelector(d.spec?.selector);
        if (!selector.empty() && selector.matches(rs.metadata?.labels)) this.enqueue(d);
      } catch {
        // An invalid selector matches nothing.
      }
    }
  }
}
