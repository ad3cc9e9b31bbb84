import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ImageNotKnownError } from '../errors';
import type { ContainerConfig, ContainerRuntime, DnsConfig, PodSandboxConfig } from '../runtime';
import { choosePodIsolation, parseMountInfo, readHostFacts, unmountAllBelow } from './mount-namespace';
import { ProcessRuntime, type ProcessRuntimeOptions } from './process-runtime';

jest.setTimeout(30_000);

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString();
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function httpGet(host: string, port: number, urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host, port, path: urlPath, timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('error', reject);
  });
}

function containerConfig(name: string, overrides: Partial<ContainerConfig> = {}): ContainerConfig {
  return { name, attempt: 0, image: 'busybox', command: [], args: [], env: [], mounts: [], labels: { 'io.kubernetes.container.name': name }, logPath: `${name}/0.log`, ...overrides };
}

describe('ProcessRuntime', () => {
  let root: string;
  let runtimes: ContainerRuntime[];
  // A block unlike any other test's, so parallel suites never share an address.
  const block = '127.77.0.0/16';

  const newRuntime = (overrides: Partial<ProcessRuntimeOptions> = {}): ProcessRuntime => {
    const runtime = new ProcessRuntime({ stateDirectory: path.join(root, 'runtime'), podAddressBlock: block, adoptedPollIntervalMs: 100, ...overrides });
    runtimes.push(runtime);
    return runtime;
  };
  const newSandbox = (runtime: ContainerRuntime, name: string) =>
    runtime.runPodSandbox({ name, namespace: 'default', uid: `uid-${name}`, attempt: 0, hostname: name, labels: { 'io.kubernetes.pod.uid': `uid-${name}` }, logDirectory: path.join(root, 'logs', `default_${name}_uid-${name}`) });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-process-runtime-'));
    runtimes = [];
  });

  afterEach(async () => {
    // Kill whatever a test left running, through the newest runtime (which owns the state).
    const last = runtimes[runtimes.length - 1];
    if (last) for (const sandbox of await last.listPodSandboxes()) await last.removePodSandbox(sandbox.id);
    for (const runtime of runtimes) await runtime.close();
    // Namespace files (mount-namespace mode) and their directory's own bind, as `kube-lite down` releases them.
    unmountAllBelow(root);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('runs a command, keeps its logs with timestamps, and stops it with a grace period', async () => {
    const runtime = newRuntime();
    const sandboxId = await newSandbox(runtime, 'hello');
    const id = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sh', '-c', 'echo hi; echo oops >&2; sleep 30'] }));
    await runtime.startContainer(id);
    expect((await runtime.containerStatus(id)).state).toBe('running');
    const logs = await waitFor('both lines logged', async () => {
      const text = await readAll(await runtime.containerLogs(id, {}));
      return text.includes('hi') && text.includes('oops') ? text : undefined;
    });
    expect(logs.split('\n').filter(Boolean).sort()).toEqual(['hi', 'oops']);
    const stamped = await readAll(await runtime.containerLogs(id, { timestamps: true, tailLines: 1 }));
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (hi|oops)\n$/);

    const stats = await runtime.containerStats(id);
    expect(stats.memoryWorkingSetBytes).toBeGreaterThan(0);

    const startedMs = Date.now();
    await runtime.stopContainer(id, 5);
    const status = await runtime.containerStatus(id);
    expect(status).toMatchObject({ state: 'exited', exitCode: 143, reason: 'Error' });
    expect(Date.now() - startedMs).toBeLessThan(4000); // SIGTERM sufficed, no need to wait for SIGKILL
  });

  it('kills a container that ignores SIGTERM once the grace period is over', async () => {
    const runtime = newRuntime();
    const sandboxId = await newSandbox(runtime, 'stubborn');
    const id = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sh', '-c', "trap '' TERM; echo ready; while true; do sleep 0.1; done"] }));
    await runtime.startContainer(id);
    await waitFor('ready', async () => ((await readAll(await runtime.containerLogs(id, {}))).includes('ready') ? true : undefined));
    const startedMs = Date.now();
    await runtime.stopContainer(id, 1);
    expect(Date.now() - startedMs).toBeGreaterThanOrEqual(900);
    expect(await runtime.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 137 });
  });

  it('records exit codes, and follows logs until the container exits', async () => {
    const runtime = newRuntime();
    const sandboxId = await newSandbox(runtime, 'exits');
    const id = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.2; done; exit 3'] }));
    await runtime.startContainer(id);
    const followed = await readAll(await runtime.containerLogs(id, { follow: true }));
    expect(followed).toBe('line1\nline2\nline3\n');
    const status = await waitFor('exit', async () => ((await runtime.containerStatus(id)).state === 'exited' ? runtime.containerStatus(id) : undefined));
    expect(status).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(await readAll(await runtime.containerLogs(id, { limitBytes: 8 }))).toBe('line1\nli');
  });

  it('names unknown images instead of failing, and marks a missing executable as StartError', async () => {
    const runtime = newRuntime();
    const sandboxId = await newSandbox(runtime, 'images');
    await expect(runtime.createContainer(sandboxId, containerConfig('main', { image: 'foo:1' }))).rejects.toThrow(ImageNotKnownError);
    await expect(runtime.createContainer(sandboxId, containerConfig('main', { image: 'foo:1' }))).rejects.toThrow(/image "foo:1" is not one the process runtime can run: give the container a command, or use one of: .*ml-serving:1.0/);
    const id = await runtime.createContainer(sandboxId, containerConfig('main', { image: 'foo:1', command: ['/no/such/program'] }));
    await runtime.startContainer(id);
    expect(await runtime.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 128, reason: 'StartError' });
  });

  it('gives every pod its own loopback IP, so two ml-serving pods share a port', async () => {
    const runtime = newRuntime();
    const port = 18_000 + (process.pid % 1000);
    const pods = await Promise.all(['serve-a', 'serve-b'].map((name) => newSandbox(runtime, name)));
    const sandboxes = await runtime.listPodSandboxes();
    const ips = sandboxes.map((sandbox) => sandbox.ip);
    expect(new Set(ips).size).toBe(2);
    for (const [index, sandboxId] of pods.entries()) {
      const name = ['serve-a', 'serve-b'][index] ?? '';
      const id = await runtime.createContainer(sandboxId, containerConfig('server', { image: 'ml-serving:1.0', env: [{ name: 'PORT', value: String(port) }, { name: 'POD_NAME', value: name }] }));
      await runtime.startContainer(id);
    }
    for (const sandbox of sandboxes) {
      const answer = await waitFor(`ml-serving on ${sandbox.ip}`, () => httpGet(sandbox.ip, port, '/predict?text=great').catch(() => undefined));
      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body)).toMatchObject({ pod: sandbox.name, podIP: sandbox.ip, path: '/predict', prediction: { label: 'positive' } });
    }
  });

  it('adopts running containers after a restart, keeping their logs and IPs', async () => {
    const first = newRuntime();
    const sandboxId = await newSandbox(first, 'adopted');
    const id = await first.createContainer(sandboxId, containerConfig('main', { command: ['sh', '-c', 'echo before; sleep 0.6; echo after; sleep 30'] }));
    await first.startContainer(id);
    await waitFor('first line', async () => ((await readAll(await first.containerLogs(id, {}))).includes('before') ? true : undefined));
    await first.close(); // the kubelet "dies"; the container keeps running

    const second = newRuntime();
    expect(await second.containerStatus(id)).toMatchObject({ state: 'running' });
    const [sandbox] = await second.listPodSandboxes();
    // A new sandbox must not get the adopted pod's address.
    const otherId = await newSandbox(second, 'other');
    const other = (await second.listPodSandboxes({ id: otherId }))[0];
    expect(other?.ip).not.toBe(sandbox?.ip);
    await waitFor('line written while adopted', async () => ((await readAll(await second.containerLogs(id, {}))).includes('after') ? true : undefined));
    await second.stopContainer(id, 2);
    expect(await second.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 143 });
  });

  // A kubelet SIGKILLed right after a start: state saves are coalesced, so the state file on disk may predate the
  // sandbox, the container or its start. Simulated by putting back the state file as it was at that point.
  const crashCases: { name: string; savedAfter: 'nothing' | 'sandbox' | 'create'; expected: 'adopted' | 'killed' }[] = [
    { name: 'a container started after the last save is adopted', savedAfter: 'sandbox', expected: 'adopted' },
    { name: 'a container saved as created but started since is adopted, not started twice', savedAfter: 'create', expected: 'adopted' },
    { name: 'a container whose sandbox was never saved is killed and removed', savedAfter: 'nothing', expected: 'killed' },
  ];
  it.each(crashCases)('after a crash: $name', async ({ savedAfter, expected }) => {
    const stateFile = path.join(root, 'runtime', 'state.json');
    const savedState = async (mustInclude?: string): Promise<string | undefined> =>
      waitFor('the state file', () => {
        const text = fs.existsSync(stateFile) ? fs.readFileSync(stateFile, 'utf8') : undefined;
        return text !== undefined && (mustInclude === undefined || text.includes(mustInclude)) ? text : undefined;
      });
    const first = newRuntime();
    let snapshot: string | undefined;
    const sandboxId = await newSandbox(first, 'crash');
    if (savedAfter === 'sandbox') snapshot = await savedState(sandboxId);
    const id = await first.createContainer(sandboxId, containerConfig('main', { command: ['sh', '-c', 'echo before; sleep 0.6; echo after; sleep 30'] }));
    if (savedAfter === 'create') snapshot = await savedState(id);
    await first.startContainer(id);
    const pid = (await first.containerStatus(id)).pid ?? 0;
    await waitFor('the wrapper pid file', () => fs.existsSync(path.join(root, 'runtime', 'containers', id, 'pid')) || undefined);
    await first.close();
    if (snapshot === undefined) fs.rmSync(stateFile);
    else fs.writeFileSync(stateFile, snapshot);

    const second = newRuntime();
    if (expected === 'adopted') {
      expect(await second.containerStatus(id)).toMatchObject({ state: 'running', pid });
      await waitFor('line written while adopted', async () => ((await readAll(await second.containerLogs(id, {}))).includes('after') ? true : undefined));
      await second.stopContainer(id, 2);
      expect(await second.containerStatus(id)).toMatchObject({ state: 'exited', exitCode: 143 });
    } else {
      expect(await second.listContainers()).toEqual([]);
      await waitFor('the process group gone', () => {
        try {
          process.kill(-pid, 0);
          return undefined;
        } catch {
          return true;
        }
      });
      expect(fs.existsSync(path.join(root, 'runtime', 'containers', id))).toBe(false);
    }
  });

  it('shows volumes at their mountPath under KUBE_ROOT (the default working directory) and as KUBE_VOLUME_<NAME>', async () => {
    const runtime = newRuntime();
    const sandboxId = await newSandbox(runtime, 'mounts');
    const volume = path.join(root, 'volume');
    fs.mkdirSync(volume);
    fs.writeFileSync(path.join(volume, 'key'), 'value');
    const id = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sh', '-c', 'cat etc/config/key; echo; cat "$KUBE_VOLUME_APP_CONFIG/key"; echo; cat "$KUBE_ROOT/etc/config/key"'], mounts: [{ containerPath: '/etc/config', hostPath: volume, volumeName: 'app-config', readOnly: true }] }));
    await runtime.startContainer(id);
    await waitFor('exit', async () => ((await runtime.containerStatus(id)).state === 'exited' ? true : undefined));
    expect(await runtime.containerStatus(id)).toMatchObject({ exitCode: 0 });
    expect(await readAll(await runtime.containerLogs(id, {}))).toBe('value\nvalue\nvalue');
  });

  it('rotates log files by size, keeping maxFiles rotated files, and reads across them', async () => {
    const runtime = new ProcessRuntime({ stateDirectory: path.join(root, 'runtime'), podAddressBlock: block, logRotation: { maxSizeBytes: 400, maxFiles: 2 } });
    runtimes.push(runtime);
    const sandboxId = await newSandbox(runtime, 'chatty');
    const id = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sh', '-c', 'i=1; while [ $i -le 40 ]; do echo line$i; i=$((i+1)); done'] }));
    await runtime.startContainer(id);
    await waitFor('exit', async () => ((await runtime.containerStatus(id)).state === 'exited' ? true : undefined));
    const logPath = (await runtime.containerStatus(id)).logPath;
    const files = fs.readdirSync(path.dirname(logPath));
    expect(files.filter((file) => file.startsWith('0.log.')).length).toBe(2);
    const lines = (await readAll(await runtime.containerLogs(id, {}))).trim().split('\n');
    expect(lines[lines.length - 1]).toBe('line40');
    expect(lines.length).toBeLessThan(40); // the oldest rotated files were dropped
    const numbers = lines.map((line) => Number(line.slice(4)));
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(await readAll(await runtime.containerLogs(id, { tailLines: 3 }))).toBe('line38\nline39\nline40\n');
  });

  it('finds sandboxes and containers by pod uid label, after removals and after a restart', async () => {
    const first = newRuntime();
    const ids: Record<string, { sandboxId: string; containerIds: string[] }> = {};
    for (const name of ['a', 'b', 'c']) {
      const sandboxId = await newSandbox(first, name);
      const containerIds: string[] = [];
      for (const container of ['one', 'two']) {
        containerIds.push(await first.createContainer(sandboxId, containerConfig(container, { labels: { 'io.kubernetes.pod.uid': `uid-${name}`, 'io.kubernetes.container.name': container } })));
      }
      ids[name] = { sandboxId, containerIds };
    }
    await first.removeContainer(ids.b?.containerIds[0] ?? '');
    await first.removePodSandbox(ids.c?.sandboxId ?? '');
    await first.close();
    const cases: { name: string; sandboxes: string[]; containers: string[] }[] = [
      { name: 'a', sandboxes: [ids.a?.sandboxId ?? ''], containers: ids.a?.containerIds ?? [] },
      { name: 'b', sandboxes: [ids.b?.sandboxId ?? ''], containers: ids.b?.containerIds.slice(1) ?? [] },
      { name: 'c', sandboxes: [], containers: [] },
    ];
    for (const runtime of [first, newRuntime()]) {
      for (const { name, sandboxes, containers } of cases) {
        const selector = { 'io.kubernetes.pod.uid': `uid-${name}` };
        expect((await runtime.listPodSandboxes({ labels: selector })).map((sandbox) => sandbox.id)).toEqual(sandboxes);
        expect((await runtime.listContainers({ labels: selector })).map((container) => container.id)).toEqual(containers);
        expect(await runtime.listContainers({ labels: { ...selector, 'io.kubernetes.container.name': 'two' } })).toHaveLength(containers.length > 0 ? 1 : 0);
      }
    }
  });

  it('runs exec with and without a terminal', async () => {
    const runtime = newRuntime();
    const sandboxId = await newSandbox(runtime, 'exec');
    const id = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sleep', '30'], env: [{ name: 'GREETING', value: 'hello' }] }));
    await runtime.startContainer(id);
    const plain = await runtime.exec(id, { command: ['sh', '-c', 'echo $GREETING; echo err >&2; exit 4'], stdin: false, tty: false });
    const [stdout, stderr, exit] = await Promise.all([readAll(plain.stdout), readAll(plain.stderr), plain.exited]);
    expect({ stdout, stderr, exit }).toEqual({ stdout: 'hello\n', stderr: 'err\n', exit: { exitCode: 4 } });
    const terminal = await runtime.exec(id, { command: ['sh', '-c', 'tty >/dev/null && echo is-a-tty'], stdin: false, tty: true });
    const [terminalOut, terminalExit] = await Promise.all([readAll(terminal.stdout), terminal.exited]);
    expect(terminalOut).toContain('is-a-tty');
    expect(terminalExit.exitCode).toBe(0);
  });

  describe('pod DNS', () => {
    const clusterFirst: DnsConfig = { servers: ['127.0.9.1'], searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };
    const dnsSandbox = (runtime: ContainerRuntime, name: string, extra: Partial<PodSandboxConfig> = {}): Promise<string> =>
      runtime.runPodSandbox({
        name,
        namespace: 'shop',
        uid: `uid-${name}`,
        attempt: 0,
        hostname: name,
        labels: { 'io.kubernetes.pod.uid': `uid-${name}` },
        logDirectory: path.join(root, 'logs', `shop_${name}_uid-${name}`),
        dns: clusterFirst,
        hosts: { hostAliases: [] },
        ...extra,
      });
    const execOutput = async (runtime: ContainerRuntime, id: string, command: string[]): Promise<string> => {
      const session = await runtime.exec(id, { command, stdin: false, tty: false });
      const [stdout, stderr, exit] = await Promise.all([readAll(session.stdout), readAll(session.stderr), session.exited]);
      if (exit.exitCode !== 0) throw new Error(`${command.join(' ')} exited ${exit.exitCode}: ${stderr}`);
      return stdout;
    };

    it('without a namespace (off, as for any kubelet not root): search list and options in env, one warning naming the nameserver', async () => {
      const runtime = newRuntime({ podMountNamespaces: 'off' });
      expect(runtime.podIsolation).toEqual({ mode: 'environment', reason: 'pod mount namespaces are off in the runtime options' });
      const sandboxId = await dnsSandbox(runtime, 'plain');
      const [sandbox] = await runtime.listPodSandboxes({ id: sandboxId });
      expect(sandbox?.warnings?.map((warning) => warning.reason)).toEqual(['DNSConfigForming']);
      expect(sandbox?.warnings?.[0]?.message).toMatch(/could not give this pod its own \/etc\/resolv.conf \(pod mount namespaces are off.*not 127\.0\.9\.1.*LOCALDOMAIN, RES_OPTIONS.*_SERVICE_HOST/);
      expect(Object.keys(sandbox ?? {})).not.toContain('dns');
      const id = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sleep', '30'], env: [{ name: 'RES_OPTIONS', value: 'ndots:1' }] }));
      await runtime.startContainer(id);
      // The container's own env wins over the pod's.
      expect(await execOutput(runtime, id, ['sh', '-c', 'echo "$LOCALDOMAIN|$RES_OPTIONS"'])).toBe('shop.svc.cluster.local svc.cluster.local cluster.local|ndots:1\n');
      expect(await execOutput(runtime, id, ['cat', '/etc/resolv.conf'])).toBe(fs.readFileSync('/etc/resolv.conf', 'utf8'));
    });

    it('without a namespace: no warning when the settings name no nameserver, no env without settings', async () => {
      const runtime = newRuntime({ podMountNamespaces: 'off' });
      const searchesOnly = await dnsSandbox(runtime, 'searches', { dns: { servers: [], searches: ['corp.example'], options: [] } });
      const none = await dnsSandbox(runtime, 'default-policy', { dns: undefined, hosts: undefined });
      const sandboxes = await runtime.listPodSandboxes();
      expect(sandboxes.map((sandbox) => sandbox.warnings)).toEqual([undefined, undefined]);
      const first = await runtime.createContainer(searchesOnly, containerConfig('main', { command: ['sleep', '30'] }));
      const second = await runtime.createContainer(none, containerConfig('main', { command: ['sleep', '30'] }));
      await runtime.startContainer(first);
      await runtime.startContainer(second);
      expect(await execOutput(runtime, first, ['sh', '-c', 'echo "$LOCALDOMAIN|${RES_OPTIONS-unset}"'])).toBe('corp.example|unset\n');
      expect(await execOutput(runtime, second, ['sh', '-c', 'echo "${LOCALDOMAIN-unset}"'])).toBe('unset\n');
    });

    const decision = choosePodIsolation('auto', readHostFacts(process.env.PATH ?? ''));
    if (decision.mode !== 'mount-namespace') process.stderr.write(`process runtime mount-namespace tests skipped: ${decision.reason}\n`);
    const asRoot = decision.mode === 'mount-namespace' ? it : it.skip;

    asRoot('as root: a container and its execs see the pod\'s resolv.conf and hosts, the host\'s stay untouched, across a kubelet restart', async () => {
      const hostResolvConf = fs.readFileSync('/etc/resolv.conf', 'utf8');
      const hostHosts = fs.readFileSync('/etc/hosts', 'utf8');
      const runtime = newRuntime({ podMountNamespaces: 'auto' });
      expect(runtime.podIsolation.mode).toBe('mount-namespace');
      const sandboxId = await dnsSandbox(runtime, 'isolated', { hosts: { fullyQualifiedName: 'isolated.sub.shop.svc.cluster.local', hostAliases: [{ ip: '10.1.2.3', hostnames: ['alias.example'] }] } });
      const [sandbox] = await runtime.listPodSandboxes({ id: sandboxId });
      expect(sandbox?.warnings).toBeUndefined();
      const id = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sh', '-c', 'cat /etc/resolv.conf; sleep 30'] }));
      await runtime.startContainer(id);
      const status = await runtime.containerStatus(id);
      const pod = 'nameserver 127.0.9.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n';
      // The main process read it (its log), and its pid is the wrapper's own (nsenter exec'd it).
      await waitFor('the container\'s resolv.conf in its log', async () => (await readAll(await runtime.containerLogs(id, {}))).includes('nameserver 127.0.9.1') || undefined);
      expect(fs.readFileSync(`/proc/${status.pid}/cmdline`, 'utf8').split('\0')[0]).toBe('/bin/sh');
      expect(fs.readlinkSync(`/proc/${status.pid}/ns/mnt`)).not.toBe(fs.readlinkSync('/proc/self/ns/mnt'));
      expect(await execOutput(runtime, id, ['cat', '/etc/resolv.conf'])).toBe(pod);
      expect((await execOutput(runtime, id, ['getent', 'hosts', 'isolated'])).trim().split(/\s+/)).toEqual([sandbox?.ip, 'isolated.sub.shop.svc.cluster.local', 'isolated']);
      expect((await execOutput(runtime, id, ['getent', 'hosts', 'alias.example'])).trim().split(/\s+/)).toEqual(['10.1.2.3', 'alias.example']);
      expect(await execOutput(runtime, id, ['sh', '-c', 'echo "$LOCALDOMAIN|$RES_OPTIONS"'])).toBe('shop.svc.cluster.local svc.cluster.local cluster.local|ndots:5\n');
      const terminal = await runtime.exec(id, { command: ['cat', '/etc/resolv.conf'], stdin: false, tty: true });
      const [terminalOut] = await Promise.all([readAll(terminal.stdout), terminal.exited]);
      expect(terminalOut).toContain('nameserver 127.0.9.1');
      expect(fs.readFileSync('/etc/resolv.conf', 'utf8')).toBe(hostResolvConf);
      expect(fs.readFileSync('/etc/hosts', 'utf8')).toBe(hostHosts);

      // A restarted kubelet finds the namespace intact: execs in the adopted container see the same files.
      await runtime.close();
      const restarted = newRuntime({ podMountNamespaces: 'auto' });
      expect(await execOutput(restarted, id, ['cat', '/etc/resolv.conf'])).toBe(pod);
      const directory = fs.realpathSync(path.join(root, 'runtime', 'mount-namespaces'));
      const bindsOfDirectory = (): number => parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).filter((entry) => entry.mountPoint === directory).length;
      expect(bindsOfDirectory()).toBe(1);

      // Removing the sandbox unmounts its namespace file.
      await restarted.removePodSandbox(sandboxId);
      expect(parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8')).filter((entry) => entry.mountPoint.startsWith(`${directory}/`))).toEqual([]);
      expect(fs.existsSync(path.join(root, 'runtime', 'sandboxes', sandboxId))).toBe(false);
    });

    asRoot('as root: a namespace released while its pod was down (kube-lite down) is made again for the next container', async () => {
      const runtime = newRuntime({ podMountNamespaces: 'auto' });
      const sandboxId = await dnsSandbox(runtime, 'revived');
      const first = await runtime.createContainer(sandboxId, containerConfig('main', { command: ['sleep', '30'] }));
      await runtime.startContainer(first);
      await runtime.stopContainer(first, 0);
      await runtime.close();
      expect(unmountAllBelow(path.join(root, 'runtime'))).toBe(2);
      const restarted = newRuntime({ podMountNamespaces: 'auto' });
      const second = await restarted.createContainer(sandboxId, containerConfig('main', { attempt: 1, command: ['sleep', '30'] }));
      await restarted.startContainer(second);
      expect(await execOutput(restarted, second, ['cat', '/etc/resolv.conf'])).toContain('nameserver 127.0.9.1');
    });
  });
});
