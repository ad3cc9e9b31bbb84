import type { SeededRandom } from './random';

/** The faults a SimNetwork applies to each message it is handed. */
export interface NetworkFaults {
  /** Probability that a sent message is lost. */
  dropProbability: number;
  /** Probability that a sent message is delivered twice (each copy with its own delay). */
  duplicateProbability: number;
  /** Shortest delivery delay; must be at least 1 so a send never lands in the same instant. */
  minDelayMs: number;
  /** Longest delivery delay; different delays are what reorder messages. */
  maxDelayMs: number;
}

export interface SimNetworkConfig<M> extends NetworkFaults {
  /** Bound on messages in flight; a send beyond it is dropped, like a full socket buffer. */
  maxInFlightMessages: number;
  /**
   * Whether a message may be duplicated. A protocol that is not idempotent for
   * some message kinds (a client request forwarded once) says so here.
   */
  canDuplicate?: (message: M) => boolean;
  /**
   * Told of every lost message and why, as a sender's transport would learn
   * of a broken connection (the simulator turns these into the core's
   * reportUnreachable / reportSnapshot calls).
   */
  onLost?: (lost: LostMessage<M>) => void;
}

export type LossReason = 'dropped' | 'blocked' | 'overflowed' | 'recipientGone';

export interface LostMessage<M> {
  from: number;
  to: number;
  message: M;
  reason: LossReason;
}

export interface Envelope<M> {
  from: number;
  to: number;
  message: M;
  sentAtMs: number;
  deliverAtMs: number;
  /** Send order; breaks ties between messages due at the same instant. */
  sequence: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Lost because a partition or blocked link stood between the nodes. */
  blocked: number;
  /** Lost because the in-flight bound was reached. */
  overflowed: number;
}

/** A SimNetwork setting outside what it accepts. */
export class NetworkConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NetworkConfigError';
  }
}

/**
 * A simulated network between numbered nodes: it holds messages in flight
 * with a delivery time and loses, duplicates, delays, reorders and partitions
 * them, all decided by the seeded random source it is given, so one seed
 * yields one sequence of deliveries.
 */
