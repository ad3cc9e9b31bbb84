// The process runtime's memory across kubelet restarts: which sandboxes and
// containers exist, their processes and the pod IPs in use. Written whole and
// atomically (temp file + rename) after every change; it is small.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerConfig, ContainerStatus, PodSandbox } from '../runtime';

export interface ContainerRecord {
  status: ContainerStatus;
  config: ContainerConfig;
  /** The argv actually run (image defaults applied). */
  argv: string[];
  /** The environment the process got, reused by exec. */
  env: Record<string, string>;
  workingDir: string;
  /** With pid, identifies the process across pid reuse. */
  processStartTicks?: number;
  /** Set when the runtime sent SIGKILL, to name the exit when no exit code was recorded. */
  killed?: boolean;
}

export interface RuntimeStateData {
  version: 1;
  nextAddressIndex: number;
  sandboxes: PodSandbox[];
  containers: ContainerRecord[];
}

/** The state file exists but cannot be read back: refusing to guess protects running pods' IPs. */
export class RuntimeStateFileError extends Error {
  constructor(file: string, options: { cause: unknown }) {
    super(`cannot read process runtime state ${file}; move it away to start from nothing`, options);
    this.name = 'RuntimeStateFileError';
  }
}

export function loadRuntimeState(file: string): RuntimeStateData {
  if (!fs.existsSync(file)) return { version: 1, nextAddressIndex: 0, sandboxes: [], containers: [] };
  try {
    const data = JSON.parse(fs.readFileSync(file, 'utf8')) as RuntimeStateData;
    if (data.version !== 1 || !Array.isArray(data.sandboxes) || !Array.isArray(data.containers)) throw new Error('unknown format');
    return data;
  } catch (cause) {
    throw new RuntimeStateFileError(file, { cause });
  }
}

export function saveRuntimeState(file: string, data: RuntimeStateData): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(data));
  fs.renameSync(temporary, file);
}
