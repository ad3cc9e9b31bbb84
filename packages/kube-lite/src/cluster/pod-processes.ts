// The container processes a node's kubelet started with the process runtime.
// They run detached from the kubelet (each in its own process group, so they
// survive a kubelet restart), so killing the kubelet leaves them running: to
// simulate a machine losing power, they are found through the runtime's state
// file (packages/kubelet/src/runtime/process/state-file.ts: `containers[]`
// with `status.pid` and `processStartTicks`) somewhere under the node's root
// dir, and their groups are killed.
import fs from 'node:fs';
import path from 'node:path';
import { isAlive, signalGroup, type ProcessIdentity } from '../supervisor';

const STATE_FILE_NAME = 'state.json';
/** The runtime keeps its state a few levels below the root dir; deeper trees (container roots) are not searched. */
const MAX_SEARCH_DEPTH = 4;

interface RuntimeStateShape {
  version?: number;
  sandboxes?: unknown[];
  containers?: { status?: { pid?: number; state?: string; name?: string }; processStartTicks?: number }[];
}

export interface ContainerProcess extends ProcessIdentity {
  /** The container's name, for messages. */
  name: string;
}

/** Every container process recorded under `rootDir` (alive or not). */
export function findContainerProcesses(rootDir: string): ContainerProcess[] {
  const found: ContainerProcess[] = [];
  for (const file of findStateFiles(rootDir, MAX_SEARCH_DEPTH)) {
    let state: RuntimeStateShape;
    try {
      state = JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimeStateShape;
    } catch {
      continue;
    }
    // Only the runtime's own file: a pod's volume may hold any state.json.
    if (state.version !== 1 || !Array.isArray(state.sandboxes) || !Array.isArray(state.containers)) continue;
    for (const container of state.containers) {
      const pid = container.status?.pid;
      if (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 1) continue;
      found.push({ pid, startTicks: container.processStartTicks, name: container.status?.name ?? '?' });
    }
  }
  return found;
}

function findStateFiles(directory: string, depthLeft: number): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(directory, { withFileTypes: true });
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const entry of entries) {
    const full = path.join(directory, entry.name);
    if (entry.isFile() && entry.name === STATE_FILE_NAME) files.push(full);
    else if (entry.isDirectory() && depthLeft > 0) files.push(...findStateFiles(full, depthLeft - 1));
  }
  return files;
}

/** SIGKILLs the process group of every live container under `rootDir`; returns how many were killed. */
export function killContainerProcesses(rootDir: string): number {
  let killed = 0;
  for (const container of findContainerProcesses(rootDir)) {
    if (isAlive(container) && signalGroup(container, 'SIGKILL')) killed += 1;
  }
  return killed;
}
