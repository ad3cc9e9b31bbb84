// The real etcdctl (3.4) against a 3-member cluster. Every expected output
// here was first checked against the real etcd 3.4.23, so a difference under
// etcd-lite is a wire-compatibility bug in etcd-lite.
//
// Tests share one cluster and run in file order; each uses its own key prefix,
// and compaction (which invalidates old revisions) comes last.

import type { EtcdCluster } from '@kube-lite/testing';
import {
  currentRevision,
  describeEachImplementation,
  etcdctlJson,
  etcdctlOk,
  fromBase64,
  unusedPort,
  waitUntil,
  WatchProcess,
} from './suite';

interface KeyValueJson {
  key: string;
  value?: string;
  create_revision?: number;
  mod_revision?: number;
  version?: number;
  lease?: number | string;
}

interface RangeJson {
  header: { cluster_id: string; member_id: string; revision: number; raft_term: number };
  kvs?: KeyValueJson[];
  more?: boolean;
  count?: number;
}

interface MemberJson {
  ID: string | number;
  name?: string;
  peerURLs?: string[];
  clientURLs?: string[];
  isLearner?: boolean;
}

interface EndpointStatusJson {
  Endpoint: string;
  Status: {
    header: { cluster_id: string; member_id: string; revision: number; raft_term: number };
    version: string;
    dbSize: number;
    leader: string;
    raftIndex: number;
    raftTerm: number;
  };
}

const LEASE_GRANTED = /^lease ([0-9a-f]+) granted with TTL\((\d+)s\)\n$/;

async function putAll(cluster: EtcdCluster, entries: ReadonlyArray<readonly [string, string]>): Promise<void> {
  for (const [key, value] of entries) expect(await etcdctlOk(cluster, ['put', key, value])).toBe('OK\n');
}

async function grantLease(cluster: EtcdCluster, ttlSeconds: number): Promise<string> {
  const output = await etcdctlOk(cluster, ['lease', 'grant', String(ttlSeconds)]);
  const match = LEASE_GRANTED.exec(output);
  if (!match?.[1]) throw new Error(`unexpected lease grant output: ${output}`);
  return match[1];
}

