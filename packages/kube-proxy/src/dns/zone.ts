// The cluster DNS zone, computed from Services and Endpoints, following the
// Kubernetes DNS specification (what CoreDNS's kubernetes plugin serves):
//   <svc>.<ns>.svc.<domain>            A: the Service address; headless: every ready endpoint IP;
//                                      ExternalName: CNAME to spec.externalName
//   <host>.<svc>.<ns>.svc.<domain>     A, headless only: the endpoint whose pod set
//                                      spec.hostname with spec.subdomain = <svc>
//                                      (StatefulSet pods); other endpoints by dashed IP
//   _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV for each named port
//   <a-b-c-d>.<ns>.pod.<domain>        A: the IP itself (CoreDNS "pods insecure")
// A name under the domain that does not exist is NXDOMAIN; one that exists
// without records of the asked type is an empty NOERROR (so a resolver asking
// A and AAAA in parallel keeps the A answer). Names outside the domain are
// not ours: answer() returns undefined and the server forwards them. Pure.
import type { Answer, RecordType, SrvAnswer, StringAnswer } from 'dns-packet';
import type { Endpoints, Service } from '@kube-lite/api';
import { identityServiceAddress, isIPv4, type ServiceAddressMapper } from '../core/addresses';
import { readyEndpoints } from '../core/service-table';

export interface ZoneOptions {
  /** The cluster domain, "cluster.local" by default. */
  clusterDomain?: string;
  /** How a ClusterIP is presented (the loopback mapping under the userspace proxy). */
  serviceAddress?: ServiceAddressMapper;
  /** TTL of every answer; 5 s by default, as CoreDNS's kubernetes plugin. */
  ttlSeconds?: number;
}

/** A question's type; dns-packet decodes type 255 as "ANY", which its typings leave out. */
export type QueryType = RecordType | 'ANY';

export type ZoneRcode = 'NOERROR' | 'NXDOMAIN';

export interface ZoneAnswer {
  rcode: ZoneRcode;
  answers: Answer[];
  additionals: Answer[];
  /** The zone's SOA, for the authority section of NXDOMAIN and empty answers. */
  authorities: Answer[];
}

interface NameRecords {
  a: string[];
  cname: string | undefined;
  srv: { port: number; target: string }[];
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function dashedIp(ip: string): string {
  return ip.replace(/\./g, '-');
}

export class ClusterDnsZone {
  readonly domain: string;
  private readonly ttl: number;
  private readonly names = new Map<string, NameRecords>();
  /** Every proper ancestor of a name inside the zone: exists, holds no records. */
  private readonly emptyNonTerminals = new Set<string>();

  constructor(services: readonly Service[], endpointsList: readonly Endpoints[], options: ZoneOptions = {}) {
    this.domain = normalize(options.clusterDomain ?? 'cluster.local');
    this.ttl = options.ttlSeconds ?? 5;
    const serviceAddress = options.serviceAddress ?? identityServiceAddress;
    const endpointsByKey = new Map(endpointsList.map((object) => [`${object.metadata?.namespace ?? 'default'}/${object.metadata?.name ?? ''}`, object]));
    for (const service of services) {
      const namespace = service.metadata?.namespace ?? 'default';
      const name = service.metadata?.name ?? '';
      const spec = service.spec ?? {};
      const serviceName = `${name}.${namespace}.svc.${this.domain}`;
      const endpoints = endpointsByKey.get(`${namespace}/${name}`);
      if (spec.type === 'ExternalName') {
        if (spec.externalName) this.records(serviceName).cname = normalize(spec.externalName);
        continue;
      }
      const headless = spec.clusterIP === 'None';
      const address = headless ? undefined : serviceAddress(spec.clusterIP ?? '');
      if (!headless && address === undefined) continue;
      const own = this.records(serviceName);
      const hostOf = (endpoint: { ip: string; hostname?: string }) => `${endpoint.hostname ?? dashedIp(endpoint.ip)}.${serviceName}`;
      if (address !== undefined) own.a.push(address);
      if (headless) {
        // Every ready address, whatever its ports: a headless Service may have none at all.
        for (const subset of endpoints?.subsets ?? []) {
          for (const endpoint of subset.addresses ?? []) {
            if (!own.a.includes(endpoint.ip)) own.a.push(endpoint.ip);
            const host = this.records(hostOf(endpoint));
            if (!host.a.includes(endpoint.ip)) host.a.push(endpoint.ip);
          }
        }
      }
      for (const port of spec.ports ?? []) {
        if (!port.name) continue;
        const ready = readyEndpoints(endpoints, port.name, port.protocol ?? 'TCP');
        const srv = this.records(`_${port.name.toLowerCase()}._${(port.protocol ?? 'TCP').toLowerCase()}.${serviceName}`);
        if (headless) for (const endpoint of ready) srv.srv.push({ port: endpoint.port, target: hostOf(endpoint) });
        else srv.srv.push({ port: port.port, target: serviceName });
      }
    }
  }

