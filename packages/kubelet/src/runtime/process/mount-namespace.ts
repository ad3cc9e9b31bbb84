// A mount namespace per pod for the process runtime, so that the pod's
// processes see their own /etc/resolv.conf and /etc/hosts (and nothing else
// changes: the rest of the file system is the host's).
//
// How:
// - the namespaces live as long as the pod's sandbox, not as long as a
//   process: each is bound to a file, <directory>/<sandbox id>, created with
//   `unshare --mount=<file>`. A restarted kubelet finds them there intact.
// - a namespace file may not sit on a shared mount (the kernel refuses, as
//   propagating it could make reference loops), so <directory> is made a
//   private bind mount of itself first, as `ip netns` does for /run/netns.
// - in the new namespace a short script unmounts every namespace file it
//   inherited (other pods', other kubelets' on this machine: holding them
//   would keep those namespaces alive after their pods are gone) and binds
//   the pod's files over /etc/resolv.conf and /etc/hosts. Propagation is
//   "slave": mounts the host makes later still reach the pod, the pod's
//   never reach the host.
// - every container process and every exec enters it with `nsenter
//   --mount=<file> -- argv`: nsenter execs argv, so the pid and the process
//   group the runtime tracks are argv's own.
// - removing the sandbox unmounts the file; the namespace ends with the last
//   process in it.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { MountNamespaceError } from '../errors';

const execFileAsync = promisify(execFile);

/** The util-linux programs the mount-namespace mode runs. */
export const MOUNT_NAMESPACE_TOOLS = ['unshare', 'nsenter', 'mount', 'umount'] as const;
export type MountNamespaceTool = (typeof MOUNT_NAMESPACE_TOOLS)[number];
export type ToolPaths = Record<MountNamespaceTool, string>;

/** ProcessRuntimeOptions.podMountNamespaces: 'auto' uses them where the host allows; 'off' never. */
export type PodMountNamespaceSetting = 'auto' | 'off';

/** What the choice of mode depends on. */
export interface HostFacts {
  platform: NodeJS.Platform;
  /** The kubelet's user id; undefined where the platform has none. */
  uid: number | undefined;
  /** Where each tool was found on PATH; a tool missing here is not installed. */
  tools: Partial<ToolPaths>;
}

/**
 * How the runtime gives pods their DNS settings:
 * - mount-namespace: each pod's own /etc/resolv.conf and /etc/hosts, plus env;
 * - environment: the host's files; the search list and options only in env
 *   (LOCALDOMAIN, RES_OPTIONS), since no env variable can name a nameserver.
 */
export type PodIsolationDecision = { mode: 'mount-namespace'; reason: string; tools: ToolPaths } | { mode: 'environment'; reason: string };

/** Which mode the runtime runs in, and why (the kubelet logs both once at startup). */
export function choosePodIsolation(setting: PodMountNamespaceSetting, facts: HostFacts): PodIsolationDecision {
  if (setting === 'off') return { mode: 'environment', reason: 'pod mount namespaces are off in the runtime options' };
  if (facts.platform !== 'linux') return { mode: 'environment', reason: `mount namespaces need Linux; this is ${facts.platform}` };
  if (facts.uid !== 0) return { mode: 'environment', reason: `the kubelet runs as uid ${facts.uid ?? 'unknown'}, not root: creating mount namespaces needs root` };
  const missing = MOUNT_NAMESPACE_TOOLS.filter((tool) => facts.tools[tool] === undefined);
  if (missing.length > 0) return { mode: 'environment', reason: `util-linux programs not found on PATH: ${missing.join(', ')}` };
  const tools = Object.fromEntries(MOUNT_NAMESPACE_TOOLS.map((tool) => [tool, facts.tools[tool] as string])) as ToolPaths;
  return { mode: 'mount-namespace', reason: `root on Linux with util-linux (${MOUNT_NAMESPACE_TOOLS.join(', ')})`, tools };
}

/** The facts of this machine, the tools looked up on `searchPath`. */
export function readHostFacts(searchPath: string): HostFacts {
  const tools: Partial<ToolPaths> = {};
  for (const tool of MOUNT_NAMESPACE_TOOLS) {
    for (const directory of searchPath.split(':')) {
      const candidate = path.join(directory || '.', tool);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        tools[tool] = candidate;
        break;
      } catch {
        // Not in this directory.
      }
    }
  }
  return { platform: process.platform, uid: process.getuid?.(), tools };
}

export interface MountEntry {
  mountPoint: string;
  fsType: string;
}

/** The mount points and file system types of a /proc/<pid>/mountinfo text (proc(5)), octal escapes decoded. */
export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-', 6);
    const mountPoint = fields[4];
    const fsType = fields[separator + 1];
    if (mountPoint === undefined || separator < 0 || fsType === undefined) continue;
    entries.push({ mountPoint: unescapeMountField(mountPoint), fsType });
  }
  return entries;
}

function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

function readMounts(): MountEntry[] {
  try {
    return parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
  } catch {
    return [];
  }
}

