// The compose cluster under test: start, stop, reach its containers, and
// talk to it as a user would (kubectl and the REST API with the admin
// kubeconfig it writes). Works with `docker compose` v2 and docker-compose 1.29.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Docker from 'dockerode';
import { parse as parseYaml } from 'yaml';
import { DockerComposeEnvironment, Wait, type StartedDockerComposeEnvironment } from 'testcontainers';

export const REPOSITORY = path.resolve(__dirname, '..');
export const DEPLOY_DIRECTORY = path.join(REPOSITORY, 'deploy');
export const WORKERS = ['worker-1', 'worker-2', 'worker-3'];
export const ETCD_MEMBERS = ['etcd-1', 'etcd-2', 'etcd-3'];
const IMAGE = process.env.KUBE_LITE_IMAGE ?? 'kube-lite:dev';
/** The images `npm run images` builds and the suite runs. */
export const REQUIRED_IMAGES = [IMAGE, 'kube-lite/pause:1.0', 'ml-serving:1.0'];
const HEALTHCHECKED = ['etcd-1', 'etcd-2', 'etcd-3', 'apiserver', 'controller-manager', 'ingress', ...WORKERS];
/** The label the kubelets put on every pod container, valued with the cluster's network. */
const POD_NETWORK_LABEL = 'kube-lite.io/pod-network';

export class E2eSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'E2eSetupError';
  }
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 500): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as net.AddressInfo;
      server.close(() => resolve(address.port));
    });
  });
}

interface Kubeconfig {
  server: string;
  caPem: string;
  token: string;
}

export class ComposeCluster {
  readonly docker = new Docker();
  readonly projectName = `kube-lite-e2e-${process.pid}-${Date.now().toString(36)}`;
  readonly kubeconfigDirectory = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-e2e-'));
  readonly kubeconfigPath = path.join(this.kubeconfigDirectory, 'kubeconfig');
  private environment: StartedDockerComposeEnvironment | undefined;
  private apiPort = 0;
  private ingressPortNumber = 0;
  private credentials: Kubeconfig | undefined;

  /** The network the cluster's containers and pods share (compose names it <project>_default in v1 and v2). */
  get networkName(): string {
    return `${this.projectName}_default`;
  }

  async checkImages(): Promise<void> {
    try {
      await this.docker.ping();
    } catch (error) {
      throw new E2eSetupError(`no Docker daemon: ${(error as Error).message}`);
    }
    for (const image of REQUIRED_IMAGES) {
      const present = await this.docker
        .getImage(image)
        .inspect()
        .then(() => true)
        .catch(() => false);
      if (!present) throw new E2eSetupError(`image ${image} is missing: run \`npm run images\` first`);
    }
  }

  /** compose up, waiting for every healthcheck; the first call picks the host ports of the API server and the Ingress. */
  async up(): Promise<void> {
    if (this.apiPort === 0) this.apiPort = await freePort();
    if (this.ingressPortNumber === 0) this.ingressPortNumber = await freePort();
    let environment = new DockerComposeEnvironment(DEPLOY_DIRECTORY, 'docker-compose.yml')
      .withProjectName(this.projectName)
      .withEnvironment({
        KUBE_LITE_IMAGE: IMAGE,
        KUBE_LITE_API_PORT: String(this.apiPort),
        KUBE_LITE_INGRESS_PORT: String(this.ingressPortNumber),
        KUBE_LITE_KUBECONFIG_DIR: this.kubeconfigDirectory,
      })
      .withStartupTimeout(180_000);
    // Container names are <service>_1 under compose v1 and <service>-1 under v2.
    for (const service of HEALTHCHECKED) for (const name of [`${service}_1`, `${service}-1`]) environment = environment.withWaitStrategy(name, Wait.forHealthCheck());
    this.environment = await environment.up();
    this.credentials = undefined;
  }

  /**
   * Stops the workers first (or their kubelets would recreate what is being
   * removed), removes the pods' containers (they are not compose services),
   * then the project with its volumes.
   */
  async down(): Promise<void> {
    for (const worker of WORKERS) await (await this.service(worker).catch(() => undefined))?.stop({ t: 2 }).catch(() => undefined);
    await this.removePodContainers();
    await this.environment?.down({ removeVolumes: true, timeout: 0 }).catch(() => undefined);
    await this.docker.getNetwork(this.networkName).remove().catch(() => undefined);
    fs.rmSync(this.kubeconfigDirectory, { recursive: true, force: true });
  }

  async podContainers(filters: Record<string, string> = {}): Promise<Docker.ContainerInfo[]> {
    const labels = [`${POD_NETWORK_LABEL}=${this.networkName}`, ...Object.entries(filters).map(([key, value]) => `${key}=${value}`)];
    return this.docker.listContainers({ all: true, filters: { label: labels } });
  }

  async removePodContainers(): Promise<void> {
    for (const container of await this.podContainers()) await this.docker.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
  }

