import * as fs from 'node:fs';
import {
  EtcdBinaryNotFoundError,
  EtcdCluster,
  etcdIdToHex,
  etcdLiteAvailable,
  etcdLiteBinaryPath,
  parseEtcdctlJson,
  startEtcdCluster,
  UnknownEtcdMemberError,
} from './etcd-cluster';

describe('parseEtcdctlJson', () => {
  it.each([
    ['a uint64 member id above 2^53', '{"member_id":13510015062231200447}', { member_id: '13510015062231200447' }],
    ['ids in an array', '{"ids":[5303474902600168587, 16322613195064898111]}', { ids: ['5303474902600168587', '16322613195064898111'] }],
    ['small numbers stay numbers', '{"revision":42,"raft_term":2}', { revision: 42, raft_term: 2 }],
    ['digits inside strings are left alone', '{"key":"12345678901234567890"}', { key: '12345678901234567890' }],
  ])('%s', (_name, text, expected) => {
    expect(parseEtcdctlJson(text)).toEqual(expected);
  });
});

describe('etcdIdToHex', () => {
  it.each([
    ['13510015062231200447', 'bb7d371eb677b2bf'],
    [5303474902600168587n.toString(), '4999ba532caeb48b'],
    [255, 'ff'],
    [undefined, '0'],
  ])('%s -> %s', (id, hex) => {
    expect(etcdIdToHex(id)).toBe(hex);
  });
});

describe('etcdLiteBinaryPath', () => {
  it('points at the built cli in this repository, and availability follows the file', () => {
    expect(etcdLiteBinaryPath()).toMatch(/packages\/etcd-lite\/dist\/cli\.js$/);
    expect(etcdLiteAvailable()).toBe(fs.existsSync(etcdLiteBinaryPath()));
  });

  (etcdLiteAvailable() ? it.skip : it)('refuses to start etcd-lite before it is built', async () => {
    await expect(startEtcdCluster({ implementation: 'etcd-lite', members: 1 })).rejects.toBeInstanceOf(EtcdBinaryNotFoundError);
  });
});

describe('startEtcdCluster with the real etcd', () => {
  let cluster: EtcdCluster | undefined;
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts healthy members with distinct ports and elects a leader', async () => {
    cluster = await startEtcdCluster({ implementation: 'etcd', members: 3 });
    const urls = cluster.members.flatMap((member) => [member.clientUrl, member.peerUrl, member.metricsUrl]);
    expect(new Set(urls).size).toBe(9);
    expect(cluster.endpoints).toHaveLength(3);
    const leader = await cluster.leader();
    expect(cluster.members.map((member) => member.name)).toContain(leader.name);
    const statuses = await cluster.status();
    expect(statuses.map((status) => status.member.name).sort()).toEqual(['member-1', 'member-2', 'member-3']);
    expect(new Set(statuses.map((status) => status.leaderId)).size).toBe(1);
  }, 60000);

  it('runs etcdctl with stdin input and reports failures through the exit code', async () => {
    const put = await cluster!.etcdctl(['put', '/harness/key'], { input: 'from-stdin' });
    expect(put).toMatchObject({ code: 0, stdout: 'OK\n' });
    const get = await cluster!.etcdctl(['get', '/harness/key', '--print-value-only']);
    expect(get.stdout).toBe('from-stdin\n');
    const bad = await cluster!.etcdctl(['no-such-command']);
    expect(bad.code).not.toBe(0);
  }, 30000);

  it('kills a member, keeps serving from the others, and restarts it with its data', async () => {
    const victim = cluster!.members[0]!;
    const oldPid = victim.pid;
    await cluster!.kill(victim.name);
    expect(victim.state).toBe('exited');
    expect(cluster!.runningEndpoints()).not.toContain(victim.clientUrl);
    await cluster!.leader({ timeoutMs: 10000 });
    expect(await cluster!.etcdctl(['put', '/harness/while-down', 'yes'])).toMatchObject({ code: 0 });
    await cluster!.restart(victim.name);
    expect(victim.state).toBe('running');
    expect(victim.pid).not.toBe(oldPid);
    const read = await cluster!.etcdctl(['get', '/harness/while-down', '--print-value-only', '--consistency=s'], {
      endpoints: [victim.clientUrl],
    });
    // A serializable read from the restarted member proves it has caught up from its peers.
    expect(read.stdout).toBe('yes\n');
  }, 60000);

  it('pauses and resumes a member with SIGSTOP and SIGCONT', async () => {
    const member = cluster!.members[1]!;
    await cluster!.kill(member.name, 'SIGSTOP');
    expect(member.state).toBe('paused');
    expect(cluster!.runningEndpoints()).toHaveLength(2);
    await cluster!.kill(member.name, 'SIGCONT');
    expect(member.state).toBe('running');
    expect((await cluster!.status()).length).toBe(3);
  }, 30000);

  it('rejects unknown member names', async () => {
    await expect(cluster!.kill('member-9')).rejects.toBeInstanceOf(UnknownEtcdMemberError);
  });

  it('stop() kills every member and removes its temporary directory', async () => {
    const pids = cluster!.members.map((member) => member.pid);
    const baseDir = cluster!.baseDir;
    await cluster!.stop();
    expect(cluster!.members.every((member) => member.state === 'exited')).toBe(true);
    for (const pid of pids) expect(() => process.kill(pid!, 0)).toThrow();
    expect(fs.existsSync(baseDir)).toBe(false);
    cluster = undefined;
  }, 30000);

  it('keeps the data dir of a failed run', async () => {
    const single = await startEtcdCluster({ implementation: 'etcd', members: 1 });
    single.markFailed();
    const errorSpy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await single.stop();
      expect(errorSpy).toHaveBeenCalledWith(expect.stringContaining('member-1.log'));
    } finally {
      errorSpy.mockRestore();
    }
    expect(fs.existsSync(single.members[0]!.logFile)).toBe(true);
    fs.rmSync(single.baseDir, { recursive: true, force: true });
  }, 30000);
});
