// The simulated cluster: nodes, the network between them, virtual time, and
// the bookkeeping the checkers and the workload need (who proposed what,
// which values were acknowledged). simulate.ts decides what happens; this
// file makes it happen and checks every step.

import { SeededRandom, SimClock, SimNetwork, type LostMessage, type NetworkFaults } from '@kube-lite/testing';
import { ProposalDroppedError, ReadIndexDroppedError, type ConfChange, type ConfState, type Message, type NodeId } from '../index';
import { SafetyChecker, type ClusterView, type StateMachineEvent } from './checkers';
import { SimNode, type CrashPoint, type NodeHost, type NodeSettings, type NodeStatus } from './node';
import { Trace } from './trace';

export interface ClusterSettings extends NodeSettings {
  /** Virtual milliseconds between two ticks of one node. */
  tickIntervalMs: number;
  /** Initial network behaviour; simulate.ts changes it during the run. */
  network: NetworkFaults;
  /** Bound on messages in flight in the whole network. */
  maxInFlightMessages: number;
  /** Virtual milliseconds between a member's removal being applied and its process being shut down. */
  decommissionDelayMs: number;
  /** Bound on Ready rounds handled in one instant, so a core that never settles is reported, not looped on. */
  maxReadyRoundsPerStep: number;
}

export interface ClusterStats {
  steps: number;
  crashes: number;
  restarts: number;
  proposals: number;
  proposalsDropped: number;
  acknowledged: number;
  readsAsked: number;
  readsAnswered: number;
  confChangesProposed: number;
  confChangesApplied: number;
  /** Snapshots a node received from a leader and installed (InstallSnapshot). */
  snapshotsInstalled: number;
  transfers: number;
  decommissioned: number;
}

/** A failure of the run itself (the core threw, or the driver loop did not settle): reported as a violation. */
export class SimulationFault extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SimulationFault';
  }
}

export class SimCluster implements NodeHost {
  readonly clock = new SimClock();
  readonly network: SimNetwork<Message>;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly stats: ClusterStats = {
    steps: 0, crashes: 0, restarts: 0, proposals: 0, proposalsDropped: 0, acknowledged: 0, readsAsked: 0,
    readsAnswered: 0, confChangesProposed: 0, confChangesApplied: 0, snapshotsInstalled: 0, transfers: 0, decommissioned: 0,
  };
  /** Values acknowledged to their client, in acknowledgement order. */
  readonly acknowledged: string[] = [];
  readonly violations: string[] = [];
  private readonly proposals = new Map<string, { nodeId: NodeId; incarnation: number }>();
  private readonly checker = new SafetyChecker();
  private events: StateMachineEvent[] = [];
  private readonly decommissionAtMs = new Map<NodeId, number>();
  private nextNodeId = 1;
  private nextReadId = 1;

  constructor(
    private readonly settings: ClusterSettings,
    private readonly random: SeededRandom,
    readonly trace: Trace,
  ) {
    this.network = new SimNetwork<Message>(random.fork(), {
      ...settings.network,
      maxInFlightMessages: settings.maxInFlightMessages,
      // A forwarded proposal delivered twice is appended twice: Raft does not
      // deduplicate client requests, so the network must not invent them.
      canDuplicate: (message) => message.type !== 'MsgProp',
      onLost: (lost) => this.messageLost(lost),
    });
  }

  /**
   * What a sender's transport learns about its messages: a snapshot stream
   * fails or completes, a connection is refused. They reach the sender's core
   * at the start of the next instant, as reportSnapshot / reportUnreachable.
   */
  private transportReports: { from: NodeId; incarnation: number; to: NodeId; kind: 'snapshotFailed' | 'snapshotDone' | 'unreachable' }[] = [];