  /** The container of a compose service (by compose's labels, the same in v1 and v2). */
  async service(name: string): Promise<Docker.Container> {
    const [found] = await this.docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${this.projectName}`, `com.docker.compose.service=${name}`] } });
    if (!found) throw new Error(`no container for service ${name}`);
    return this.docker.getContainer(found.Id);
  }

  async projectContainers(): Promise<Docker.ContainerInfo[]> {
    return this.docker.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${this.projectName}`] } });
  }

  /** Host port the service's container port is published on (127.0.0.1). */
  async publishedPort(service: string, containerPort: number): Promise<number> {
    const inspect = await (await this.service(service)).inspect();
    const binding = inspect.NetworkSettings.Ports[`${containerPort}/tcp`]?.[0];
    if (!binding) throw new Error(`${service}: port ${containerPort} is not published`);
    return Number(binding.HostPort);
  }

  /** Runs a command in a service's container; resolves with its output and exit code. */
  async execIn(service: string, command: string[]): Promise<{ output: string; exitCode: number }> {
    const container = await this.service(service);
    const exec = await container.exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve) => {
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => resolve());
      stream.on('close', () => resolve());
    });
    // Strip Docker's 8-byte frame headers (no TTY).
    const raw = Buffer.concat(chunks);
    let output = '';
    for (let offset = 0; offset + 8 <= raw.length; ) {
      const size = raw.readUInt32BE(offset + 4);
      output += raw.subarray(offset + 8, offset + 8 + size).toString();
      offset += 8 + size;
    }
    const { ExitCode } = await exec.inspect();
    return { output, exitCode: ExitCode ?? -1 };
  }

  /** Host port of the Ingress controller (127.0.0.1), fixed once up() ran. */
  get ingressPort(): number {
    return this.ingressPortNumber;
  }

  /**
   * One GET through the published Ingress port. Resolves with the status
   * (0 when the connection failed) and the body; `timedOut` when no full
   * answer came within `timeoutMs`. Never rejects: probes count outcomes.
   */
  ingressGet(requestPath: string, timeoutMs: number): Promise<{ statusCode: number; body: string; timedOut: boolean; error?: string }> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: { statusCode: number; body: string; timedOut: boolean; error?: string }) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      // A fresh connection per request (agent: false): every probe goes through the controller's accept and routing.
      const request = http.get({ host: '127.0.0.1', port: this.ingressPortNumber, path: requestPath, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => settle({ statusCode: response.statusCode ?? 0, body: Buffer.concat(chunks).toString(), timedOut: false }));
        response.on('error', (error) => settle({ statusCode: 0, body: '', timedOut: false, error: error.message }));
      });
      const timer = setTimeout(() => {
        request.destroy();
        settle({ statusCode: 0, body: '', timedOut: true, error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      request.on('error', (error) => settle({ statusCode: 0, body: '', timedOut: false, error: error.message }));
    });
  }

  kubectl(args: string[], options: { input?: string; timeoutMs?: number; allowFailure?: boolean } = {}): Promise<{ stdout: string; stderr: string; exitCode: number }> {
    return new Promise((resolve, reject) => {
      const child = execFile('kubectl', ['--request-timeout=10s', ...args], { env: { ...process.env, KUBECONFIG: this.kubeconfigPath }, timeout: options.timeoutMs ?? 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (error && !options.allowFailure) reject(new Error(`kubectl ${args.join(' ')} failed (${exitCode}): ${stderr.trim() || error.message}`));
        else resolve({ stdout, stderr, exitCode });
      });
      if (options.input !== undefined) child.stdin?.end(options.input);
      else child.stdin?.end();
    });
  }

  async kubectlJson<T>(args: string[]): Promise<T> {
    return JSON.parse((await this.kubectl([...args, '-o', 'json'])).stdout) as T;
  }

  private kubeconfig(): Kubeconfig {
    if (this.credentials) return this.credentials;
    const document = parseYaml(fs.readFileSync(this.kubeconfigPath, 'utf8')) as {
      clusters: { cluster: { server: string; 'certificate-authority-data': string } }[];
      users: { user: { token: string } }[];
    };
    const cluster = document.clusters[0]?.cluster;
    const token = document.users[0]?.user.token;
    if (!cluster || !token) throw new Error(`${this.kubeconfigPath} has no cluster or token`);
    this.credentials = { server: cluster.server, caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString(), token };
    return this.credentials;
  }

  /** One REST call with the admin's token; resolves with the status code and parsed body. */
  api(method: string, apiPath: string, body?: unknown, timeoutMs = 2000): Promise<{ statusCode: number; body: unknown }> {
    const { server, caPem, token } = this.kubeconfig();
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const request = https.request(
        new URL(apiPath, server),
        { method, ca: caPem, timeout: timeoutMs, headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) } },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON: keep the text
            }
            resolve({ statusCode: response.statusCode ?? 0, body: parsed });
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`timeout after ${timeoutMs} ms`)));
      request.on('error', reject);
      request.end(payload);
    });
  }
}
