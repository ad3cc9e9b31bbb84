// The cluster DNS server: UDP and TCP on one address and port, answering
// from the current ClusterDnsZone and forwarding other names upstream (when
// a forwarder is configured; otherwise REFUSED, as a non-recursive server).
// UDP answers larger than the client can take (512 bytes, or its EDNS size)
// are truncated (TC) so it retries over TCP.
import dgram from 'node:dgram';
import net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { silentLogger, type Logger } from '@kube-lite/client';
import { ListenError } from '../errors';
import { ProxyMetrics } from '../server/metrics';
import type { DnsForwarder } from './forwarder';
import { ClusterDnsZone, type QueryType } from './zone';

export interface DnsServerOptions {
  /** Listen address; 127.0.0.1 by default. */
  host?: string;
  /** Listen port for both UDP and TCP; 10053 by default (53 needs root), 0 for any free port (tests). */
  port?: number;
  /** Where names outside the cluster domain go; none: they are REFUSED. */
  forwarder?: DnsForwarder;
  /** TCP connections open at once. 128 by default. */
  maxTcpConnections?: number;
  /** A TCP connection without a complete query for this long is closed. 10 s by default. */
  tcpIdleTimeoutMs?: number;
  logger?: Logger;
  metrics?: ProxyMetrics;
}

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
type RcodeName = keyof typeof RCODE;
const RCODE_NAMES = Object.fromEntries(Object.entries(RCODE).map(([name, code]) => [code, name])) as Record<number, string>;
/** Our EDNS payload size, the value DNS flag day 2020 settled on. */
const EDNS_PAYLOAD_BYTES = 1232;

export class DnsServer {
  private zone: ClusterDnsZone = new ClusterDnsZone([], []);
  private udp: dgram.Socket;
  private readonly tcp: net.Server;
  private readonly logger: Logger;
  private readonly metrics: ProxyMetrics;
  private readonly tcpSockets = new Set<net.Socket>();
  private boundPort = 0;

  constructor(private readonly options: DnsServerOptions = {}) {
    this.logger = options.logger ?? silentLogger;
    this.metrics = options.metrics ?? new ProxyMetrics();
    this.udp = this.createUdpSocket();
    this.tcp = net.createServer((socket) => this.acceptTcp(socket));
    this.tcp.maxConnections = options.maxTcpConnections ?? 128;
  }

  /** Replaces the zone (every Service or Endpoints change). */
  setZone(zone: ClusterDnsZone): void {
    this.zone = zone;
  }

