// The interface both proxy modes implement: kube-proxy hands every new
// forwarding table to sync(); the proxier makes the data path match it.

import type { ServiceTable } from '../core/service-table';

export type ProxyMode = 'userspace' | 'iptables';

export interface Proxier {
  readonly mode: ProxyMode;
  /** Makes the data path match `table`; idempotent (the same table twice changes nothing). */
  sync(table: ServiceTable): Promise<void>;
  /** Removes what the proxier installed or opened. */
  stop(): Promise<void>;
}