export class SimNetwork<M> {
  private faults: NetworkFaults;
  private readonly inFlight: Envelope<M>[] = [];
  /** Directed links that cannot carry messages, as "from>to". */
  private readonly blockedLinks = new Set<string>();
  private nextSequence = 0;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, blocked: 0, overflowed: 0 };

  constructor(
    private readonly random: SeededRandom,
    private readonly config: SimNetworkConfig<M>,
  ) {
    this.faults = validateFaults({ ...config });
    if (!(config.maxInFlightMessages >= 1)) {
      throw new NetworkConfigError(`maxInFlightMessages must be at least 1, got ${config.maxInFlightMessages}`);
    }
  }

  /** Changes the fault rates from now on (messages already in flight keep their fate). */
  setFaults(faults: Partial<NetworkFaults>): void {
    this.faults = validateFaults({ ...this.faults, ...faults });
  }

  get currentFaults(): NetworkFaults {
    return { ...this.faults };
  }

  send(from: number, to: number, message: M, nowMs: number): void {
    this.stats.sent++;
    if (this.isBlocked(from, to)) {
      this.stats.blocked++;
      this.lose(from, to, message, 'blocked');
      return;
    }
    if (this.random.chance(this.faults.dropProbability)) {
      this.stats.dropped++;
      this.lose(from, to, message, 'dropped');
      return;
    }
    this.enqueue(from, to, message, nowMs);
    const duplicable = this.config.canDuplicate?.(message) ?? true;
    if (duplicable && this.random.chance(this.faults.duplicateProbability)) {
      this.stats.duplicated++;
      this.enqueue(from, to, message, nowMs);
    }
  }

  /**
   * Removes and returns the messages due at or before `nowMs`, earliest first.
   * A message whose link was cut while it was in flight is lost here.
   */
  deliverDue(nowMs: number): Envelope<M>[] {
    const due: Envelope<M>[] = [];
    let kept = 0;
    for (const envelope of this.inFlight) {
      if (envelope.deliverAtMs <= nowMs) due.push(envelope);
      else this.inFlight[kept++] = envelope;
    }
    this.inFlight.length = kept;
    due.sort((a, b) => a.deliverAtMs - b.deliverAtMs || a.sequence - b.sequence);
    const delivered: Envelope<M>[] = [];
    for (const envelope of due) {
      if (this.isBlocked(envelope.from, envelope.to)) {
        this.stats.blocked++;
        this.lose(envelope.from, envelope.to, envelope.message, 'blocked');
      } else {
        this.stats.delivered++;
        delivered.push(envelope);
      }
    }
    return delivered;
  }

  /** When the next message is due, or undefined when nothing is in flight. */
  nextDeliveryAtMs(): number | undefined {
    let earliest: number | undefined;
    for (const envelope of this.inFlight) {
      if (earliest === undefined || envelope.deliverAtMs < earliest) earliest = envelope.deliverAtMs;
    }
    return earliest;
  }

  get inFlightCount(): number {
    return this.inFlight.length;
  }

  /**
   * Loses every message in flight to `node`: a crashed machine's sockets are
   * gone, so nothing sent to it before the crash reaches it after a restart.
   * What it sent before crashing may still arrive.
   */
  dropMessagesTo(node: number): number {
    let kept = 0;
    const gone: Envelope<M>[] = [];
    for (const envelope of this.inFlight) {
      if (envelope.to === node) gone.push(envelope);
      else this.inFlight[kept++] = envelope;
    }
    this.inFlight.length = kept;
    this.stats.dropped += gone.length;
    for (const envelope of gone) this.lose(envelope.from, envelope.to, envelope.message, 'recipientGone');
    return gone.length;
  }

  /** Cuts both directions between every pair of nodes in different groups. */
  partition(groups: readonly (readonly number[])[]): void {
    for (const [groupIndex, group] of groups.entries()) {
      for (const [otherIndex, other] of groups.entries()) {
        if (groupIndex === otherIndex) continue;
        for (const from of group) for (const to of other) this.blockLink(from, to);
      }
    }
  }

  /** Cuts the link in one direction only: `from` can no longer reach `to`. */
  blockLink(from: number, to: number): void {
    if (from !== to) this.blockedLinks.add(linkKey(from, to));
  }

  unblockLink(from: number, to: number): void {
    this.blockedLinks.delete(linkKey(from, to));
  }

  isBlocked(from: number, to: number): boolean {
    return this.blockedLinks.has(linkKey(from, to));
  }

  get blockedLinkCount(): number {
    return this.blockedLinks.size;
  }

  /** Restores every link (messages lost so far stay lost). */
  heal(): void {
    this.blockedLinks.clear();
  }

  private enqueue(from: number, to: number, message: M, nowMs: number): void {
    if (this.inFlight.length >= this.config.maxInFlightMessages) {
      this.stats.overflowed++;
      this.lose(from, to, message, 'overflowed');
      return;
    }
    const delayMs = this.random.int(this.faults.minDelayMs, this.faults.maxDelayMs);
    this.inFlight.push({ from, to, message, sentAtMs: nowMs, deliverAtMs: nowMs + delayMs, sequence: this.nextSequence++ });
  }

  private lose(from: number, to: number, message: M, reason: LossReason): void {
    this.config.onLost?.({ from, to, message, reason });
  }
}

function linkKey(from: number, to: number): string {
  return `${from}>${to}`;
}

function validateFaults(faults: NetworkFaults): NetworkFaults {
  const { dropProbability, duplicateProbability, minDelayMs, maxDelayMs } = faults;
  for (const [name, probability] of [
    ['dropProbability', dropProbability],
    ['duplicateProbability', duplicateProbability],
  ] as const) {
    if (!(probability >= 0 && probability <= 1)) {
      throw new NetworkConfigError(`${name} must be within [0, 1], got ${probability}`);
    }
  }
  if (!Number.isSafeInteger(minDelayMs) || minDelayMs < 1) {
    throw new NetworkConfigError(`minDelayMs must be an integer of at least 1, got ${minDelayMs}`);
  }
  if (!Number.isSafeInteger(maxDelayMs) || maxDelayMs < minDelayMs) {
    throw new NetworkConfigError(`maxDelayMs must be an integer of at least minDelayMs (${minDelayMs}), got ${maxDelayMs}`);
  }
  return { dropProbability, duplicateProbability, minDelayMs, maxDelayMs };
}
