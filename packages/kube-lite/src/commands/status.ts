// `kube-lite status`: components with pid, state and addresses; the etcd
// members and their leader; the nodes and their Ready condition.
import type { ClusterStatus } from '../cluster/local-cluster';

/** Left-aligned columns, two spaces apart, like kubectl's tables. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0, ' ')).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}

export function formatStatus(status: ClusterStatus): string[] {
  const lines: string[] = [];
  lines.push(
    ...formatTable(
      ['COMPONENT', 'PID', 'STATE', 'LISTENS'],
      status.components.map((component) => [
        component.name,
        component.pid === undefined ? '-' : String(component.pid),
        component.state,
        Object.entries(component.endpoints)
          .map(([label, address]) => `${label}=${address}`)
          .join(' '),
      ]),
    ),
  );
  lines.push('');
  lines.push(
    ...formatTable(
      ['ETCD MEMBER', 'ENDPOINT', 'ROLE', 'RAFT TERM', 'RAFT INDEX'],
      status.etcd.map((member) => [
        member.name,
        member.endpoint,
        member.error !== undefined ? unreachable(member.error) : member.isLeader ? 'leader' : member.leaderId === '0' ? 'no leader known' : 'follower',
        member.raftTerm ?? '-',
        member.raftIndex ?? '-',
      ]),
    ),
  );
  lines.push('');
  if ('error' in status.nodes) {
    lines.push(`NODES: API server not reachable (${status.nodes.error})`);
  } else {
    lines.push(...formatTable(['NODE', 'READY', 'INTERNAL-IP'], status.nodes.map((node) => [node.name, node.ready, node.internalIp ?? '-'])));
  }
  return lines;
}

function unreachable(error: string): string {
  if (error.includes('ECONNREFUSED')) return 'down (connection refused)';
  return `unreachable (${error.length > 60 ? `${error.slice(0, 60)}...` : error})`;
}
