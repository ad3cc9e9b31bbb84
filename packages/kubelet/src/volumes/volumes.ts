// Volumes as directories under <root-dir>/pods/<uid>/volumes/<name>: the
// kubelet fills them (config maps, secrets, downward API) and the runtime
// exposes them to the container (see the process runtime's file comment for
// what a container without a mount namespace sees).
import fs from 'node:fs';
import path from 'node:path';
import type { KeyToPath, Volume, VolumeProjection } from '@kube-lite/api';
import { VolumeSetupError } from '../errors';
import { podFieldValue, resourceFieldValue, type EnvContext } from '../pod-workers/env';

export function podDirectory(rootDirectory: string, uid: string): string {
  return path.join(rootDirectory, 'pods', uid);
}

/** Writes a file only when its content differs: pods reading it see no needless change. */
function writeIfChanged(file: string, content: Buffer, mode: number | undefined): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    if (fs.readFileSync(file).equals(content)) return;
  } catch {
    // absent: write it
  }
  fs.writeFileSync(file, content, { mode: mode ?? 0o644 });
}

function safeJoin(directory: string, relative: string, volumeName: string): string {
  const target = path.join(directory, relative);
  if (path.isAbsolute(relative) || relative.split('/').includes('..') || !target.startsWith(directory + path.sep)) {
    throw new VolumeSetupError(volumeName, `path "${relative}" must be relative and may not contain '..'`);
  }
  return target;
}

type Files = Map<string, { content: Buffer; mode?: number }>;

function projectKeys(volumeName: string, kind: string, name: string, data: Record<string, Buffer>, items: KeyToPath[] | undefined, mode: number | undefined, into: Files): void {
  if (!items || items.length === 0) {
    for (const [key, content] of Object.entries(data)) into.set(key, { content, mode });
    return;
  }
  for (const item of items) {
    const content = data[item.key];
    if (!content) throw new VolumeSetupError(volumeName, `${kind} "${name}" has no key "${item.key}"`);
    into.set(item.path, { content, mode: item.mode ?? mode });
  }
}

async function configMapFiles(volume: string, context: EnvContext, source: { name?: string; items?: KeyToPath[]; optional?: boolean }, mode: number | undefined, into: Files): Promise<void> {
  const name = source.name ?? '';
  const configMap = await context.configMaps?.getConfigMap(context.pod.metadata?.namespace ?? 'default', name);
  if (!configMap) {
    if (source.optional) return;
    throw new VolumeSetupError(volume, `configmap "${name}" not found`);
  }
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(configMap.data ?? {})) data[key] = Buffer.from(value);
  for (const [key, value] of Object.entries(configMap.binaryData ?? {})) data[key] = Buffer.from(value, 'base64');
  projectKeys(volume, 'configmap', name, data, source.items, mode, into);
}

async function secretFiles(volume: string, context: EnvContext, name: string, source: { items?: KeyToPath[]; optional?: boolean }, mode: number | undefined, into: Files): Promise<void> {
  const secret = await context.secrets?.getSecret(context.pod.metadata?.namespace ?? 'default', name);
  if (!secret) {
    if (source.optional) return;
    throw new VolumeSetupError(volume, `secret "${name}" not found`);
  }
  const data: Record<string, Buffer> = {};
  for (const [key, value] of Object.entries(secret.data ?? {})) data[key] = Buffer.from(value, 'base64');
  for (const [key, value] of Object.entries(secret.stringData ?? {})) data[key] = Buffer.from(value);
  projectKeys(volume, 'secret', name, data, source.items, mode, into);
}

function downwardFiles(volume: string, context: EnvContext, items: NonNullable<VolumeProjection['downwardAPI']>['items'], mode: number | undefined, into: Files): void {
  for (const item of items ?? []) {
    let value: string | undefined;
    if (item.fieldRef) value = podFieldValue(context, item.fieldRef);
    else if (item.resourceFieldRef) value = resourceFieldValue(context, item.resourceFieldRef, item.resourceFieldRef.containerName ?? '');
    if (value === undefined) throw new VolumeSetupError(volume, `unsupported downward API item "${item.path}"`);
    into.set(item.path, { content: Buffer.from(value), mode: item.mode ?? mode });
  }
}

async function volumeFiles(volume: Volume, context: EnvContext): Promise<Files | undefined> {
  const files: Files = new Map();
  if (volume.configMap) await configMapFiles(volume.name, context, volume.configMap, volume.configMap.defaultMode, files);
  else if (volume.secret) await secretFiles(volume.name, context, volume.secret.secretName ?? '', volume.secret, volume.secret.defaultMode ?? 0o644, files);
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

/**
 * Creates or refreshes every volume of the pod and returns volume name -> host
 * directory. Throws VolumeSetupError for a volume that cannot be set up.
 */
export async function setUpVolumes(rootDirectory: string, context: EnvContext): Promise<Map<string, string>> {
  const pod = context.pod;
  const base = path.join(podDirectory(rootDirectory, pod.metadata?.uid ?? ''), 'volumes');
  const result = new Map<string, string>();
  for (const volume of pod.spec?.volumes ?? []) {
    if (volume.hostPath) {
      const type = volume.hostPath.type ?? '';
      if (type === 'DirectoryOrCreate') fs.mkdirSync(volume.hostPath.path, { recursive: true });
      else if (type === 'Directory' && !fs.existsSync(volume.hostPath.path)) throw new VolumeSetupError(volume.name, `hostPath type check failed: ${volume.hostPath.path} is not a directory`);
      result.set(volume.name, volume.hostPath.path);
      continue;
    }
    if (volume.persistentVolumeClaim) throw new VolumeSetupError(volume.name, 'persistentVolumeClaim volumes are not supported by the kube-lite kubelet yet');
    const directory = path.join(base, volume.name);
    fs.mkdirSync(directory, { recursive: true });
    const files = await volumeFiles(volume, context);
    if (files) {
      const wanted = new Set<string>();
      for (const [relative, file] of files) {
        const target = safeJoin(directory, relative, volume.name);
        writeIfChanged(target, file.content, file.mode);
        wanted.add(target);
      }
      // Keys removed from the source disappear from the volume too.
      for (const entry of fs.readdirSync(directory, { recursive: true, withFileTypes: true })) {
        const full = path.join(entry.parentPath ?? directory, entry.name);
        if (entry.isFile() && !wanted.has(full)) fs.rmSync(full, { force: true });
      }
    }
    result.set(volume.name, directory);
  }
  return result;
}

/** Removes the pod's directory (volumes included; hostPath data is never touched). */
export function tearDownPodDirectory(rootDirectory: string, uid: string): void {
  if (!uid) return;
  fs.rmSync(podDirectory(rootDirectory, uid), { recursive: true, force: true });
}
