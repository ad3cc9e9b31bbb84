#!/usr/bin/env node
// kube-lite: run a whole cluster as processes on this machine.
//   kube-lite up [--workers 3] [--runtime process|docker] [--data-dir .kube-lite] [--ingress-port 8080]
//                [--port-offset 0] [--subnet 1] [--no-foreground]
//   kube-lite down | status
//   kube-lite add-node                         (prints the new node's name)
//   kube-lite stop-node|start-node worker-N     kube-lite stop-etcd|start-etcd etcd-N
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { LocalCluster } from './cluster/local-cluster';
import { RUNTIME_NAMES, wantsPort53ClusterDns, type RuntimeName } from './cluster/layout';
import { runUp } from './commands/up';
import { formatStatus } from './commands/status';
import { KubeLiteError } from './errors';

const report = (line: string): void => void process.stdout.write(line + '\n');
/** Progress of a command whose stdout is its result (add-node prints only the node name there). */
const reportProgress = (line: string): void => void process.stderr.write(line + '\n');
/** Workers of a first `up`; a later `up` without --workers starts as many as the cluster last had. */
const DEFAULT_WORKERS = 3;

function integer(flag: string): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a whole number, got "${value}"`);
    return Number(value);
  };
}

function dataDirOption(): Option {
  return new Option('--data-dir <dir>', 'where the cluster keeps its state, logs and credentials').default('.kube-lite');
}

function resolveDataDir(options: { dataDir: string }): string {
  return path.resolve(options.dataDir);
}

function program(): Command {
  const root = new Command('kube-lite').description('Run a kube-lite cluster (etcd-lite x3, control plane, worker nodes) as processes on this machine').exitOverride();

  root
    .command('up')
    .description('start the cluster (or start it again from its data dir) and wait until every node is Ready')
    .option('--workers <count>', `number of worker nodes (default: as many as the data dir's cluster last had, else ${DEFAULT_WORKERS})`, integer('--workers'))
    .addOption(new Option('--runtime <runtime>', 'how kubelets run containers').choices(RUNTIME_NAMES).default('process'))
    .addOption(dataDirOption())
    .option('--ingress-port <port>', 'port of the cluster ingress on 127.0.0.1 (and of each node\'s own, on its node IP)', integer('--ingress-port'), 8080)
    .option('--port-offset <n>', 'add n to every other port the cluster listens on, to run a second cluster beside one on the defaults', integer('--port-offset'), 0)
    .option('--subnet <n>', 'loopback addresses to use: node IPs 127.0.<n>.N, pod and service blocks of their own (1, 2 or 3)', integer('--subnet'), 1)
    .option('--foreground', 'stay attached until Ctrl-C, which stops the cluster (the default)')
    .option('--no-foreground', 'return once the cluster is ready and leave it running; stop it with "kube-lite down"')
    .action(async (options: { workers?: number; runtime: RuntimeName; dataDir: string; ingressPort: number; portOffset: number; subnet: number; foreground?: boolean }) => {
      const dataDir = resolveDataDir(options);
      await runUp(
        {
          workers: options.workers ?? LocalCluster.recordedOptions(dataDir)?.workers ?? DEFAULT_WORKERS,
          runtime: options.runtime,
          dataDir,
          ingressPort: options.ingressPort,
          portOffset: options.portOffset,
          subnet: options.subnet,
          clusterDnsOnPort53: wantsPort53ClusterDns(options.runtime, process.platform, process.getuid?.()),
          foreground: options.foreground !== false,
        },
        report,
      );
    });

  root
    .command('down')
    .description('stop every component of the cluster (also when "up" was killed); data is kept')
    .addOption(dataDirOption())
    .action(async (options: { dataDir: string }) => {
      await LocalCluster.open(resolveDataDir(options), { report }).down();
    });

  root
    .command('status')
    .description('components with pid and state, the etcd leader, and the nodes')
    .addOption(dataDirOption())
    .action(async (options: { dataDir: string }) => {
      const status = await LocalCluster.open(resolveDataDir(options), { report }).status();
      for (const line of formatStatus(status)) report(line);
    });

  root
    .command('add-node')
    .description('add one more worker (the next number, same flags as the others) to the running cluster, wait until it is Ready, print its name')
    .addOption(dataDirOption())
    .action(async (options: { dataDir: string }) => {
      const name = await LocalCluster.open(resolveDataDir(options), { report: reportProgress }).addNode();
      report(name);
    });

  const failureCommands: { name: string; description: string; run: (cluster: LocalCluster, name: string, graceful: boolean) => Promise<void>; argument: string; graceful: boolean }[] = [
    { name: 'stop-node', argument: '<node>', graceful: true, description: 'simulate a power loss of a worker: SIGKILL its kubelet, kube-proxy and all its containers', run: (c, n, g) => c.stopNode(n, g) },
    { name: 'start-node', argument: '<node>', graceful: false, description: 'start a stopped worker again with the same flags and wait until it is Ready', run: (c, n) => c.startNode(n) },
    { name: 'stop-etcd', argument: '<member>', graceful: true, description: 'SIGKILL one etcd member (etcd-1, etcd-2, etcd-3)', run: (c, n, g) => c.stopEtcd(n, g) },
    { name: 'start-etcd', argument: '<member>', graceful: false, description: 'start a stopped etcd member again from its data dir', run: (c, n) => c.startEtcd(n) },
  ];
  for (const entry of failureCommands) {
    const command = root.command(`${entry.name} ${entry.argument}`).description(entry.description).addOption(dataDirOption());
    if (entry.graceful) command.option('--graceful', 'SIGTERM and wait (a clean shutdown) instead of SIGKILL');
    command.action(async (name: string, options: { dataDir: string; graceful?: boolean }) => {
      await entry.run(LocalCluster.open(resolveDataDir(options), { report }), name, options.graceful === true);
    });
  }
  return root;
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof KubeLiteError) {
      process.stderr.write(`kube-lite: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`kube-lite: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
