// Places pods with PersistentVolumeClaims where their storage can be
// (upstream VolumeBinding). PreFilter sorts the pod's claims: a missing or
// dying claim, or an unbound claim of an Immediate class, rejects the pod
// everywhere; a bound claim's volume must allow the node (its node affinity),
// so a pod with a local volume returns to the node holding its data; an
// unbound WaitForFirstConsumer claim fits any node.
//
// kube-lite's framework has no PreBind point, so the PreBind work runs as the
// first bind plugin and then hands over (Skip) to DefaultBinder: it writes
// volume.kubernetes.io/selected-node on each unbound WaitForFirstConsumer
// claim and waits, up to bindTimeoutSeconds, for the volume binder to bind
// it, so the kubelet never sees the pod before its volumes exist.
import {
  claimHasNoStorageClass,
  claimStorageClassName,
  isClaimBound,
  pickDefaultStorageClass,
  SELECTED_NODE_ANNOTATION,
  volumeBindingModeOf,
  volumeNodeAffinityAllows,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  type StorageClass,
} from '@kube-lite/api';
import {
  ActionType,
  Status,
  UPDATE_ACTIONS,
  type BindPlugin,
  type ClusterEventWithHint,
  type CycleState,
  type EnqueueExtensions,
  type FilterPlugin,
  type FrameworkHandle,
  type MaybeStatus,
  type PreFilterPlugin,
  type VolumeAccess,
} from '../../framework';
import type { NodeInfo, PodInfo } from '../../snapshot';
import { argsObject, PluginArgsError } from '../helpers/args';

export const NAME = 'VolumeBinding';
export const REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
/** Upstream's default: how long binding waits for the volume binder. */
export const DEFAULT_BIND_TIMEOUT_SECONDS = 600;
const POLL_INTERVAL_MS = 100;
const STATE_KEY = `PreFilter${NAME}`;

/** What PreFilter found out about the pod's claims. */
interface PodVolumes {
  /** Volumes of bound claims: each must allow the node. */
  boundVolumes: PersistentVolume[];
  /** Unbound WaitForFirstConsumer claims: bound after the node is chosen. */
  delayedClaims: PersistentVolumeClaim[];
}

export interface VolumeBindingOptions {
  /** How long bind waits for the volume binder before failing the attempt. */
  bindTimeoutMs: number;
  /** How often bind looks at the claims while waiting. */
  pollIntervalMs: number;
}

/** The claim names of the pod's persistentVolumeClaim volumes, in spec order, without repeats. */
export function podClaimNames(pod: Pod): string[] {
  const names: string[] = [];
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (claimName && !names.includes(claimName)) names.push(claimName);
  }
  return names;
}

