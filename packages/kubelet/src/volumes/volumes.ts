// A pod's volumes, prepared before its containers start and refreshed on
// every sync of the pod (every relist period, and whenever the pod changes):
// - emptyDir: a directory under <root-dir>/pods/<uid>/volumes/<name>, removed
//   with the pod. sizeLimit is not enforced for disk. medium Memory: a tmpfs
//   (Docker: a named tmpfs volume of sizeLimit held by the sandbox), or a
//   directory under /dev/shm for runtimes that expose host directories.
// - configMap, secret, downwardAPI, projected: files written atomically
//   (atomic-writer.ts) into the same kind of directory, so a change of the
//   ConfigMap/Secret (within the source's cache time) or of the pod's labels
//   and annotations reaches mounted files without a restart. Mounted
//   read-only, as upstream.
// - hostPath: the host path itself.
// - persistentVolumeClaim: the claim must be Bound; its PersistentVolume's
//   spec.local.path or spec.hostPath.path is created (mode 0777, so a
//   non-root container can write) and used, unless the runtime keeps PV data
//   itself (Docker: a named volume per PV), and survives the pod.
// See the process runtime's file comment for what a container without a mount
// namespace sees.
import fs from 'node:fs';
import path from 'node:path';
import { Quantity, type KeyToPath, type Volume, type VolumeProjection } from '@kube-lite/api';
import { VolumeSetupError } from '../errors';
import { podFieldValue, resourceFieldValue, type EnvContext } from '../pod-workers/env';
import type { MountStorage } from '../runtime/runtime';
import type { PersistentVolumeSource } from '../sources';
import { writeVolumeFiles, type VolumeFiles } from './atomic-writer';

/** Where memory-backed emptyDirs go when the machine has /dev/shm (a tmpfs on Linux). */
export const DEFAULT_MEMORY_DIRECTORY = '/dev/shm/kube-lite';

export function podDirectory(rootDirectory: string, uid: string): string {
  return path.join(rootDirectory, 'pods', uid);
}

/** The kinds of MountStorage a volume has; subPath is added per mount. */
export type VolumeStorage = { kind: 'directory' } | { kind: 'persistentVolume'; persistentVolumeName: string } | { kind: 'memory' };

/** A volume ready to be mounted. */
export interface PreparedVolume {
  /** Where the data is on the kubelet's machine. */
  hostPath: string;
  storage: VolumeStorage;
  /** Every mount of it is read-only: API data volumes (as upstream) and claims with readOnly. */
  readOnly: boolean;
}

/** What volume setup reads: the env context (pod, objects) plus claims and persistent volumes. */
export interface VolumeContext extends EnvContext {
  persistentVolumes?: PersistentVolumeSource;
}

export interface VolumeSetupOptions {
  /** The runtime keeps PV data and memory volumes itself (ContainerRuntime.managesVolumeStorage): no host directory is made for them. */
  runtimeManagesStorage?: boolean;
  /** Parent of memory-backed emptyDir directories; DEFAULT_MEMORY_DIRECTORY when /dev/shm exists, else the pod's directory on disk. */
  memoryDirectory?: string;
}

function memoryDirectoryOf(options: VolumeSetupOptions): string | undefined {
  if (options.memoryDirectory !== undefined) return options.memoryDirectory;
  return fs.existsSync('/dev/shm') ? DEFAULT_MEMORY_DIRECTORY : undefined;
}

function projectKeys(volumeName: string, kind: string, name: string, data: Record<string, Buffer>, items: KeyToPath[] | undefined, mode: number | undefined, optional: boolean, into: VolumeFiles): void {
  if (!items || items.length === 0) {
    for (const [key, content] of Object.entries(data)) into.set(key, { content, ...(mode === undefined ? {} : { mode }) });
    return;
  }
  for (const item of items) {
    const content = data[item.key];
    if (!content) {
      if (optional) continue;
      throw new VolumeSetupError(volumeName, `${kind} "${name}" has no key "${item.key}"`);
    }
    const itemMode = item.mode ?? mode;
    into.set(item.path, { content, ...(itemMode === undefined ? {} : { mode: itemMode }) });
  }
}

