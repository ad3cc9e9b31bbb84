// Snapshot files under <data-dir>/member/snap/, one per snapshot, named
// <term>-<index>.snap in 16 hex digits as etcd names them. A file is a CRC-32
// (big-endian, 4 bytes) of the payload followed by the payload: an encoded
// raftpb.Snapshot. Writes are atomic: temp file, fsync, rename, fsync the
// directory, so a crash leaves either the old set of files or the new one.

import { promises as fs } from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import type { Snapshot } from '../raft/types';
import { decodeSnapshot, encodeSnapshot } from './raft-storage-codec';

const SNAP_SUFFIX = '.snap';
const TEMP_SUFFIX = '.tmp';
const CHECKSUM_BYTES = 4;

/** A snapshot file is missing, truncated or fails its checksum. */
export class SnapshotFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`raft storage: snapshot file ${file} ${reason}`, options);
    this.name = 'SnapshotFileError';
  }
}

export function snapshotFileName(term: number, index: number): string {
  return `${hex16(term)}-${hex16(index)}${SNAP_SUFFIX}`;
}

function hex16(n: number): string {
  return n.toString(16).padStart(16, '0');
}

export async function writeSnapshotFile(directory: string, snapshot: Snapshot): Promise<string> {
  const tempPath = await writeSnapshotTempFile(directory, snapshot);
  return renameSnapshotTempFile(tempPath);
}

/**
 * Writes and fsyncs the file under its temporary name (<name>.tmp), which a
 * restart deletes; renameSnapshotTempFile makes it the real one. Split so
 * that the slow part can run while the log keeps being written.
 */
export async function writeSnapshotTempFile(directory: string, snapshot: Snapshot): Promise<string> {
  const payload = encodeSnapshot(snapshot);
  const checksum = Buffer.alloc(CHECKSUM_BYTES);
  checksum.writeUInt32BE(zlib.crc32(payload));
  const name = snapshotFileName(snapshot.metadata.term, snapshot.metadata.index);
  const tempPath = path.join(directory, name) + TEMP_SUFFIX;
  const handle = await fs.open(tempPath, 'w');
  try {
    await handle.writev([checksum, payload]);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return tempPath;
}

/** Renames a temporary snapshot file to its final name, durably; returns the final path. */
export async function renameSnapshotTempFile(tempPath: string): Promise<string> {
  const finalPath = tempPath.slice(0, -TEMP_SUFFIX.length);
  await fs.rename(tempPath, finalPath);
  await syncDirectory(path.dirname(finalPath));
  return finalPath;
}

export async function readSnapshotFile(file: string): Promise<Snapshot> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(file);
  } catch (error) {
    throw new SnapshotFileError(file, 'cannot be read', { cause: error });
  }
  if (bytes.length < CHECKSUM_BYTES) throw new SnapshotFileError(file, 'is truncated');
  const payload = bytes.subarray(CHECKSUM_BYTES);
  if (bytes.readUInt32BE(0) !== zlib.crc32(payload)) throw new SnapshotFileError(file, 'fails its CRC-32 check');
  try {
    return decodeSnapshot(payload);
  } catch (error) {
    throw new SnapshotFileError(file, 'does not decode', { cause: error });
  }
}

/** Deletes temp files of interrupted writes and every snapshot file but `keepName`. */
export async function removeOtherSnapshotFiles(directory: string, keepName: string | undefined): Promise<void> {
  const names = await fs.readdir(directory);
  const doomed = names.filter(
    (name) => name !== keepName && (name.endsWith(SNAP_SUFFIX) || name.endsWith(SNAP_SUFFIX + TEMP_SUFFIX)),
  );
  if (doomed.length === 0) return;
  await Promise.all(doomed.map((name) => fs.rm(path.join(directory, name), { force: true })));
  await syncDirectory(directory);
}

/** Makes a rename or unlink in `directory` durable (POSIX needs the directory itself fsynced). */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await fs.open(directory, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
