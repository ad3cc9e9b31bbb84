// Checks made before anything starts, each failing with one line that says
// what to do: the binaries are built, every port is free (naming who holds
// it), the node loopback addresses can be bound.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { LoopbackAddressError, MissingBuildError, PortInUseError } from '../errors';

export interface PortClaim {
  address: string;
  port: number;
  /** The component that will listen there. */
  wantedBy: string;
}

export function checkBuilt(entryFiles: readonly string[]): void {
  const missing = [...new Set(entryFiles)].filter((file) => !fs.existsSync(file));
  if (missing.length > 0) throw new MissingBuildError(missing);
}

/** Binds and releases `address:port`; resolves with the bind error, or undefined when it is free. */
export function tryBind(address: string, port: number): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Every address must be bindable (127.0.1.N is loopback on Linux, but needs an alias on macOS). */
export async function checkLoopbackAddresses(addresses: readonly string[]): Promise<void> {
  for (const address of [...new Set(addresses)]) {
    const error = await tryBind(address, 0);
    if (error !== undefined) throw new LoopbackAddressError(address, { cause: error });
  }
}

export async function checkPortsFree(claims: readonly PortClaim[]): Promise<void> {
  for (const claim of claims) {
    const error = await tryBind(claim.address, claim.port);
    if (error === undefined) continue;
    if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
      throw new PortInUseError(claim.address, claim.port, claim.wantedBy, error.code === 'EACCES' ? 'nobody we can see (permission denied)' : describeHolder(claim.port));
    }
    throw new PortInUseError(claim.address, claim.port, claim.wantedBy, error.message);
  }
}

/** "node packages/apiserver/dist/cli.js (pid 1234)" for the listener on `port`, when `ss` can tell. */
export function describeHolder(port: number, runSs: () => string = defaultRunSs): string | undefined {
  let output: string;
  try {
    output = runSs();
  } catch {
    return undefined;
  }
  const pid = holderPid(output, port);
  if (pid === undefined) return undefined;
  let commandLine = '';
  try {
    commandLine = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((part) => part !== '').slice(0, 3).join(' ');
  } catch {
    // The process may have exited meanwhile, or belong to another user.
  }
  return `${commandLine || 'a process'} (pid ${pid})`;
}

function defaultRunSs(): string {
  return execFileSync('ss', ['-Hltnp'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] });
}

/** The pid `ss -Hltnp` lists for a TCP listener on `port` (any address), if it shows one. */
export function holderPid(ssOutput: string, port: number): number | undefined {
  for (const line of ssOutput.split('\n')) {
    const columns = line.trim().split(/\s+/);
    const local = columns[3];
    if (local === undefined || !local.endsWith(`:${port}`)) continue;
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (pid !== undefined) return Number(pid);
  }
  return undefined;
}
