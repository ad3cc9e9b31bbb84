// End to end: `kube-lite up --workers 3` as a child process, then the real
// kubectl against it, node power loss included. Needs the whole workspace
// built (`npm run build`) and kubectl on PATH; takes minutes, so it runs only
// with KUBE_LITE_E2E=1.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findRepositoryRoot } from '../cluster/binaries';

const enabled = process.env.KUBE_LITE_E2E === '1';
const repositoryRoot = findRepositoryRoot();
const launcherEntry = path.join(repositoryRoot, 'packages', 'kube-lite', 'dist', 'cli.js');
const deploymentManifest = path.join(repositoryRoot, 'examples', 'lecture', 'deployment.yaml');
const DEPLOYMENT = 'ml-model-serving';
const SELECTOR = `app=${DEPLOYMENT}`;
const UP_TIMEOUT_MS = 240_000;
/** The brief's promise: a dead node's replicas run elsewhere within 20 s (10 s grace, 5 s toleration, scheduling). */
const FAILOVER_DEADLINE_MS = 20_000;
const ROLLOUT_TIMEOUT_MS = 120_000;
const POLL_MS = 1_000;

interface PodView {
  name: string;
  node: string;
  phase: string;
  terminating: boolean;
  image: string;
}

const suite = enabled ? describe : describe.skip;
if (!enabled) {
  // Jest prints no reason for a skip; this line says what to do.
  test.todo('local cluster end to end: skipped, set KUBE_LITE_E2E=1 after "npm run build" to run it');
}

