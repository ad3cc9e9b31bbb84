// The persistentvolume-binder (upstream's PersistentVolume controller, with
// rancher's local-path provisioner built in). Claims and volumes are synced
// level-triggered from one queue whose keys say which they are:
//   claim:<namespace>/<name>  binds an unbound claim to the best Available
//                             volume, or provisions one, and completes
//                             half-done bindings;
//   volume:<name>             keeps the volume's phase right and reclaims it
//                             (Delete or Retain) once its claim is gone;
//   storageclass:local-path   creates the built-in class at start if absent.
// Every write is conditional on the resourceVersion read, so two syncs racing
// for one volume cannot both bind it; the loser retries from fresh state.
import {
  BIND_COMPLETED_ANNOTATION,
  BOUND_BY_CONTROLLER_ANNOTATION,
  claimHasNoStorageClass,
  claimStorageClassName,
  deepCopy,
  HOSTNAME_LABEL,
  isDefaultStorageClass,
  jsonEqual,
  LOCAL_PATH_PROVISIONER,
  NO_PROVISIONER,
  pickDefaultStorageClass,
  PROVISIONED_BY_ANNOTATION,
  SELECTED_NODE_ANNOTATION,
  STORAGE_PROVISIONER_ANNOTATION,
  volumeBindingModeOf,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type StorageClass,
} from '@kube-lite/api';
import { isAlreadyExists, isNotFound, RESOURCES, type Lister } from '@kube-lite/client';
import { deletedObject, QueueController, type ControllerContext } from '../../controller';
import { LOCAL_PATH_CLASS_NAME, localPathStorageClass, localPathUnsupported, provisionedVolume } from './local-path';
import { claimRefMatches, findBestVolume, volumeMismatch } from './matching';

export const PERSISTENT_VOLUME_BINDER_CONTROLLER_NAME = 'persistentvolume-binder';

const CLAIM_PREFIX = 'claim:';
const VOLUME_PREFIX = 'volume:';
const STORAGE_CLASS_PREFIX = 'storageclass:';

/** The queue key of a claim. */
export function claimKey(namespace: string, name: string): string {
  return `${CLAIM_PREFIX}${namespace}/${name}`;
}

/** The queue key of a volume. */
export function volumeKey(name: string): string {
  return `${VOLUME_PREFIX}${name}`;
}

/** The queue key that makes sure the built-in local-path class exists. */
export const LOCAL_PATH_CLASS_KEY = `${STORAGE_CLASS_PREFIX}${LOCAL_PATH_CLASS_NAME}`;

/** A sync key that is none of claim:, volume: or storageclass: (a bug in whoever queued it). */
export class UnknownVolumeKeyError extends Error {
  override readonly name = 'UnknownVolumeKeyError';
  constructor(readonly key: string) {
    super(`persistentvolume-binder: unknown queue key "${key}"`);
  }
}

type Phase<T extends PersistentVolume | PersistentVolumeClaim> = NonNullable<NonNullable<T['status']>['phase']>;

export class PersistentVolumeBinderController extends QueueController {
  private readonly claims: Lister<PersistentVolumeClaim>;
  private readonly volumes: Lister<PersistentVolume>;
  private readonly classes: Lister<StorageClass>;
  private readonly nodes: Lister<Node>;