  async start(): Promise<void> {
    const host = this.options.host ?? '127.0.0.1';
    const requestedPort = this.options.port ?? 10053;
    // With port 0 the system picks a free TCP port, which another process
    // may hold for UDP (or the other way round): pick again a few times.
    const attempts = requestedPort === 0 ? 20 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.listen(host, requestedPort);
        break;
      } catch (error) {
        if (attempt >= attempts) throw error;
      }
    }
    this.udp.on('error', (error) => this.logger.error('dns udp socket error', { err: String(error) }));
    this.tcp.on('error', (error) => this.logger.error('dns tcp server error', { err: String(error) }));
    this.logger.info('cluster dns listening', { address: `${host}:${this.boundPort}`, domain: this.zone.domain, forwardTo: this.options.forwarder?.upstream ?? null });
  }

  /** Binds TCP, then UDP on the same port; on failure leaves both closed and ready to try again. */
  private async listen(host: string, requestedPort: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new ListenError(host, requestedPort, 'TCP', { cause: error }));
      this.tcp.once('error', onError);
      this.tcp.listen({ host, port: requestedPort, exclusive: true }, () => {
        this.tcp.off('error', onError);
        resolve();
      });
    });
    this.boundPort = (this.tcp.address() as net.AddressInfo).port;
    try {
      await new Promise<void>((resolve, reject) => {
        const onError = (error: Error) => reject(new ListenError(host, this.boundPort, 'UDP', { cause: error }));
        this.udp.once('error', onError);
        this.udp.bind({ address: host, port: this.boundPort, exclusive: true }, () => {
          this.udp.off('error', onError);
          resolve();
        });
      });
    } catch (error) {
      await new Promise<void>((resolve) => this.tcp.close(() => resolve()));
      try {
        this.udp.close();
      } catch {
        // The bind failed, so the socket never ran.
      }
      this.udp = this.createUdpSocket();
      throw error;
    }
  }

  private createUdpSocket(): dgram.Socket {
    const udp = dgram.createSocket('udp4');
    udp.on('message', (message, remote) => {
      void this.handle(message, false).then((reply) => {
        if (reply) udp.send(reply, remote.port, remote.address);
      });
    });
    return udp;
  }

  port(): number {
    return this.boundPort;
  }

  async stop(): Promise<void> {
    for (const socket of this.tcpSockets) socket.destroy();
    await Promise.all([new Promise<void>((resolve) => this.tcp.close(() => resolve())), new Promise<void>((resolve) => this.udp.close(() => resolve()))]);
  }

  /** The reply to one raw query, or undefined to stay silent (not a query, unparseable header). */
  async handle(raw: Buffer, overTcp: boolean): Promise<Buffer | undefined> {
    const protocol = overTcp ? 'tcp' : 'udp';
    let query: dnsPacket.DecodedPacket;
    try {
      query = dnsPacket.decode(raw);
    } catch {
      if (raw.length < 12 || (raw.readUInt16BE(2) & 0x8000) !== 0) return undefined;
      return this.bare(raw.readUInt16BE(0), 'FORMERR', protocol);
    }
    if (query.type !== 'query') return undefined;
    const opcode = ((query.flags ?? 0) >> 11) & 0xf;
    if (opcode !== 0) return this.bare(query.id ?? 0, 'NOTIMP', protocol);
    const question = query.questions?.[0];
    if (!question || (query.questions?.length ?? 0) !== 1) return this.bare(query.id ?? 0, 'FORMERR', protocol);
    const zoneAnswer = this.zone.answer(question.name, question.type as QueryType);
    if (zoneAnswer === undefined) return this.forward(raw, query, overTcp);
    const opt = query.additionals?.find((record): record is dnsPacket.OptAnswer => record.type === 'OPT');
    const response: dnsPacket.Packet = {
      type: 'response',
      id: query.id ?? 0,
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (query.flag_rd ? dnsPacket.RECURSION_DESIRED : 0) | (this.options.forwarder ? dnsPacket.RECURSION_AVAILABLE : 0) | RCODE[zoneAnswer.rcode],
      questions: [question],
      answers: zoneAnswer.answers,
      authorities: zoneAnswer.authorities,
      additionals: [...zoneAnswer.additionals, ...(opt ? [this.optRecord()] : [])],
    };
    let encoded = dnsPacket.encode(response);
    const limit = overTcp ? 65535 : Math.max(512, Math.min(opt?.udpPayloadSize ?? 512, EDNS_PAYLOAD_BYTES));
    if (encoded.length > limit) {
      encoded = dnsPacket.encode({ ...response, flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: opt ? [this.optRecord()] : [] });
    }
    this.metrics.dnsRequestsTotal.inc({ protocol, rcode: zoneAnswer.rcode });
    return encoded;
  }

  private optRecord(): dnsPacket.OptAnswer {
    return { type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD_BYTES, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] };
  }

  private bare(id: number, rcode: RcodeName, protocol: string, question?: dnsPacket.Question): Buffer {
    this.metrics.dnsRequestsTotal.inc({ protocol, rcode });
    return dnsPacket.encode({ type: 'response', id, flags: RCODE[rcode] | (this.options.forwarder ? dnsPacket.RECURSION_AVAILABLE : 0), questions: question ? [question] : [] });
  }

  private async forward(raw: Buffer, query: dnsPacket.DecodedPacket, overTcp: boolean): Promise<Buffer> {
    const protocol = overTcp ? 'tcp' : 'udp';
    const question = query.questions?.[0];
    const forwarder = this.options.forwarder;
    if (!forwarder) return this.bare(query.id ?? 0, 'REFUSED', protocol, question);
    try {
      const reply = await forwarder.exchange(raw, overTcp);
      this.metrics.dnsRequestsTotal.inc({ protocol, rcode: RCODE_NAMES[reply.length >= 4 ? reply.readUInt16BE(2) & 0xf : 2] ?? 'OTHER' });
      return reply;
    } catch (error) {
      this.logger.debug('dns forward failed', { name: question?.name, err: error instanceof Error ? error.message : String(error) });
      return this.bare(query.id ?? 0, 'SERVFAIL', protocol, question);
    }
  }

  private acceptTcp(socket: net.Socket): void {
    this.tcpSockets.add(socket);
    socket.once('close', () => this.tcpSockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(this.options.tcpIdleTimeoutMs ?? 10_000, () => socket.destroy());
    let buffered = Buffer.alloc(0);
    // Queries on one connection are answered in order, one at a time (bounds the work per client).
    let queue = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) break;
        const message = buffered.subarray(2, 2 + length);
        buffered = buffered.subarray(2 + length);
        queue = queue.then(async () => {
          const reply = await this.handle(message, true);
          if (!reply || socket.destroyed) return;
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(reply.length);
          socket.write(Buffer.concat([prefix, reply]));
        });
      }
    });
  }
}