suite('kube-lite local cluster (end to end)', () => {
  let dataDir: string;
  let launcher: ChildProcess;
  let output = '';
  let kubeconfig: string;

  const kubectl = (args: string[], timeoutMs = 30_000): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`kubectl ${args.join(' ')} failed: ${stderr || error.message}`));
        else resolve(stdout);
      });
    });

  const kubeLite = (args: string[], timeoutMs = 120_000): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, [launcherEntry, ...args, '--data-dir', dataDir], { timeout: timeoutMs }, (error, stdout, stderr) => {
        if (error) reject(new Error(`kube-lite ${args.join(' ')} failed: ${stderr || stdout || error.message}`));
        else resolve(stdout);
      });
    });

  const pods = async (): Promise<PodView[]> => {
    const list = JSON.parse(await kubectl(['get', 'pods', '-l', SELECTOR, '-o', 'json'])) as {
      items: { metadata: { name: string; deletionTimestamp?: string }; spec: { nodeName?: string; containers: { image: string }[] }; status: { phase?: string } }[];
    };
    return list.items.map((pod) => ({
      name: pod.metadata.name,
      node: pod.spec.nodeName ?? '',
      phase: pod.status.phase ?? '',
      terminating: pod.metadata.deletionTimestamp !== undefined,
      image: pod.spec.containers[0]?.image ?? '',
    }));
  };

  const running = (list: PodView[]): PodView[] => list.filter((pod) => pod.phase === 'Running' && !pod.terminating);

  /** Polls until `check` returns a value, or fails with the last state seen. */
  const eventually = async <T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      try {
        const value = await check();
        if (value !== undefined) return value;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) {
        const seen = await pods().catch(() => []);
        throw new Error(`${what}: not within ${timeoutMs / 1000} s. ${last} Pods: ${JSON.stringify(seen)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  };

  beforeAll(async () => {
    if (!fs.existsSync(launcherEntry)) throw new Error(`${launcherEntry} missing: run "npm run build" first`);
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-e2e-'));
    kubeconfig = path.join(dataDir, 'kubeconfig');
    launcher = spawn(process.execPath, [launcherEntry, 'up', '--workers', '3', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    launcher.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    launcher.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kube-lite up not ready within ${UP_TIMEOUT_MS / 1000} s:\n${output}`)), UP_TIMEOUT_MS);
      const check = (): void => {
        if (output.includes('kube-lite is up')) {
          clearTimeout(timer);
          resolve();
        }
      };
      launcher.stdout?.on('data', check);
      launcher.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`kube-lite up exited with ${code}:\n${output}`));
      });
    });
  }, UP_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    if (dataDir === undefined) return;
    await kubeLite(['down']).catch(() => undefined);
    if (launcher !== undefined && launcher.exitCode === null) launcher.kill('SIGKILL');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('shows 3 Ready nodes to the real kubectl', async () => {
    const nodes = JSON.parse(await kubectl(['get', 'nodes', '-o', 'json'])) as { items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[] };
    const ready = nodes.items.filter((node) => node.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).map((node) => node.metadata.name);
    expect(ready.sort()).toEqual(['worker-1', 'worker-2', 'worker-3']);
  });

  it('runs the lecture deployment: 10 Running replicas over 3 nodes', async () => {
    await kubectl(['apply', '-f', deploymentManifest]);
    const spread = await eventually('10 Running replicas on 3 nodes', 120_000, async () => {
      const live = running(await pods());
      return live.length === 10 && new Set(live.map((pod) => pod.node)).size === 3 ? live : undefined;
    });
    expect(spread).toHaveLength(10);
  }, 150_000);

  it('serves kubectl logs and kubectl exec for a replica', async () => {
    const pod = running(await pods())[0];
    expect(pod).toBeDefined();
    await expect(kubectl(['logs', pod!.name])).resolves.toEqual(expect.any(String));
    expect((await kubectl(['exec', pod!.name, '--', 'echo', 'hello-from-exec'])).trim()).toBe('hello-from-exec');
  }, 60_000);

  it(`moves every replica off a powered-off node within ${FAILOVER_DEADLINE_MS / 1000} s`, async () => {
    await kubeLite(['stop-node', 'worker-1']);
    const startedMs = Date.now();
    await eventually('10 Running replicas on the remaining nodes', FAILOVER_DEADLINE_MS, async () => {
      const live = running(await pods()).filter((pod) => pod.node !== 'worker-1');
      return live.length === 10 ? live : undefined;
    });
    expect(Date.now() - startedMs).toBeLessThanOrEqual(FAILOVER_DEADLINE_MS + POLL_MS);
  }, FAILOVER_DEADLINE_MS + 60_000);

  it('scales to 3, rolls out a new image, and rolls it back', async () => {
    await kubectl(['scale', `deployment/${DEPLOYMENT}`, '--replicas=3']);
    // Pods of the powered-off worker-1 stay Terminating (as upstream: nobody confirms their end); they are not counted.
    await eventually('3 replicas', 60_000, async () => (running(await pods()).length === 3 ? true : undefined));

    await kubectl(['set', 'image', `deployment/${DEPLOYMENT}`, `${DEPLOYMENT}=ml-serving:latest`]);
    await kubectl(['rollout', 'status', `deployment/${DEPLOYMENT}`, `--timeout=${ROLLOUT_TIMEOUT_MS / 1000}s`], ROLLOUT_TIMEOUT_MS + 5_000);
    await eventually('3 replicas on ml-serving:latest', 60_000, async () => {
      const live = running(await pods());
      return live.length === 3 && live.every((pod) => pod.image === 'ml-serving:latest') ? true : undefined;
    });

    await kubectl(['rollout', 'undo', `deployment/${DEPLOYMENT}`]);
    await kubectl(['rollout', 'status', `deployment/${DEPLOYMENT}`, `--timeout=${ROLLOUT_TIMEOUT_MS / 1000}s`], ROLLOUT_TIMEOUT_MS + 5_000);
    await eventually('3 replicas back on ml-serving:1.0', 60_000, async () => {
      const live = running(await pods());
      return live.length === 3 && live.every((pod) => pod.image === 'ml-serving:1.0') ? true : undefined;
    });
  }, 3 * ROLLOUT_TIMEOUT_MS);

  it('stops everything with kube-lite down, and the foreground launcher exits', async () => {
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, 'state.json'), 'utf8')) as { components: { process?: { pid: number } }[] };
    await kubeLite(['down']);
    const launcherExit = await new Promise<number | null>((resolve) => {
      if (launcher.exitCode !== null) resolve(launcher.exitCode);
      else launcher.once('exit', (code) => resolve(code));
    });
    expect(launcherExit).toBe(0);
    for (const component of state.components) {
      if (component.process === undefined) continue;
      expect(() => process.kill(component.process!.pid, 0)).toThrow();
    }
  }, 120_000);
});
