// Writes the files of a configMap, secret, downwardAPI or projected volume so
// that a running container never sees a half-updated volume, the way
// upstream's atomic writer does:
//
//   <volume>/..2025_01_31_10_00_00.AbCdEf/   the files of one version
//   <volume>/..data -> ..2025_01_31_10_00_00.AbCdEf
//   <volume>/app.conf -> ..data/app.conf      one link per top-level name
//
// An update writes a new version directory, then renames a fresh symlink
// over ..data (rename is atomic), then removes the old version. All links
// are relative, so they resolve the same through a bind mount (Docker) and
// through the process runtime's symlinked mount paths. A subPath mount of a
// single file is bound to the file of the version current at container start
// (Docker resolves the links) and, as upstream, does not see updates.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { VolumeSetupError } from '../errors';

/** The symlink naming the current version directory. */
export const DATA_LINK = '..data';
const DATA_LINK_TEMPORARY = '..data_tmp';

export interface VolumeFile {
  content: Buffer;
  /** Permission bits; 0644 when absent, as upstream's default mode. */
  mode?: number;
}

/** Relative path -> file; paths may name sub-directories (conf/app.conf). */
export type VolumeFiles = Map<string, VolumeFile>;

const DEFAULT_FILE_MODE = 0o644;

/** Rejects paths that could escape the volume or collide with the version bookkeeping (names starting with ".."). */
function checkPath(relative: string, volumeName: string): void {
  const parts = relative.split('/');
  if (relative === '' || path.isAbsolute(relative) || parts.includes('..') || relative.startsWith('..') || parts.some((part) => part === '')) {
    throw new VolumeSetupError(volumeName, `path "${relative}" must be relative, may not contain '..' and may not start with '..'`);
  }
}

function topLevelName(relative: string): string {
  return relative.split('/')[0] ?? relative;
}

function currentVersion(directory: string): string | undefined {
  try {
    return fs.readlinkSync(path.join(directory, DATA_LINK));
  } catch {
    return undefined;
  }
}

/** Whether the version directory holds exactly these files with these modes. */
function holdsExactly(versionDirectory: string, files: VolumeFiles): boolean {
  let found = 0;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(versionDirectory, { recursive: true, withFileTypes: true });
  } catch {
    return false;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    const wanted = files.get(path.relative(versionDirectory, full));
    if (!wanted) return false;
    found += 1;
    try {
      if ((fs.statSync(full).mode & 0o777) !== (wanted.mode ?? DEFAULT_FILE_MODE)) return false;
      if (!fs.readFileSync(full).equals(wanted.content)) return false;
    } catch {
      return false;
    }
  }
  return found === files.size;
}

/** "..2025_01_31_10_00_00." : upstream's version directory prefix. */
function versionPrefix(nowMs: number): string {
  const time = new Date(nowMs).toISOString();
  return `..${time.slice(0, 19).replace(/[-T:]/g, '_')}.`;
}

/** The user-visible names: a link per top-level name into ..data; anything else that is not bookkeeping goes. */
function linkTopLevelNames(directory: string, files: VolumeFiles): void {
  const wanted = new Set([...files.keys()].map(topLevelName));
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    if (entry.name.startsWith('..')) continue;
    if (!wanted.has(entry.name)) fs.rmSync(path.join(directory, entry.name), { recursive: true, force: true });
  }
  for (const name of wanted) {
    const link = path.join(directory, name);
    const target = `${DATA_LINK}/${name}`;
    let current: string | undefined;
    try {
      current = fs.readlinkSync(link);
    } catch {
      current = undefined;
    }
    if (current === target) continue;
    // A plain file or directory from an older kubelet, or a link gone wrong.
    fs.rmSync(link, { recursive: true, force: true });
    fs.symlinkSync(target, link);
  }
}

/**
 * Makes the volume directory hold exactly these files; returns whether
 * anything changed. Throws VolumeSetupError for a path that may not be used.
 */
export function writeVolumeFiles(directory: string, files: VolumeFiles, volumeName: string, nowMs = Date.now()): boolean {
  for (const relative of files.keys()) checkPath(relative, volumeName);
  fs.mkdirSync(directory, { recursive: true });
  const previous = currentVersion(directory);
  if (previous !== undefined && holdsExactly(path.join(directory, previous), files)) {
    linkTopLevelNames(directory, files);
    return false;
  }
  const version = path.join(directory, `${versionPrefix(nowMs)}${randomBytes(4).toString('hex')}`);
  fs.mkdirSync(version, { mode: 0o755 });
  for (const [relative, file] of files) {
    const target = path.join(version, relative);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
    fs.writeFileSync(target, file.content);
    // Set after writing: the process umask must not change the mode the pod asked for.
    fs.chmodSync(target, file.mode ?? DEFAULT_FILE_MODE);
  }
  const temporary = path.join(directory, DATA_LINK_TEMPORARY);
  fs.rmSync(temporary, { force: true });
  fs.symlinkSync(path.basename(version), temporary);
  fs.renameSync(temporary, path.join(directory, DATA_LINK));
  linkTopLevelNames(directory, files);
  if (previous !== undefined && previous.startsWith('..') && !previous.includes('/') && previous !== path.basename(version)) fs.rmSync(path.join(directory, previous), { recursive: true, force: true });
  return true;
}
