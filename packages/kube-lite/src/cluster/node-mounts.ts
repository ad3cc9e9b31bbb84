// The mounts a root kubelet leaves under its root dir: one file per pod bound
// to the pod's mount namespace (packages/kubelet/src/runtime/process/
// mount-namespace.ts), and the private bind of their directory. They outlive
// the kubelet on purpose (a restarted kubelet adopts its pods with them), so
// `down` releases them once the node's containers are stopped: the data dir
// can then be deleted, and the next kubelet makes new ones as its pods'
// containers start again. Found through /proc/self/mountinfo, so nothing else
// needs to be known about the kubelet's layout.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

const UMOUNT_TIMEOUT_MS = 10_000;

/** The mount points at or below `directory` in a /proc/<pid>/mountinfo text (proc(5)), octal escapes decoded, deepest first. */
export function mountPointsBelow(mountInfo: string, directory: string): string[] {
  const points: string[] = [];
  for (const line of mountInfo.split('\n')) {
    const field = line.split(' ')[4];
    if (field === undefined) continue;
    const mountPoint = field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
    if (mountPoint === directory || mountPoint.startsWith(`${directory}/`)) points.push(mountPoint);
  }
  // A point mounted twice is listed twice: each unmount releases one.
  return points.sort((a, b) => b.length - a.length);
}

/** Lazily unmounts everything mounted at or below `directory`; returns how many mounts it released. */
export function releaseMountsBelow(directory: string): number {
  let root: string;
  let mountInfo: string;
  try {
    root = fs.realpathSync(directory);
    mountInfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    // No such directory, or no /proc (not Linux): nothing of ours can be mounted there.
    return 0;
  }
  let released = 0;
  for (const mountPoint of mountPointsBelow(mountInfo, root)) {
    try {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'ignore', timeout: UMOUNT_TIMEOUT_MS });
      released++;
    } catch {
      // Not ours to release (no permission), or gone with its parent.
    }
  }
  return released;
}
