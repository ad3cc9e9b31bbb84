// Safety and liveness checkers for the Raft simulator.
//
// They see the cluster only through plain data (ClusterView and the events
// since the previous step), so a test can hand them a fabricated history and
// watch them fail. The properties are those of Figure 3 of the Raft paper,
// checked over what nodes persisted and applied, plus the linearizability of
// ReadIndex and the client-visible ones (no value applied twice, every
// acknowledged value eventually applied everywhere).

import type { Entry, NodeId, StateRole } from '../types';

/** A node's durable log, as it stands on its simulated disk. */
export interface PersistedLog {
  /** Index and term of the last entry compacted away, which the log starts after (0, 0 when none). */
  compactedIndex: number;
  compactedTerm: number;
  /** Entries compactedIndex+1 .. lastIndex, in order. */
  entries: readonly Entry[];
  /** Durable hard state. */
  term: number;
  commit: number;
  /** Bumped by the driver on every write to the disk, so unchanged logs are not re-read. */
  version: number;
}

export interface NodeView {
  id: NodeId;
  /** False while crashed or after being decommissioned: role and term are then meaningless. */
  up: boolean;
  role: StateRole;
  /** The in-memory term (may be ahead of the durable one). */
  term: number;
  log: PersistedLog;
}

/** One value of the state machine, with where it sits in the log. */
export interface AppliedItem {
  index: number;
  term: number;
  value: string;
}

/** Something a node's state machine did since the previous step. */
export type StateMachineEvent =
  /** Applied one committed entry; `value` is the client value it carried, if any. */
  | { kind: 'apply'; nodeId: NodeId; entry: Entry; value?: string }
  /** Replaced its state by a snapshot image (at restart or on InstallSnapshot). */
  | { kind: 'restore'; nodeId: NodeId; index: number; items: readonly AppliedItem[] }
  /** Answered a ReadIndex request made when the cluster's highest known commit index was `minimumIndex`. */
  | { kind: 'readIndex'; nodeId: NodeId; index: number; minimumIndex: number };

export interface ClusterView {
  nodes: readonly NodeView[];
  events: readonly StateMachineEvent[];
}

interface CommittedEntry {
  key: string;
  /** Lowest term any node had when it reported this index committed: an upper bound of the term it was committed in. */
  commitTerm: number;
  reportedBy: NodeId;
}

interface NodeMemory {
  appliedIndex: number;
  values: Set<string>;
  durableCommit: number;
  durableTerm: number;
  logVersion: number;
}

/** The identity of an entry: equal keys mean the same entry. */
export function entryKey(entry: Entry): string {
  return `${entry.term}|${entry.type}|${Buffer.from(entry.data).toString('base64')}`;
}

function describeEntry(entry: Entry): string {
  const data = entry.data.length === 0 ? 'empty' : Buffer.from(entry.data).toString('utf8');
  return `{index ${entry.index}, term ${entry.term}, ${entry.type} ${JSON.stringify(data)}}`;
}

function termAt(log: PersistedLog, index: number): number | undefined {
  if (index === log.compactedIndex) return log.compactedTerm;
  return log.entries[index - log.compactedIndex - 1]?.term;
}

function lastIndexOf(log: PersistedLog): number {
  return log.compactedIndex + log.entries.length;
}

/**
 * Checks the Raft safety properties step by step. It remembers the history it
 * needs (leaders of every term, every committed and every applied entry), so
 * feed it every step of a run, in order.
 */
