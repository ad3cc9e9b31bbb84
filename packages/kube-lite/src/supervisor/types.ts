// What the supervisor knows about a component: how to start it, how to tell
// it is ready, and (once started) which process it is. All of it is plain
// JSON, because it lives in the state file that `down`, `status` and
// `stop-node` read from another shell.
import type { ProcessIdentity } from './process-identity';

/** How to tell a freshly started component is ready to serve. */
export type ReadinessCheck =
  /** GET returns 2xx. For https, `caFile` (a PEM file that may appear only once the component wrote it) is the trust root. */
  | { kind: 'http'; url: string; caFile?: string }
  /** A TCP connect succeeds. */
  | { kind: 'tcp'; host: string; port: number }
  /** The component has no endpoint to ask: it counts as ready once it stayed up this long. */
  | { kind: 'settle'; durationMs: number };

export interface ComponentSpec {
  /** Unique name, also the log file's name: `etcd-1`, `kube-apiserver`, `kubelet-worker-2`. */
  name: string;
  /** The binary's upstream name, for messages: `etcd-lite`, `kubelet`. */
  binary: string;
  /** Absolute path of the JavaScript entry file run with this Node. */
  entryFile: string;
  /** Command-line arguments after the entry file. */
  args: string[];
  /** Variables added to the launcher's own environment. */
  env?: Record<string, string>;
  /** Working directory; the launcher's when unset. */
  workingDirectory?: string;
  readiness: ReadinessCheck;
  /** How long to wait for readiness before giving up. */
  readyTimeoutMs: number;
  /** What `status` shows, label to address: `{ client: '127.0.0.1:2379' }`. */
  endpoints: Record<string, string>;
}

/** `running`: it should be up, and its death is a crash. `stopped`: it was stopped on purpose. */
export type DesiredState = 'running' | 'stopped';

export interface ComponentRecord {
  spec: ComponentSpec;
  /** Absolute path of the file its stdout and stderr go to. */
  logFile: string;
  desired: DesiredState;
  /** The process, once started. */
  process?: ProcessIdentity;
  /** When the current process was started (ms since the epoch). */
  startedAtMs?: number;
}
