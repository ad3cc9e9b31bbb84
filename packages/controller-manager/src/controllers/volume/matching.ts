// Which PersistentVolume a claim may bind to (upstream's findMatchingVolume
// and checkVolumeSatisfyClaim): same class and volume mode, every requested
// access mode offered, enough capacity, the claim's selector matched, not
// promised to another claim, and, when the claim waited for its first
// consumer, usable on the node the scheduler chose.
import {
  claimStorageClassName,
  compareQuantities,
  labelSelectorMatches,
  volumeNodeAffinityAllows,
  volumeStorageClassName,
  type Node,
  type ObjectReference,
  type PersistentVolume,
  type PersistentVolumeClaim,
} from '@kube-lite/api';

/** Whether the volume's claimRef names this claim (and, when the ref has a uid, this very claim object). */
export function claimRefMatches(claimRef: ObjectReference | undefined, claim: PersistentVolumeClaim): boolean {
  if (claimRef === undefined) return false;
  if (claimRef.name !== claim.metadata?.name || (claimRef.namespace ?? '') !== (claim.metadata?.namespace ?? '')) return false;
  return !claimRef.uid || claimRef.uid === claim.metadata?.uid;
}

/** The claim's storage request, "0" when it names none (validation requires one). */
export function claimRequest(claim: PersistentVolumeClaim): string {
  return String(claim.spec?.resources?.requests?.storage ?? '0');
}

function safeCompare(a: string, b: string): number | undefined {
  try {
    return compareQuantities(a, b);
  } catch {
    return undefined;
  }
}

/**
 * Why the volume cannot serve the claim, or undefined when it can. Reasons
 * read as upstream's VolumeMismatch event messages.
 */
export function volumeMismatch(volume: PersistentVolume, claim: PersistentVolumeClaim): string | undefined {
  const request = claimRequest(claim);
  const capacity = String(volume.spec?.capacity?.storage ?? '0');
  const comparison = safeCompare(capacity, request);
  if (comparison === undefined || comparison < 0) return `requested PV is too small`;
  if (volumeStorageClassName(volume) !== claimStorageClassName(claim)) return 'storageClassName does not match';
  if ((volume.spec?.volumeMode ?? 'Filesystem') !== (claim.spec?.volumeMode ?? 'Filesystem')) return 'incompatible volumeMode';
  const offered = volume.spec?.accessModes ?? [];
  if (!(claim.spec?.accessModes ?? []).every((mode) => offered.includes(mode))) return 'incompatible accessMode';
  return undefined;
}

/**
 * The Available volume that best fits an unbound claim: one already
 * promised to it (pre-bound) first, else the smallest that fits. `node` is
 * the scheduler's choice for a WaitForFirstConsumer claim; volumes whose
 * node affinity excludes it are skipped.
 */
export function findBestVolume(claim: PersistentVolumeClaim, volumes: readonly PersistentVolume[], node: Node | undefined): PersistentVolume | undefined {
  let best: PersistentVolume | undefined;
  for (const volume of volumes) {
    if (volume.metadata?.deletionTimestamp) continue;
    const claimRef = volume.spec?.claimRef;
    const preBound = claimRefMatches(claimRef, claim);
    if (claimRef !== undefined && !preBound) continue;
    const phase = volume.status?.phase;
    if (phase === 'Released' || phase === 'Failed') continue;
    if (volumeMismatch(volume, claim) !== undefined) continue;
    if (node !== undefined && !volumeNodeAffinityAllows(volume, node)) continue;
    if (preBound) return volume;
    // A selector narrows the candidates to labelled, unpromised volumes (upstream).
    if (claim.spec?.selector !== undefined && !labelSelectorMatches(claim.spec.selector, volume.metadata?.labels ?? {})) continue;
    if (best === undefined || (safeCompare(String(volume.spec?.capacity?.storage ?? '0'), String(best.spec?.capacity?.storage ?? '0')) ?? 0) < 0) best = volume;
  }
  return best;
}
