// Who this member is, kept in <data-dir>/member/identity.json: its member id
// and its cluster's id. A member of a new cluster derives both from its
// flags; one that joined an existing cluster got them from the cluster, and
// must keep them across restarts (etcd keeps them in its WAL metadata). The
// file is local: it is not in the backend, whose contents a snapshot from
// another member replaces.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { syncDirectory } from './raft-storage-snap';

export interface MemberIdentity {
  memberId: number;
  clusterId: number;
}

export class IdentityFileError extends Error {
  constructor(file: string, reason: string, options?: ErrorOptions) {
    super(`member identity file ${file} ${reason}`, options);
    this.name = 'IdentityFileError';
  }
}

export function identityFile(dataDir: string): string {
  return path.join(dataDir, 'member', 'identity.json');
}

export async function readIdentity(dataDir: string): Promise<MemberIdentity | undefined> {
  const file = identityFile(dataDir);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IdentityFileError(file, 'cannot be read', { cause: error });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new IdentityFileError(file, 'is not JSON', { cause: error });
  }
  const { memberId, clusterId } = (parsed ?? {}) as Partial<Record<keyof MemberIdentity, unknown>>;
  const valid = (id: unknown): id is number => typeof id === 'number' && Number.isSafeInteger(id) && id > 0;
  if (!valid(memberId) || !valid(clusterId)) throw new IdentityFileError(file, 'lacks a valid memberId and clusterId');
  return { memberId, clusterId };
}

/** Written atomically and durably, before the member takes part in Raft. */
export async function writeIdentity(dataDir: string, identity: MemberIdentity): Promise<void> {
  const file = identityFile(dataDir);
  const directory = path.dirname(file);
  await fs.mkdir(directory, { recursive: true });
  const temporary = `${file}.tmp`;
  const handle = await fs.open(temporary, 'w');
  try {
    await handle.writeFile(JSON.stringify(identity) + '\n');
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(temporary, file);
  await syncDirectory(directory);
}
