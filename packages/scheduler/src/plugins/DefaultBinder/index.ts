// Binds through the API server (POST pods/<name>/binding), upstream DefaultBinder.
import { Status, type BindPlugin, type CycleState, type FrameworkHandle, type MaybeStatus, type PodBinder } from '../../framework';
import type { PodInfo } from '../../snapshot';

export const NAME = 'DefaultBinder';

/** The handle has no binder: the scheduler was built without an API client. */
export class BinderMissingError extends Error {
  constructor() {
    super('DefaultBinder needs a PodBinder in the framework handle');
    this.name = 'BinderMissingError';
  }
}

export class DefaultBinder implements BindPlugin {
  readonly name = NAME;

  constructor(private readonly binder: PodBinder) {}

  async bind(_state: CycleState, pod: PodInfo, nodeName: string): Promise<MaybeStatus> {
    try {
      await this.binder.bind(pod.pod, nodeName);
      return undefined;
    } catch (error) {
      return Status.error(error);
    }
  }
}

export function newDefaultBinder(_args: unknown, handle: FrameworkHandle): DefaultBinder {
  if (!handle.binder) throw new BinderMissingError();
  return new DefaultBinder(handle.binder);
}