/** A lookup whose failure (API server away, access denied) becomes a mount failure the pod worker retries. */
async function fetchFor<T>(volume: string, what: string, lookup: () => Promise<T>): Promise<T> {
  try {
    return await lookup();
  } catch (error) {
    throw new VolumeSetupError(volume, `cannot get ${what}: ${(error as Error).message}`, { cause: error });
  }
}

async function configMapFiles(volume: string, context: EnvContext, source: { name?: string; items?: KeyToPath[]; optional?: boolean }, mode: number | undefined, into: VolumeFiles): Promise<void> {
  const name = source.name ?? '';
  const configMap = await fetchFor(volume, `configmap "${name}"`, async () => context.configMaps?.getConfigMap(context.pod.metadata?.namespace ?? 'default', name));
  if (!configMap) {
    if (source.optional) return;
    throw new VolumeSetupError(volume, `configmap "${name}" not found`);
  }
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(configMap.data ?? {})) data[key] = Buffer.from(value);
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) data[key] = Buffer.from(value, 'base64');
  projectKeys(volume, 'configmap', name, data, source.items, mode, source.optional ?? false, into);
}

async function secretFiles(volume: string, context: EnvContext, name: string, source: { items?: KeyToPath[]; optional?: boolean }, mode: number | undefined, into: VolumeFiles): Promise<void> {
  const secret = await fetchFor(volume, `secret "${name}"`, async () => context.secrets?.getSecret(context.pod.metadata?.namespace ?? 'default', name));
  if (!secret) {
    if (source.optional) return;
    throw new VolumeSetupError(volume, `secret "${name}" not found`);
  }
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64');
  for (const [key, value] of Object.entries(secret.stringData ?? {})) data[key] = Buffer.from(value);
  projectKeys(volume, 'secret', name, data, source.items, mode, source.optional ?? false, into);
}

function downwardFiles(volume: string, context: EnvContext, items: NonNullable<VolumeProjection['downwardAPI']>['items'], mode: number | undefined, into: VolumeFiles): void {
  for (const item of items ?? []) {
    let value: string | undefined;
    if (item.fieldRef) value = podFieldValue(context, item.fieldRef);
    else if (item.resourceFieldRef) value = resourceFieldValue(context, item.resourceFieldRef, item.resourceFieldRef.containerName ?? '');
    if (value === undefined) throw new VolumeSetupError(volume, `unsupported downward API item "${item.path}"`);
    const itemMode = item.mode ?? mode;
    into.set(item.path, { content: Buffer.from(value), ...(itemMode === undefined ? {} : { mode: itemMode }) });
  }
}

/** The files of an API data volume; undefined for other kinds. */
async function volumeFiles(volume: Volume, context: EnvContext): Promise<VolumeFiles | undefined> {
  const files: VolumeFiles = new Map();
  if (volume.configMap) await configMapFiles(volume.name, context, volume.configMap, volume.configMap.defaultMode, files);
  else if (volume.secret) await secretFiles(volume.name, context, volume.secret.secretName ?? '', volume.secret, volume.secret.defaultMode, files);
  else if (volume.downwardAPI) downwardFiles(volume.name, context, volume.downwardAPI.items, volume.downwardAPI.defaultMode, files);
  else if (volume.projected) {
    const mode = volume.projected.defaultMode;
    for (const source of volume.projected.sources ?? []) {
      if (source.configMap) await configMapFiles(volume.name, context, source.configMap, mode, files);
      else if (source.secret) await secretFiles(volume.name, context, source.secret.name ?? '', source.secret, mode, files);
      else if (source.downwardAPI) downwardFiles(volume.name, context, source.downwardAPI.items, mode, files);
      // serviceAccountToken projections need the token API: not provided by kube-lite yet, skipped.
    }
  } else return undefined;
  return files;
}

