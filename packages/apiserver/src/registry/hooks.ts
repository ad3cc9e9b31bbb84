// Kind-specific side effects around a write that the strategy alone cannot
// express because they touch other state (Service IP and port allocation).

import type { ApiObject } from './object';

/** Side effects of one write: undone when the write fails, finished when it is stored. */
export interface WriteEffects {
  /** The object was stored: release what it gave up. */
  commit(): Promise<void>;
  /** The write failed or was a dry run: give back what was taken for it. */
  rollback(): Promise<void>;
}

export const NO_EFFECTS: WriteEffects = { commit: async () => undefined, rollback: async () => undefined };

export interface LifecycleHooks {
  /** Before validation on update: carry over values the client may omit (allocated IPs and ports). */
  fillFromPrevious?(next: ApiObject, previous: ApiObject): void;
  /** After validation on create; throws a StatusError to reject. */
  beforeCreate?(object: ApiObject): Promise<WriteEffects>;
  /** After validation on update; throws a StatusError to reject. */
  beforeUpdate?(next: ApiObject, previous: ApiObject): Promise<WriteEffects>;
  /** After the object left storage. */
  afterDelete?(object: ApiObject): Promise<void>;
}
