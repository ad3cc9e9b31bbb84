// The kubelet binary against a real API server on a real etcd: it registers
// its Node with a node identity (so the node authorizer's rules are what it
// lives by), runs a pod created through the API with the process runtime,
// serves its logs through the API server's proxy, finishes its graceful
// deletion, and exits 0 on SIGTERM.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { request as httpsRequest } from 'node:https';
import os from 'node:os';
import path from 'node:path';
import type { Lease, Node, Pod } from '@kube-lite/api';
import { GrpcApiClient, isNotFound } from '@kube-lite/client';
import { startEtcdCluster, startInProcessApiServer, type EtcdCluster, type InProcessApiServer } from '@kube-lite/testing';
import { unmountAllBelow } from './runtime/process/mount-namespace';

jest.setTimeout(120_000);

const packageDirectory = path.resolve(__dirname, '..');
const binary = path.join(packageDirectory, 'dist', 'cli.js');

/** Builds the binary when it is missing or older than a source file, so the test runs what the sources say. */
function ensureBuilt(): void {
  const builtMs = fs.existsSync(binary) ? fs.statSync(binary).mtimeMs : 0;
  const sources = fs.readdirSync(path.join(packageDirectory, 'src'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'));
  if (sources.every((file) => fs.statSync(path.join(packageDirectory, 'src', file)).mtimeMs <= builtMs)) return;
  execFileSync('npx', ['tsc', '-b', 'packages/kubelet'], { cwd: path.resolve(packageDirectory, '..', '..'), stdio: 'pipe', timeout: 110_000 });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`);
}

describe('kubelet binary with kube-apiserver and etcd', () => {
  let directory: string;
  let etcd: EtcdCluster | undefined;
  let apiServer: InProcessApiServer | undefined;
  let admin: GrpcApiClient | undefined;
  let kubelet: ChildProcess | undefined;
  let kubeletOutput = '';

  beforeAll(async () => {
    ensureBuilt();
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-binary-'));
    const tokenFile = path.join(directory, 'tokens.csv');
    fs.writeFileSync(tokenFile, 'admin-token,admin,admin-uid,"system:masters"\nnode-token,system:node:node-it,node-it-uid,"system:nodes"\n');
    etcd = await startEtcdCluster({ implementation: 'etcd', members: 1 });
    apiServer = await startInProcessApiServer({ etcdServers: etcd.members.map((member) => member.clientUrl), directory, tokenAuthFile: tokenFile });
    admin = new GrpcApiClient({ address: `127.0.0.1:${apiServer.grpcPort}`, token: 'admin-token', tls: { caPem: apiServer.caPem }, defaultTimeoutMs: 10_000 });
    const caFile = path.join(directory, 'ca.pem');
    fs.writeFileSync(caFile, apiServer.caPem);
    kubelet = spawn(
      process.execPath,
      [
        binary,
        '--master', `127.0.0.1:${apiServer.grpcPort}`,
        '--ca-file', caFile,
        '--token', 'node-token',
        '--hostname-override', 'node-it',
        '--node-ip', '127.0.0.1',
        '--root-dir', path.join(directory, 'kubelet'),
        '--pod-ip-block', '127.77.0.0/16',
        '--port', '0',
        '--address', '127.0.0.1',
        '--node-status-update-frequency', '1s',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const capture = (chunk: Buffer): void => {
      kubeletOutput = (kubeletOutput + chunk.toString('utf8')).slice(-20_000);
    };
    kubelet.stdout?.on('data', capture);
    kubelet.stderr?.on('data', capture);
  });

  afterAll(async () => {
    if (kubelet && kubelet.exitCode === null) kubelet.kill('SIGKILL');
    admin?.close();
    await apiServer?.stop();
    await etcd?.stop();
    // Anything the kubelet left running belongs to this test: stop it before removing its directory.
    const state = path.join(directory, 'kubelet', 'runtime', 'state.json');
    if (fs.existsSync(state)) {
      const pids = JSON.stringify(JSON.parse(fs.readFileSync(state, 'utf8'))).match(/"pid":(\d+)/g) ?? [];
      for (const entry of pids) {
        try {
          process.kill(-Number(entry.slice(6)), 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    // As root the kubelet gave its pods mount namespaces bound to files under its root dir.
    unmountAllBelow(directory);
    fs.rmSync(directory, { recursive: true, force: true });
  });

  function describeFailure(error: unknown): Error {
    return new Error(`${(error as Error).message}\n--- kubelet output ---\n${kubeletOutput}`);
  }

  it('registers, runs a pod with a pod IP, serves its logs through the API server, deletes it, and exits 0 on SIGTERM', async () => {
    const client = admin as GrpcApiClient;
    try {
      const node = await until('a Ready node-it', async () => {
        const found = await client.nodes().get('node-it');
        return found.status?.conditions?.find((condition) => condition.type === 'Ready')?.status === 'True' ? found : undefined;
      });
      expect(node.status?.nodeInfo).toMatchObject({ kubeletVersion: 'v1.32.0-kube-lite', containerRuntimeVersion: 'process://1' });
      expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBeGreaterThan(0);
      const lease = await until('the node lease', () => client.leases('kube-node-lease').get('node-it') as Promise<Lease | undefined>);
      expect(lease.metadata?.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: 'node-it', uid: node.metadata?.uid });

      const pod: Pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'hello', namespace: 'default' },
        spec: { nodeName: 'node-it', terminationGracePeriodSeconds: 5, containers: [{ name: 'main', image: 'busybox', command: ['sh', '-c', 'echo hello from $POD_IP; exec sleep 300'] }] },
      };
      await client.pods('default').create(pod);
      const running = await until('pod hello Running', async () => {
        const found = await client.pods('default').get('hello');
        return found.status?.phase === 'Running' ? found : undefined;
      });
      expect(running.status?.podIP).toMatch(/^127\.77\.\d+\.\d+$/);
      expect(running.status?.hostIP).toBe('127.0.0.1');

      const logs = await until('container logs through the API server', async () => {
        const text = await restGet(apiServer as InProcessApiServer, '/api/v1/namespaces/default/pods/hello/log');
        return text.includes('hello from') ? text : undefined;
      });
      expect(logs).toContain(`hello from ${running.status?.podIP}`);

      await client.pods('default').delete('hello');
      await until('pod hello gone', async () => {
        try {
          await client.pods('default').get('hello');
          return undefined;
        } catch (error) {
          if (isNotFound(error)) return true;
          throw error;
        }
      });

      const child = kubelet as ChildProcess;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      const afterStop: Node = await client.nodes().get('node-it');
      expect(afterStop.metadata?.name).toBe('node-it');
      // Everything it did, it was allowed to do as system:node:node-it.
      expect(kubeletOutput).not.toMatch(/forbidden/i);
    } catch (error) {
      throw describeFailure(error);
    }
  });
});

function restGet(apiServer: InProcessApiServer, requestPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port: apiServer.port, path: requestPath, headers: { Authorization: 'Bearer admin-token' }, ca: apiServer.caPem, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((response.statusCode ?? 0) >= 400) reject(new Error(`GET ${requestPath}: ${response.statusCode} ${text}`));
        else resolve(text);
      });
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

describe('kubelet binary without an API server', () => {
  it('keeps serving /healthz while it retries, and exits 0 on SIGTERM', async () => {
    ensureBuilt();
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-offline-'));
    // Port 1 on loopback: nothing listens there, every call is refused.
    const child = spawn(process.execPath, [binary, '--master', '127.0.0.1:1', '--insecure', '--hostname-override', 'offline', '--node-ip', '127.0.0.1', '--root-dir', directory, '--port', '0', '--address', '127.0.0.1', '--node-status-update-frequency', '200ms'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await until('the kubelet API port', async () => {
        const match = /"msg":"kubelet API listening"[^\n]*"port":(\d+)/.exec(output);
        return match ? Number(match[1]) : undefined;
      });
      await until('failed heartbeats', async () => (output.match(/node heartbeat failed/g)?.length ?? 0) >= 3 || undefined, 15_000);
      expect(child.exitCode).toBeNull();
      expect(await httpsGetInsecure(port, '/healthz')).toBe('ok');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- kubelet output ---\n${output.slice(-5000)}`);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      unmountAllBelow(directory);
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});

function httpsGetInsecure(port: number, requestPath: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // The kubelet's certificate is self-signed, as upstream's is by default.
    const request = httpsRequest({ host: '127.0.0.1', port, path: requestPath, rejectUnauthorized: false, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve(Buffer.concat(chunks).toString('utf8').trim()));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}
