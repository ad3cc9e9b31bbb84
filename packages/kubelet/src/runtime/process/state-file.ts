// The process runtime's memory across kubelet restarts: which sandboxes and
// containers exist, their processes and the pod IPs in use. Written whole and
// atomically (temp file + rename). Writing it synchronously after every change
// cost O(n) per change on the kubelet's only thread (O(n²) for n pods), so
// RuntimeStateSaver coalesces: one asynchronous write at a time, and changes
// made meanwhile go out together in the next one.
import fs from 'node:fs';
import path from 'node:path';
import type { ContainerConfig, ContainerStatus, DnsConfig, PodSandbox } from '../runtime';

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

/** A sandbox as the process runtime keeps it: what it reports, plus what its containers need. */
export interface SandboxRecord extends PodSandbox {
  /** The pod's resolver settings: its containers get their search list and options in env. */
  dns?: DnsConfig;
  /** The sandbox has a mount namespace of its own (mount-namespace.ts), named by the sandbox id. */
  mountNamespace?: boolean;
}

export interface RuntimeStateData {
  version: 1;
  nextAddressIndex: number;
  sandboxes: SandboxRecord[];
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

let saverCount = 0;

/**
 * Writes the latest state behind the caller's back: request() after a change,
 * flush() to wait until the file holds everything requested so far. A write
 * that fails is retried with the next request or flush; flush() rejects with
 * its error.
 */
export class RuntimeStateSaver {
  private writing: Promise<void> | undefined;
  private pending = false;
  private lastError: unknown;
  // Per saver: two runtimes on one directory (a test's kubelet "restart") must not share a temp file.
  private readonly temporary: string;

  constructor(
    private readonly file: string,
    private readonly snapshot: () => RuntimeStateData,
  ) {
    saverCount += 1;
    this.temporary = `${file}.${process.pid}-${saverCount}.tmp`;
  }

  request(): void {
    this.pending = true;
    if (!this.writing) this.writing = this.drain();
  }

  async flush(): Promise<void> {
    if (this.pending && !this.writing) this.writing = this.drain();
    while (this.writing) await this.writing;
    if (this.lastError !== undefined) {
      const error = this.lastError;
      this.lastError = undefined;
      throw error;
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending) {
        this.pending = false;
        // Serialized now, not when the write was requested: every change so far goes out.
        const text = JSON.stringify(this.snapshot());
        try {
          await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
          await fs.promises.writeFile(this.temporary, text);
          await fs.promises.rename(this.temporary, this.file);
          this.lastError = undefined;
        } catch (error) {
          this.lastError = error;
          this.pending = true;
          break;
        }
      }
    } finally {
      this.writing = undefined;
    }
  }
}
