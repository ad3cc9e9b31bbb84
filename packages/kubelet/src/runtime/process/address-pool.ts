// Pod IPs for the process runtime: every pod gets its own loopback address
// from the node's block of 127.0.0.0/8, so two pods can both listen on port 80
// (Linux routes the whole of 127/8 to the loopback device, no setup needed).
// Pure bookkeeping; the runtime persists `nextIndex` and the addresses in use.

/** A block that is not a valid IPv4 CIDR inside 127.0.0.0/8. */
export class AddressBlockError extends Error {
  constructor(block: string, detail: string) {
    super(`pod address block "${block}" is invalid: ${detail} (expected a CIDR inside 127.0.0.0/8, e.g. 127.1.0.0/16)`);
    this.name = 'AddressBlockError';
  }
}

function parseIPv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function formatIPv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export class AddressPool {
  readonly block: string;
  private readonly firstHost: number;
  /** Number of usable addresses (network and broadcast addresses excluded). */
  readonly size: number;

  constructor(block: string) {
    const match = /^([\d.]+)\/(\d{1,2})$/.exec(block);
    const base = match ? parseIPv4(match[1] ?? '') : undefined;
    const prefixLength = match ? Number(match[2]) : NaN;
    if (base === undefined || !(prefixLength >= 8 && prefixLength <= 30)) throw new AddressBlockError(block, 'not an IPv4 CIDR with a prefix length from 8 to 30');
    if (Math.floor(base / 2 ** 24) !== 127) throw new AddressBlockError(block, 'not inside 127.0.0.0/8');
    const blockSize = 2 ** (32 - prefixLength);
    if (base % blockSize !== 0) throw new AddressBlockError(block, 'host bits are set');
    this.block = block;
    this.firstHost = base + 1;
    this.size = blockSize - 2;
  }

  /** Whether an address belongs to this block's usable range. */
  contains(address: string): boolean {
    const value = parseIPv4(address);
    return value !== undefined && value >= this.firstHost && value < this.firstHost + this.size;
  }

  /**
   * The first free address at or after `startIndex` (wrapping around), so a
   * just-released address is not handed out again at once. Returns undefined when full.
   */
  allocate(inUse: ReadonlySet<string>, startIndex: number): { address: string; nextIndex: number } | undefined {
    for (let step = 0; step < this.size; step++) {
      const index = (((startIndex + step) % this.size) + this.size) % this.size;
      const address = formatIPv4(this.firstHost + index);
      if (!inUse.has(address)) return { address, nextIndex: (index + 1) % this.size };
    }
    return undefined;
  }
}
