// One seeded run of the Raft simulator: a fault phase (crashes, partitions,
// a flaky network, membership changes, leadership transfers, client writes
// and linearizable reads) and then a liveness phase (network healed, every
// node restarted) that must bring every acknowledged value to every member.
// All randomness comes from the seed, so one seed replays one run exactly.

import { SeededRandom, type NetworkFaults, type NetworkStats } from '@kube-lite/testing';
import type { ConfChange, ConfState, NodeId } from '../index';
import { EMPTY_BYTES } from '../types';
import { checkLiveness } from './checkers';
import { SimCluster, type ClusterSettings, type ClusterStats } from './cluster';
import type { CrashPoint } from './node';
import { Trace } from './trace';

/** How often each kind of event happens, as a probability per scheduler tick. */
export interface EventRates {
  /** A running node crashes (now, or at a chosen point of its next Ready). */
  crash: number;
  /** A partition starts, when none is in place. */
  partition: number;
  /** The network's loss, duplication and delay change. */
  networkChange: number;
  /** A client proposes a new value to a random node. */
  propose: number;
  /** A client asks a random node for a linearizable read index. */
  read: number;
  /** The operator starts a membership change, when none is under way. */
  membership: number;
  /** The operator asks the leader to hand leadership to another voter. */
  transfer: number;
}

export interface SimulateOptions {
  seed: number;
  /** Founding voters; by default 3 or 5, drawn from the seed. */
  initialVoterCount?: number;
  /** Length of the fault phase, in scheduler ticks (one tick is tickIntervalMs of virtual time). */
  faultTicks?: number;
  /** Bound on the liveness phase, in scheduler ticks. */
  livenessTicks?: number;
  /** Overrides of the default event rates. */
  rates?: Partial<EventRates>;
  /** Receives every trace line (for --verbose). */
  onTrace?: (line: string) => void;
}

export interface SimulateStats extends ClusterStats {
  initialVoterCount: number;
  finalMembers: number;
  preVote: boolean;
  checkQuorum: boolean;
  partitions: number;
  membershipChangesCompleted: number;
  /** Ticks the liveness phase needed (livenessTicks when it did not converge). */
  livenessTicksUsed: number;
  traceLines: number;
  network: NetworkStats;
}

export interface SimulateResult {
  violations: string[];
  traceHash: string;
  stats: SimulateStats;
}

export const DEFAULT_RATES: EventRates = {
  crash: 0.02,
  partition: 0.01,
  networkChange: 0.01,
  propose: 0.35,
  read: 0.1,
  membership: 0.015,
  transfer: 0.006,
};

const TICK_INTERVAL_MS = 10;
const MAX_MEMBERS = 7;
const MIN_VOTERS = 3;
/** A membership change not visible in the leader's configuration after this long is proposed again. */
const CONF_CHANGE_RETRY_TICKS = 150;
/** How often the liveness phase looks whether it has converged. */
const LIVENESS_CHECK_EVERY_TICKS = 5;

export function simulate(options: SimulateOptions): SimulateResult {
  return new Simulation(options).run();
}

class Simulation {
  private readonly random: SeededRandom;
  private readonly cluster: SimCluster;
  private readonly rates: EventRates;
  private readonly trace: Trace;
  private readonly initialVoterCount: number;
  private readonly preVote: boolean;
  private readonly checkQuorum: boolean;
  private readonly restartAtMs = new Map<NodeId, number>();
  /** Nodes armed to crash right after granting a vote, to be restarted at once. */
  private readonly voteCrashes = new Set<NodeId>();
  private partitionHealAtMs: number | undefined;
  private partitions = 0;
  private plan: ConfChange[] = [];
  private pendingChange: { change: ConfChange; proposedAtMs: number } | undefined;
  private membershipChangesCompleted = 0;
  private nextValue = 1;
  private livenessTicksUsed = 0;

