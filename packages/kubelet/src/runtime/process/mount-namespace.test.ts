import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MountNamespaceError } from '../errors';
import { choosePodIsolation, MountNamespaces, parseMountInfo, readHostFacts, unmountAllBelow, type HostFacts, type ToolPaths } from './mount-namespace';

const allTools: ToolPaths = { unshare: '/usr/bin/unshare', nsenter: '/usr/bin/nsenter', mount: '/usr/bin/mount', umount: '/usr/bin/umount' };

describe('choosePodIsolation', () => {
  const cases: { name: string; setting: 'auto' | 'off'; facts: HostFacts; mode: string; reason: RegExp }[] = [
    { name: 'root on Linux with util-linux: a mount namespace per pod', setting: 'auto', facts: { platform: 'linux', uid: 0, tools: allTools }, mode: 'mount-namespace', reason: /root on Linux with util-linux/ },
    { name: 'off: env only, whoever runs it', setting: 'off', facts: { platform: 'linux', uid: 0, tools: allTools }, mode: 'environment', reason: /off in the runtime options/ },
    { name: 'not root: env only, saying why', setting: 'auto', facts: { platform: 'linux', uid: 1000, tools: allTools }, mode: 'environment', reason: /uid 1000, not root/ },
    { name: 'not Linux: env only', setting: 'auto', facts: { platform: 'darwin', uid: 0, tools: allTools }, mode: 'environment', reason: /need Linux; this is darwin/ },
    {
      name: 'a tool missing: env only, naming it',
      setting: 'auto',
      facts: { platform: 'linux', uid: 0, tools: { unshare: '/usr/bin/unshare', mount: '/usr/bin/mount', umount: '/usr/bin/umount' } },
      mode: 'environment',
      reason: /not found on PATH: nsenter$/,
    },
    { name: 'no uid (Windows): env only', setting: 'auto', facts: { platform: 'win32', uid: undefined, tools: {} }, mode: 'environment', reason: /need Linux/ },
  ];
  it.each(cases)('$name', ({ setting, facts, mode, reason }) => {
    const decision = choosePodIsolation(setting, facts);
    expect(decision.mode).toBe(mode);
    expect(decision.reason).toMatch(reason);
    if (decision.mode === 'mount-namespace') expect(decision.tools).toEqual(allTools);
  });

  it('finds the tools on a search path, and only there', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-tools-'));
    try {
      for (const tool of ['unshare', 'mount']) fs.writeFileSync(path.join(directory, tool), '#!/bin/sh\n', { mode: 0o755 });
      fs.writeFileSync(path.join(directory, 'nsenter'), 'not executable', { mode: 0o644 });
      expect(readHostFacts(directory).tools).toEqual({ unshare: path.join(directory, 'unshare'), mount: path.join(directory, 'mount') });
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});

describe('parseMountInfo', () => {
  const cases: { name: string; line: string; entry: { mountPoint: string; fsType: string } | undefined }[] = [
    { name: 'a plain mount', line: '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw', entry: { mountPoint: '/', fsType: 'ext4' } },
    { name: 'optional fields before the separator', line: '36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 shared:2 - ext3 /dev/root rw,errors=continue', entry: { mountPoint: '/mnt2', fsType: 'ext3' } },
    { name: 'a namespace file', line: '69 44 0:4 mnt:[4026532178] /var/lib/kubelet/runtime/mount-namespaces/abc rw - nsfs nsfs rw', entry: { mountPoint: '/var/lib/kubelet/runtime/mount-namespaces/abc', fsType: 'nsfs' } },
    { name: 'a space in the path, octal-escaped', line: '70 27 254:0 /x /data/my\\040dir rw - ext4 /dev/vda rw', entry: { mountPoint: '/data/my dir', fsType: 'ext4' } },
    { name: 'an empty line', line: '', entry: undefined },
  ];
  it.each(cases)('$name', ({ line, entry }) => {
    expect(parseMountInfo(line)).toEqual(entry ? [entry] : []);
  });
});

const facts = readHostFacts(process.env.PATH ?? '');
const decision = choosePodIsolation('auto', facts);
if (decision.mode !== 'mount-namespace') {
  // Jest prints no reason for a skip; this line does.
  process.stderr.write(`mount-namespace tests against the kernel skipped: ${decision.reason}\n`);
}
const asRoot = decision.mode === 'mount-namespace' ? describe : describe.skip;

asRoot('MountNamespaces (root: against the kernel)', () => {
  let root: string;
  let namespaces: MountNamespaces;
  const tools = decision.mode === 'mount-namespace' ? decision.tools : allTools;
  const run = (argv: string[]): string => execFileSync(argv[0] ?? '', argv.slice(1), { encoding: 'utf8', timeout: 10_000 });

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'kubelet-process-runtime-ns-'));
    namespaces = new MountNamespaces(path.join(root, 'namespaces'), tools, process.env.PATH ?? '/usr/bin:/bin');
    namespaces.prepare();
  });

  afterEach(() => {
    unmountAllBelow(root);
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('shows a pod its own resolv.conf and hosts, leaves the host\'s alone, and goes away when removed', async () => {
    const hostResolvConf = fs.readFileSync('/etc/resolv.conf', 'utf8');
    fs.writeFileSync(path.join(root, 'resolv.conf'), 'nameserver 127.0.9.1\nsearch test.svc.cluster.local\n');
    fs.writeFileSync(path.join(root, 'hosts'), '127.9.0.1\tpod-a\n');
    await namespaces.create('pod-a', { resolvConf: path.join(root, 'resolv.conf'), hosts: path.join(root, 'hosts') });
    expect(namespaces.exists('pod-a')).toBe(true);
    expect(run(namespaces.enter('pod-a', ['cat', '/etc/resolv.conf']))).toBe('nameserver 127.0.9.1\nsearch test.svc.cluster.local\n');
    expect(run(namespaces.enter('pod-a', ['getent', 'hosts', 'pod-a'])).trim().split(/\s+/)).toEqual(['127.9.0.1', 'pod-a']);
    expect(fs.readFileSync('/etc/resolv.conf', 'utf8')).toBe(hostResolvConf);
    await namespaces.remove('pod-a');
    expect(namespaces.exists('pod-a')).toBe(false);
    expect(fs.existsSync(namespaces.fileOf('pod-a'))).toBe(false);
    await namespaces.remove('pod-a');
  });

  it('keeps no other pod\'s namespace inside a new one, and prepare() twice binds the directory once', async () => {
    namespaces.prepare();
    await namespaces.create('first', {});
    await namespaces.create('second', {});
    const inside = parseMountInfo(run(namespaces.enter('second', ['cat', '/proc/self/mountinfo'])));
    expect(inside.filter((entry) => entry.fsType === 'nsfs')).toEqual([]);
    const directory = fs.realpathSync(namespaces.directory);
    const outside = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(outside.filter((entry) => entry.mountPoint === directory)).toHaveLength(1);
    expect(outside.filter((entry) => entry.mountPoint.startsWith(`${directory}/`)).map((entry) => entry.fsType)).toEqual(['nsfs', 'nsfs']);
  });

  it('fails with MountNamespaceError, leaving nothing behind, when a file cannot be bound', async () => {
    await expect(namespaces.create('broken', { resolvConf: path.join(root, 'missing.conf') })).rejects.toBeInstanceOf(MountNamespaceError);
    expect(namespaces.exists('broken')).toBe(false);
    expect(fs.existsSync(namespaces.fileOf('broken'))).toBe(false);
  });
});
