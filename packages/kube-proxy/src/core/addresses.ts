// IPv4 helpers and the one mapping the local process cluster depends on: a
// ClusterIP (10.96.0.0/12 by default, not routable on a plain host) is served
// at the loopback address with the same last three octets (10.96.3.7 ->
// 127.96.3.7); see loopbackServiceAddress in @kube-lite/api, re-exported here.

/** The dotted quad is not a valid IPv4 address or CIDR. */
export class AddressFormatError extends Error {
  constructor(text: string, expected: string) {
    super(`"${text}" is not ${expected}`);
    this.name = 'AddressFormatError';
  }
}

/** The address as a 32-bit unsigned number, or undefined when it is not a dotted quad. */
export function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

export function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export function isIPv4(text: string): boolean {
  return parseIPv4(text) !== undefined;
}

/** Whether `address` lies inside `cidr` ("10.0.0.0/8"); throws AddressFormatError for a bad CIDR. */
export function cidrContains(cidr: string, address: string): boolean {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = match ? parseIPv4(match[1] ?? '') : undefined;
  const prefixLength = match ? Number(match[2]) : NaN;
  if (base === undefined || !(prefixLength >= 0 && prefixLength <= 32)) throw new AddressFormatError(cidr, 'an IPv4 CIDR such as 10.0.0.0/8');
  const value = parseIPv4(address);
  if (value === undefined) return false;
  const blockSize = 2 ** (32 - prefixLength);
  return Math.floor(value / blockSize) === Math.floor(base / blockSize);
}

// The ClusterIP -> 127.b.c.d mapping itself lives in @kube-lite/api, so that
// the kubelet (which must not import kube-proxy) computes the same address.
export { loopbackServiceAddress } from '@kube-lite/api';

/** How the proxy and DNS present a ClusterIP to clients: unchanged (kernel mode) or mapped to loopback (userspace). */
export type ServiceAddressMapper = (clusterIP: string) => string | undefined;

export const identityServiceAddress: ServiceAddressMapper = (clusterIP) => (isIPv4(clusterIP) ? clusterIP : undefined);