  constructor(private readonly options: SimulateOptions) {
    const root = SeededRandom.fromSeed(options.seed);
    this.random = root.fork();
    const configRandom = root.fork();
    this.rates = { ...DEFAULT_RATES, ...options.rates };
    this.trace = new Trace(options.onTrace);
    this.initialVoterCount = options.initialVoterCount ?? configRandom.pick([3, 3, 5]);
    this.preVote = configRandom.chance(0.5);
    this.checkQuorum = configRandom.chance(0.5);
    const settings: ClusterSettings = {
      electionTicks: 10,
      heartbeatTicks: configRandom.pick([1, 2, 3]),
      checkQuorum: this.checkQuorum,
      preVote: this.preVote,
      maxSizePerMessageBytes: configRandom.pick([16, 64, 1024]),
      maxInflightMessages: configRandom.pick([2, 8, 64]),
      maxUncommittedEntriesBytes: configRandom.pick([0, 512]),
      maxCommittedSizePerReadyBytes: configRandom.pick([8, 1024]),
      maxPendingReadIndexRequests: configRandom.pick([2, 64]),
      snapshotEveryEntries: configRandom.pick([8, 16, 40]),
      retainEntriesAfterSnapshot: configRandom.pick([0, 3, 10]),
      tickIntervalMs: TICK_INTERVAL_MS,
      network: randomNetworkFaults(configRandom),
      maxInFlightMessages: 2000,
      decommissionDelayMs: 20 * TICK_INTERVAL_MS,
      maxReadyRoundsPerStep: 10_000,
    };
    this.cluster = new SimCluster(settings, root.fork(), this.trace);
    this.cluster.record(
      `seed ${options.seed} voters=${this.initialVoterCount} preVote=${this.preVote} checkQuorum=${this.checkQuorum} ` +
        `heartbeatTicks=${settings.heartbeatTicks} maxMsgBytes=${settings.maxSizePerMessageBytes} inflight=${settings.maxInflightMessages} ` +
        `readyBytes=${settings.maxCommittedSizePerReadyBytes} pendingReads=${settings.maxPendingReadIndexRequests} ` +
        `snapshotEvery=${settings.snapshotEveryEntries} retain=${settings.retainEntriesAfterSnapshot} ` +
        `network=${JSON.stringify(settings.network)}`,
    );
  }

  run(): SimulateResult {
    const cluster = this.cluster;
    cluster.bootstrap(this.initialVoterCount);
    const faultTicks = this.options.faultTicks ?? 400;
    for (let tick = 0; tick < faultTicks && cluster.violations.length === 0; tick++) {
      this.schedulerTick(() => this.faultPhaseActions());
    }
    if (cluster.violations.length === 0) this.livenessPhase(this.options.livenessTicks ?? 600);
    const traceLines = this.trace.lines;
    return {
      violations: [...cluster.violations],
      traceHash: this.trace.finish(),
      stats: {
        ...cluster.stats,
        initialVoterCount: this.initialVoterCount,
        finalMembers: this.finalMembers().length,
        preVote: this.preVote,
        checkQuorum: this.checkQuorum,
        partitions: this.partitions,
        membershipChangesCompleted: this.membershipChangesCompleted,
        livenessTicksUsed: this.livenessTicksUsed,
        traceLines,
        network: { ...cluster.network.stats },
      },
    };
  }

  /** Runs the cluster up to the next scheduler instant, then acts, then handles what the actions caused. */
  private schedulerTick(actions: () => void): void {
    const cluster = this.cluster;
    const atMs = cluster.nowMs + TICK_INTERVAL_MS;
    cluster.runUntil(atMs - 1);
    if (cluster.violations.length > 0) return;
    cluster.clock.advanceTo(atMs);
    try {
      actions();
    } catch (error) {
      const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      cluster.violations.push(`t=${atMs}ms: ${detail}`);
      return;
    }
    cluster.step();
  }

  private faultPhaseActions(): void {
    const { cluster, random, rates } = this;
    const nowMs = cluster.nowMs;
    for (const [id, atMs] of [...this.restartAtMs]) {
      if (atMs > nowMs) continue;
      this.restartAtMs.delete(id);
      cluster.restart(id);
    }
    for (const id of [...this.voteCrashes]) {
      const node = cluster.node(id);
      if (node === undefined || node.up) continue;
      this.voteCrashes.delete(id);
      cluster.restart(id);
    }
    if (random.chance(rates.crash)) this.crashSomeNode();
    if (this.partitionHealAtMs !== undefined && nowMs >= this.partitionHealAtMs) {
      cluster.network.heal();
      this.partitionHealAtMs = undefined;
      cluster.record('partition healed');
    } else if (this.partitionHealAtMs === undefined && random.chance(rates.partition)) {
      this.startPartition();
    }
    if (random.chance(rates.networkChange)) {
      const faults = randomNetworkFaults(random);
      cluster.network.setFaults(faults);
      cluster.record(`network ${JSON.stringify(faults)}`);
    }
    this.clientActions();
    this.operatorActions();
  }

