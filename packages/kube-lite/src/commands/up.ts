// `kube-lite up`: start the cluster, print how to use it, then either stay
// attached (Ctrl-C stops everything cleanly; a second Ctrl-C kills) or leave
// it running in the background for `kube-lite down`.
import { LocalCluster } from '../cluster/local-cluster';
import type { ClusterOptions } from '../cluster/layout';
import { signalGroup } from '../supervisor';

export interface UpOptions extends ClusterOptions {
  /** Stay attached until Ctrl-C (true), or return once the cluster is ready (false). */
  foreground: boolean;
}

/** Signals closer together than this are one Ctrl-C delivered twice. */
const DUPLICATE_SIGNAL_WINDOW_MS = 1_000;

export async function runUp(options: UpOptions, report: (line: string) => void): Promise<void> {
  const cluster = new LocalCluster(options, { report });
  let signals = 0;
  let firstSignalMs = 0;
  let started = false;
  let resolveStop: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => (resolveStop = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    // One Ctrl-C often arrives twice (from the terminal and forwarded by npm): only a later one means "kill".
    if (signals > 0 && Date.now() - firstSignalMs < DUPLICATE_SIGNAL_WINDOW_MS) return;
    signals += 1;
    if (signals === 1) firstSignalMs = Date.now();
    if (signals > 1) {
      report('killing every component');
      for (const record of cluster.store.read()?.components ?? []) if (record.process !== undefined) signalGroup(record.process, 'SIGKILL');
      process.exit(130);
    }
    report(`\n${signal}: stopping the cluster (Ctrl-C again to kill everything at once)`);
    if (started) {
      resolveStop();
      return;
    }
    // Interrupted while starting: stop what runs now, and again for anything spawned meanwhile.
    void (async () => {
      await cluster.down().catch(() => undefined);
      await cluster.down({ quiet: true }).catch(() => undefined);
      process.exit(130);
    })();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await cluster.up();
    started = true;
    for (const line of cluster.usage()) report(line);
    if (!options.foreground) {
      await cluster.detachLauncher();
      report('Running in the background; stop it with: kube-lite down' + dataDirFlag(options.dataDir));
      return;
    }
    report('Stop: Ctrl-C here, or "kube-lite down" from another shell.');
    await cluster.watch(stopSignal);
    await cluster.down();
    await cluster.detachLauncher();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export function dataDirFlag(dataDir: string): string {
  const defaultDir = `${process.cwd()}/.kube-lite`;
  return dataDir === defaultDir ? '' : ` --data-dir ${dataDir}`;
}
