// Bind mounts name paths on the Docker daemon's machine, but a kubelet that
// itself runs in a container (the compose cluster) writes pod volumes into
// its own filesystem. This maps a kubelet path to the daemon's path through
// the kubelet container's own mounts (its --root-dir is a volume or bind
// mount), so emptyDir, configMap and secret volumes are the same files for
// the kubelet and for the pod. Outside a container the mapping is the identity.
import path from 'node:path';

export interface MountPair {
  /** Where the data is on the daemon's machine (a bind source or a volume's mount point). */
  source: string;
  /** Where the kubelet sees it. */
  destination: string;
}

export class HostPathMapper {
  private readonly mounts: MountPair[];

  constructor(mounts: readonly MountPair[]) {
    // Longest destination first: the most specific mount wins.
    this.mounts = [...mounts].map((mount) => ({ source: path.normalize(mount.source), destination: path.normalize(mount.destination) })).sort((a, b) => b.destination.length - a.destination.length);
  }

  toHost(kubeletPath: string): string {
    const normalized = path.normalize(kubeletPath);
    for (const mount of this.mounts) {
      if (normalized === mount.destination) return mount.source;
      const relative = path.relative(mount.destination, normalized);
      if (!relative.startsWith('..') && !path.isAbsolute(relative)) return path.join(mount.source, relative);
    }
    return normalized;
  }
}

/**
 * The id of the Docker container this process runs in, from /proc/self/mountinfo:
 * Docker bind-mounts /etc/hostname, /etc/hosts and /etc/resolv.conf from
 * <data-root>/containers/<id>/. Works under cgroup v1 and v2; undefined on a host.
 */
export function ownContainerId(mountinfo: string): string | undefined {
  for (const line of mountinfo.split('\n')) {
    const fields = line.split(' ');
    const mountPoint = fields[4];
    if (mountPoint !== '/etc/hostname' && mountPoint !== '/etc/hosts' && mountPoint !== '/etc/resolv.conf') continue;
    const match = /\/containers\/([0-9a-f]{64})\//.exec(fields[3] ?? '');
    if (match) return match[1];
  }
  return undefined;
}