describeEachImplementation('etcdctl', {}, ({ test }) => {
  describe('put and get', () => {
    const prefix = '/etcdctl/get/';
    let seeded: Promise<void> | undefined;
    const seed = (cluster: EtcdCluster): Promise<void> =>
      (seeded ??= putAll(cluster, [
        [`${prefix}a`, '1'],
        [`${prefix}b`, '2'],
        [`${prefix}c`, '3'],
        ['/etcdctl/get0', 'outside the prefix'],
      ]));

    const cases: ReadonlyArray<readonly [string, string[], string]> = [
      ['one key prints the key then the value', ['get', `${prefix}a`], `${prefix}a\n1\n`],
      ['--prefix lists the keys in order', ['get', prefix, '--prefix'], `${prefix}a\n1\n${prefix}b\n2\n${prefix}c\n3\n`],
      ['--keys-only prints each key followed by an empty line', ['get', prefix, '--prefix', '--keys-only'], `${prefix}a\n\n${prefix}b\n\n${prefix}c\n\n`],
      ['--limit returns the first keys', ['get', prefix, '--prefix', '--limit=2'], `${prefix}a\n1\n${prefix}b\n2\n`],
      ['--print-value-only', ['get', `${prefix}b`, '--print-value-only'], '2\n'],
      ['a range end is exclusive', ['get', `${prefix}a`, `${prefix}c`], `${prefix}a\n1\n${prefix}b\n2\n`],
      ['--from-key reads to the end of the keyspace', ['get', `${prefix}c`, '--from-key', '--keys-only'], `${prefix}c\n\n/etcdctl/get0\n\n`],
      ['a missing key prints nothing', ['get', `${prefix}missing`], ''],
    ];
    for (const [name, args, expected] of cases) {
      test(name, async (cluster) => {
        await seed(cluster);
        expect(await etcdctlOk(cluster, args)).toBe(expected);
      });
    }

    test('-w json carries the header and the key-value fields', async (cluster) => {
      await seed(cluster);
      const one = await etcdctlJson<RangeJson>(cluster, ['get', `${prefix}a`]);
      expect(one.count).toBe(1);
      expect(one.kvs).toHaveLength(1);
      const kv = one.kvs![0]!;
      expect(fromBase64(kv.key)).toBe(`${prefix}a`);
      expect(fromBase64(kv.value)).toBe('1');
      expect(kv.version).toBe(1);
      expect(kv.create_revision).toBe(kv.mod_revision);
      expect(kv.mod_revision).toBeGreaterThan(1);
      expect(one.header.revision).toBeGreaterThanOrEqual(kv.mod_revision!);
      expect(one.header.raft_term).toBeGreaterThanOrEqual(1);
      expect(String(one.header.cluster_id)).toMatch(/^\d+$/);
      expect(String(one.header.member_id)).toMatch(/^\d+$/);

      const limited = await etcdctlJson<RangeJson>(cluster, ['get', prefix, '--prefix', '--limit=1']);
      expect(limited.kvs).toHaveLength(1);
      expect(limited.more).toBe(true);
      expect(limited.count).toBe(3);
    });

    test('--rev reads a key as it was at an older revision', async (cluster) => {
      const key = '/etcdctl/rev/key';
      await putAll(cluster, [[key, 'first']]);
      const first = await etcdctlJson<RangeJson>(cluster, ['get', key]);
      await putAll(cluster, [[key, 'second']]);
      const atFirst = first.header.revision;
      expect(await etcdctlOk(cluster, ['get', key, `--rev=${atFirst}`, '--print-value-only'])).toBe('first\n');
      expect(await etcdctlOk(cluster, ['get', key, `--rev=${atFirst + 1}`, '--print-value-only'])).toBe('second\n');
      expect(await etcdctlOk(cluster, ['get', key, `--rev=${atFirst - 1}`])).toBe('');
      const latest = await etcdctlJson<RangeJson>(cluster, ['get', key]);
      expect(latest.kvs![0]).toMatchObject({ version: 2, create_revision: atFirst, mod_revision: atFirst + 1 });
    });
  });

  describe('del', () => {
    test('--prefix deletes every key under the prefix and prints the count', async (cluster) => {
      const prefix = '/etcdctl/del-prefix/';
      await putAll(cluster, [
        [`${prefix}a`, '1'],
        [`${prefix}b`, '2'],
        [`${prefix}c`, '3'],
        ['/etcdctl/del-prefix0', 'kept'],
      ]);
      expect(await etcdctlOk(cluster, ['del', prefix, '--prefix'])).toBe('3\n');
      expect(await etcdctlOk(cluster, ['get', prefix, '--prefix'])).toBe('');
      expect(await etcdctlOk(cluster, ['get', '/etcdctl/del-prefix0', '--print-value-only'])).toBe('kept\n');
    });

    test('--prev-kv prints the deleted key and value', async (cluster) => {
      const key = '/etcdctl/del-prev/key';
      await putAll(cluster, [[key, 'old value']]);
      expect(await etcdctlOk(cluster, ['del', key, '--prev-kv'])).toBe(`1\n${key}\nold value\n`);
    });

    test('deleting a missing key prints 0', async (cluster) => {
      expect(await etcdctlOk(cluster, ['del', '/etcdctl/del-missing'])).toBe('0\n');
    });
  });

  describe('txn (interactive form on stdin)', () => {
    // Each case ($KEY stands for its key): the key's value before (undefined: absent), the compares, the
    // success and failure operations, etcdctl's output, and the value after.
    const cases: ReadonlyArray<{
      name: string;
      before?: string;
      compares: string[];
      success: string[];
      failure: string[];
      output: string;
      after: string;
    }> = [
      {
        name: 'value = holds: runs the success branch',
        before: 'x',
        compares: ['value("$KEY") = "x"'],
        success: ['put $KEY y'],
        failure: ['put $KEY z'],
        output: 'SUCCESS\n\nOK\n',
        after: 'y',
      },
      {
        name: 'value = fails: runs the failure branch',
        before: 'x',
        compares: ['value("$KEY") = "other"'],
        success: ['put $KEY y'],
        failure: ['put $KEY z'],
        output: 'FAILURE\n\nOK\n',
        after: 'z',
      },
      {
        name: 'value != holds',
        before: 'x',
        compares: ['value("$KEY") != "other"'],
        success: ['put $KEY y'],
        failure: [],
        output: 'SUCCESS\n\nOK\n',
        after: 'y',
      },
      {
        name: 'version = 1 on a key written once',
        before: 'x',
        compares: ['version("$KEY") = "1"'],
        success: ['put $KEY v2'],
        failure: ['put $KEY wrong'],
        output: 'SUCCESS\n\nOK\n',
        after: 'v2',
      },
      {
        name: 'create = 0 is put-if-absent on a missing key',
        compares: ['create("$KEY") = "0"'],
        success: ['put $KEY created'],
        failure: [],
        output: 'SUCCESS\n\nOK\n',
        after: 'created',
      },
      {
        name: 'create = 0 fails on an existing key',
        before: 'x',
        compares: ['create("$KEY") = "0"'],
        success: ['put $KEY created'],
        failure: [],
        output: 'FAILURE\n',
        after: 'x',
      },
      {
        name: 'mod > 0 holds on an existing key',
        before: 'x',
        compares: ['mod("$KEY") > "0"'],
        success: ['put $KEY y'],
        failure: [],
        output: 'SUCCESS\n\nOK\n',
        after: 'y',
      },
      {
        name: 'mod < 1 fails on an existing key',
        before: 'x',
        compares: ['mod("$KEY") < "1"'],
        success: ['put $KEY y'],
        failure: ['put $KEY z'],
        output: 'FAILURE\n\nOK\n',
        after: 'z',
      },
      {
        name: 'all compares must hold',
        before: 'x',
        compares: ['value("$KEY") = "x"', 'version("$KEY") = "2"'],
        success: ['put $KEY y'],
        failure: ['put $KEY z'],
        output: 'FAILURE\n\nOK\n',
        after: 'z',
      },
      {
        name: 'several operations print one response each',
        before: 'x',
        compares: ['value("$KEY") = "x"'],
        success: ['get $KEY', 'put $KEY y', 'get $KEY'],
        failure: [],
        output: 'SUCCESS\n\n$KEY\nx\n\nOK\n\n$KEY\ny\n',
        after: 'y',
      },
      {
        name: 'a delete in a branch',
        before: 'x',
        compares: ['value("$KEY") = "x"'],
        success: ['del $KEY'],
        failure: [],
        output: 'SUCCESS\n\n1\n',
        after: '',
      },
    ];
    cases.forEach((txnCase, index) => {
      test(txnCase.name, async (cluster) => {
        const key = `/etcdctl/txn/${index}`;
        const withKey = (line: string): string => line.replaceAll('$KEY', key);
        if (txnCase.before !== undefined) await putAll(cluster, [[key, txnCase.before]]);
        const input = [...txnCase.compares, '', ...txnCase.success, '', ...txnCase.failure, '', ''].map(withKey).join('\n');
        expect(await etcdctlOk(cluster, ['txn'], { input })).toBe(withKey(txnCase.output));
        expect(await etcdctlOk(cluster, ['get', key, '--print-value-only'])).toBe(txnCase.after === '' ? '' : `${txnCase.after}\n`);
      });
    });

    test('-w json reports succeeded and one response per operation', async (cluster) => {
      const key = '/etcdctl/txn/json';
      await putAll(cluster, [[key, 'x']]);
      const input = `value("${key}") = "x"\n\nget ${key}\nput ${key} y --prev-kv\n\n\n`;
      const response = await etcdctlJson<{
        succeeded?: boolean;
        responses: Array<{ Response: { ResponseRange?: RangeJson; ResponsePut?: { prev_kv?: KeyValueJson } } }>;
      }>(cluster, ['txn'], { input });
      expect(response.succeeded).toBe(true);
      expect(response.responses).toHaveLength(2);
      expect(fromBase64(response.responses[0]!.Response.ResponseRange!.kvs![0]!.value)).toBe('x');
      expect(fromBase64(response.responses[1]!.Response.ResponsePut!.prev_kv!.value)).toBe('x');
    });
  });

  describe('watch (etcdctl as a child process)', () => {
    test('--rev replays history in order; --prev-kv adds the previous value', async (cluster) => {
      const prefix = '/etcdctl/watch-history/';
      const start = (await currentRevision(cluster)) + 1;
      await putAll(cluster, [
        [`${prefix}a`, '1'],
        [`${prefix}a`, '2'],
      ]);
      expect(await etcdctlOk(cluster, ['del', `${prefix}a`])).toBe('1\n');
      await putAll(cluster, [
        [`${prefix}b`, '3'],
        ['/etcdctl/watch-history0', 'outside the prefix'],
      ]);

      const plain = WatchProcess.start(cluster, ['--prefix', prefix, `--rev=${start}`]);
      const withPrevious = WatchProcess.start(cluster, ['--prefix', prefix, `--rev=${start}`, '--prev-kv']);
      const exact = WatchProcess.start(cluster, [`${prefix}b`, `--rev=${start}`]);
      try {
        const a = `${prefix}a`;
        const b = `${prefix}b`;
        expect(await plain.waitForLines(12)).toEqual(['PUT', a, '1', 'PUT', a, '2', 'DELETE', a, '', 'PUT', b, '3']);
        expect(await withPrevious.waitForLines(16)).toEqual([
          ...['PUT', a, '1'],
          ...['PUT', a, '1', a, '2'],
          ...['DELETE', a, '2', a, ''],
          ...['PUT', b, '3'],
        ]);
        expect(await exact.waitForLines(3)).toEqual(['PUT', b, '3']);
      } finally {
        plain.stop();
        withPrevious.stop();
        exact.stop();
      }
    });

    test('a live watch reports new changes in order', async (cluster) => {
      const prefix = '/etcdctl/watch-live/';
      const watch = WatchProcess.start(cluster, ['--prefix', prefix]);
      try {
        // etcdctl prints nothing once the watch is set up, so write a marker
        // until the first event shows the watch is live.
        let markers = 0;
        await waitUntil(
          () => `the live watch to see a marker (stderr: ${watch.stderr})`,
          async () => {
            if (watch.lines().length > 0) return true;
            markers += 1;
            await etcdctlOk(cluster, ['put', `${prefix}marker`, String(markers)]);
            return false;
          },
          10000,
        );
        // Markers written before the watch started are never reported; once a
        // sync key shows up, everything before it has been printed.
        await putAll(cluster, [[`${prefix}sync`, 'go']]);
        await waitUntil('the sync event', () => watch.lines().slice(-3).join(' ') === `PUT ${prefix}sync go`);
        const before = watch.lines().length;
        expect(before % 3).toBe(0);
        await putAll(cluster, [[`${prefix}k`, 'v1']]);
        await etcdctlOk(cluster, ['del', `${prefix}marker`]);
        await putAll(cluster, [[`${prefix}k`, 'v2']]);
        const lines = await watch.waitForLines(before + 9);
        expect(lines.slice(before)).toEqual(['PUT', `${prefix}k`, 'v1', 'DELETE', `${prefix}marker`, '', 'PUT', `${prefix}k`, 'v2']);
      } finally {
        watch.stop();
      }
    }, 20000);
  });

  describe('lease', () => {
    test('grant, put --lease, keep-alive --once, timetolive --keys, list, revoke', async (cluster) => {
      const key = '/etcdctl/lease/key';
      const id = await grantLease(cluster, 60);
      expect(await etcdctlOk(cluster, ['put', key, 'leased', `--lease=${id}`])).toBe('OK\n');
      const attached = await etcdctlJson<RangeJson>(cluster, ['get', key]);
      // etcdctl prints lease ids as 16 hex digits, zero-padded.
      expect(BigInt(attached.kvs![0]!.lease!).toString(16).padStart(16, '0')).toBe(id);

      expect(await etcdctlOk(cluster, ['lease', 'keep-alive', '--once', id])).toBe(`lease ${id} keepalived with TTL(60)\n`);
      expect(await etcdctlOk(cluster, ['lease', 'timetolive', id, '--keys'])).toMatch(
        new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\), attached keys\\(\\[${key}\\]\\)\\n$`),
      );
      expect(await etcdctlOk(cluster, ['lease', 'timetolive', id])).toMatch(
        new RegExp(`^lease ${id} granted with TTL\\(60s\\), remaining\\((59|60)s\\)\\n$`),
      );
      const listed = (await etcdctlOk(cluster, ['lease', 'list'])).split('\n');
      expect(listed[0]).toMatch(/^found \d+ leases$/);
      expect(listed).toContain(id);

      expect(await etcdctlOk(cluster, ['lease', 'revoke', id])).toBe(`lease ${id} revoked\n`);
      expect(await etcdctlOk(cluster, ['get', key])).toBe('');
      expect(await etcdctlOk(cluster, ['lease', 'timetolive', id])).toBe(`lease ${id} already expired\n`);
      expect((await etcdctlOk(cluster, ['lease', 'list'])).split('\n')).not.toContain(id);
    });

    test('a key on a lease that is not kept alive vanishes after its TTL', async (cluster) => {
      const key = '/etcdctl/lease/expiring';
      const id = await grantLease(cluster, 1);
      await etcdctlOk(cluster, ['put', key, 'short-lived', `--lease=${id}`]);
      expect(await etcdctlOk(cluster, ['get', key, '--print-value-only'])).toBe('short-lived\n');
      await waitUntil('the leased key to expire', async () => (await etcdctlOk(cluster, ['get', key])) === '', 10000);
      expect(await etcdctlOk(cluster, ['lease', 'timetolive', id])).toBe(`lease ${id} already expired\n`);
    }, 20000);
  });

  describe('member', () => {
    test('list -w json names every member with its URLs', async (cluster) => {
      const response = await etcdctlJson<{ header: { cluster_id: string }; members: MemberJson[] }>(cluster, ['member', 'list']);
      expect(String(response.header.cluster_id)).toMatch(/^\d+$/);
      const members = [...response.members].sort((left, right) => String(left.name).localeCompare(String(right.name)));
      expect(members.map(({ name, peerURLs, clientURLs }) => ({ name, peerURLs, clientURLs }))).toEqual(
        cluster.members.map((member) => ({ name: member.name, peerURLs: [member.peerUrl], clientURLs: [member.clientUrl] })),
      );
      expect(new Set(members.map((member) => String(member.ID))).size).toBe(3);
      expect(members.every((member) => member.isLearner !== true)).toBe(true);
    });

    test('list prints id, status, name, peer and client URLs, learner flag', async (cluster) => {
      const lines = (await etcdctlOk(cluster, ['member', 'list'])).trim().split('\n').sort((left, right) => left.split(', ')[2]!.localeCompare(right.split(', ')[2]!));
      expect(lines).toHaveLength(3);
      lines.forEach((line, index) => {
        const member = cluster.members[index]!;
        expect(line).toMatch(new RegExp(`^[0-9a-f]+, started, ${member.name}, ${member.peerUrl}, ${member.clientUrl}, false$`));
      });
    });

    test('add a learner, see it unstarted, then remove it', async (cluster) => {
      const peerUrl = `http://127.0.0.1:${await unusedPort()}`;
      // etcd refuses reconfiguration ("unhealthy cluster") until its members
      // have been connected for 5 s, which a freshly started cluster may not be.
      let added = '';
      await waitUntil(
        'member add to be accepted',
        async () => {
          const result = await cluster.etcdctl(['member', 'add', 'learner-1', '--learner', `--peer-urls=${peerUrl}`]);
          if (result.code === 0) added = result.stdout;
          else if (!result.stderr.includes('unhealthy cluster')) throw new Error(`member add failed: ${result.stderr}`);
          return result.code === 0;
        },
        15000,
      );
      // etcdctl prints these ids with %16x: space-padded to 16 characters.
      const addedLine = /^Member ([ 0-9a-f]{16}) added to cluster ([ 0-9a-f]{16})\n/;
      expect(added).toMatch(addedLine);
      const match = addedLine.exec(added);
      const learnerId = match![1]!.trim();
      expect(added).toContain('ETCD_NAME="learner-1"');
      expect(added).toContain('ETCD_INITIAL_CLUSTER_STATE="existing"');
      expect(added).toContain(`learner-1=${peerUrl}`);

      const withLearner = await etcdctlJson<{ members: MemberJson[] }>(cluster, ['member', 'list']);
      expect(withLearner.members).toHaveLength(4);
      const learner = withLearner.members.find((member) => BigInt(member.ID).toString(16) === learnerId);
      expect(learner).toMatchObject({ peerURLs: [peerUrl], isLearner: true });
      // Unstarted: it has not published its name or client URLs yet.
      expect(learner!.name ?? '').toBe('');
      expect(await etcdctlOk(cluster, ['member', 'list'])).toContain(`${learnerId}, unstarted, , ${peerUrl}, , true`);

      expect(await etcdctlOk(cluster, ['member', 'remove', learnerId])).toBe(`Member ${match![1]!} removed from cluster ${match![2]!}\n`);
      const after = await etcdctlJson<{ members: MemberJson[] }>(cluster, ['member', 'list']);
      expect(after.members).toHaveLength(3);
      // The voters still commit writes.
      expect(await etcdctlOk(cluster, ['put', '/etcdctl/member/after-remove', 'ok'])).toBe('OK\n');
    }, 30000);
  });

  describe('endpoint', () => {
    test('status -w json: one leader, its term, revision and version from every member', async (cluster) => {
      await putAll(cluster, [['/etcdctl/endpoint/status', 'x']]);
      const revision = await currentRevision(cluster);
      let statuses: EndpointStatusJson[] = [];
      // Followers apply a moment after the leader acknowledges.
      await waitUntil('every member to apply the latest revision', async () => {
        statuses = await etcdctlJson<EndpointStatusJson[]>(cluster, ['endpoint', 'status']);
        return statuses.every((status) => status.Status.header.revision >= revision);
      });
      expect(statuses.map((status) => status.Endpoint).sort()).toEqual([...cluster.endpoints].sort());
      const memberIds = statuses.map((status) => String(status.Status.header.member_id));
      const leaders = new Set(statuses.map((status) => String(status.Status.leader)));
      expect(leaders.size).toBe(1);
      expect(memberIds).toContain([...leaders][0]);
      expect(new Set(statuses.map((status) => status.Status.raftTerm)).size).toBe(1);
      for (const { Status: status } of statuses) {
        expect(status.raftTerm).toBeGreaterThanOrEqual(1);
        expect(status.header.raft_term).toBe(status.raftTerm);
        expect(status.raftIndex).toBeGreaterThan(0);
        expect(status.dbSize).toBeGreaterThan(0);
        expect(status.version).toMatch(/^3\.4\.\d+$/);
      }
      const leader = await cluster.leader();
      const leaderStatus = statuses.find((status) => status.Endpoint === leader.clientUrl);
      expect(String(leaderStatus!.Status.leader)).toBe(String(leaderStatus!.Status.header.member_id));
    });

    test('status prints a table row per member with the leader marked', async (cluster) => {
      const leader = await cluster.leader();
      const rows = (await etcdctlOk(cluster, ['endpoint', 'status'])).trim().split('\n');
      expect(rows).toHaveLength(3);
      for (const row of rows) {
        const fields = row.split(', ');
        expect(fields[0]).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
        expect(fields[1]).toMatch(/^[0-9a-f]+$/);
        expect(fields[4]).toBe(fields[0] === leader.clientUrl ? 'true' : 'false');
      }
    });

    test('health reports every member healthy', async (cluster) => {
      const result = await cluster.etcdctl(['endpoint', 'health']);
      expect(result.code).toBe(0);
      // etcdctl 3.4 prints this report on stderr.
      const lines = (result.stdout + result.stderr).trim().split('\n').sort();
      expect(lines).toHaveLength(3);
      for (const line of lines) expect(line).toMatch(/^http:\/\/127\.0\.0\.1:\d+ is healthy: successfully committed proposal: took = /);
      const json = await etcdctlJson<Array<{ endpoint: string; health: boolean }>>(cluster, ['endpoint', 'health']);
      expect(json.map((entry) => [entry.endpoint, entry.health]).sort()).toEqual(cluster.endpoints.map((endpoint) => [endpoint, true]).sort());
    });
  });

  describe('errors a user can cause', () => {
    const cases: ReadonlyArray<{ name: string; args: string[]; input?: string; message: string }> = [
      { name: 'put with an unknown lease', args: ['put', '/etcdctl/errors/k', 'v', '--lease=1234abcd'], message: 'etcdserver: requested lease not found' },
      { name: 'keep-alive of an unknown lease', args: ['lease', 'keep-alive', '--once', '1234abcd'], message: 'etcdserver: requested lease not found' },
      { name: 'revoke of an unknown lease', args: ['lease', 'revoke', '1234abcd'], message: 'etcdserver: requested lease not found' },
      {
        name: 'a value over 1.5 MiB',
        args: ['put', '/etcdctl/errors/big'],
        input: 'a'.repeat(1.6 * 1024 * 1024),
        message: 'etcdserver: request is too large',
      },
      { name: 'an empty key', args: ['put', '', 'v'], message: 'etcdserver: key is not provided' },
      { name: 'get at a future revision', args: ['get', '/etcdctl/errors/k', '--rev=100000000'], message: 'etcdserver: mvcc: required revision is a future revision' },
    ];
    for (const errorCase of cases) {
      test(errorCase.name, async (cluster) => {
        const result = await cluster.etcdctl(errorCase.args, errorCase.input === undefined ? {} : { input: errorCase.input });
        expect(result.code).not.toBe(0);
        expect(result.stderr).toContain(errorCase.message);
      });
    }

    test('nothing was written by the failed requests', async (cluster) => {
      expect(await etcdctlOk(cluster, ['get', '/etcdctl/errors/', '--prefix', '--keys-only'])).toBe('');
    });
  });

  // Last: compaction makes every older revision unreadable for the rest of the file.
  describe('compaction', () => {
    test('get --rev of a compacted revision fails; the compacted revision itself still reads', async (cluster) => {
      const key = '/etcdctl/compaction/key';
      await putAll(cluster, [
        [key, '1'],
        [key, '2'],
        [key, '3'],
      ]);
      const revision = await currentRevision(cluster);
      expect(await etcdctlOk(cluster, ['compact', String(revision)])).toBe(`compacted revision ${revision}\n`);

      const old = await cluster.etcdctl(['get', key, `--rev=${revision - 1}`]);
      expect(old.code).not.toBe(0);
      expect(old.stderr).toContain('required revision has been compacted');
      expect(await etcdctlOk(cluster, ['get', key, `--rev=${revision}`, '--print-value-only'])).toBe('3\n');

      const again = await cluster.etcdctl(['compact', String(revision - 1)]);
      expect(again.code).not.toBe(0);
      expect(again.stderr).toContain('required revision has been compacted');
      const future = await cluster.etcdctl(['compact', String(revision + 1000)]);
      expect(future.code).not.toBe(0);
      expect(future.stderr).toContain('required revision is a future revision');
    });

    test('a watch from a compacted revision is cancelled with the reason', async (cluster) => {
      const revision = await currentRevision(cluster);
      const watch = WatchProcess.start(cluster, ['/etcdctl/compaction/key', '--rev=1']);
      try {
        await waitUntil(() => `the watch to be cancelled (stdout ${JSON.stringify(watch.lines())})`, () => watch.stderr.includes('watch is canceled'), 10000);
        expect(watch.lines().join('\n') + watch.stderr).toContain('required revision has been compacted');
      } finally {
        watch.stop();
      }
      expect(revision).toBeGreaterThan(1);
    }, 20000);
  });
});