  private messageLost({ from, to, message, reason }: LostMessage<Message>): void {
    const sender = this.nodes.get(from);
    if (sender === undefined) return;
    if (message.type === 'MsgSnap') {
      this.transportReports.push({ from, incarnation: sender.incarnation, to, kind: 'snapshotFailed' });
    } else if (reason === 'blocked' || reason === 'recipientGone') {
      this.transportReports.push({ from, incarnation: sender.incarnation, to, kind: 'unreachable' });
    }
  }

  private deliverTransportReports(): void {
    const reports = this.transportReports;
    this.transportReports = [];
    const seen = new Set<string>();
    for (const report of reports) {
      const sender = this.nodes.get(report.from);
      if (sender === undefined || !sender.up || sender.incarnation !== report.incarnation) continue;
      const key = `${report.from}>${report.to}:${report.kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      this.record(`transport ${key}`);
      if (report.kind === 'unreachable') sender.reportUnreachable(report.to);
      else sender.reportSnapshot(report.to, report.kind === 'snapshotFailed');
    }
  }

  get nowMs(): number {
    return this.clock.nowMs;
  }

  // ---- NodeHost -----------------------------------------------------------

  send(message: Message): void {
    this.network.send(message.from, message.to, message, this.nowMs);
  }

  event(event: StateMachineEvent): void {
    this.events.push(event);
    if (event.kind === 'readIndex') this.stats.readsAnswered++;
  }

  record(line: string): void {
    this.trace.record(this.nowMs, line);
  }

  valueApplied(nodeId: NodeId, incarnation: number, value: string): void {
    const proposal = this.proposals.get(value);
    if (proposal === undefined || proposal.nodeId !== nodeId || proposal.incarnation !== incarnation) return;
    this.proposals.delete(value);
    this.acknowledged.push(value);
    this.stats.acknowledged++;
    this.record(`ack ${value} by node ${nodeId}`);
  }

  snapshotInstalled(nodeId: NodeId, index: number): void {
    this.stats.snapshotsInstalled++;
    this.record(`node ${nodeId} installed snapshot ${index}`);
  }

  confChangeApplied(_nodeId: NodeId, change: ConfChange, _confState: ConfState): void {
    this.stats.confChangesApplied++;
    if (change.type === 'removeNode' && !this.decommissionAtMs.has(change.nodeId)) {
      this.decommissionAtMs.set(change.nodeId, this.nowMs + this.settings.decommissionDelayMs);
    }
  }

  // ---- membership of the simulation ----------------------------------------

  /** Creates the founding members, bootstrapped with each other as voters. */
  bootstrap(count: number): void {
    const peers = Array.from({ length: count }, () => this.nextNodeId++);
    for (const id of peers) this.createNode(id).start(peers);
  }

  /** A new, empty node that waits to be added to the configuration. */
  addEmptyNode(): NodeId {
    const id = this.nextNodeId++;
    this.createNode(id).start();
    return id;
  }

  private createNode(id: NodeId): SimNode {
    const node = new SimNode(id, this.settings, this.random.fork(), this);
    node.nextTickAtMs = this.nowMs + this.random.int(1, this.settings.tickIntervalMs);
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): SimNode | undefined {
    return this.nodes.get(id);
  }

  upNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => node.up);
  }

  /** Crashed (not decommissioned) nodes, which may be restarted. */
  downNodes(): SimNode[] {
    return [...this.nodes.values()].filter((node) => !node.up && !node.decommissioned);
  }

  /** The up leader with the highest term, if any. */
  leader(): { node: SimNode; status: NodeStatus } | undefined {
    let best: { node: SimNode; status: NodeStatus } | undefined;
    for (const node of this.upNodes()) {
      const status = node.status();
      if (status.role === 'leader' && (best === undefined || status.term > best.status.term)) best = { node, status };
    }
    return best;
  }

  // ---- faults ----------------------------------------------------------------

  crash(id: NodeId, point?: CrashPoint): void {
    const node = this.nodes.get(id);
    if (node === undefined || !node.up) return;
    this.stats.crashes++;
    if (point !== undefined) {
      node.armedCrash = point;
      this.record(`arm crash of node ${id} ${point}`);
      return;
    }
    node.crash('now');
  }

  /**
   * Messages still in flight to a restarted node reach the new process, as a
   * sender's transport queue would deliver them after reconnecting; those due
   * while it is down are lost.
   */
  restart(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node === undefined || node.up || node.decommissioned) return;
    this.stats.restarts++;
    node.start();
    node.nextTickAtMs = this.nowMs + this.random.int(1, this.settings.tickIntervalMs);
  }

  // ---- client and operator actions --------------------------------------------

  /** A client proposes `value` to node `id`; returns whether the node took it. */
  propose(id: NodeId, value: string): boolean {
    const node = this.nodes.get(id);
    if (node === undefined || !node.up) return false;
    this.stats.proposals++;
    try {
      node.propose(value);
    } catch (error) {
      if (error instanceof ProposalDroppedError) {
        this.stats.proposalsDropped++;
        this.record(`propose ${value} to node ${id}: dropped`);
        return false;
      }
      throw new SimulationFault(`node ${id} threw on propose: ${String(error)}`, { cause: error });
    }
    this.proposals.set(value, { nodeId: id, incarnation: node.incarnation });
    this.record(`propose ${value} to node ${id}`);
    return true;
  }

  /** Highest commit index any node knows, in memory or on disk. */
  knownCommitIndex(): number {
    let highest = 0;
    for (const node of this.nodes.values()) {
      highest = Math.max(highest, node.persistedLog().commit);
      if (node.up) highest = Math.max(highest, node.status().commit);
    }
    return highest;
  }

  read(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node === undefined || !node.up) return;
    const context = `read${this.nextReadId++}`;
    const minimumIndex = this.knownCommitIndex();
    this.stats.readsAsked++;
    try {
      node.readIndex(context, minimumIndex);
      this.record(`readIndex ${context} at node ${id}, minimum ${minimumIndex}`);
    } catch (error) {
      if (error instanceof ReadIndexDroppedError) {
        this.record(`readIndex ${context} at node ${id}: dropped`);
        return;
      }
      throw new SimulationFault(`node ${id} threw on readIndex: ${String(error)}`, { cause: error });
    }
  }

  proposeConfChange(id: NodeId, change: ConfChange): boolean {
    const node = this.nodes.get(id);
    if (node === undefined || !node.up) return false;
    this.stats.confChangesProposed++;
    try {
      node.proposeConfChange(change);
    } catch (error) {
      if (error instanceof ProposalDroppedError) {
        this.record(`conf change ${change.type} ${change.nodeId} at node ${id}: dropped`);
        return false;
      }
      throw new SimulationFault(`node ${id} threw on proposeConfChange: ${String(error)}`, { cause: error });
    }
    this.record(`conf change ${change.type} ${change.nodeId} proposed at node ${id}`);
    return true;
  }

  transferLeadership(leaderId: NodeId, transferee: NodeId): void {
    const node = this.nodes.get(leaderId);
    if (node === undefined || !node.up) return;
    this.stats.transfers++;
    this.record(`transfer leadership ${leaderId} -> ${transferee}`);
    node.transferLeadership(transferee);
  }

  // ---- time --------------------------------------------------------------------

  /** When the next thing happens on its own: a delivery, a tick, or a decommission. */
  nextEventAtMs(): number {
    let next = Number.POSITIVE_INFINITY;
    const delivery = this.network.nextDeliveryAtMs();
    if (delivery !== undefined) next = delivery;
    for (const node of this.nodes.values()) if (node.up) next = Math.min(next, node.nextTickAtMs);
    if (this.transportReports.length > 0) next = Math.min(next, this.nowMs + 1);
    for (const atMs of this.decommissionAtMs.values()) next = Math.min(next, atMs);
    return next;
  }

  /**
   * Runs every event due at or before `untilMs` in time order, handling
   * Readies and running the safety checkers after each instant. Stops early
   * at the first violation.
   */
  runUntil(untilMs: number): void {
    while (this.violations.length === 0) {
      const next = this.nextEventAtMs();
      if (next > untilMs) break;
      this.clock.advanceTo(Math.max(next, this.nowMs));
      this.step();
    }
    if (this.violations.length === 0 && untilMs > this.nowMs) this.clock.advanceTo(untilMs);
  }

  /** One instant: deliveries, ticks, decommissions, then Readies, then checks. */
  step(): void {
    this.stats.steps++;
    try {
      this.deliverTransportReports();
      for (const envelope of this.network.deliverDue(this.nowMs)) {
        const node = this.nodes.get(envelope.to);
        if (node === undefined || !node.up) {
          this.messageLost({ ...envelope, reason: 'recipientGone' });
          continue;
        }
        const message = structuredClone(envelope.message);
        this.record(`deliver ${describeMessage(message)}`);
        node.step(message);
        if (message.type === 'MsgSnap') {
          const sender = this.nodes.get(message.from);
          if (sender !== undefined) this.transportReports.push({ from: message.from, incarnation: sender.incarnation, to: message.to, kind: 'snapshotDone' });
        }
      }
      for (const node of this.nodes.values()) {
        if (!node.up || node.nextTickAtMs > this.nowMs) continue;
        node.tick();
        node.nextTickAtMs += this.settings.tickIntervalMs;
      }
      for (const [id, atMs] of [...this.decommissionAtMs]) {
        if (atMs > this.nowMs) continue;
        this.decommissionAtMs.delete(id);
        this.decommission(id);
      }
      this.handleReadies();
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      this.violations.push(`t=${this.nowMs}ms: ${error instanceof SimulationFault ? '' : 'core threw '}${detail}`);
      this.record(`fault ${detail}`);
      return;
    }
    this.check();
  }

  /** Handles Readies until no node has one (bounded). Actions call this after they poke a node. */
  handleReadies(): void {
    for (let round = 0; ; round++) {
      let handled = false;
      for (const node of this.nodes.values()) {
        if (!node.hasReady()) continue;
        handled = true;
        node.processReady();
      }
      if (!handled) return;
      if (round >= this.settings.maxReadyRoundsPerStep) {
        throw new SimulationFault(`Readies did not settle after ${round} rounds in one instant`);
      }
    }
  }

  private decommission(id: NodeId): void {
    const node = this.nodes.get(id);
    if (node === undefined || node.decommissioned) return;
    if (node.up) node.crash('decommissioned');
    node.decommissioned = true;
    this.stats.decommissioned++;
    this.network.dropMessagesTo(id);
    this.record(`decommission node ${id}`);
  }

  /** Runs the safety checkers over the current state and the events since the last check. */
  check(): void {
    const view: ClusterView = {
      nodes: [...this.nodes.values()].map((node) => {
        const status = node.up ? node.status() : undefined;
        return {
          id: node.id,
          up: status !== undefined,
          role: status?.role ?? 'follower',
          term: status?.term ?? 0,
          log: node.persistedLog(),
        };
      }),
      events: this.events,
    };
    this.events = [];
    for (const violation of this.checker.check(view)) {
      this.violations.push(`t=${this.nowMs}ms: ${violation}`);
      this.record(`violation ${violation}`);
    }
  }
}

export function describeMessage(message: Message): string {
  const parts = [`${message.type} ${message.from}->${message.to} term=${message.term}`];
  if (message.logTerm !== 0 || message.index !== 0) parts.push(`log=${message.index}@${message.logTerm}`);
  if (message.entries.length > 0) parts.push(`entries=${message.entries.length}`);
  if (message.commit !== 0) parts.push(`commit=${message.commit}`);
  if (message.reject) parts.push(`reject hint=${message.rejectHint}`);
  if (message.snapshot !== undefined) parts.push(`snapshot=${message.snapshot.metadata.index}/${message.snapshot.metadata.term}`);
  return parts.join(' ');
}
