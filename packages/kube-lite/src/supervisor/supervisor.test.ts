import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ComponentExitedError, ReadinessTimeoutError } from '../errors';
import { isAlive, StateStore, Supervisor, type ComponentSpec, type ReadinessCheck } from './index';

// Children are `node -e SCRIPT`: the entry file is "-e" and the script its first argument.
function spec(name: string, script: string, readiness: ReadinessCheck, readyTimeoutMs = 5_000): ComponentSpec {
  return { name, binary: 'node', entryFile: '-e', args: [script], readiness, readyTimeoutMs, endpoints: {} };
}

const stayUp = 'setInterval(() => {}, 1000);';
const ignoreTerm = "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); setInterval(() => {}, 1000);";

describe('Supervisor', () => {
  let dataDir: string;
  let store: StateStore<Record<string, never>>;
  let supervisor: Supervisor<Record<string, never>>;
  const reported: string[] = [];

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-lite-supervisor-'));
    store = new StateStore(path.join(dataDir, 'state.json'));
    store.write({ version: 1, components: [], cluster: {} });
    reported.length = 0;
    supervisor = new Supervisor(store, { logDirectory: path.join(dataDir, 'logs'), stopGraceMs: 1_000, probeIntervalMs: 50, report: (line) => reported.push(line) });
  });

  afterEach(async () => {
    for (const component of store.read()?.components ?? []) await supervisor.stop(component.spec.name, 'kill');
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('records the process in the state file and writes its output to <name>.log', async () => {
    const record = await supervisor.start(spec('talker', "console.log('hello from the child'); " + stayUp, { kind: 'settle', durationMs: 100 }));
    await supervisor.waitReady(record);
    const saved = store.read()?.components.find((component) => component.spec.name === 'talker');
    expect(saved?.process?.pid).toBe(record.process?.pid);
    expect(saved?.desired).toBe('running');
    expect(saved?.process !== undefined && isAlive(saved.process)).toBe(true);
    const deadline = Date.now() + 3_000;
    while (!fs.readFileSync(record.logFile, 'utf8').includes('hello from the child') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(fs.readFileSync(record.logFile, 'utf8')).toContain('hello from the child');
    expect(reported.some((line) => /talker +ready \(\d+\.\d s\)/.test(line))).toBe(true);
  });

  it.each([
    { check: 'http', readiness: (port: number): ReadinessCheck => ({ kind: 'http', url: `http://127.0.0.1:${port}/healthz` }) },
    { check: 'tcp', readiness: (port: number): ReadinessCheck => ({ kind: 'tcp', host: '127.0.0.1', port }) },
  ])('becomes ready once its $check endpoint answers', async ({ readiness }) => {
    const port = await freePort();
    // Listens only after 300 ms, so the first probes fail.
    const script = `setTimeout(() => require('http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1'), 300);`;
    const record = await supervisor.start(spec('server', script, readiness(port)));
    const elapsedMs = await supervisor.waitReady(record);
    expect(elapsedMs).toBeGreaterThanOrEqual(250);
  });

  it('does not count an HTTP error status as ready', async () => {
    const port = await freePort();
    const script = `require('http').createServer((q, s) => { s.statusCode = 503; s.end('no leader'); }).listen(${port}, '127.0.0.1');`;
    const record = await supervisor.start(spec('unhealthy', script, { kind: 'http', url: `http://127.0.0.1:${port}/health` }, 800));
    await expect(supervisor.waitReady(record)).rejects.toThrow(ReadinessTimeoutError);
    await expect(supervisor.waitReady(record)).rejects.toThrow(/answered 503/);
  });

  it('reports a crash during start with its exit code and last log lines', async () => {
    const record = await supervisor.start(spec('crasher', "console.error('cannot open data dir: EACCES'); process.exit(3);", { kind: 'tcp', host: '127.0.0.1', port: 1 }));
    const failure = await supervisor.waitReady(record).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ComponentExitedError);
    expect((failure as ComponentExitedError).message).toContain('crasher exited with code 3');
    expect((failure as ComponentExitedError).lastLogLines.join('\n')).toContain('cannot open data dir: EACCES');
  });

  it('stops waiting as soon as the abort check reports a problem elsewhere', async () => {
    const record = await supervisor.start(spec('patient', stayUp, { kind: 'tcp', host: '127.0.0.1', port: 1 }, 10_000));
    let polls = 0;
    const startedMs = Date.now();
    await expect(supervisor.waitReady(record, () => (++polls >= 3 ? new Error('kube-apiserver exited with code 1') : undefined))).rejects.toThrow('kube-apiserver exited with code 1');
    expect(Date.now() - startedMs).toBeLessThan(5_000);
  });

  it('fails a settle check when the process dies before the settle time', async () => {
    const record = await supervisor.start(spec('short-lived', 'setTimeout(() => process.exit(0), 100);', { kind: 'settle', durationMs: 1_000 }));
    await expect(supervisor.waitReady(record)).rejects.toThrow(/short-lived exited with code 0/);
  });

  it.each([
    { mode: 'graceful' as const, script: stayUp, outcome: 'terminated' },
    { mode: 'graceful' as const, script: ignoreTerm, outcome: 'killed' },
    { mode: 'kill' as const, script: stayUp, outcome: 'killed' },
  ])('stop($mode) of a child that runs $script ends with $outcome', async ({ mode, script, outcome }) => {
    const record = await supervisor.start(spec('victim', script, { kind: 'settle', durationMs: 200 }));
    await supervisor.waitReady(record);
    const startedMs = Date.now();
    expect(await supervisor.stop('victim', mode)).toBe(outcome);
    expect(isAlive(record.process!)).toBe(false);
    expect(store.read()?.components[0]?.desired).toBe('stopped');
    // The SIGKILL bound holds: the grace period (1 s) plus a margin, never the child's whim.
    expect(Date.now() - startedMs).toBeLessThan(4_000);
  });

  it('stops grandchildren too (the whole process group)', async () => {
    const script = "const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log('grandchild ' + c.pid); setInterval(() => {}, 1000);";
    const record = await supervisor.start(spec('parent', script, { kind: 'settle', durationMs: 300 }));
    await supervisor.waitReady(record);
    const grandchildPid = Number(/grandchild (\d+)/.exec(fs.readFileSync(record.logFile, 'utf8'))?.[1]);
    expect(grandchildPid).toBeGreaterThan(0);
    await supervisor.stop('parent', 'graceful');
    const deadline = Date.now() + 2_000;
    while (isAlive({ pid: grandchildPid, startTicks: undefined }) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(isAlive({ pid: grandchildPid, startTicks: undefined })).toBe(false);
  });

  it('sees a process started by another launcher through the state file alone', async () => {
    const record = await supervisor.start(spec('shared', stayUp, { kind: 'settle', durationMs: 100 }));
    const other = new Supervisor(new StateStore<Record<string, never>>(store.file), { logDirectory: path.join(dataDir, 'logs'), stopGraceMs: 1_000 });
    const seen = other.store.read()?.components[0];
    expect(seen !== undefined && other.exitDescription(seen)).toBeUndefined();
    expect(await other.stop('shared', 'graceful')).toBe('terminated');
    expect(supervisor.exitDescription(record)).toMatch(/killed by SIGTERM|no longer running/);
  });
});

describe('process identity', () => {
  it('does not mistake a reused pid for the recorded process', () => {
    expect(isAlive({ pid: process.pid, startTicks: 1 })).toBe(false);
    expect(isAlive({ pid: process.pid, startTicks: undefined })).toBe(true);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