  private clientActions(): void {
    const { cluster, random, rates } = this;
    const up = cluster.upNodes();
    if (up.length === 0) return;
    if (random.chance(rates.propose)) cluster.propose(random.pick(up).id, `v${this.nextValue++}`);
    if (random.chance(rates.read)) cluster.read(random.pick(up).id);
  }

  private crashSomeNode(): void {
    const { cluster, random } = this;
    const up = cluster.upNodes();
    if (up.length === 0) return;
    const leader = cluster.leader();
    const voters = leader?.status.confState.voters ?? [];
    const upVoters = voters.filter((id) => cluster.node(id)?.up === true).length;
    // Mostly keep a quorum up so the run makes progress; sometimes take it down.
    if (upVoters - 1 < Math.floor(voters.length / 2) + 1 && !random.chance(0.2)) return;
    const victim = random.pick(up);
    const point = random.pick<CrashPoint | undefined>([undefined, undefined, 'afterPersist', 'afterSend', 'afterApply', 'afterVote']);
    cluster.crash(victim.id, point);
    if (point === 'afterVote') {
      // Restarted by restartVoters once the armed crash strikes, inside the same election.
      this.voteCrashes.add(victim.id);
      return;
    }
    // Quick reboots land inside the election the node just took part in;
    // long outages make the others catch it up by snapshot.
    const downTicks = random.chance(0.4) ? random.int(1, 4) : random.int(5, 80);
    this.restartAtMs.set(victim.id, cluster.nowMs + downTicks * TICK_INTERVAL_MS);
  }

  private startPartition(): void {
    const { cluster, random } = this;
    const ids = [...cluster.nodes.values()].filter((node) => !node.decommissioned).map((node) => node.id);
    if (ids.length < 2) return;
    const kind = random.pick(['split', 'isolate', 'oneWay'] as const);
    const shuffled = random.shuffle(ids);
    if (kind === 'split') {
      const cut = random.int(1, shuffled.length - 1);
      cluster.network.partition([shuffled.slice(0, cut), shuffled.slice(cut)]);
      cluster.record(`partition split ${shuffled.slice(0, cut).join(',')} | ${shuffled.slice(cut).join(',')}`);
    } else if (kind === 'isolate') {
      // Often the leader: the interesting case for stale leaders and reads.
      const leaderId = cluster.leader()?.node.id;
      const isolated = leaderId !== undefined && random.chance(0.5) ? leaderId : (shuffled[0] as NodeId);
      cluster.network.partition([[isolated], ids.filter((id) => id !== isolated)]);
      cluster.record(`partition isolate ${isolated}`);
    } else {
      const from = shuffled[0] as NodeId;
      const targets = shuffled.slice(1, 1 + random.int(1, shuffled.length - 1));
      for (const to of targets) cluster.network.blockLink(from, to);
      cluster.record(`partition oneWay ${from} -/-> ${targets.join(',')}`);
    }
    this.partitions++;
    this.partitionHealAtMs = cluster.nowMs + random.int(10, 150) * TICK_INTERVAL_MS;
  }

  private operatorActions(): void {
    const { cluster, random, rates } = this;
    const leader = cluster.leader();
    if (leader === undefined) return;
    const confState = leader.status.confState;
    if (random.chance(rates.transfer)) {
      const others = confState.voters.filter((id) => id !== leader.node.id);
      if (others.length > 0) cluster.transferLeadership(leader.node.id, random.pick(others));
    }
    if (this.pendingChange !== undefined) {
      if (reflects(confState, this.pendingChange.change)) {
        this.membershipChangesCompleted++;
        cluster.record(`membership change ${this.pendingChange.change.type} ${this.pendingChange.change.nodeId} done`);
        this.pendingChange = undefined;
        this.plan.shift();
      } else if (cluster.nowMs - this.pendingChange.proposedAtMs < CONF_CHANGE_RETRY_TICKS * TICK_INTERVAL_MS) {
        return;
      } else {
        this.pendingChange = undefined;
      }
    }
    if (this.plan.length === 0) {
      if (!random.chance(rates.membership)) return;
      this.plan = this.choosePlan(confState);
      if (this.plan.length > 0) cluster.record(`membership plan ${this.plan.map((change) => `${change.type} ${change.nodeId}`).join(', ')}`);
    }
    const change = this.plan[0];
    if (change === undefined) return;
    const removesVoter = change.type === 'removeNode' && confState.voters.includes(change.nodeId);
    if (removesVoter && confState.voters.length <= MIN_VOTERS) {
      cluster.record(`membership plan dropped: removing ${change.nodeId} would leave fewer than ${MIN_VOTERS} voters`);
      this.plan = [];
      return;
    }
    if (cluster.proposeConfChange(leader.node.id, change)) {
      this.pendingChange = { change, proposedAtMs: cluster.nowMs };
    }
  }

