// ControllerRevisions, as upstream's controller/history package: the
// StatefulSet and DaemonSet controllers snapshot their pod template into an
// immutable ControllerRevision owned by the workload, named
// "<owner>-<hash>", numbered by revision. The data is the strategic merge
// patch that puts the template back (spec.template with $patch: replace), so
// `kubectl rollout history` and `kubectl rollout undo` work on them unchanged.
import {
  deepCopy,
  isPlainObject,
  newControllerRef,
  podTemplateHash,
  semanticEqual,
  type ControllerRevision,
  type JsonObject,
  type KubeObject,
  type PodTemplateSpec,
} from '@kube-lite/api';
import { isAlreadyExists, type ResourceClient } from '@kube-lite/client';

/** Label on revisions (and on the pods made from them) naming the revision (upstream ControllerRevisionHashLabelKey). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** Longest owner-name prefix of a revision name, leaving room for "-<hash>" within 253 characters (upstream). */
const MAX_NAME_PREFIX_LENGTH = 223;

/** Name collisions tried before giving up on a sync; each is a different hash of the same template. */
const MAX_COLLISION_ATTEMPTS = 16;

/** The revision data of a template: the patch replacing spec.template. */
export function templatePatch(template: PodTemplateSpec | undefined): JsonObject {
  return { spec: { template: { ...deepCopy(template ?? {}), $patch: 'replace' } } };
}

/** The pod template a revision holds, undefined when its data has none. */
export function templateOfRevision(revision: ControllerRevision): PodTemplateSpec | undefined {
  const spec = revision.data?.['spec'];
  const template = isPlainObject(spec) ? spec['template'] : undefined;
  if (!isPlainObject(template)) return undefined;
  const copy = deepCopy(template) as PodTemplateSpec & { $patch?: string };
  delete copy.$patch;
  return copy;
}

/** The hash naming a template's revision; collisionCount changes it when two templates collide. */
export function revisionHash(template: PodTemplateSpec | undefined, collisionCount: number): string {
  return podTemplateHash(template, collisionCount);
}

export function revisionName(ownerName: string, hash: string): string {
  return `${ownerName.slice(0, MAX_NAME_PREFIX_LENGTH)}-${hash}`;
}

/** Two revisions hold the same template (compared semantically, as the API server would store them). */
export function revisionDataEqual(a: ControllerRevision, b: ControllerRevision): boolean {
  return semanticEqual(a.data ?? {}, b.data ?? {});
}

/** Oldest first: by revision number, then name (upstream SortControllerRevisions). */
export function sortRevisions(revisions: readonly ControllerRevision[]): ControllerRevision[] {
  return [...revisions].sort((a, b) => a.revision - b.revision || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** One past the highest revision number. */
export function nextRevisionNumber(revisions: readonly ControllerRevision[]): number {
  return revisions.reduce((highest, revision) => Math.max(highest, revision.revision), 0) + 1;
}

export interface NewRevisionOptions {
  owner: KubeObject;
  ownerApiVersion: string;
  ownerKind: string;
  template: PodTemplateSpec | undefined;
  revision: number;
  collisionCount: number;
}

/** A revision of `template` owned by `owner`: labels of the template plus the hash, the owner's annotations. */
export function newRevision(options: NewRevisionOptions): ControllerRevision {
  const hash = revisionHash(options.template, options.collisionCount);
  const metadata: NonNullable<ControllerRevision['metadata']> = {
    name: revisionName(options.owner.metadata?.name ?? '', hash),
    namespace: options.owner.metadata?.namespace ?? '',
    labels: { ...(options.template?.metadata?.labels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
    ownerReferences: [newControllerRef(options.owner, options.ownerApiVersion, options.ownerKind)],
  };
  const annotations = options.owner.metadata?.annotations;
  if (annotations !== undefined && Object.keys(annotations).length > 0) metadata.annotations = { ...annotations };
  return { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata, data: templatePatch(options.template), revision: options.revision };
}

/** Every hash tried collided with a revision holding another template. */
export class RevisionCollisionError extends Error {
  override readonly name = 'RevisionCollisionError';
}

/**
 * Creates the revision, bumping the collision count while its name is taken
 * by a revision of another template (upstream CreateControllerRevision). An
 * existing revision with the same data is the answer. Returns the revision
 * as stored and the collision count it was named with.
 */
export async function createRevision(
  client: ResourceClient<ControllerRevision>,
  options: NewRevisionOptions,
): Promise<{ revision: ControllerRevision; collisionCount: number }> {
  let collisionCount = options.collisionCount;
  for (let attempt = 0; attempt < MAX_COLLISION_ATTEMPTS; attempt += 1) {
    const wanted = newRevision({ ...options, collisionCount });
    try {
      return { revision: await client.create(wanted), collisionCount };
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
      const existing = await client.get(wanted.metadata?.name ?? '');
      if (revisionDataEqual(existing, wanted)) return { revision: existing, collisionCount };
      collisionCount += 1;
    }
  }
  throw new RevisionCollisionError(`${options.ownerKind} ${options.owner.metadata?.namespace ?? ''}/${options.owner.metadata?.name ?? ''}: ${MAX_COLLISION_ATTEMPTS} revision names in a row were taken by other templates`);
}

/**
 * The revisions to delete so that at most `limit` revisions that are not
 * live remain, oldest first (upstream truncateHistory). `revisions` sorted
 * oldest first; `live` holds the names of the revisions in use.
 */
export function revisionsBeyondLimit(revisions: readonly ControllerRevision[], live: ReadonlySet<string>, limit: number): ControllerRevision[] {
  const history = revisions.filter((revision) => !live.has(revision.metadata?.name ?? ''));
  return history.slice(0, Math.max(0, history.length - Math.max(0, limit)));
}
