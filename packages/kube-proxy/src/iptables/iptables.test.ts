import { execFileSync } from 'node:child_process';
import { buildServiceTable } from '../core/service-table';
import { endpointsOf, serviceOf } from '../test-fixtures';
import { ExecIptablesRunner, IptablesProxier, type IptablesRunner } from './iptables-proxier';
import { buildIptablesRules, chainName } from './rules';

const table = buildServiceTable(
  [
    serviceOf('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] }),
    serviceOf('sticky', { clusterIP: '10.96.0.11', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }),
    serviceOf('idle', { clusterIP: '10.96.0.12', ports: [{ port: 80 }] }),
  ],
  [
    endpointsOf('web', [{ addresses: [{ ip: '10.1.0.2' }, { ip: '10.1.0.3' }, { ip: '10.2.0.4' }], ports: [{ port: 8080 }] }]),
    endpointsOf('sticky', [{ addresses: [{ ip: '10.1.0.9' }], ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }]),
  ],
);
const web = chainName('KUBE-SVC-', 'default/web:/TCP');

describe('buildIptablesRules', () => {
  const { restoreText, serviceChains } = buildIptablesRules(table);
  const lines = restoreText.split('\n');

  test('chain names follow upstream: prefix plus 16 base32 characters', () => {
    expect(web).toMatch(/^KUBE-SVC-[A-Z2-7]{16}$/);
    expect(chainName('KUBE-SVC-', 'x')).toBe(chainName('KUBE-SVC-', 'x'));
    expect(chainName('KUBE-SVC-', 'x')).not.toBe(chainName('KUBE-SVC-', 'y'));
  });

  test.each([
    ['ClusterIP jump', `-A KUBE-SERVICES -m comment --comment "default/web: cluster IP" -m tcp -p tcp -d 10.96.0.10/32 --dport 80 -j ${web}`],
    ['1/3 to the first endpoint', `-A ${web} -m comment --comment "default/web: -> 10.1.0.2:8080" -m statistic --mode random --probability 0.3333333333 -j ${chainName('KUBE-SEP-', 'default/web:/TCP/10.1.0.2:8080')}`],
    ['1/2 of the rest to the second', `-A ${web} -m comment --comment "default/web: -> 10.1.0.3:8080" -m statistic --mode random --probability 0.5000000000 -j ${chainName('KUBE-SEP-', 'default/web:/TCP/10.1.0.3:8080')}`],
    ['the last takes what is left', `-A ${web} -m comment --comment "default/web: -> 10.2.0.4:8080" -j ${chainName('KUBE-SEP-', 'default/web:/TCP/10.2.0.4:8080')}`],
    ['DNAT', `-A ${chainName('KUBE-SEP-', 'default/web:/TCP/10.1.0.2:8080')} -m comment --comment "default/web:" -m tcp -p tcp -j DNAT --to-destination 10.1.0.2:8080`],
    ['hairpin masquerade', `-A ${chainName('KUBE-SEP-', 'default/web:/TCP/10.1.0.2:8080')} -m comment --comment "default/web:" -s 10.1.0.2/32 -j KUBE-MARK-MASQ`],
    ['NodePort', `-A KUBE-NODEPORTS -m comment --comment "default/web:" -m tcp -p tcp --dport 30080 -j ${chainName('KUBE-EXT-', 'default/web:/TCP')}`],
    ['affinity check', `-A ${chainName('KUBE-SVC-', 'default/sticky:dns/UDP')} -m comment --comment "default/sticky:dns" -m recent --name ${chainName('KUBE-SEP-', 'default/sticky:dns/UDP/10.1.0.9:53')} --mask 255.255.255.255 --rsource --rcheck --seconds 60 --reap -j ${chainName('KUBE-SEP-', 'default/sticky:dns/UDP/10.1.0.9:53')}`],
    ['no endpoints: REJECT in filter', '-A KUBE-SERVICES -m comment --comment "default/idle: has no endpoints" -m tcp -p tcp -d 10.96.0.12/32 --dport 80 -j REJECT'],
    ['NodePort dispatch comes last', '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'],
  ])('%s', (_, line) => {
    expect(lines).toContain(line);
  });

  test('NodePort dispatch is the last nat KUBE-SERVICES rule', () => {
    const natServices = lines.filter((line) => line.startsWith('-A KUBE-SERVICES') && !line.includes('REJECT'));
    expect(natServices[natServices.length - 1]).toContain('KUBE-NODEPORTS');
  });

  test('every referenced chain is declared', () => {
    const declared = new Set(lines.filter((line) => line.startsWith(':')).map((line) => line.slice(1).split(' ')[0]));
    const targets = lines.flatMap((line) => /-j (KUBE-[A-Z0-9-]+)/.exec(line)?.[1] ?? []);
    for (const target of targets) expect([target, declared.has(target)]).toEqual([target, true]);
    expect(serviceChains).toHaveLength(1 + 3 + 1 + 1 + 1); // web svc + 3 seps + ext, sticky svc + sep
  });

  test('chains of removed Services are flushed and deleted', () => {
    const next = buildIptablesRules(buildServiceTable([], []), { previousServiceChains: serviceChains });
    const nextLines = next.restoreText.split('\n');
    expect(next.serviceChains).toEqual([]);
    for (const chain of serviceChains) {
      expect(nextLines).toContain(`:${chain} - [0:0]`);
      expect(nextLines).toContain(`-X ${chain}`);
    }
  });
});

describe('IptablesProxier with a recording runner', () => {
  test('restores, then installs missing jumps once; stop removes them', async () => {
    const calls: string[] = [];
    const present = new Set<string>(['nat PREROUTING']);
    const runner: IptablesRunner = {
      run: async (args) => {
        calls.push(`iptables ${args.slice(0, 4).join(' ')}`);
        const key = `${args[1]} ${args[3]}`;
        if (args[2] === '-C') return present.has(key);
        if (args[2] === '-D') return present.delete(key);
        present.add(key);
        return true;
      },
      restore: async (input) => void calls.push(`restore ${input.split('\n').length} lines`),
    };
    const proxier = new IptablesProxier({ runner });
    await proxier.sync(table);
    await proxier.sync(table);
    expect(calls.filter((call) => call.includes('-I'))).toEqual([
      'iptables -t nat -I OUTPUT',
      'iptables -t nat -I POSTROUTING',
      'iptables -t filter -I INPUT',
      'iptables -t filter -I OUTPUT',
      'iptables -t filter -I FORWARD',
    ]);
    expect(calls.filter((call) => call.startsWith('restore'))).toHaveLength(2);
    await proxier.stop();
    expect(present.size).toBe(0);
  });
});

function canUseNetns(): boolean {
  try {
    execFileSync('iptables-restore', ['--version'], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'add', 'kube-lite-proxy-test'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Applies the rules to a real kernel inside a throwaway network namespace when iptables and root are available.
const netnsAvailable = process.getuid?.() === 0 && canUseNetns();
(netnsAvailable ? describe : describe.skip)('IptablesProxier against iptables in a network namespace', () => {
  afterAll(() => {
    execFileSync('ip', ['netns', 'delete', 'kube-lite-proxy-test'], { stdio: 'ignore' });
  });

  test('the rules load, and a second generation replaces the first', async () => {
    const runner = new ExecIptablesRunner(['ip', 'netns', 'exec', 'kube-lite-proxy-test']);
    const proxier = new IptablesProxier({ runner });
    await proxier.sync(table);
    const save = () => execFileSync('ip', ['netns', 'exec', 'kube-lite-proxy-test', 'iptables-save', '-t', 'nat']).toString();
    expect(save()).toContain(`-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web: cluster IP" -m tcp --dport 80 -j ${web}`);
    await proxier.sync(buildServiceTable([], []));
    expect(save()).not.toContain(web);
    await proxier.stop();
    expect(save()).not.toContain('KUBE-');
  });
});
