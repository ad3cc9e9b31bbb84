// The npm `etcd3` client (what Node programs, and so our API server's
// storage tests, use) against a 3-member cluster: the gRPC wire format as a
// real client library exercises it, beyond what etcdctl touches.

import { Etcd3, IKeyValue, Watcher } from 'etcd3';
import { delay, describeEachImplementation, waitUntil } from './suite';

type CompareColumn = 'Value' | 'Version' | 'Create' | 'Mod';
type Comparison = '==' | '!=' | '>' | '<';

describeEachImplementation('etcd3 client', {}, ({ cluster, test }) => {
  let client: Etcd3 | undefined;
  const etcd = (): Etcd3 => (client ??= new Etcd3({ hosts: cluster().endpoints }));
  afterAll(() => client?.close());

  describe('key-value', () => {
    test('put then get returns the value; a missing key is null', async () => {
      const put = await etcd().put('/etcd3/kv/key').value('value-1');
      expect(Number(put.header.revision)).toBeGreaterThan(1);
      expect(await etcd().get('/etcd3/kv/key').string()).toBe('value-1');
      expect(await etcd().get('/etcd3/kv/missing').string()).toBeNull();
      const binary = Buffer.from([0, 1, 2, 255]);
      await etcd().put('/etcd3/kv/binary').value(binary);
      expect(await etcd().get('/etcd3/kv/binary').buffer()).toEqual(binary);
    });

    test('getAll with a prefix: values, keys, count, limit and sort order', async () => {
      const prefix = '/etcd3/all/';
      for (const [key, value] of [
        ['b', '2'],
        ['a', '1'],
        ['c', '3'],
      ] as const) {
        await etcd().put(`${prefix}${key}`).value(value);
      }
      await etcd().put('/etcd3/all0').value('outside the prefix');
      expect(await etcd().getAll().prefix(prefix).strings()).toEqual({ [`${prefix}a`]: '1', [`${prefix}b`]: '2', [`${prefix}c`]: '3' });
      expect(await etcd().getAll().prefix(prefix).keys()).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}c`]);
      expect(await etcd().getAll().prefix(prefix).count()).toBe(3);
      expect(await etcd().getAll().prefix(prefix).limit(2).keys()).toEqual([`${prefix}a`, `${prefix}b`]);
      expect(await etcd().getAll().prefix(prefix).sort('Key', 'Descend').keys()).toEqual([`${prefix}c`, `${prefix}b`, `${prefix}a`]);
    });

    test('delete a key and a prefix, returning the previous values', async () => {
      const prefix = '/etcd3/delete/';
      await etcd().put(`${prefix}one`).value('1');
      await etcd().put(`${prefix}two`).value('2');
      await etcd().put(`${prefix}three`).value('3');
      const single = await etcd().delete().key(`${prefix}one`);
      expect(single.deleted).toBe('1');
      const previous = await etcd().delete().prefix(prefix).getPrevious();
      expect(previous.map((kv) => `${kv.key.toString()}=${kv.value.toString()}`).sort()).toEqual([`${prefix}three=3`, `${prefix}two=2`]);
      expect(await etcd().getAll().prefix(prefix).count()).toBe(0);
      expect((await etcd().delete().key(`${prefix}one`)).deleted).toBe('0');
    });
  });

  describe('transactions with if()', () => {
    // The key holds 'v', written once: version 1, create = mod = its revision.
    const cases: ReadonlyArray<readonly [string, CompareColumn, Comparison, string | number, boolean]> = [
      ['Value == the value', 'Value', '==', 'v', true],
      ['Value == another value', 'Value', '==', 'w', false],
      ['Value != another value', 'Value', '!=', 'w', true],
      ['Version == 1', 'Version', '==', 1, true],
      ['Version > 1', 'Version', '>', 1, false],
      ['Create > 0', 'Create', '>', 0, true],
      ['Mod < 1', 'Mod', '<', 1, false],
    ];
    cases.forEach(([name, column, comparison, operand, succeeds], index) => {
      test(`${name} ${succeeds ? 'runs then()' : 'runs else()'}`, async () => {
        const key = `/etcd3/txn/${index}`;
        await etcd().put(key).value('v');
        const result = await etcd()
          .if(key, column, comparison, operand)
          .then(etcd().put(key).value('then'))
          .else(etcd().put(key).value('else'))
          .commit();
        expect(result.succeeded).toBe(succeeds);
        expect(await etcd().get(key).string()).toBe(succeeds ? 'then' : 'else');
      });
    });

    test('and() requires every compare; a get in a branch returns its range', async () => {
      const key = '/etcd3/txn/and';
      await etcd().put(key).value('v');
      const result = await etcd().if(key, 'Value', '==', 'v').and(key, 'Version', '==', 2).then(etcd().delete().key(key)).else(etcd().get(key)).commit();
      expect(result.succeeded).toBe(false);
      const range = result.responses[0]?.response_range;
      expect(range?.kvs.map((kv) => kv.value.toString())).toEqual(['v']);
    });

    test('create == 0 is put-if-absent', async () => {
      const key = '/etcd3/txn/absent';
      const first = await etcd().if(key, 'Create', '==', 0).then(etcd().put(key).value('first')).commit();
      const second = await etcd().if(key, 'Create', '==', 0).then(etcd().put(key).value('second')).commit();
      expect([first.succeeded, second.succeeded]).toEqual([true, false]);
      expect(await etcd().get(key).string()).toBe('first');
    });
  });

  describe('watch', () => {
    const describeEvent = (type: string, kv: IKeyValue, previous?: IKeyValue): string =>
      `${type} ${kv.key.toString()}=${kv.value.toString()}${previous ? ` (was ${previous.value.toString()})` : ''}`;
    const record = (watcher: Watcher, events: string[]): void => {
      watcher.on('put', (kv, previous) => events.push(describeEvent('put', kv, previous)));
      watcher.on('delete', (kv, previous) => events.push(describeEvent('delete', kv, previous)));
    };

    test('a prefix watcher sees puts and deletes in order', async () => {
      const prefix = '/etcd3/watch/live/';
      const watcher = await etcd().watch().prefix(prefix).create();
      const events: string[] = [];
      record(watcher, events);
      try {
        await etcd().put(`${prefix}a`).value('1');
        await etcd().put(`${prefix}b`).value('2');
        await etcd().put('/etcd3/watch/other').value('not watched');
        await etcd().delete().key(`${prefix}a`);
        await etcd().put(`${prefix}a`).value('3');
        await waitUntil(() => `4 events, have ${JSON.stringify(events)}`, () => events.length >= 4);
        expect(events).toEqual([`put ${prefix}a=1`, `put ${prefix}b=2`, `delete ${prefix}a=`, `put ${prefix}a=3`]);
      } finally {
        await watcher.cancel();
      }
    });

    test('a watcher from an old revision replays history with previous values', async () => {
      const key = '/etcd3/watch/history';
      const first = await etcd().put(key).value('1');
      await etcd().put(key).value('2');
      await etcd().delete().key(key);
      const watcher = await etcd().watch().key(key).startRevision(String(first.header.revision)).withPreviousKV().create();
      const events: string[] = [];
      record(watcher, events);
      try {
        await waitUntil(() => `3 events, have ${JSON.stringify(events)}`, () => events.length >= 3);
        expect(events).toEqual([`put ${key}=1`, `put ${key}=2 (was 1)`, `delete ${key}= (was 2)`]);
      } finally {
        await watcher.cancel();
      }
    });
  });

  describe('leases', () => {
    test('grant, attach a key, keepaliveOnce, time-to-live with keys, revoke', async () => {
      const key = '/etcd3/lease/key';
      const lease = etcd().lease(60, { autoKeepAlive: false });
      const id = await lease.grant();
      expect(id).toMatch(/^\d+$/);
      await lease.put(key).value('leased');
      expect((await etcd().get(key).exec()).kvs[0]?.lease).toBe(id);
      const keepalive = await lease.keepaliveOnce();
      expect(keepalive.ID).toBe(id);
      expect(keepalive.TTL).toBe('60');
      const timeToLive = await etcd().leaseClient.leaseTimeToLive({ ID: id, keys: true });
      expect(timeToLive.grantedTTL).toBe('60');
      expect(Number(timeToLive.TTL)).toBeGreaterThan(55);
      expect(timeToLive.keys.map((leasedKey) => leasedKey.toString())).toEqual([key]);
      const leases = await etcd().leaseClient.leaseLeases();
      expect(leases.leases.map((listed) => listed.ID)).toContain(id);

      await lease.revoke();
      expect(await etcd().get(key).string()).toBeNull();
      const afterRevoke = await etcd().leaseClient.leaseTimeToLive({ ID: id, keys: false });
      expect(afterRevoke.TTL).toBe('-1');
    });

    test('automatic keepalive holds a short lease past its TTL', async () => {
      const key = '/etcd3/lease/kept-alive';
      const lease = etcd().lease(2);
      let keepalives = 0;
      lease.on('keepaliveSucceeded', () => (keepalives += 1));
      try {
        await lease.put(key).value('alive');
        // Well past the 2 s TTL: only the keepalive stream keeps the key.
        await delay(3500);
        expect(keepalives).toBeGreaterThanOrEqual(3);
        expect(await etcd().get(key).string()).toBe('alive');
      } finally {
        await lease.revoke();
      }
      expect(await etcd().get(key).string()).toBeNull();
    }, 20000);

    test('a lease that is released expires and takes its key', async () => {
      const key = '/etcd3/lease/released';
      const lease = etcd().lease(1, { autoKeepAlive: false });
      await lease.put(key).value('short-lived');
      await waitUntil('the leased key to expire', async () => (await etcd().get(key).string()) === null, 10000);
      lease.release();
    }, 20000);
  });
});
