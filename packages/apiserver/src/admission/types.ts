// The admission vocabulary: what a plugin is told about a request, and the two
// phases upstream runs (mutating plugins change the object, then validating
// plugins may only accept or reject it).

import type { UserInfo } from '../auth';
import type { GroupResource } from '../server';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  /** The object's kind, e.g. `Pod`. */
  kind: string;
  resource: GroupResource;
  /** `` or e.g. `status`, `binding`. */
  subresource: string;
  /** `` for cluster-scoped resources. */
  namespace: string;
  name: string;
  /** The new object (CREATE, UPDATE); mutating plugins change it in place. */
  object?: Record<string, unknown>;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: Record<string, unknown>;
  dryRun: boolean;
  user: UserInfo;
}

export interface AdmissionPlugin {
  /** The plugin's upstream name, e.g. `NamespaceLifecycle`. */
  readonly name: string;
  /** Mutating phase: may change attributes.object; throws a StatusError to reject. */
  admit?(attributes: AdmissionAttributes): void | Promise<void>;
  /** Validating phase: throws a StatusError to reject; never changes the object. */
  validate?(attributes: AdmissionAttributes): void | Promise<void>;
}