  /** Whether `name` lies in the cluster domain (then this zone's answer is final). */
  inZone(name: string): boolean {
    const normal = normalize(name);
    return normal === this.domain || normal.endsWith(`.${this.domain}`);
  }

  /** The answer to one question, or undefined for a name outside the cluster domain. */
  answer(name: string, type: QueryType): ZoneAnswer | undefined {
    const normal = normalize(name);
    if (!this.inZone(normal)) return undefined;
    const soa = this.soa();
    const empty = (rcode: ZoneRcode): ZoneAnswer => ({ rcode, answers: [], additionals: [], authorities: [soa] });
    if (normal === this.domain && (type === 'SOA' || type === 'ANY')) return { rcode: 'NOERROR', answers: [soa], additionals: [], authorities: [] };
    const pod = this.podAddress(normal);
    if (pod !== undefined) return type === 'A' || type === 'ANY' ? { rcode: 'NOERROR', answers: [this.aRecord(normal, pod)], additionals: [], authorities: [] } : empty('NOERROR');
    const records = this.names.get(normal);
    if (!records) return empty(this.emptyNonTerminals.has(normal) || normal === this.domain ? 'NOERROR' : 'NXDOMAIN');
    const answers: Answer[] = [];
    const additionals: Answer[] = [];
    if (records.cname !== undefined) {
      // A CNAME owns its name: it answers every type.
      answers.push({ type: 'CNAME', name: normal, ttl: this.ttl, class: 'IN', data: records.cname });
      return { rcode: 'NOERROR', answers, additionals, authorities: [] };
    }
    if (type === 'A' || type === 'ANY') for (const ip of records.a) answers.push(this.aRecord(normal, ip));
    if (type === 'SRV' || type === 'ANY') {
      for (const srv of records.srv) {
        const record: SrvAnswer = { type: 'SRV', name: normal, ttl: this.ttl, class: 'IN', data: { priority: 0, weight: Math.floor(100 / records.srv.length), port: srv.port, target: srv.target } };
        answers.push(record);
        for (const ip of this.names.get(srv.target)?.a ?? []) additionals.push(this.aRecord(srv.target, ip));
      }
    }
    return { rcode: 'NOERROR', answers, additionals, authorities: answers.length === 0 ? [soa] : [] };
  }

  private records(name: string): NameRecords {
    let records = this.names.get(name);
    if (!records) {
      records = { a: [], cname: undefined, srv: [] };
      this.names.set(name, records);
      for (let parent = name.slice(name.indexOf('.') + 1); parent.length > this.domain.length; parent = parent.slice(parent.indexOf('.') + 1)) this.emptyNonTerminals.add(parent);
    }
    return records;
  }

  private podAddress(name: string): string | undefined {
    const suffix = `.pod.${this.domain}`;
    if (!name.endsWith(suffix)) return undefined;
    const labels = name.slice(0, -suffix.length).split('.');
    if (labels.length !== 2) return undefined;
    const ip = (labels[0] ?? '').replace(/-/g, '.');
    return isIPv4(ip) ? ip : undefined;
  }

  private aRecord(name: string, ip: string): StringAnswer {
    return { type: 'A', name, ttl: this.ttl, class: 'IN', data: ip };
  }

  private soa(): Answer {
    return {
      type: 'SOA',
      name: this.domain,
      ttl: this.ttl,
      class: 'IN',
      data: { mname: `ns.dns.${this.domain}`, rname: `hostmaster.${this.domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: this.ttl },
    };
  }
}