/** The script run inside a new namespace: $1 the resolv.conf to bind (or ""), $2 the hosts file (or ""). */
const SETUP_SCRIPT = 'umount -a -t nsfs 2>/dev/null; if [ -n "$1" ]; then mount --bind "$1" /etc/resolv.conf || exit; fi; if [ -n "$2" ]; then mount --bind "$2" /etc/hosts || exit; fi';
const TOOL_TIMEOUT_MS = 10_000;

/** The files a pod's namespace shows in place of the host's; each left out keeps the host's. */
export interface PodNamespaceFiles {
  resolvConf?: string;
  hosts?: string;
}

/** Per-pod mount namespaces bound to files in one directory (see the file comment). */
export class MountNamespaces {
  constructor(
    /** Holds one file per namespace; made a private mount of itself by prepare(). */
    readonly directory: string,
    private readonly tools: ToolPaths,
    /** PATH for the setup script's mount and umount. */
    private readonly searchPath: string,
  ) {}

  /**
   * Makes the directory a private mount of its own, unless an earlier kubelet
   * did (binding it again would hide the namespace files under it). Throws
   * MountNamespaceError when the host does not allow it.
   */
  prepare(): void {
    fs.mkdirSync(this.directory, { recursive: true });
    const directory = fs.realpathSync(this.directory);
    if (readMounts().some((entry) => entry.mountPoint === directory)) return;
    try {
      execFileSync(this.tools.mount, ['--bind', directory, directory], { stdio: ['ignore', 'ignore', 'pipe'], timeout: TOOL_TIMEOUT_MS });
      execFileSync(this.tools.mount, ['--make-private', directory], { stdio: ['ignore', 'ignore', 'pipe'], timeout: TOOL_TIMEOUT_MS });
    } catch (error) {
      throw new MountNamespaceError(`cannot make ${directory} a private mount: ${commandError(error)}`, { cause: error });
    }
  }

  /** The file the namespace `name` is bound to. */
  fileOf(name: string): string {
    return path.join(this.directory, name);
  }

  /** Whether the namespace `name` exists (its file is a namespace mount in this kubelet's view). */
  exists(name: string): boolean {
    const file = this.resolvedFileOf(name);
    return readMounts().some((entry) => entry.mountPoint === file && entry.fsType === 'nsfs');
  }

  /** Creates the namespace `name` showing `files`; on failure nothing is left behind and MountNamespaceError is thrown. */
  async create(name: string, files: PodNamespaceFiles): Promise<void> {
    const file = this.fileOf(name);
    await fs.promises.writeFile(file, '');
    try {
      await execFileAsync(this.tools.unshare, [`--mount=${file}`, '--propagation', 'slave', '/bin/sh', '-c', SETUP_SCRIPT, 'sh', files.resolvConf ?? '', files.hosts ?? ''], {
        env: { PATH: this.searchPath },
        timeout: TOOL_TIMEOUT_MS,
      });
    } catch (error) {
      await this.remove(name);
      throw new MountNamespaceError(`cannot create the namespace of ${name}: ${commandError(error)}`, { cause: error });
    }
  }

  /** Unmounts the namespace's file and deletes it; the namespace ends with its last process. Idempotent. */
  async remove(name: string): Promise<void> {
    const file = this.fileOf(name);
    if (this.exists(name)) {
      try {
        await execFileAsync(this.tools.umount, ['-l', file], { timeout: TOOL_TIMEOUT_MS });
      } catch {
        // Unmounted meanwhile; the file goes either way.
      }
    }
    await fs.promises.rm(file, { force: true });
  }

  /** argv run inside the namespace `name`. */
  enter(name: string, argv: readonly string[]): string[] {
    return [this.tools.nsenter, `--mount=${this.fileOf(name)}`, '--', ...argv];
  }

  private resolvedFileOf(name: string): string {
    try {
      return path.join(fs.realpathSync(this.directory), name);
    } catch {
      return this.fileOf(name);
    }
  }
}

/**
 * Lazily unmounts every mount at or below `directory`, deepest first (the
 * namespace files, then the directory's own bind): what a test or a launcher
 * does before deleting a kubelet's root dir. Returns how many it unmounted.
 */
export function unmountAllBelow(directory: string, umountPath = 'umount'): number {
  let root: string;
  try {
    root = fs.realpathSync(directory);
  } catch {
    return 0;
  }
  const below = readMounts()
    .map((entry) => entry.mountPoint)
    .filter((mountPoint) => mountPoint === root || mountPoint.startsWith(`${root}/`))
    .sort((a, b) => b.length - a.length);
  let count = 0;
  for (const mountPoint of below) {
    try {
      execFileSync(umountPath, ['-l', mountPoint], { stdio: 'ignore', timeout: TOOL_TIMEOUT_MS });
      count++;
    } catch {
      // Gone already (a parent's lazy unmount took it along).
    }
  }
  return count;
}

function commandError(error: unknown): string {
  const stderr = (error as { stderr?: Buffer | string }).stderr;
  const text = stderr === undefined ? '' : String(stderr).trim();
  return text || (error as Error).message;
}