/** mkdir -p, the new directory world-writable (mode 0777 whatever the umask: upstream's emptyDir mode). */
function makeSharedDirectory(directory: string): void {
  if (fs.existsSync(directory)) return;
  fs.mkdirSync(directory, { recursive: true });
  fs.chmodSync(directory, 0o777);
}

/** mkdir -p; a directory this call creates is made world-writable, so a container running as any user can write to it. */
function ensureSharedDirectory(directory: string, volumeName: string): void {
  try {
    if (fs.statSync(directory).isDirectory()) return;
    throw new VolumeSetupError(volumeName, `${directory} exists and is not a directory`);
  } catch (error) {
    if (error instanceof VolumeSetupError) throw error;
  }
  try {
    makeSharedDirectory(directory);
  } catch (error) {
    throw new VolumeSetupError(volumeName, `cannot create ${directory}: ${(error as Error).message}`, { cause: error });
  }
}

async function claimVolume(volume: Volume, context: VolumeContext, options: VolumeSetupOptions): Promise<PreparedVolume> {
  const claimName = volume.persistentVolumeClaim?.claimName ?? '';
  const namespace = context.pod.metadata?.namespace ?? 'default';
  const source = context.persistentVolumes;
  if (!source) throw new VolumeSetupError(volume.name, 'this kubelet has no source of persistentvolumeclaims');
  const claim = await fetchFor(volume.name, `persistentvolumeclaim "${claimName}"`, () => source.getPersistentVolumeClaim(namespace, claimName));
  if (!claim) throw new VolumeSetupError(volume.name, `waiting for persistentvolumeclaim "${claimName}" to be bound: it does not exist`);
  const persistentVolumeName = claim.spec?.volumeName;
  if (claim.status?.phase !== 'Bound' || !persistentVolumeName) {
    throw new VolumeSetupError(volume.name, `waiting for persistentvolumeclaim "${claimName}" to be bound: its phase is ${claim.status?.phase ?? 'Pending'}`);
  }
  const persistentVolume = await fetchFor(volume.name, `persistentvolume "${persistentVolumeName}"`, () => source.getPersistentVolume(persistentVolumeName));
  if (!persistentVolume) throw new VolumeSetupError(volume.name, `persistentvolume "${persistentVolumeName}" of persistentvolumeclaim "${claimName}" not found`);
  const claimRef = persistentVolume.spec?.claimRef;
  if (claimRef?.uid && claim.metadata?.uid && claimRef.uid !== claim.metadata.uid) {
    throw new VolumeSetupError(volume.name, `persistentvolume "${persistentVolumeName}" is bound to another claim (${claimRef.namespace ?? ''}/${claimRef.name ?? ''})`);
  }
  const hostPath = persistentVolume.spec?.local?.path ?? persistentVolume.spec?.hostPath?.path;
  if (!hostPath || !path.isAbsolute(hostPath)) {
    throw new VolumeSetupError(volume.name, `persistentvolume "${persistentVolumeName}" has no absolute spec.local.path or spec.hostPath.path: kube-lite mounts only local and hostPath persistent volumes`);
  }
  if (!options.runtimeManagesStorage) ensureSharedDirectory(hostPath, volume.name);
  return { hostPath, storage: { kind: 'persistentVolume', persistentVolumeName }, readOnly: volume.persistentVolumeClaim?.readOnly ?? false };
}

function memoryVolume(volume: Volume, uid: string, base: string, options: VolumeSetupOptions): PreparedVolume {
  const memoryDirectory = memoryDirectoryOf(options);
  const hostPath = memoryDirectory === undefined ? path.join(base, volume.name) : path.join(memoryDirectory, uid, volume.name);
  if (!options.runtimeManagesStorage) makeSharedDirectory(hostPath);
  return { hostPath, storage: { kind: 'memory' }, readOnly: false };
}

