import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { loopbackServiceAddress } from '../core/addresses';
import { endpointsOf, serviceOf } from '../test-fixtures';
import { DnsServer } from './dns-server';
import { DnsForwarder } from './forwarder';
import { podResolvConf, upstreamFromResolvConf } from './resolv-conf';
import { ClusterDnsZone, type QueryType } from './zone';

const services = [
  serviceOf('web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { port: 9090, name: '' }] }),
  serviceOf('db', { clusterIP: 'None', ports: [{ name: 'sql', port: 5432 }] }, 'data'),
  serviceOf('ext', { type: 'ExternalName', externalName: 'example.org.' }),
  serviceOf('empty', { clusterIP: 'None', ports: [{ port: 80 }] }),
  serviceOf('portless', { clusterIP: 'None' }),
];
const endpoints = [
  endpointsOf('web', [{ addresses: [{ ip: '127.1.0.2' }], ports: [{ name: 'http', port: 8080 }] }]),
  endpointsOf(
    'db',
    [
      {
        addresses: [{ ip: '127.1.0.5', hostname: 'db-0' }, { ip: '127.2.0.7', hostname: 'db-1' }, { ip: '127.2.0.8' }],
        notReadyAddresses: [{ ip: '127.3.0.9', hostname: 'db-2' }],
        ports: [{ name: 'sql', port: 5432 }],
      },
    ],
    'data',
  ),
  endpointsOf('portless', [{ addresses: [{ ip: '127.1.0.20', hostname: 'portless-0' }] }]),
];

function summarize(answer: ReturnType<ClusterDnsZone['answer']>): unknown {
  if (!answer) return 'forward';
  return {
    rcode: answer.rcode,
    answers: answer.answers.map((record) => `${record.type} ${'data' in record ? (typeof record.data === 'object' ? JSON.stringify(record.data) : String(record.data)) : ''}`),
    ...(answer.additionals.length > 0 ? { additionals: answer.additionals.map((record) => `${record.name} ${'data' in record ? String(record.data) : ''}`) } : {}),
  };
}

describe('ClusterDnsZone', () => {
  const zone = new ClusterDnsZone(services, endpoints, { serviceAddress: loopbackServiceAddress });
  test.each<[string, QueryType, unknown]>([
    ['web.default.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: ['A 127.96.0.10'] }],
    ['WEB.default.svc.cluster.local.', 'A', { rcode: 'NOERROR', answers: ['A 127.96.0.10'] }],
    ['web.default.svc.cluster.local', 'AAAA', { rcode: 'NOERROR', answers: [] }],
    ['db.data.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: ['A 127.1.0.5', 'A 127.2.0.7', 'A 127.2.0.8'] }],
    ['db-1.db.data.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: ['A 127.2.0.7'] }],
    ['db-2.db.data.svc.cluster.local', 'A', { rcode: 'NXDOMAIN', answers: [] }],
    ['127-2-0-8.db.data.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: ['A 127.2.0.8'] }],
    ['_http._tcp.web.default.svc.cluster.local', 'SRV', { rcode: 'NOERROR', answers: ['SRV {"priority":0,"weight":100,"port":80,"target":"web.default.svc.cluster.local"}'], additionals: ['web.default.svc.cluster.local 127.96.0.10'] }],
    [
      '_sql._tcp.db.data.svc.cluster.local',
      'SRV',
      {
        rcode: 'NOERROR',
        answers: [
          'SRV {"priority":0,"weight":33,"port":5432,"target":"db-0.db.data.svc.cluster.local"}',
          'SRV {"priority":0,"weight":33,"port":5432,"target":"db-1.db.data.svc.cluster.local"}',
          'SRV {"priority":0,"weight":33,"port":5432,"target":"127-2-0-8.db.data.svc.cluster.local"}',
        ],
        additionals: ['db-0.db.data.svc.cluster.local 127.1.0.5', 'db-1.db.data.svc.cluster.local 127.2.0.7', '127-2-0-8.db.data.svc.cluster.local 127.2.0.8'],
      },
    ],
    ['_http._udp.web.default.svc.cluster.local', 'SRV', { rcode: 'NXDOMAIN', answers: [] }],
    ['ext.default.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: ['CNAME example.org'] }],
    ['empty.default.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: [] }],
    ['portless.default.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: ['A 127.1.0.20'] }],
    ['portless-0.portless.default.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: ['A 127.1.0.20'] }],
    ['missing.default.svc.cluster.local', 'A', { rcode: 'NXDOMAIN', answers: [] }],
    ['web.other.svc.cluster.local', 'A', { rcode: 'NXDOMAIN', answers: [] }],
    ['default.svc.cluster.local', 'A', { rcode: 'NOERROR', answers: [] }],
    ['svc.cluster.local', 'A', { rcode: 'NOERROR', answers: [] }],
    ['cluster.local', 'A', { rcode: 'NOERROR', answers: [] }],
    ['127-1-0-9.default.pod.cluster.local', 'A', { rcode: 'NOERROR', answers: ['A 127.1.0.9'] }],
    ['not-an-ip.default.pod.cluster.local', 'A', { rcode: 'NXDOMAIN', answers: [] }],
    ['example.org', 'A', 'forward'],
    ['notcluster.local', 'A', 'forward'],
  ])('%s %s', (name, type, expected) => {
    expect(summarize(zone.answer(name, type))).toEqual(expected);
  });

  test('a custom cluster domain and the identity mapping (kernel mode)', () => {
    const custom = new ClusterDnsZone(services, endpoints, { clusterDomain: 'kube.lite' });
    expect(summarize(custom.answer('web.default.svc.kube.lite', 'A'))).toEqual({ rcode: 'NOERROR', answers: ['A 10.96.0.10'] });
    expect(custom.answer('web.default.svc.cluster.local', 'A')).toBeUndefined();
  });
});

describe('resolv.conf', () => {
  test.each([
    ['first of two nameservers', '# comment\nsearch example\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n', '10.0.0.2:53'],
    ['IPv6', 'nameserver ::1\n', '[::1]:53'],
    ['none', 'options ndots:1\n', undefined],
  ])('upstream: %s', (_, text, expected) => {
    expect(upstreamFromResolvConf(text)).toBe(expected);
  });

  test('the pod resolv.conf the docker runtime writes', () => {
    expect(podResolvConf('10.96.0.10', 'shop')).toBe('nameserver 10.96.0.10\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n');
  });
});

async function queryUdp(port: number, name: string, type: QueryType, extra: Partial<dnsPacket.Packet> = {}): Promise<dnsPacket.DecodedPacket> {
  const socket = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer for ${name}`)), 3000);
      socket.on('message', (message) => {
        clearTimeout(timer);
        resolve(dnsPacket.decode(message));
      });
      socket.send(dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name, type: type as dnsPacket.RecordType }], ...extra }), port, '127.0.0.1');
    });
  } finally {
    socket.close();
  }
}

async function queryTcp(port: number, names: string[]): Promise<dnsPacket.DecodedPacket[]> {
  const socket = net.connect({ host: '127.0.0.1', port });
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no tcp answer')), 3000);
      const replies: dnsPacket.DecodedPacket[] = [];
      let buffered = Buffer.alloc(0);
      socket.on('error', reject);
      socket.on('data', (chunk: Buffer) => {
        buffered = Buffer.concat([buffered, chunk]);
        while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
          replies.push(dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
          buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
        }
        if (replies.length === names.length) {
          clearTimeout(timer);
          resolve(replies);
        }
      });
      // Both queries in one write: the server must split them by their length prefixes.
      socket.write(Buffer.concat(names.map((name, index) => dnsPacket.streamEncode({ type: 'query', id: index + 1, questions: [{ name, type: 'A' }] }))));
    });
  } finally {
    socket.destroy();
  }
}

describe('DnsServer on 127.0.0.1', () => {
  let upstream: DnsServer;
  let server: DnsServer;
  let unforwarded: DnsServer;

  beforeAll(async () => {
    // A fake upstream resolver: another server, authoritative for example.test.
    upstream = new DnsServer({ port: 0 });
    upstream.setZone(new ClusterDnsZone([serviceOf('www', { clusterIP: '192.0.2.80', ports: [{ port: 80 }] }, 'site')], [], { clusterDomain: 'example.test' }));
    await upstream.start();
    server = new DnsServer({ port: 0, forwarder: new DnsForwarder({ upstream: `127.0.0.1:${upstream.port()}`, timeoutMs: 1000 }) });
    server.setZone(new ClusterDnsZone(services, endpoints, { serviceAddress: loopbackServiceAddress }));
    await server.start();
    unforwarded = new DnsServer({ port: 0 });
    await unforwarded.start();
  });
  afterAll(async () => {
    await Promise.all([upstream.stop(), server.stop(), unforwarded.stop()]);
  });

  test('A over UDP, authoritative, id echoed', async () => {
    const reply = await queryUdp(server.port(), 'web.default.svc.cluster.local', 'A');
    expect(reply).toMatchObject({ id: 4242, type: 'response', rcode: 'NOERROR', flag_aa: true, flag_rd: true });
    expect(reply.answers?.map((answer) => ('data' in answer ? answer.data : undefined))).toEqual(['127.96.0.10']);
  });

  test('NXDOMAIN carries the SOA', async () => {
    const reply = await queryUdp(server.port(), 'nope.default.svc.cluster.local', 'A');
    expect(reply).toMatchObject({ rcode: 'NXDOMAIN', answers: [] });
    expect(reply.authorities?.[0]).toMatchObject({ type: 'SOA', name: 'cluster.local' });
  });

  test('SRV over UDP with additional A records', async () => {
    const reply = await queryUdp(server.port(), '_sql._tcp.db.data.svc.cluster.local', 'SRV');
    expect(reply.answers?.map((answer) => (answer.type === 'SRV' ? answer.data.target : ''))).toEqual(['db-0.db.data.svc.cluster.local', 'db-1.db.data.svc.cluster.local', '127-2-0-8.db.data.svc.cluster.local']);
    expect(reply.additionals).toHaveLength(3);
  });

  test('two queries on one TCP connection', async () => {
    const replies = await queryTcp(server.port(), ['web.default.svc.cluster.local', 'db-0.db.data.svc.cluster.local']);
    expect(replies.map((reply) => [reply.id, reply.answers?.map((answer) => ('data' in answer ? answer.data : undefined))])).toEqual([
      [1, ['127.96.0.10']],
      [2, ['127.1.0.5']],
    ]);
  });

  test('other names are forwarded to the upstream (a fake on 127.0.0.1), over UDP and TCP', async () => {
    const reply = await queryUdp(server.port(), 'www.site.svc.example.test', 'A');
    expect(reply).toMatchObject({ id: 4242, rcode: 'NOERROR' });
    expect(reply.answers?.map((answer) => ('data' in answer ? answer.data : undefined))).toEqual(['192.0.2.80']);
    const [tcpReply] = await queryTcp(server.port(), ['www.site.svc.example.test']);
    expect(tcpReply?.answers?.map((answer) => ('data' in answer ? answer.data : undefined))).toEqual(['192.0.2.80']);
  });

  test('without a forwarder, other names are REFUSED', async () => {
    expect(await queryUdp(unforwarded.port(), 'example.org', 'A')).toMatchObject({ rcode: 'REFUSED' });
  });

  test('an unreachable upstream gives SERVFAIL', async () => {
    const closed = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => closed.bind(0, '127.0.0.1', () => resolve()));
    const deadPort = closed.address().port;
    closed.close();
    const lonely = new DnsServer({ port: 0, forwarder: new DnsForwarder({ upstream: `127.0.0.1:${deadPort}`, timeoutMs: 300 }) });
    await lonely.start();
    try {
      expect(await queryUdp(lonely.port(), 'example.org', 'A')).toMatchObject({ rcode: 'SERVFAIL' });
    } finally {
      await lonely.stop();
    }
  });

  test('an answer too large for UDP is truncated; EDNS raises the limit', async () => {
    const many = Array.from({ length: 20 }, (_, index) => ({ ip: `127.5.0.${index + 1}` }));
    const big = new DnsServer({ port: 0 });
    big.setZone(new ClusterDnsZone([serviceOf('big', { clusterIP: 'None', ports: [{ port: 80 }] })], [endpointsOf('big', [{ addresses: many, ports: [{ port: 80 }] }])]));
    await big.start();
    try {
      const plain = await queryUdp(big.port(), 'big.default.svc.cluster.local', 'A');
      expect(plain).toMatchObject({ flag_tc: true, answers: [] });
      const edns = await queryUdp(big.port(), 'big.default.svc.cluster.local', 'A', {
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }],
      });
      expect(edns.flag_tc).toBe(false);
      expect(edns.answers).toHaveLength(20);
      const [tcp] = await queryTcp(big.port(), ['big.default.svc.cluster.local']);
      expect(tcp?.answers).toHaveLength(20);
    } finally {
      await big.stop();
    }
  });

  test('a non-QUERY opcode is NOTIMP; garbage with a header is FORMERR', async () => {
    const notify = await server.handle(dnsPacket.encode({ type: 'query', id: 7, flags: 4 << 11, questions: [{ name: 'x.cluster.local', type: 'SOA' }] }), false);
    expect(dnsPacket.decode(notify as Buffer)).toMatchObject({ id: 7, rcode: 'NOTIMP' });
    const garbage = Buffer.from([0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xff]);
    expect(dnsPacket.decode((await server.handle(garbage, false)) as Buffer)).toMatchObject({ id: 9, rcode: 'FORMERR' });
    expect(await server.handle(Buffer.from([1, 2, 3]), false)).toBeUndefined();
  });
});