export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** Committed entries by index (sparse at first, when compacted logs are seen). */
  private readonly committed: (CommittedEntry | undefined)[] = [];
  /** The entry first applied at each index, by any node. */
  private readonly appliedKeys: (string | undefined)[] = [];
  /** Every (index, term) pair ever persisted, with its entry. */
  private readonly persistedKeys = new Map<string, string>();
  private readonly memories = new Map<NodeId, NodeMemory>();

  /** Checks one step; returns the violations it found (empty when all is well). */
  check(view: ClusterView): string[] {
    const violations: string[] = [];
    const logsChanged = this.checkLogs(view.nodes, violations);
    this.checkElectionSafety(view.nodes, violations);
    if (logsChanged) this.recordCommits(view.nodes, violations);
    this.checkLeaderCompleteness(view.nodes, violations);
    for (const event of view.events) this.checkEvent(event, violations);
    return violations;
  }

  private memoryOf(nodeId: NodeId): NodeMemory {
    let memory = this.memories.get(nodeId);
    if (memory === undefined) {
      memory = { appliedIndex: 0, values: new Set(), durableCommit: 0, durableTerm: 0, logVersion: -1 };
      this.memories.set(nodeId, memory);
    }
    return memory;
  }

  /** Log shape, durable term/commit monotonicity, and Log Matching. Returns whether any log changed. */
  private checkLogs(nodes: readonly NodeView[], violations: string[]): boolean {
    let changed = false;
    for (const node of nodes) {
      const memory = this.memoryOf(node.id);
      if (memory.logVersion === node.log.version) continue;
      memory.logVersion = node.log.version;
      changed = true;
      const { log } = node;
      if (log.term < memory.durableTerm) {
        violations.push(`node ${node.id}: durable term went back from ${memory.durableTerm} to ${log.term}`);
      }
      if (log.commit < memory.durableCommit) {
        violations.push(`node ${node.id}: durable commit index went back from ${memory.durableCommit} to ${log.commit}`);
      }
      memory.durableTerm = Math.max(memory.durableTerm, log.term);
      memory.durableCommit = Math.max(memory.durableCommit, log.commit);
      let previousTerm = log.compactedTerm;
      for (const [offset, entry] of log.entries.entries()) {
        const expectedIndex = log.compactedIndex + 1 + offset;
        if (entry.index !== expectedIndex) {
          violations.push(`node ${node.id}: log position ${expectedIndex} holds an entry with index ${entry.index}`);
          return true;
        }
        if (entry.term < previousTerm) {
          violations.push(`node ${node.id}: log term decreases at index ${entry.index} (${previousTerm} then ${entry.term})`);
        }
        if (entry.term > log.term) {
          violations.push(`node ${node.id}: entry ${describeEntry(entry)} has a term above the durable term ${log.term}`);
        }
        previousTerm = entry.term;
        const position = `${entry.index}/${entry.term}`;
        const key = entryKey(entry);
        const earlier = this.persistedKeys.get(position);
        if (earlier === undefined) this.persistedKeys.set(position, key);
        else if (earlier !== key) {
          violations.push(`log matching: node ${node.id} persisted ${describeEntry(entry)} but another entry with index ${entry.index} and term ${entry.term} was persisted before`);
        }
      }
    }
    if (!changed) return false;
    // Same index and term must mean the same prefix: find the highest index at
    // which two logs agree on the term, and compare everything below it.
    // Crashed nodes count too: their disks survive.
    const withEntries = nodes.filter((node) => node.log.entries.length > 0);
    for (let first = 0; first < withEntries.length; first++) {
      for (let second = first + 1; second < withEntries.length; second++) {
        const a = (withEntries[first] as NodeView).log;
        const b = (withEntries[second] as NodeView).log;
        const low = Math.max(a.compactedIndex, b.compactedIndex) + 1;
        let index = Math.min(lastIndexOf(a), lastIndexOf(b));
        while (index >= low && termAt(a, index) !== termAt(b, index)) index--;
        for (let below = index - 1; below >= low; below--) {
          if (termAt(a, below) !== termAt(b, below)) {
            violations.push(
              `log matching: nodes ${(withEntries[first] as NodeView).id} and ${(withEntries[second] as NodeView).id} agree on index ${index} (term ${termAt(a, index)}) but differ at index ${below} (terms ${termAt(a, below)} and ${termAt(b, below)})`,
            );
            break;
          }
        }
      }
    }
    return true;
  }

  private checkElectionSafety(nodes: readonly NodeView[], violations: string[]): void {
    for (const node of nodes) {
      if (!node.up || node.role !== 'leader') continue;
      const known = this.leaderOfTerm.get(node.term);
      if (known === undefined) this.leaderOfTerm.set(node.term, node.id);
      else if (known !== node.id) {
        violations.push(`election safety: nodes ${known} and ${node.id} were both leader in term ${node.term}`);
      }
    }
  }

  private recordCommits(nodes: readonly NodeView[], violations: string[]): void {
    for (const node of nodes) {
      const { log } = node;
      const from = Math.max(log.compactedIndex + 1, 1);
      const to = Math.min(log.commit, lastIndexOf(log));
      if (log.commit > lastIndexOf(log)) {
        violations.push(`node ${node.id}: durable commit index ${log.commit} is beyond its last log index ${lastIndexOf(log)}`);
      }
      for (let index = from; index <= to; index++) {
        const entry = log.entries[index - log.compactedIndex - 1] as Entry;
        const key = entryKey(entry);
        const known = this.committed[index];
        if (known === undefined) {
          this.committed[index] = { key, commitTerm: log.term, reportedBy: node.id };
        } else if (known.key !== key) {
          violations.push(`state machine safety: index ${index} is committed as ${describeEntry(entry)} on node ${node.id} but as another entry on node ${known.reportedBy}`);
          known.key = key; // report each disagreement once
        } else if (log.term < known.commitTerm) {
          known.commitTerm = log.term;
        }
      }
    }
  }

  private checkLeaderCompleteness(nodes: readonly NodeView[], violations: string[]): void {
    for (const node of nodes) {
      if (!node.up || node.role !== 'leader') continue;
      const { log } = node;
      for (let index = log.compactedIndex + 1; index < this.committed.length; index++) {
        const known = this.committed[index];
        if (known === undefined || known.commitTerm >= node.term) continue;
        const entry = log.entries[index - log.compactedIndex - 1];
        if (entry === undefined || entryKey(entry) !== known.key) {
          violations.push(
            `leader completeness: node ${node.id}, leader of term ${node.term}, ${entry === undefined ? 'lacks' : `holds ${describeEntry(entry)} instead of`} the entry committed at index ${index} by term ${known.commitTerm}`,
          );
          return;
        }
      }
    }
  }

  private checkEvent(event: StateMachineEvent, violations: string[]): void {
    const memory = this.memoryOf(event.nodeId);
    switch (event.kind) {
      case 'apply': {
        const { entry } = event;
        if (entry.index !== memory.appliedIndex + 1) {
          violations.push(`node ${event.nodeId}: applied index ${entry.index} right after index ${memory.appliedIndex}`);
        }
        memory.appliedIndex = entry.index;
        this.checkAppliedAt(event.nodeId, entry.index, entryKey(entry), describeEntry(entry), violations);
        if (event.value !== undefined) {
          if (memory.values.has(event.value)) {
            violations.push(`node ${event.nodeId}: value ${event.value} applied twice (again at index ${entry.index})`);
          }
          memory.values.add(event.value);
        }
        return;
      }
      case 'restore': {
        // A restart legitimately goes back to the last snapshot, so the
        // applied index may drop here; it must then climb again in order.
        memory.appliedIndex = event.index;
        memory.values = new Set();
        for (const item of event.items) {
          if (item.index > event.index) {
            violations.push(`node ${event.nodeId}: snapshot at index ${event.index} holds value ${item.value} from index ${item.index}`);
          }
          if (memory.values.has(item.value)) {
            violations.push(`node ${event.nodeId}: snapshot at index ${event.index} holds value ${item.value} twice`);
          }
          memory.values.add(item.value);
          const known = this.appliedKeys[item.index];
          if (known !== undefined && !known.startsWith(`${item.term}|normal|`)) {
            violations.push(`state machine safety: node ${event.nodeId} restored value ${item.value} at index ${item.index} (term ${item.term}) where another entry was applied`);
          } else if (known !== undefined && known !== `${item.term}|normal|${Buffer.from(item.value).toString('base64')}`) {
            violations.push(`state machine safety: node ${event.nodeId} restored value ${item.value} at index ${item.index} where another value was applied`);
          }
        }
        return;
      }
      case 'readIndex': {
        if (event.index < event.minimumIndex) {
          violations.push(`linearizability: node ${event.nodeId} answered a ReadIndex with index ${event.index}, below the commit index ${event.minimumIndex} known when the read began`);
        }
        return;
      }
    }
  }

  private checkAppliedAt(nodeId: NodeId, index: number, key: string, description: string, violations: string[]): void {
    const known = this.appliedKeys[index];
    if (known === undefined) {
      this.appliedKeys[index] = key;
    } else if (known !== key) {
      violations.push(`state machine safety: node ${nodeId} applied ${description} where another entry was applied at index ${index}`);
    }
    const committed = this.committed[index];
    if (committed !== undefined && committed.key !== key) {
      violations.push(`state machine safety: node ${nodeId} applied ${description}, which differs from the entry committed at index ${index}`);
    }
  }
}

export interface LivenessInput {
  /** Voters and learners of the final configuration. */
  members: readonly NodeId[];
  /** Values whose proposer saw them applied. */
  acknowledged: readonly string[];
  /** The values in a node's state machine, in order; undefined when the node is not running. */
  valuesOf: (nodeId: NodeId) => readonly string[] | undefined;
}

/** After faults stop: every acknowledged value is applied on every member, exactly once. */
export function checkLiveness(input: LivenessInput): string[] {
  const violations: string[] = [];
  if (input.members.length === 0) violations.push('liveness: no node knows the cluster membership (no leader?)');
  for (const member of input.members) {
    const values = input.valuesOf(member);
    if (values === undefined) {
      violations.push(`liveness: member ${member} is not running`);
      continue;
    }
    const counts = new Map<string, number>();
    for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
    const missing = input.acknowledged.filter((value) => !counts.has(value));
    if (missing.length > 0) {
      violations.push(`liveness: member ${member} lacks ${missing.length} acknowledged value(s), first ${missing.slice(0, 3).join(', ')}`);
    }
    for (const [value, count] of counts) {
      if (count > 1) {
        violations.push(`liveness: member ${member} applied ${value} ${count} times`);
        break;
      }
    }
  }
  return violations;
}
