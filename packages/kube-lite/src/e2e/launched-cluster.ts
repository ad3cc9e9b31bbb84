// What the local-cluster e2e suites share: `kube-lite up` started as a user
// starts it (a child process in the foreground, on a temporary data dir, its
// ports and loopback subnet moved so suites run side by side), the real
// kubectl and the launcher's other commands against it, and a poll that
// fails with a picture of the cluster.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findRepositoryRoot } from '../cluster/binaries';

export const kubectlFound = spawnSync('kubectl', ['version', '--client'], { timeout: 20_000 }).error === undefined;
export const repositoryRoot = findRepositoryRoot();
export const examplesDirectory = path.join(repositoryRoot, 'examples');
const launcherEntry = path.join(repositoryRoot, 'packages', 'kube-lite', 'dist', 'cli.js');

export interface LaunchOptions {
  /** Prefix of the temporary data dir. */
  dataDirPrefix: string;
  workers: number;
  portOffset: number;
  subnet: number;
  ingressPort: number;
  upTimeoutMs: number;
}

export class LaunchedCluster {
  /** Everything the foreground launcher printed so far. */
  output = '';
  readonly kubeconfig: string;

  private constructor(
    readonly dataDir: string,
    /** The foreground `kube-lite up`. */
    readonly launcher: ChildProcess,
  ) {
    this.kubeconfig = path.join(dataDir, 'kubeconfig');
  }

  /** Runs `kube-lite up` and resolves once it printed "kube-lite is up"; rejects with its output otherwise. */
  static async up(options: LaunchOptions): Promise<LaunchedCluster> {
    if (!fs.existsSync(launcherEntry)) throw new Error(`${launcherEntry} missing: run "npm run build" first (npm test does)`);
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), options.dataDirPrefix));
    const args = ['up', '--workers', String(options.workers), '--data-dir', dataDir, '--port-offset', String(options.portOffset), '--subnet', String(options.subnet), '--ingress-port', String(options.ingressPort)];
    const cluster = new LaunchedCluster(dataDir, spawn(process.execPath, [launcherEntry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    const { launcher } = cluster;
    launcher.stdout?.on('data', (chunk: Buffer) => (cluster.output += chunk.toString()));
    launcher.stderr?.on('data', (chunk: Buffer) => (cluster.output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kube-lite up not ready within ${options.upTimeoutMs / 1000} s:\n${cluster.output}`)), options.upTimeoutMs);
      launcher.stdout?.on('data', () => {
        if (!cluster.output.includes('kube-lite is up')) return;
        clearTimeout(timer);
        resolve();
      });
      launcher.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`kube-lite up exited with ${code}:\n${cluster.output}`));
      });
    });
    return cluster;
  }

  kubectl(args: string[], timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: this.kubeconfig }, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || error.message}`));
        else resolve(stdout);
      });
    });
  }

  /** Another command of the launcher (down, status, stop-node, add-node, ...) on this cluster's data dir. */
  kubeLite(args: string[], timeoutMs = 180_000): Promise<{ stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [launcherEntry, ...args, '--data-dir', this.dataDir], { timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error) reject(new Error(`kube-lite ${args.join(' ')} failed: ${stderr || stdout || error.message}`));
        else resolve({ stdout, stderr });
      });
    });
  }

  /** `kube-lite down`, the launcher killed if it is still there, the data dir removed. */
  async remove(): Promise<void> {
    await this.kubeLite(['down']).catch(() => undefined);
    if (this.launcher.exitCode === null) this.launcher.kill('SIGKILL');
    fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Jest prints no reason for a skipped suite: this line does. Returns describe, or describe.skip without kubectl. */
export function suiteNeedingKubectl(name: string): jest.Describe {
  if (kubectlFound) return describe;
  process.stderr.write(`${name} skipped: kubectl is not on PATH (install kubectl to run it)\n`);
  test.todo(`${name}: skipped because kubectl is not on PATH`);
  return describe.skip;
}