  constructor(context: ControllerContext) {
    super(PERSISTENT_VOLUME_BINDER_CONTROLLER_NAME, context);
    const claimInformer = context.informers.forResource<PersistentVolumeClaim>(RESOURCES.persistentVolumeClaims);
    const volumeInformer = context.informers.forResource<PersistentVolume>(RESOURCES.persistentVolumes);
    const classInformer = context.informers.forResource<StorageClass>(RESOURCES.storageClasses);
    const nodeInformer = context.informers.nodes();
    this.claims = claimInformer.lister;
    this.volumes = volumeInformer.lister;
    this.classes = classInformer.lister;
    this.nodes = nodeInformer.lister;
    claimInformer.addEventHandler({
      onAdd: (claim) => this.enqueueClaim(claim),
      onUpdate: (_old, claim) => this.enqueueClaim(claim),
      onDelete: (object) => {
        const claim = deletedObject(object);
        // The volume it held is released now.
        for (const volume of this.volumes.list()) if (claimRefMatches(volume.spec?.claimRef, claim)) this.queue.add(volumeKey(volume.metadata?.name ?? ''));
      },
    });
    volumeInformer.addEventHandler({
      onAdd: (volume) => this.enqueueVolume(volume),
      onUpdate: (_old, volume) => this.enqueueVolume(volume),
      onDelete: (object) => this.enqueueVolume(deletedObject(object)),
    });
    classInformer.addEventHandler({
      // A new class may be what a waiting claim needs (its provisioner, or the default class).
      onAdd: () => {
        for (const claim of this.claims.list()) if (!claim.spec?.volumeName) this.enqueueClaim(claim);
      },
    });
  }

  override run(workers: number): Promise<void> {
    this.queue.add(LOCAL_PATH_CLASS_KEY);
    return super.run(workers);
  }

  async sync(key: string): Promise<void> {
    if (key.startsWith(CLAIM_PREFIX)) {
      const rest = key.slice(CLAIM_PREFIX.length);
      const slash = rest.indexOf('/');
      return this.syncClaim(rest.slice(0, slash), rest.slice(slash + 1));
    }
    if (key.startsWith(VOLUME_PREFIX)) return this.syncVolume(key.slice(VOLUME_PREFIX.length));
    if (key === LOCAL_PATH_CLASS_KEY) return this.ensureLocalPathClass();
    throw new UnknownVolumeKeyError(key);
  }

  private enqueueClaim(claim: PersistentVolumeClaim): void {
    this.queue.add(claimKey(claim.metadata?.namespace ?? '', claim.metadata?.name ?? ''));
  }

  private enqueueVolume(volume: PersistentVolume): void {
    this.queue.add(volumeKey(volume.metadata?.name ?? ''));
    const claimRef = volume.spec?.claimRef;
    // A volume promised to a claim lets that claim finish binding.
    if (claimRef?.name) this.queue.add(claimKey(claimRef.namespace ?? '', claimRef.name));
  }

  // ---- the built-in class ----

