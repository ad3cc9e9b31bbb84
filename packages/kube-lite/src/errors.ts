// One error class per failure a user can run into. Every message is one line
// that names what is wrong and what to do about it; the CLI prints it as is
// and exits 1. Anything else reaching the CLI is a bug and keeps its stack.

/** Base of every expected launcher failure. */
export class KubeLiteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A component's compiled entry file is missing: the workspace has not been built. */
export class MissingBuildError extends KubeLiteError {
  constructor(readonly missingFiles: string[]) {
    super(`not built: ${missingFiles.join(', ')} missing; run "npm run build" in the repository first`);
  }
}

/** A port the cluster needs is taken. */
export class PortInUseError extends KubeLiteError {
  constructor(
    readonly address: string,
    readonly port: number,
    readonly wantedBy: string,
    readonly holder: string | undefined,
  ) {
    super(
      `port ${port} on ${address} (for ${wantedBy}) is in use${holder === undefined ? '' : ` by ${holder}`}; ` +
        'stop that process, or run "kube-lite down" if it is a kube-lite cluster started from another data dir',
    );
  }
}

/** A loopback address (node IPs are 127.0.1.N) cannot be bound on this machine. */
export class LoopbackAddressError extends KubeLiteError {
  constructor(readonly address: string, options: { cause: unknown }) {
    super(
      `cannot bind ${address} (${(options.cause as Error).message}); on Linux all of 127.0.0.0/8 is loopback, ` +
        `elsewhere add the alias first (macOS: "sudo ifconfig lo0 alias ${address}")`,
      options,
    );
  }
}

/** Another launcher's cluster is still running from the same data dir. */
export class DataDirInUseError extends KubeLiteError {
  constructor(readonly dataDir: string, readonly runningComponents: string[]) {
    super(
      `data dir ${dataDir} is in use by a running cluster (${runningComponents.join(', ')}); ` +
        `run "kube-lite down --data-dir ${dataDir}" first, or use another --data-dir`,
    );
  }
}

/** The state file cannot be read or written. */
export class StateFileError extends KubeLiteError {
  constructor(readonly file: string, detail: string, options?: { cause?: unknown }) {
    super(`state file ${file}: ${detail}`, options);
  }
}

/** No cluster has been started from this data dir (no state file). */
export class NoClusterError extends KubeLiteError {
  constructor(readonly dataDir: string) {
    super(`no kube-lite cluster in ${dataDir} (no state.json); start one with "kube-lite up --data-dir ${dataDir}"`);
  }
}

/** A component exited while starting or while it should have been running. */
export class ComponentExitedError extends KubeLiteError {
  constructor(
    readonly component: string,
    readonly exitDescription: string,
    readonly logFile: string,
    readonly lastLogLines: string[],
  ) {
    super(`${component} ${exitDescription}; see ${logFile}`);
  }
}

/** A component kept running but did not become ready in time. */
export class ReadinessTimeoutError extends KubeLiteError {
  constructor(
    readonly component: string,
    readonly timeoutMs: number,
    readonly lastProblem: string,
    readonly logFile: string,
    readonly lastLogLines: string[],
  ) {
    super(`${component} not ready after ${(timeoutMs / 1000).toFixed(0)} s (last check: ${lastProblem}); see ${logFile}`);
  }
}

/** A name given on the command line is not a component, node or member of this cluster. */
export class UnknownComponentError extends KubeLiteError {
  constructor(readonly given: string, readonly kind: string, readonly known: string[]) {
    super(`no ${kind} named "${given}" in this cluster; known: ${known.join(', ') || '(none)'}`);
  }
}

/** A binary does not accept a flag the launcher must pass (its CLI changed). */
export class UnsupportedFlagError extends KubeLiteError {
  constructor(readonly binary: string, readonly flags: string[]) {
    super(
      `${binary} does not accept ${flags.join(', ')} (per its --help); rebuild with "npm run build", ` +
        'or adjust its argument list in packages/kube-lite/src/components.ts',
    );
  }
}

/** A command-line option of kube-lite itself has a value it cannot use. */
export class OptionError extends KubeLiteError {}

/** A command that changes a running cluster found it stopped. */
export class ClusterNotRunningError extends KubeLiteError {
  constructor(readonly dataDir: string, readonly command: string) {
    super(`the cluster in ${dataDir} is not running (its API server is down); start it with "kube-lite up --data-dir ${dataDir}", then run "${command}" again`);
  }
}

/** The running API server has no token for a new node (the cluster was started by a launcher without add-node). */
export class NodeCredentialsError extends KubeLiteError {
  constructor(readonly nodeName: string, readonly dataDir: string) {
    super(
      `the API server has no credentials for ${nodeName} (it reads its token file only at start); ` +
        `restart the cluster once ("kube-lite down --data-dir ${dataDir}", then "up") and run add-node again`,
    );
  }
}

/** Another kube-lite command changed the cluster's recorded shape while this one was working. */
export class ClusterChangedError extends KubeLiteError {
  constructor(readonly dataDir: string, detail: string) {
    super(`the cluster in ${dataDir} changed while this command ran (${detail}); run it again`);
  }
}