/** Size cap of a memory-backed emptyDir, in bytes; undefined when none (or unreadable) is given. */
export function memorySizeLimitBytes(volume: Volume): number | undefined {
  const quantity = Quantity.tryParse(volume.emptyDir?.sizeLimit);
  return quantity === undefined || quantity.sign() <= 0 ? undefined : quantity.value();
}

/**
 * Creates or refreshes every volume of the pod and returns volume name ->
 * prepared volume. Throws VolumeSetupError for a volume that cannot be set
 * up (yet): the pod worker records FailedMount and retries.
 */
export async function setUpVolumes(rootDirectory: string, context: VolumeContext, options: VolumeSetupOptions = {}): Promise<Map<string, PreparedVolume>> {
  const pod = context.pod;
  const uid = pod.metadata?.uid ?? '';
  const base = path.join(podDirectory(rootDirectory, uid), 'volumes');
  const result = new Map<string, PreparedVolume>();
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.hostPath) {
      const type = volume.hostPath.type ?? '';
      if (type === 'DirectoryOrCreate') fs.mkdirSync(volume.hostPath.path, { recursive: true });
      else if (type === 'Directory' && !fs.existsSync(volume.hostPath.path)) throw new VolumeSetupError(volume.name, `hostPath type check failed: ${volume.hostPath.path} is not a directory`);
      result.set(volume.name, { hostPath: volume.hostPath.path, storage: { kind: 'directory' }, readOnly: false });
      continue;
    }
    if (volume.persistentVolumeClaim) {
      result.set(volume.name, await claimVolume(volume, context, options));
      continue;
    }
    if (volume.emptyDir?.medium === 'Memory') {
      result.set(volume.name, memoryVolume(volume, uid, base, options));
      continue;
    }
    const directory = path.join(base, volume.name);
    const files = await volumeFiles(volume, context);
    if (files) writeVolumeFiles(directory, files, volume.name);
    else makeSharedDirectory(directory);
    result.set(volume.name, { hostPath: directory, storage: { kind: 'directory' }, readOnly: files !== undefined });
  }
  return result;
}

/**
 * The storage of one mount of a prepared volume. subPath must stay inside the
 * volume; on the kubelet's machine it is created when missing, as upstream
 * does (in storage the runtime keeps, the subPath must exist).
 */
export function mountStorage(volume: PreparedVolume, volumeName: string, subPath: string | undefined, options: VolumeSetupOptions = {}): { hostPath: string; storage: MountStorage } {
  if (!subPath) return { hostPath: volume.hostPath, storage: volume.storage };
  const normalized = path.normalize(subPath);
  if (path.isAbsolute(subPath) || normalized === '..' || normalized.startsWith(`..${path.sep}`)) {
    throw new VolumeSetupError(volumeName, `subPath "${subPath}" must be a relative path inside the volume`);
  }
  const hostPath = path.join(volume.hostPath, normalized);
  const onThisMachine = volume.storage.kind === 'directory' || !options.runtimeManagesStorage;
  if (onThisMachine) makeSharedDirectory(hostPath);
  return { hostPath, storage: volume.storage.kind === 'directory' ? volume.storage : { ...volume.storage, subPath: normalized } };
}

/** Removes the pod's directories: its volumes on disk and in memory (hostPath and PV data are never touched). */
export function tearDownPodDirectory(rootDirectory: string, uid: string, options: VolumeSetupOptions = {}): void {
  if (!uid) return;
  fs.rmSync(podDirectory(rootDirectory, uid), { recursive: true, force: true });
  const memoryDirectory = memoryDirectoryOf(options);
  if (memoryDirectory !== undefined) fs.rmSync(path.join(memoryDirectory, uid), { recursive: true, force: true });
}
