// The last lines of a component's log, shown when it crashes so the user
// sees why without opening the file.
import fs from 'node:fs';

/** Only the end of the file is read: logs grow without bound. */
const TAIL_WINDOW_BYTES = 64 * 1024;

export function lastLogLines(file: string, count: number): string[] {
  let descriptor: number;
  try {
    descriptor = fs.openSync(file, 'r');
  } catch {
    return [];
  }
  try {
    const size = fs.fstatSync(descriptor).size;
    const length = Math.min(size, TAIL_WINDOW_BYTES);
    const buffer = Buffer.alloc(length);
    fs.readSync(descriptor, buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    // A partial first line (cut by the window) is dropped, as is the empty string after the last newline.
    if (length < size) lines.shift();
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines.slice(-count);
  } finally {
    fs.closeSync(descriptor);
  }
}
