// The outcome of one plugin call, in the shape of upstream's framework.Status:
// a code plus the reasons a user reads in the FailedScheduling event.

export type StatusCode =
  /** The plugin is content (upstream also uses a nil status for this). */
  | 'Success'
  /** Something broke (a bug, an unreachable server): the pod is retried after a backoff. */
  | 'Error'
  /** The node does not fit now, but a change on it (or preemption) could make it fit. */
  | 'Unschedulable'
  /** The node cannot fit whatever happens to other pods; preemption would not help. */
  | 'UnschedulableAndUnresolvable'
  /** From PreFilter/PreScore: this plugin has nothing to say about the pod, skip its Filter/Score. */
  | 'Skip';

export class Status {
  constructor(
    readonly code: StatusCode,
    readonly reasons: readonly string[] = [],
    /** The plugin that produced the status, filled by the framework. */
    public plugin = '',
    /** The underlying error of an Error status. */
    readonly cause?: unknown,
  ) {}

  static success(): Status {
    return new Status('Success');
  }

  static unschedulable(...reasons: string[]): Status {
    return new Status('Unschedulable', reasons);
  }

  static unresolvable(...reasons: string[]): Status {
    return new Status('UnschedulableAndUnresolvable', reasons);
  }

  static skip(): Status {
    return new Status('Skip');
  }

  static error(cause: unknown): Status {
    const message = cause instanceof Error ? cause.message : String(cause);
    return new Status('Error', [message], '', cause);
  }

  isSuccess(): boolean {
    return this.code === 'Success';
  }

  /** Unschedulable or UnschedulableAndUnresolvable: the pod was turned down, nothing broke. */
  isRejected(): boolean {
    return this.code === 'Unschedulable' || this.code === 'UnschedulableAndUnresolvable';
  }

  /** The reasons joined as upstream's Status.Message() does. */
  message(): string {
    return this.reasons.join(', ');
  }

  withPlugin(plugin: string): Status {
    this.plugin = plugin;
    return this;
  }
}

/** A plugin result where `undefined` means Success, as upstream's nil *Status. */
export type MaybeStatus = Status | undefined;

/** True for undefined and Success statuses. */
export function isSuccess(status: MaybeStatus): boolean {
  return status === undefined || status.code === 'Success';
}