  /**
   * Creates the local-path class when no class of that name exists; it is
   * made the default only if no other class already is, so an operator's
   * default is never contested. A deleted class comes back at the next start only.
   */
  private async ensureLocalPathClass(): Promise<void> {
    const classes = this.client.resource<StorageClass>(RESOURCES.storageClasses);
    try {
      await classes.get(LOCAL_PATH_CLASS_NAME);
      return;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    const existing = (await classes.list()).items;
    const makeDefault = !existing.some(isDefaultStorageClass);
    try {
      await classes.create(localPathStorageClass(makeDefault));
      this.logger.info('created the local-path storage class', { controller: this.name, default: makeDefault, provisioner: LOCAL_PATH_PROVISIONER });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
  }

  // ---- claims ----

  private async syncClaim(namespace: string, name: string): Promise<void> {
    const cached = this.claims.get(namespace, name);
    if (cached === undefined) return;
    const claim = deepCopy(cached);
    if (!claim.spec?.volumeName) return this.syncUnboundClaim(claim);
    return this.syncBoundClaim(claim, claim.spec.volumeName);
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (claim.metadata?.deletionTimestamp) return; // nothing to bind or provision for a claim on its way out
    // Upstream's DefaultStorageClass admission, done retroactively as its PV controller also does.
    if (claimHasNoStorageClass(claim)) {
      const fallback = pickDefaultStorageClass(this.classes.list());
      if (fallback !== undefined) {
        claim.spec = { ...claim.spec, storageClassName: fallback.metadata?.name ?? '' };
        await this.client.persistentVolumeClaims(claim.metadata?.namespace).update(claim);
        return; // the update comes back as an event and syncs the claim again
      }
    }
    const className = claimStorageClassName(claim);
    const storageClass = className === '' ? undefined : this.classes.get(undefined, className);
    const waitsForConsumer = volumeBindingModeOf(storageClass) === 'WaitForFirstConsumer';
    const selectedNode = claim.metadata?.annotations?.[SELECTED_NODE_ANNOTATION];
    if (waitsForConsumer && !selectedNode) {
      this.context.recorder.record(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    const node = waitsForConsumer && selectedNode ? this.nodeNamed(selectedNode) : undefined;
    const match = findBestVolume(claim, this.volumes.list(), node);
    if (match !== undefined) return this.bind(deepCopy(match), claim);

    if (className === '') {
      this.context.recorder.record(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (storageClass === undefined) {
      this.context.recorder.record(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      return;
    }
    if (storageClass.provisioner !== LOCAL_PATH_PROVISIONER) {
      // Someone else's provisioner, or volumes made by hand: announce whom the claim waits for.
      if (storageClass.provisioner !== NO_PROVISIONER) await this.annotateProvisioner(claim, storageClass.provisioner);
      this.context.recorder.record(
        claim,
        'Normal',
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${storageClass.provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
      return;
    }
    if (node === undefined) {
      // A directory lives on one node; without a consumer there is no node to put it on (rancher refuses too).
      this.context.recorder.record(
        claim,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${className}": configuration error, no node was specified: ${LOCAL_PATH_PROVISIONER} needs volumeBindingMode WaitForFirstConsumer`,
      );
      return;
    }
    const unsupported = localPathUnsupported(claim);
    if (unsupported !== undefined) {
      this.context.recorder.record(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${className}": ${unsupported}`);
      return;
    }
    const volume = await this.provision(claim, storageClass, node);
    return this.bind(volume, claim);
  }

  /** The selected node as the informer knows it, or a stand-in carrying the usual hostname label. */
  private nodeNamed(name: string): Node {
    return this.nodes.get(undefined, name) ?? { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { [HOSTNAME_LABEL]: name } } };
  }

  private async annotateProvisioner(claim: PersistentVolumeClaim, provisioner: string): Promise<void> {
    if (claim.metadata?.annotations?.[STORAGE_PROVISIONER_ANNOTATION] === provisioner) return;
    claim.metadata = { ...claim.metadata, annotations: { ...claim.metadata?.annotations, [STORAGE_PROVISIONER_ANNOTATION]: provisioner } };
    const updated = await this.client.persistentVolumeClaims(claim.metadata.namespace).update(claim);
    claim.metadata = updated.metadata;
  }

  /** Creates the claim's volume; a volume of that name made by an earlier attempt is reused. */
  private async provision(claim: PersistentVolumeClaim, storageClass: StorageClass, node: Node): Promise<PersistentVolume> {
    const wanted = provisionedVolume(claim, storageClass, node, this.context.settings.localPathRoot);
    try {
      const volume = await this.client.persistentVolumes().create(wanted);
      this.logger.info('provisioned a local-path volume', { controller: this.name, claim: `${claim.metadata?.namespace}/${claim.metadata?.name}`, volume: volume.metadata?.name, node: node.metadata?.name, path: volume.spec?.local?.path });
      this.context.recorder.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volume.metadata?.name ?? ''} using ${LOCAL_PATH_PROVISIONER}`);
      return volume;
    } catch (error) {
      if (isAlreadyExists(error)) return this.client.persistentVolumes().get(wanted.metadata?.name ?? '');
      this.context.recorder.record(claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${claimStorageClassName(claim)}": ${error instanceof Error ? error.message : String(error)}`);
      throw error;
    }
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim, volumeName: string): Promise<void> {
    const volume = await this.freshVolume(volumeName);
    const bindCompleted = claim.metadata?.annotations?.[BIND_COMPLETED_ANNOTATION] !== undefined;
    if (volume === undefined) {
      if (!bindCompleted) return; // the user named a volume that does not exist yet: wait for it
      if (claim.status?.phase !== 'Lost') {
        await this.setClaimPhase(claim, 'Lost');
        this.context.recorder.record(claim, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      }
      return;
    }
    const claimRef = volume.spec?.claimRef;
    if (claimRef === undefined) {
      // The user pre-bound the claim to a free volume: bind it if it fits.
      const mismatch = volumeMismatch(volume, claim);
      if (mismatch !== undefined) {
        this.context.recorder.record(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${volumeName}": ${mismatch}`);
        return;
      }
      return this.bind(volume, claim);
    }
    if (claimRefMatches(claimRef, claim)) return this.bind(volume, claim);
    if (bindCompleted) {
      if (claim.status?.phase !== 'Lost') {
        await this.setClaimPhase(claim, 'Lost');
        this.context.recorder.record(claim, 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
      }
      return;
    }
    this.context.recorder.record(claim, 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`);
  }

  /**
   * Completes whatever part of a binding is missing, in upstream's order:
   * volume claimRef, volume phase, claim volumeName, claim phase. A crash
   * between steps leaves a state the next sync of either object finishes.
   */
  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = volume.metadata?.name ?? '';
    const namespace = claim.metadata?.namespace ?? '';
    const volumes = this.client.persistentVolumes();
    const claims = this.client.persistentVolumeClaims(namespace);
    const wantedRef = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace, name: claim.metadata?.name ?? '', uid: claim.metadata?.uid ?? '', resourceVersion: claim.metadata?.resourceVersion ?? '' };
    const currentRef = volume.spec?.claimRef;
    if (currentRef?.uid !== wantedRef.uid || currentRef.name !== wantedRef.name || (currentRef.namespace ?? '') !== namespace) {
      volume.spec = { ...volume.spec, claimRef: wantedRef };
      volume.metadata = { ...volume.metadata, annotations: { ...volume.metadata?.annotations, [BOUND_BY_CONTROLLER_ANNOTATION]: 'yes' } };
      volume = await volumes.update(volume);
    }
    if (volume.status?.phase !== 'Bound') volume = await volumes.updateStatus({ ...volume, status: { ...volume.status, phase: 'Bound' } });

    const annotations: Record<string, string> = { ...claim.metadata?.annotations, [BIND_COMPLETED_ANNOTATION]: 'yes' };
    if (claim.spec?.volumeName !== volumeName) annotations[BOUND_BY_CONTROLLER_ANNOTATION] = 'yes';
    // Provisioned claims record who made their volume (upstream sets this before provisioning).
    const provisioner = volume.metadata?.annotations?.[PROVISIONED_BY_ANNOTATION];
    if (provisioner !== undefined && annotations[STORAGE_PROVISIONER_ANNOTATION] === undefined) annotations[STORAGE_PROVISIONER_ANNOTATION] = provisioner;
    if (claim.spec?.volumeName !== volumeName || !jsonEqual(annotations, claim.metadata?.annotations ?? {})) {
      claim = await claims.update({ ...claim, metadata: { ...claim.metadata, annotations }, spec: { ...claim.spec, volumeName } });
    }
    const status = { ...claim.status, phase: 'Bound' as const, accessModes: [...(volume.spec?.accessModes ?? [])], capacity: { ...volume.spec?.capacity } };
    if (!jsonEqual(status, claim.status ?? {})) {
      await claims.updateStatus({ ...claim, status });
      this.logger.info('bound claim to volume', { controller: this.name, claim: `${namespace}/${claim.metadata?.name}`, volume: volumeName });
    }
  }

  private async setClaimPhase(claim: PersistentVolumeClaim, phase: Phase<PersistentVolumeClaim>): Promise<void> {
    await this.client.persistentVolumeClaims(claim.metadata?.namespace).updateStatus({ ...claim, status: { ...claim.status, phase } });
  }

  // ---- volumes ----

  private async syncVolume(name: string): Promise<void> {
    const cached = this.volumes.get(undefined, name);
    if (cached === undefined || cached.metadata?.deletionTimestamp) return;
    const volume = deepCopy(cached);
    const claimRef = volume.spec?.claimRef;
    if (claimRef === undefined || !claimRef.uid) {
      // Free, or promised by the user to a claim that has not bound yet.
      await this.setVolumePhase(volume, 'Available');
      return;
    }
    const claim = await this.freshClaim(claimRef.namespace ?? '', claimRef.name ?? '', claimRef.uid);
    if (claim === undefined) return this.reclaim(volume);
    const claimVolume = claim.spec?.volumeName ?? '';
    if (claimVolume === '') {
      // Half-bound: the claim sync finishes it.
      this.queue.add(claimKey(claimRef.namespace ?? '', claimRef.name ?? ''));
      return;
    }
    if (claimVolume === name) {
      await this.setVolumePhase(volume, 'Bound');
      return;
    }
    // The claim went to another volume: free this one if we promised it, as upstream.
    if (volume.metadata?.annotations?.[BOUND_BY_CONTROLLER_ANNOTATION] === 'yes' && volume.metadata.annotations[PROVISIONED_BY_ANNOTATION] === undefined) {
      const annotations = { ...volume.metadata.annotations };
      delete annotations[BOUND_BY_CONTROLLER_ANNOTATION];
      const spec = { ...volume.spec };
      delete spec.claimRef;
      const updated = await this.client.persistentVolumes().update({ ...volume, metadata: { ...volume.metadata, annotations }, spec });
      await this.setVolumePhase(updated, 'Available');
      return;
    }
    if (volume.metadata?.annotations?.[PROVISIONED_BY_ANNOTATION] !== undefined) return this.reclaim(volume);
    await this.setVolumePhase(volume, 'Available');
  }

  /**
   * The claim is gone: Retain keeps the volume Released for an operator,
   * Delete removes volumes this provisioner made. The directory itself stays
   * on the node; removing data is left to the node's operator.
   */
  private async reclaim(volume: PersistentVolume): Promise<void> {
    const name = volume.metadata?.name ?? '';
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (volume.status?.phase === 'Failed') return;
    if (volume.status?.phase !== 'Released') volume = await this.setVolumePhase(volume, 'Released');
    if (policy === 'Retain') return;
    if (policy === 'Recycle') {
      await this.setVolumePhase(volume, 'Failed', 'recycling is not supported by kube-lite; delete the volume and create a new one');
      this.context.recorder.record(volume, 'Warning', 'VolumeFailedRecycle', 'recycling is not supported by kube-lite; delete the volume and create a new one');
      return;
    }
    if (volume.metadata?.annotations?.[PROVISIONED_BY_ANNOTATION] !== LOCAL_PATH_PROVISIONER) {
      const message = `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`;
      await this.setVolumePhase(volume, 'Failed', message);
      this.context.recorder.record(volume, 'Warning', 'VolumeFailedDelete', message);
      return;
    }
    try {
      await this.client.persistentVolumes().delete(name);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    this.logger.info('deleted released volume; its directory is left on the node', { controller: this.name, volume: name, path: volume.spec?.local?.path ?? volume.spec?.hostPath?.path });
  }

  private async setVolumePhase(volume: PersistentVolume, phase: Phase<PersistentVolume>, message?: string): Promise<PersistentVolume> {
    if (volume.status?.phase === phase && volume.status.message === message) return volume;
    const status: NonNullable<PersistentVolume['status']> = { ...volume.status, phase };
    if (message === undefined) delete status.message;
    else status.message = message;
    return this.client.persistentVolumes().updateStatus({ ...volume, status });
  }

  // ---- reads that must not trust a lagging cache ----

  /** The volume from the cache, or from the API server when the cache has not seen it (one we just created). */
  private async freshVolume(name: string): Promise<PersistentVolume | undefined> {
    const cached = this.volumes.get(undefined, name);
    if (cached !== undefined) return deepCopy(cached);
    try {
      return await this.client.persistentVolumes().get(name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The claim with this uid, asking the API server before concluding it is gone (upstream does the same). */
  private async freshClaim(namespace: string, name: string, uid: string): Promise<PersistentVolumeClaim | undefined> {
    const cached = this.claims.get(namespace, name);
    if (cached?.metadata?.uid === uid) return cached;
    try {
      const live = await this.client.persistentVolumeClaims(namespace).get(name);
      return live.metadata?.uid === uid ? live : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}

