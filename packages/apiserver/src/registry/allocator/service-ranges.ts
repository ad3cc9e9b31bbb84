// Service cluster IPs and NodePorts as offsets into their RangeAllocators.

import type { EtcdStore } from '../../storage';
import { RangeAllocator } from './range-allocator';

function ipv4ToNumber(address: string): number {
  return address.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function numberToIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

const IPV4_PATTERN = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** Cluster IPs of one IPv4 CIDR; the network and broadcast addresses are never handed out. */
export class ClusterIpAllocator {
  readonly cidr: string;
  private readonly base: number;
  private readonly allocator: RangeAllocator;

  constructor(store: EtcdStore, cidr: string, key = '/registry/ranges/serviceips') {
    const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(cidr);
    if (match === null || !IPV4_PATTERN.test(match[1] as string)) throw new RangeError(`"${cidr}" is not an IPv4 CIDR`);
    const prefix = Number(match[2]);
    if (prefix < 8 || prefix > 30) throw new RangeError(`"${cidr}": prefix length must be /8 to /30`);
    const size = 2 ** (32 - prefix);
    this.base = Math.floor(ipv4ToNumber(match[1] as string) / size) * size;
    this.cidr = `${numberToIpv4(this.base)}/${prefix}`;
    this.allocator = new RangeAllocator({ store, key, rangeText: this.cidr, size, reservedOffsets: [0, size - 1] });
  }

  /** Whether ip is a usable address of the range. */
  contains(ip: string): boolean {
    if (!IPV4_PATTERN.test(ip)) return false;
    const offset = ipv4ToNumber(ip) - this.base;
    return offset > 0 && offset < this.allocator.size - 1;
  }

  /** Reserves ip; false when it is already in use. The caller checks contains() first. */
  allocate(ip: string): Promise<boolean> {
    return this.allocator.allocate(ipv4ToNumber(ip) - this.base);
  }

  async allocateNext(): Promise<string> {
    return numberToIpv4(this.base + (await this.allocator.allocateNext()));
  }

  async release(ip: string): Promise<void> {
    if (this.contains(ip)) await this.allocator.release(ipv4ToNumber(ip) - this.base);
  }

  isAllocated(ip: string): Promise<boolean> {
    return this.allocator.isAllocated(ipv4ToNumber(ip) - this.base);
  }

  used(): Promise<number> {
    return this.allocator.used();
  }
}

/** NodePorts of a port range. */
export class NodePortAllocator {
  readonly rangeText: string;
  private readonly allocator: RangeAllocator;

  constructor(store: EtcdStore, readonly range: { min: number; max: number }, key = '/registry/ranges/servicenodeports') {
    this.rangeText = `${range.min}-${range.max}`;
    this.allocator = new RangeAllocator({ store, key, rangeText: this.rangeText, size: range.max - range.min + 1 });
  }

  contains(port: number): boolean {
    return Number.isInteger(port) && port >= this.range.min && port <= this.range.max;
  }

  allocate(port: number): Promise<boolean> {
    return this.allocator.allocate(port - this.range.min);
  }

  async allocateNext(): Promise<number> {
    return this.range.min + (await this.allocator.allocateNext());
  }

  async release(port: number): Promise<void> {
    if (this.contains(port)) await this.allocator.release(port - this.range.min);
  }

  isAllocated(port: number): Promise<boolean> {
    return this.allocator.isAllocated(port - this.range.min);
  }
}
