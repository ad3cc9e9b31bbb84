// The kernel proxy mode (compose cluster: each worker in its own network
// namespace, as root). Every sync writes the whole rule set in one
// iptables-restore transaction; the kernel then forwards without kube-proxy
// in the data path. The runner is an interface so tests check what would be
// run without root or iptables.
import { execFile, spawn } from 'node:child_process';
import { silentLogger, type Logger } from '@kube-lite/client';
import type { ServiceTable } from '../core/service-table';
import type { Proxier } from '../proxier/proxier';
import { buildIptablesRules, JUMP_RULES } from './rules';

/** iptables is missing or refused a command (not root, no such module, bad rule). */
export class IptablesError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'IptablesError';
  }
}

export interface IptablesRunner {
  /** `iptables <args>`; resolves true on exit 0, false on exit 1 (a -C check that found nothing); throws otherwise. */
  run(args: readonly string[]): Promise<boolean>;
  /** `iptables-restore --noflush` with `input` on stdin. */
  restore(input: string): Promise<void>;
}

export interface IptablesProxierOptions {
  runner?: IptablesRunner;
  logger?: Logger;
}

/** Runs the real binaries (`-w` waits for the xtables lock instead of failing). */
export class ExecIptablesRunner implements IptablesRunner {
  /** `commandPrefix` runs them through another command, e.g. ["ip", "netns", "exec", "ns1"]. */
  constructor(private readonly commandPrefix: readonly string[] = []) {}

  private command(binary: string, args: readonly string[]): [string, string[]] {
    const [head, ...rest] = [...this.commandPrefix, binary, ...args];
    return [head ?? binary, rest];
  }

  run(args: readonly string[]): Promise<boolean> {
    const [file, argv] = this.command('iptables', ['-w', ...args]);
    return new Promise((resolve, reject) => {
      execFile(file, argv, (error, _stdout, stderr) => {
        if (!error) resolve(true);
        else if ((error as { code?: unknown }).code === 1) resolve(false);
        else reject(new IptablesError(`iptables ${args.join(' ')}: ${stderr.trim() || error.message}`, { cause: error }));
      });
    });
  }

  restore(input: string): Promise<void> {
    const [file, argv] = this.command('iptables-restore', ['-w', '--noflush']);
    return new Promise((resolve, reject) => {
      const child = spawn(file, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('error', (error) => reject(new IptablesError(`iptables-restore: ${error.message}`, { cause: error })));
      child.on('close', (code) => (code === 0 ? resolve() : reject(new IptablesError(`iptables-restore exited ${code}: ${stderr.trim()}`))));
      child.stdin.end(input);
    });
  }
}

export class IptablesProxier implements Proxier {
  readonly mode = 'iptables' as const;
  private readonly runner: IptablesRunner;
  private readonly logger: Logger;
  private serviceChains: string[] = [];
  private jumpsInstalled = false;
  private syncing: Promise<void> = Promise.resolve();

  constructor(options: IptablesProxierOptions = {}) {
    this.runner = options.runner ?? new ExecIptablesRunner();
    this.logger = options.logger ?? silentLogger;
  }

  sync(table: ServiceTable): Promise<void> {
    this.syncing = this.syncing.then(() => this.syncNow(table));
    return this.syncing;
  }

  private async syncNow(table: ServiceTable): Promise<void> {
    // Chains first (a jump to a chain that does not exist is an error), then the jumps.
    const rules = buildIptablesRules(table, { previousServiceChains: this.serviceChains });
    await this.runner.restore(rules.restoreText);
    this.serviceChains = rules.serviceChains;
    if (!this.jumpsInstalled) {
      for (const jump of JUMP_RULES) {
        const present = await this.runner.run(['-t', jump.table, '-C', jump.chain, ...jump.args]);
        if (!present) await this.runner.run(['-t', jump.table, '-I', jump.chain, '1', ...jump.args]);
      }
      this.jumpsInstalled = true;
      this.logger.info('iptables jump rules installed');
    }
  }

  /** Removes the jumps and our chains (upstream's --cleanup). */
  async stop(): Promise<void> {
    await this.syncing.catch(() => undefined);
    for (const jump of JUMP_RULES) {
      // A jump may have been inserted more than once (a crash between check and insert); bounded.
      for (let attempt = 0; attempt < 8; attempt++) {
        if (!(await this.runner.run(['-t', jump.table, '-D', jump.chain, ...jump.args]).catch(() => false))) break;
      }
    }
    const chains = ['KUBE-SERVICES', 'KUBE-NODEPORTS', 'KUBE-POSTROUTING', 'KUBE-MARK-MASQ', ...this.serviceChains];
    const text = ['*filter', ':KUBE-SERVICES - [0:0]', '-X KUBE-SERVICES', 'COMMIT', '*nat', ...chains.map((chain) => `:${chain} - [0:0]`), ...chains.map((chain) => `-X ${chain}`), 'COMMIT', ''].join('\n');
    await this.runner.restore(text);
    this.serviceChains = [];
    this.jumpsInstalled = false;
  }
}