/** The class a claim gets: the one it names, or the default class when it names none (as the binder will assign). */
function classOfClaim(volumes: VolumeAccess, claim: PersistentVolumeClaim): StorageClass | undefined {
  if (claimHasNoStorageClass(claim)) return pickDefaultStorageClass(volumes.storageClasses());
  const name = claimStorageClassName(claim);
  return name === '' ? undefined : volumes.storageClass(name);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class VolumeBinding implements PreFilterPlugin, FilterPlugin, BindPlugin, EnqueueExtensions {
  readonly name = NAME;

  constructor(
    private readonly volumes: VolumeAccess | undefined,
    private readonly options: VolumeBindingOptions = { bindTimeoutMs: DEFAULT_BIND_TIMEOUT_SECONDS * 1000, pollIntervalMs: POLL_INTERVAL_MS },
  ) {}

  preFilter(state: CycleState, pod: PodInfo): MaybeStatus {
    const claimNames = podClaimNames(pod.pod);
    if (claimNames.length === 0) return Status.skip();
    const result = this.podVolumes(pod.namespace, claimNames);
    if (result instanceof Status) return result;
    state.write(STATE_KEY, result);
    return undefined;
  }

  filter(state: CycleState, pod: PodInfo, node: NodeInfo): MaybeStatus {
    const podVolumes = state.read<PodVolumes>(STATE_KEY);
    if (podVolumes === undefined || !node.node) return undefined;
    for (const volume of podVolumes.boundVolumes) {
      if (!volumeNodeAffinityAllows(volume, node.node)) return Status.unresolvable(REASON_NODE_CONFLICT);
    }
    return undefined;
  }

  /** The PreBind step: point each waiting claim at the node and wait for it to be bound; then Skip to the next binder. */
  async bind(state: CycleState, pod: PodInfo, nodeName: string): Promise<MaybeStatus> {
    const delayed = state.read<PodVolumes>(STATE_KEY)?.delayedClaims ?? [];
    if (delayed.length === 0 || this.volumes === undefined) return Status.skip();
    const volumes = this.volumes;
    try {
      for (const claim of delayed) {
        const namespace = claim.metadata?.namespace ?? pod.namespace;
        const name = claim.metadata?.name ?? '';
        const current = volumes.claim(namespace, name) ?? claim;
        if (isClaimBound(current) || current.metadata?.annotations?.[SELECTED_NODE_ANNOTATION] === nodeName) continue;
        await volumes.selectNode(namespace, name, nodeName);
      }
    } catch (error) {
      return Status.error(new Error(`binding volumes: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
    const deadline = Date.now() + this.options.bindTimeoutMs;
    for (;;) {
      const waiting = delayed.filter((claim) => {
        const current = volumes.claim(claim.metadata?.namespace ?? pod.namespace, claim.metadata?.name ?? '');
        return current === undefined || !isClaimBound(current);
      });
      if (waiting.length === 0) return Status.skip();
      if (Date.now() >= deadline) {
        const names = waiting.map((claim) => `${claim.metadata?.namespace ?? ''}/${claim.metadata?.name ?? ''}`).join(', ');
        return Status.error(new Error(`binding volumes: timed out waiting for PersistentVolumeClaims ${names} to be bound`));
      }
      await sleep(this.options.pollIntervalMs);
    }
  }

  eventsToRegister(): ClusterEventWithHint[] {
    const claimsOfPod = (pod: Pod, object: unknown): 'Queue' | 'QueueSkip' => {
      const claim = object as PersistentVolumeClaim | undefined;
      return claim?.metadata?.namespace === pod.metadata?.namespace && podClaimNames(pod).includes(claim?.metadata?.name ?? '') ? 'Queue' : 'QueueSkip';
    };
    return [
      { event: { resource: 'PersistentVolumeClaim', actions: ActionType.Add | UPDATE_ACTIONS }, hint: (pod, _old, claim) => claimsOfPod(pod, claim) },
      { event: { resource: 'PersistentVolume', actions: ActionType.Add | UPDATE_ACTIONS } },
      { event: { resource: 'StorageClass', actions: ActionType.Add } },
      { event: { resource: 'Node', actions: ActionType.Add | ActionType.UpdateNodeLabel } },
    ];
  }

  private podVolumes(namespace: string, claimNames: string[]): PodVolumes | Status {
    const volumes = this.volumes;
    if (volumes === undefined) return Status.error(new Error(`${NAME} cannot read PersistentVolumeClaims: the scheduler was built without volume informers`));
    const result: PodVolumes = { boundVolumes: [], delayedClaims: [] };
    let unboundImmediate = false;
    for (const claimName of claimNames) {
      const claim = volumes.claim(namespace, claimName);
      if (claim === undefined) return Status.unresolvable(`persistentvolumeclaim "${claimName}" not found`);
      if (claim.metadata?.deletionTimestamp) return Status.unresolvable(`persistentvolumeclaim "${claimName}" is being deleted`);
      const volumeName = claim.spec?.volumeName ?? '';
      if (volumeName !== '') {
        const volume = volumes.volume(volumeName);
        if (volume === undefined) return Status.unresolvable(`persistentvolume "${volumeName}" not found`);
        result.boundVolumes.push(volume);
        continue;
      }
      if (volumeBindingModeOf(classOfClaim(volumes, claim)) === 'WaitForFirstConsumer') result.delayedClaims.push(claim);
      else unboundImmediate = true;
    }
    if (unboundImmediate) return Status.unresolvable(REASON_UNBOUND_IMMEDIATE);
    return result;
  }
}

export function newVolumeBinding(args: unknown, handle: FrameworkHandle): VolumeBinding {
  const object = argsObject(NAME, args, ['bindTimeoutSeconds']);
  const timeout = object.bindTimeoutSeconds ?? DEFAULT_BIND_TIMEOUT_SECONDS;
  if (typeof timeout !== 'number' || !Number.isInteger(timeout) || timeout < 0) throw new PluginArgsError(NAME, `bindTimeoutSeconds must be a non-negative integer, got ${JSON.stringify(timeout)}`);
  return new VolumeBinding(handle.volumes, { bindTimeoutMs: timeout * 1000, pollIntervalMs: POLL_INTERVAL_MS });
}
