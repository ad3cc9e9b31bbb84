import { NetworkConfigError, SimNetwork, type SimNetworkConfig } from './network';
import { SeededRandom } from './random';

const reliable = { dropProbability: 0, duplicateProbability: 0, minDelayMs: 1, maxDelayMs: 1, maxInFlightMessages: 1000 };

function network(seed: number, config: Partial<SimNetworkConfig<string>> = {}): SimNetwork<string> {
  return new SimNetwork<string>(SeededRandom.fromSeed(seed), { ...reliable, ...config });
}

/** Delivers everything, advancing virtual time 1 ms at a time up to a bound. */
function drain(net: SimNetwork<string>, startMs: number, untilMs: number): string[] {
  const seen: string[] = [];
  for (let nowMs = startMs; nowMs <= untilMs; nowMs++) {
    for (const envelope of net.deliverDue(nowMs)) seen.push(`${envelope.from}>${envelope.to}:${envelope.message}`);
  }
  return seen;
}

describe('SimNetwork', () => {
  it('delivers in send order when delays are equal, never before the delay', () => {
    const net = network(1, { minDelayMs: 5, maxDelayMs: 5 });
    net.send(1, 2, 'a', 0);
    net.send(1, 2, 'b', 0);
    expect(net.deliverDue(4)).toEqual([]);
    expect(net.nextDeliveryAtMs()).toBe(5);
    expect(net.deliverDue(5).map((envelope) => envelope.message)).toEqual(['a', 'b']);
    expect(net.nextDeliveryAtMs()).toBeUndefined();
  });

  it('reorders messages when delays vary', () => {
    const net = network(2, { minDelayMs: 1, maxDelayMs: 50 });
    const sent = Array.from({ length: 30 }, (_, index) => `m${index}`);
    for (const message of sent) net.send(1, 2, message, 0);
    const received = drain(net, 0, 60).map((line) => line.split(':')[1]);
    expect([...received].sort()).toEqual([...sent].sort());
    expect(received).not.toEqual(sent);
  });

  it.each([
    { name: 'drops', config: { dropProbability: 0.5 }, check: (count: number) => count > 20 && count < 80 },
    { name: 'duplicates', config: { duplicateProbability: 0.5 }, check: (count: number) => count > 120 && count < 180 },
    { name: 'never duplicates what canDuplicate refuses', config: { duplicateProbability: 1, canDuplicate: () => false }, check: (count: number) => count === 100 },
  ])('$name', ({ config, check }) => {
    const net = network(3, config);
    for (let index = 0; index < 100; index++) net.send(1, 2, `m${index}`, 0);
    expect(check(drain(net, 0, 5).length)).toBe(true);
  });

  it('is deterministic for a seed', () => {
    const run = (seed: number): string[] => {
      const net = network(seed, { dropProbability: 0.2, duplicateProbability: 0.2, minDelayMs: 1, maxDelayMs: 30 });
      for (let index = 0; index < 40; index++) net.send(index % 3, (index + 1) % 3, `m${index}`, index);
      return drain(net, 0, 100);
    };
    expect(run(4)).toEqual(run(4));
    expect(run(4)).not.toEqual(run(5));
  });

  it('partitions symmetrically, blocks links one way, and heals', () => {
    const net = network(6);
    net.partition([[1, 2], [3]]);
    net.blockLink(1, 2);
    const attempts: [number, number][] = [[1, 2], [2, 1], [1, 3], [3, 1], [2, 3], [3, 2]];
    for (const [from, to] of attempts) net.send(from, to, 'x', 0);
    expect(drain(net, 0, 2)).toEqual(['2>1:x']);
    expect(net.stats.blocked).toBe(5);
    net.heal();
    for (const [from, to] of attempts) net.send(from, to, 'y', 10);
    expect(drain(net, 10, 12)).toHaveLength(6);
  });

  it('loses a message whose link is cut while it is in flight', () => {
    const net = network(7, { minDelayMs: 10, maxDelayMs: 10 });
    net.send(1, 2, 'late', 0);
    net.blockLink(1, 2);
    expect(net.deliverDue(10)).toEqual([]);
    expect(net.stats.blocked).toBe(1);
  });

  it('bounds messages in flight and forgets a crashed node', () => {
    const net = network(8, { maxInFlightMessages: 3, minDelayMs: 5, maxDelayMs: 5 });
    for (let index = 0; index < 5; index++) net.send(1, 2 + (index % 2), `m${index}`, 0);
    expect(net.inFlightCount).toBe(3);
    expect(net.stats.overflowed).toBe(2);
    net.send(3, 2, 'over', 0);
    expect(net.stats.overflowed).toBe(3);
    net.send(3, 2, 'from3', 0);
    expect(net.dropMessagesTo(3)).toBe(1);
    expect(drain(net, 0, 5)).toEqual(['1>2:m0', '1>2:m2']);
  });

  it('tells the sender side why each lost message was lost', () => {
    const lost: string[] = [];
    const net = network(10, { maxInFlightMessages: 2, minDelayMs: 5, maxDelayMs: 5, onLost: ({ from, to, message, reason }) => lost.push(`${from}>${to}:${message}:${reason}`) });
    net.blockLink(1, 3);
    net.send(1, 3, 'cut', 0);
    net.send(1, 2, 'a', 0);
    net.send(2, 4, 'b', 0);
    net.send(1, 2, 'full', 0);
    net.dropMessagesTo(4);
    net.setFaults({ dropProbability: 1 });
    net.send(1, 2, 'unlucky', 0);
    expect(lost).toEqual(['1>3:cut:blocked', '1>2:full:overflowed', '2>4:b:recipientGone', '1>2:unlucky:dropped']);
  });

  it.each([
    { name: 'a drop probability above 1', config: { dropProbability: 1.5 } },
    { name: 'a zero delay', config: { minDelayMs: 0 } },
    { name: 'an inverted delay range', config: { minDelayMs: 5, maxDelayMs: 2 } },
    { name: 'no room in flight', config: { maxInFlightMessages: 0 } },
  ])('rejects $name', ({ config }) => {
    expect(() => network(9, config)).toThrow(NetworkConfigError);
  });
});
