// <data-dir>/state.json: the components of one cluster, their processes and
// the launcher watching them. `up`, `down`, `status` and `stop-node` may run
// at the same time from different shells, so every change is a
// read-modify-write under a lock directory, and the file is replaced
// atomically (temp file + rename) so a reader never sees half of it.
import fs from 'node:fs';
import path from 'node:path';
import { StateFileError } from '../errors';
import { isAlive, type ProcessIdentity } from './process-identity';
import type { ComponentRecord } from './types';

export interface SupervisorState<TCluster> {
  version: 1;
  /** The `kube-lite up` process that stays in the foreground, while it runs. */
  launcher?: ProcessIdentity;
  /** Components in start order (stops go in reverse). */
  components: ComponentRecord[];
  /** Whatever the launcher needs to restart parts of the cluster (options, nodes). */
  cluster: TCluster;
}

/** How long a lock may be held before it is considered abandoned by a crashed holder. */
const STALE_LOCK_MS = 30_000;
const LOCK_RETRY_MS = 20;
const LOCK_TIMEOUT_MS = 10_000;

export class StateStore<TCluster> {
  readonly lockDirectory: string;

  constructor(readonly file: string) {
    this.lockDirectory = `${file}.lock`;
  }

  exists(): boolean {
    return fs.existsSync(this.file);
  }

  /** The state, or undefined when no cluster was ever started here. */
  read(): SupervisorState<TCluster> | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateFileError(this.file, `cannot be read: ${(error as Error).message}`, { cause: error });
    }
    let state: SupervisorState<TCluster>;
    try {
      state = JSON.parse(text) as SupervisorState<TCluster>;
    } catch (error) {
      throw new StateFileError(this.file, 'is not valid JSON; stop any leftover processes by hand, then delete it', { cause: error });
    }
    if (state.version !== 1 || !Array.isArray(state.components)) {
      throw new StateFileError(this.file, `has an unknown format (version ${JSON.stringify(state.version)})`);
    }
    return state;
  }

  /** Replaces the whole state. Callers that read first must use update() instead. */
  write(state: SupervisorState<TCluster>): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const temporary = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(temporary, JSON.stringify(state, null, 2) + '\n');
    fs.renameSync(temporary, this.file);
  }

  /**
   * Applies `change` to the current state under the lock and writes the
   * result. `initial` supplies the state when there is none yet.
   */
  async update(change: (state: SupervisorState<TCluster>) => void | Promise<void>, initial?: () => SupervisorState<TCluster>): Promise<SupervisorState<TCluster>> {
    await this.lock();
    try {
      const state = this.read() ?? initial?.();
      if (state === undefined) throw new StateFileError(this.file, 'does not exist');
      await change(state);
      this.write(state);
      return state;
    } finally {
      this.unlock();
    }
  }

  private async lock(): Promise<void> {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      try {
        fs.mkdirSync(this.lockDirectory);
        fs.writeFileSync(path.join(this.lockDirectory, 'owner'), String(process.pid));
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new StateFileError(this.file, `cannot create lock ${this.lockDirectory}: ${(error as Error).message}`, { cause: error });
        }
      }
      if (this.lockIsAbandoned()) {
        fs.rmSync(this.lockDirectory, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new StateFileError(this.file, `lock ${this.lockDirectory} is held by another kube-lite command; retry, or delete it if none is running`);
      }
      await new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
    }
  }

  private lockIsAbandoned(): boolean {
    try {
      const ownerPid = Number(fs.readFileSync(path.join(this.lockDirectory, 'owner'), 'utf8'));
      if (Number.isInteger(ownerPid) && ownerPid > 0 && !isAlive({ pid: ownerPid, startTicks: undefined })) return true;
      return Date.now() - fs.statSync(this.lockDirectory).mtimeMs > STALE_LOCK_MS;
    } catch {
      // The owner file is written right after mkdir: give a fresh lock that moment.
      try {
        return Date.now() - fs.statSync(this.lockDirectory).mtimeMs > STALE_LOCK_MS;
      } catch {
        return false;
      }
    }
  }

  private unlock(): void {
    fs.rmSync(this.lockDirectory, { recursive: true, force: true });
  }
}
