// The real kubectl's streaming commands through a real API server (in-process,
// on a real etcd) to an in-process kubelet running pods on the process runtime:
// - port-forward: requests to the local port reach an HTTP server the pod runs
//   on its pod IP, over both of kubectl's transports: the WebSocket tunnel (the
//   default since 1.31) and SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false);
// - attach -i: kubectl's stdin reaches a container created with stdin: true,
//   and its answer comes back.
// Skipped, with a message, when kubectl is not installed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Pod } from '@kube-lite/api';
import { GrpcApiClient } from '@kube-lite/client';
import { startEtcdCluster, startInProcessApiServer, type EtcdCluster, type InProcessApiServer } from '@kube-lite/testing';
import { ensureSelfSignedCertificate } from '../cli';
import { Kubelet } from '../kubelet';
import { ProcessRuntime } from '../runtime/process/process-runtime';

const kubectlInstalled = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
if (!kubectlInstalled) console.warn('server.kubectl.test: kubectl is not installed; the real-kubectl port-forward and attach tests are skipped');
const describeWithKubectl = kubectlInstalled ? describe : describe.skip;

jest.setTimeout(120_000);

const POD_PORT = 8080;
const NODE_NAME = 'pf-node';

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

function httpGet(port: number, requestPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: requestPath, agent: false, timeout: 10_000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${requestPath} took longer than 10 s`)));
    request.on('error', reject);
  });
}

interface PortForward {
  child: ChildProcess;
  localPort: number;
  output: () => string;
  stop(): Promise<void>;
}

describeWithKubectl('kubectl port-forward and attach through the API server to the kubelet', () => {
  let directory: string;
  let etcd: EtcdCluster | undefined;
  let apiServer: InProcessApiServer | undefined;
  let client: GrpcApiClient | undefined;
  let runtime: ProcessRuntime | undefined;
  let kubelet: Kubelet | undefined;
  let kubeconfig: string;
  let podIP: string;
  const forwards: PortForward[] = [];

  beforeAll(async () => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-port-forward-'));
    const tokenFile = path.join(directory, 'tokens.csv');
    fs.writeFileSync(tokenFile, 'admin-token,admin,admin-uid,"system:masters"\n');
    kubeconfig = path.join(directory, 'kubeconfig');
    etcd = await startEtcdCluster({ implementation: 'etcd', members: 1 });
    apiServer = await startInProcessApiServer({ etcdServers: etcd.members.map((member) => member.clientUrl), directory, tokenAuthFile: tokenFile, kubeconfigOut: kubeconfig });
    client = new GrpcApiClient({ address: `127.0.0.1:${apiServer.grpcPort}`, token: 'admin-token', tls: { caPem: apiServer.caPem }, defaultTimeoutMs: 10_000 });
    runtime = new ProcessRuntime({ stateDirectory: path.join(directory, 'runtime'), podAddressBlock: '127.79.0.0/16' });
    kubelet = new Kubelet({
      client,
      runtime,
      nodeName: NODE_NAME,
      nodeIP: '127.0.0.1',
      rootDirectory: path.join(directory, 'kubelet'),
      port: 0,
      address: '127.0.0.1',
      tls: ensureSelfSignedCertificate(path.join(directory, 'kubelet-pki'), NODE_NAME, '127.0.0.1'),
      clientCaPem: apiServer.caPem,
      nodeStatusUpdateFrequencyMs: 1000,
    });
    await kubelet.start();
    // An HTTP server on the pod IP, as a real workload binds it; answers with the path and a body size on request.
    const script = [
      "const http = require('http');",
      'http.createServer((request, response) => {',
      "  const size = Number(new URL(request.url, 'http://pod').searchParams.get('bytes') || 0);",
      "  response.end(size > 0 ? 'x'.repeat(size) : 'hello from ' + process.env.POD_IP + ' ' + request.url);",
      `}).listen(${POD_PORT}, process.env.POD_IP);`,
    ].join('\n');
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'default' },
      spec: { nodeName: NODE_NAME, terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'node', command: [process.execPath, '-e', script], ports: [{ containerPort: POD_PORT }] }] },
    };
    await client.pods('default').create(pod);
    const running = await until('pod web Running', async () => {
      const found = await client!.pods('default').get('web');
      return found.status?.phase === 'Running' && found.status.podIP ? found : undefined;
    });
    podIP = running.status?.podIP ?? '';
    // Running is reported when the process started; wait until it listens.
    await until('the pod server listening', async () => ((await httpGetDirect(podIP, POD_PORT)).includes('hello') ? true : undefined), 15_000);
  });

  afterAll(async () => {
    for (const forward of forwards.splice(0)) await forward.stop();
    if (runtime) {
      for (const container of await runtime.listContainers({ state: 'running' })) await runtime.stopContainer(container.id, 0).catch(() => undefined);
    }
    await kubelet?.stop();
    await runtime?.close();
    client?.close();
    await apiServer?.stop();
    await etcd?.stop();
    if (directory) fs.rmSync(directory, { recursive: true, force: true });
  });

  /** Starts `kubectl port-forward pod/web :<remote>` and waits for its "Forwarding from" line. */
  async function portForward(remotePort: number, environment: Record<string, string>): Promise<PortForward> {
    const home = path.join(directory, 'home');
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', path.join(home, 'cache'), 'port-forward', '--address', '127.0.0.1', 'pod/web', `:${remotePort}`], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const forward: PortForward = {
      child,
      localPort: 0,
      output: () => output,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))]);
        clearTimeout(timer);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      },
    };
    forwards.push(forward);
    forward.localPort = await until(
      `kubectl's "Forwarding from" line (output so far: ${JSON.stringify(output)})`,
      async () => {
        if (child.exitCode !== null) throw new Error(`kubectl exited ${child.exitCode}: ${output}`);
        const match = /Forwarding from 127\.0\.0\.1:(\d+) -> (\d+)/.exec(output);
        return match ? Number(match[1]) : undefined;
      },
      20_000,
    );
    return forward;
  }

  const transports: Array<[string, Record<string, string>]> = [
    ['the WebSocket tunnel (SPDY/3.1+portforward.k8s.io)', {}],
    ['SPDY/3.1 (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }],
  ];

  it.each(transports)('serves requests over %s, one after another and at once', async (_name, environment) => {
    const forward = await portForward(POD_PORT, environment);
    try {
      for (let index = 0; index < 3; index++) {
        expect(await httpGet(forward.localPort, `/sequential/${index}`)).toEqual({ status: 200, body: `hello from ${podIP} /sequential/${index}` });
      }
      const concurrent = await Promise.all(Array.from({ length: 8 }, (_, index) => httpGet(forward.localPort, `/concurrent/${index}`)));
      concurrent.forEach((answer, index) => expect(answer.body).toBe(`hello from ${podIP} /concurrent/${index}`));
      // Larger than every window and buffer on the way: flow control and backpressure must not stall it.
      const large = await httpGet(forward.localPort, `/large?bytes=${2 * 1024 * 1024}`);
      expect(large.body.length).toBe(2 * 1024 * 1024);
      expect(forward.child.exitCode).toBeNull();
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- kubectl output ---\n${forward.output()}`);
    } finally {
      await forward.stop();
    }
  });

  it('attach -i: stdin reaches a container created with stdin: true, and its answer comes back', async () => {
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'reader', namespace: 'default' },
      spec: { nodeName: NODE_NAME, restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'busybox', stdin: true, command: ['sh', '-c', 'read line; echo "got: $line"; read second; echo "then: $second"'] }] },
    };
    await client!.pods('default').create(pod);
    await until('pod reader Running', async () => ((await client!.pods('default').get('reader')).status?.phase === 'Running' ? true : undefined));
    const home = path.join(directory, 'home');
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', path.join(home, 'cache'), 'attach', '-i', 'reader', '-c', 'main'], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
        stdio: ['pipe', 'pipe', 'pipe'],
        timeout: 30_000,
      });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdin?.write('hello kubelet\n');
      // The second line once the first answer is back: stdin stays open between writes.
      const second = setInterval(() => {
        if (!stdout.includes('got:')) return;
        clearInterval(second);
        child.stdin?.end('and again\n');
      }, 50);
      child.on('close', (code) => {
        clearInterval(second);
        resolve({ code, stdout, stderr });
      });
    });
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toContain('got: hello kubelet\nthen: and again\n');
  });

  it('prints upstream\'s error for a port nothing listens on', async () => {
    const forward = await portForward(POD_PORT + 1, {});
    try {
      // kubectl accepts the local connection, then learns from the error stream that the pod refused it.
      await httpGet(forward.localPort, '/').catch(() => undefined);
      await until('the error in kubectl\'s output', async () => (/error forwarding port 8081 to pod [^,]+, uid : failed to connect to/.test(forward.output()) ? true : undefined), 10_000);
    } finally {
      await forward.stop();
    }
  });
});

/** A request straight to the pod IP (no kubectl), to know the pod serves. */
function httpGetDirect(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path: '/', agent: false, timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve(body));
    });
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', reject);
  });
}