  private choosePlan(confState: ConfState): ConfChange[] {
    const { cluster, random } = this;
    const members = confState.voters.length + confState.learners.length;
    const deadVoters = confState.voters.filter((id) => cluster.node(id)?.up !== true);
    const options: (() => ConfChange[])[] = [];
    if (members < MAX_MEMBERS) {
      options.push(() => [change('addLearner', cluster.addEmptyNode())]);
      if (deadVoters.length > 0) {
        // Replace a dead voter: add and promote its successor first, so the
        // voter count never drops below MIN_VOTERS.
        options.push(() => {
          const successor = cluster.addEmptyNode();
          return [change('addLearner', successor), change('addNode', successor), change('removeNode', random.pick(deadVoters))];
        });
      }
    }
    if (confState.learners.length > 0) {
      options.push(() => [change('addNode', random.pick(confState.learners))]);
      options.push(() => [change('removeNode', random.pick(confState.learners))]);
    }
    if (confState.voters.length > MIN_VOTERS) {
      options.push(() => [change('removeNode', random.pick(confState.voters))]);
    }
    if (options.length === 0) return [];
    return random.pick(options)();
  }

  private livenessPhase(livenessTicks: number): void {
    const cluster = this.cluster;
    cluster.record('liveness phase: faults stop');
    cluster.network.heal();
    this.partitionHealAtMs = undefined;
    cluster.network.setFaults({ dropProbability: 0, duplicateProbability: 0 });
    for (const node of cluster.nodes.values()) node.armedCrash = undefined;
    this.voteCrashes.clear();
    for (const node of cluster.downNodes()) cluster.restart(node.id);
    this.restartAtMs.clear();
    let tick = 0;
    for (; tick < livenessTicks && cluster.violations.length === 0; tick++) {
      // Nodes crashed before the phase began may still be down until restarted here.
      this.schedulerTick(() => {
        for (const node of cluster.downNodes()) cluster.restart(node.id);
      });
      if (tick % LIVENESS_CHECK_EVERY_TICKS === 0 && this.livenessViolations().length === 0) break;
    }
    this.livenessTicksUsed = tick;
    if (cluster.violations.length > 0) return;
    for (const violation of this.livenessViolations()) {
      cluster.violations.push(`after ${livenessTicks} liveness ticks: ${violation}`);
    }
  }

  private finalMembers(): NodeId[] {
    const confState = this.cluster.leader()?.status.confState;
    return confState === undefined ? [] : [...confState.voters, ...confState.learners];
  }

  private livenessViolations(): string[] {
    const cluster = this.cluster;
    return checkLiveness({
      members: this.finalMembers(),
      acknowledged: cluster.acknowledged,
      valuesOf: (id) => cluster.node(id)?.values(),
    });
  }
}

function change(type: ConfChange['type'], nodeId: NodeId): ConfChange {
  return { type, nodeId, context: EMPTY_BYTES };
}

function reflects(confState: ConfState, applied: ConfChange): boolean {
  switch (applied.type) {
    case 'addLearner':
      return confState.learners.includes(applied.nodeId) || confState.voters.includes(applied.nodeId);
    case 'addNode':
      return confState.voters.includes(applied.nodeId);
    case 'removeNode':
      return !confState.voters.includes(applied.nodeId) && !confState.learners.includes(applied.nodeId);
  }
}

function randomNetworkFaults(random: SeededRandom): NetworkFaults {
  return {
    dropProbability: random.pick([0, 0.01, 0.05, 0.15]),
    duplicateProbability: random.pick([0, 0.02, 0.1]),
    minDelayMs: 1,
    maxDelayMs: random.pick([3, 10, 30]),
  };
}
