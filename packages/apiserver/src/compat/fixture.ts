// TEST-ONLY support for the kubectl compatibility suite and the registry
// integration tests: a real one-member etcd, the composed API server on it
// (temp cert dir, admin kubeconfig) and a runner for the real kubectl with a
// fresh HOME and cache dir, so no state leaks between runs.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEtcdCluster, type EtcdCluster, type EtcdImplementation } from '@kube-lite/testing';
import { parsePortRange, parseServiceIpRange } from '../config';
import { startKubeApiServer, type KubeApiServerConfig, type RunningKubeApiServer } from '../kube-apiserver';
import { Logger } from '../server';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Cluster {
  etcd: EtcdCluster;
  apiServer: RunningKubeApiServer;
  directory: string;
  kubeconfig: string;
  logLines: string[];
  /** Runs kubectl against the server; stdin is closed unless `input` is given. */
  kubectl(args: readonly string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Starts kubectl and returns the process, for commands that keep running (get -w). */
  spawnKubectl(args: readonly string[]): ReturnType<typeof spawn>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  implementation?: EtcdImplementation;
  config?: Partial<KubeApiServerConfig>;
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const directory = mkdtempSync(join(tmpdir(), 'kube-lite-compat-'));
  const etcd = await startEtcdCluster({ implementation: options.implementation ?? 'etcd', members: 1 });
  const logLines: string[] = [];
  const kubeconfig = join(directory, 'kubeconfig');
  let apiServer: RunningKubeApiServer;
  try {
    apiServer = await startKubeApiServer({
      etcdServers: etcd.members.map((member) => member.clientUrl),
      securePort: 0,
      bindAddress: '127.0.0.1',
      advertiseAddress: '127.0.0.1',
      serviceClusterIpRange: parseServiceIpRange('10.96.0.0/16'),
      serviceNodePortRange: parsePortRange('30000-32767'),
      certDir: join(directory, 'pki'),
      kubeconfigOut: kubeconfig,
      verbosity: 2,
      logger: new Logger({ level: 'info', write: (line) => logLines.length < 5000 && logLines.push(line) }),
      ...(options.config ?? {}),
    });
  } catch (error) {
    await etcd.stop();
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const home = join(directory, 'home');
  const environment = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home };
  // Global flags go first: everything after `--` belongs to the command kubectl exec runs.
  const fullArgs = (args: readonly string[]): string[] => ['--kubeconfig', kubeconfig, '--cache-dir', join(home, 'cache'), ...args];
  return {
    etcd,
    apiServer,
    directory,
    kubeconfig,
    logLines,
    kubectl(args, runOptions = {}) {
      return new Promise((resolve) => {
        const child = spawn('kubectl', ['--request-timeout', '20s', ...fullArgs(args)], {
          env: environment,
          stdio: [runOptions.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
          timeout: runOptions.timeoutMs ?? 30_000,
        });
        let stdout = '';
        let stderr = '';
        child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
        child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        if (runOptions.input !== undefined) child.stdin?.end(runOptions.input);
        child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      });
    },
    spawnKubectl(args) {
      return spawn('kubectl', fullArgs(args), { env: environment, stdio: ['ignore', 'pipe', 'pipe'] });
    },
    async stop() {
      await apiServer.stop();
      await etcd.stop();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
