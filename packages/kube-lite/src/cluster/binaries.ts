// Where the built component binaries are, and which flags each accepts (read
// from its --help, so the argument table adapts while the CLIs are changing).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PACKAGE_OF_BINARY, type BinaryName } from '../components';

/** The repository root: the nearest ancestor holding packages/kube-lite (works from src/ under jest and from dist/). */
export function findRepositoryRoot(start: string = __dirname): string {
  let directory = start;
  for (;;) {
    if (fs.existsSync(path.join(directory, 'packages', 'kube-lite', 'package.json'))) return directory;
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`cannot find the kube-lite repository above ${start}`);
    directory = parent;
  }
}

/** KUBE_LITE_ENTRY_KUBE_APISERVER for kube-apiserver: the variable that replaces a binary's entry file. */
export function entryOverrideVariable(binary: BinaryName): string {
  return `KUBE_LITE_ENTRY_${binary.toUpperCase().replace(/-/g, '_')}`;
}

/**
 * packages/<package>/dist/cli.js, unless KUBE_LITE_ENTRY_<BINARY> names
 * another file (to try a patched or instrumented component in a full cluster).
 */
export function entryFileOf(repositoryRoot: string, binary: BinaryName, environment: NodeJS.ProcessEnv = process.env): string {
  const override = environment[entryOverrideVariable(binary)];
  if (override !== undefined && override !== '') return path.resolve(override);
  return path.join(repositoryRoot, 'packages', PACKAGE_OF_BINARY[binary], 'dist', 'cli.js');
}

const HELP_TIMEOUT_MS = 15_000;

/**
 * The long flags the binary's --help mentions, or undefined when it printed
 * none (some CLIs swallow their help text), in which case nothing can be
 * checked in advance.
 */
export function acceptedFlagsOf(entryFile: string): Promise<Set<string> | undefined> {
  return new Promise((resolve) => {
    execFile(process.execPath, [entryFile, '--help'], { timeout: HELP_TIMEOUT_MS, maxBuffer: 1024 * 1024 }, (_error, stdout, stderr) => {
      resolve(parseHelpFlags(`${stdout}\n${stderr}`));
    });
  });
}

/** The `--long-flag` names in a help text (commander, cobra and pflag styles alike). */
export function parseHelpFlags(helpText: string): Set<string> | undefined {
  const flags = new Set<string>();
  for (const match of helpText.matchAll(/(?:^|[\s,[(])(--[a-z0-9][a-z0-9-]*)/gi)) flags.add((match[1] as string).toLowerCase());
  flags.delete('--help');
  flags.delete('--version');
  return flags.size === 0 ? undefined : flags;
}
