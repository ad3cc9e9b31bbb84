// The /readyz check for etcd: the API server is ready only while etcd answers.

import { isStorageError } from './errors';
import type { EtcdStore } from './store';

export interface HealthCheckResult {
  healthy: boolean;
  /** "ok", or why etcd is not usable (names the endpoints when unreachable). */
  message: string;
}

export class EtcdHealthCheck {
  /** The check's name in /readyz output, as upstream's "[+]etcd ok". */
  readonly name = 'etcd';

  constructor(
    private readonly store: EtcdStore,
    /** How long etcd gets to answer before the check fails. */
    private readonly timeoutMs = 2000,
  ) {}

  async check(): Promise<HealthCheckResult> {
    try {
      await this.store.checkHealth(this.timeoutMs);
      return { healthy: true, message: 'ok' };
    } catch (error) {
      if (!isStorageError(error)) throw error;
      return { healthy: false, message: error.message };
    }
  }
}
