import { simulate, type SimulateResult } from './simulate';

// A fixed set of seeds: together they crash nodes (also between persisting
// and sending), partition the network, change the membership, install
// snapshots and transfer leadership; the last test makes sure they still do,
// so a change to the workload cannot quietly turn this suite into a no-op.
const SEEDS = Array.from({ length: 60 }, (_, offset) => offset + 1);

const results = new Map<number, SimulateResult>();

describe('Raft simulation', () => {
  it.each(SEEDS)('seed %i keeps every safety and liveness property', (seed) => {
    const result = simulate({ seed });
    results.set(seed, result);
    expect(result.violations).toEqual([]);
  });

  it('exercised crashes, partitions, membership changes, snapshots, reads and transfers', () => {
    const total = (pick: (result: SimulateResult) => number): number =>
      [...results.values()].reduce((sum, result) => sum + pick(result), 0);
    expect(results.size).toBe(SEEDS.length);
    expect(total((result) => result.stats.crashes)).toBeGreaterThan(20);
    expect(total((result) => result.stats.restarts)).toBeGreaterThan(20);
    expect(total((result) => result.stats.partitions)).toBeGreaterThan(20);
    expect(total((result) => result.stats.membershipChangesCompleted)).toBeGreaterThan(20);
    expect(total((result) => result.stats.decommissioned)).toBeGreaterThan(5);
    expect(total((result) => result.stats.snapshotsInstalled)).toBeGreaterThan(10);
    expect(total((result) => result.stats.readsAnswered)).toBeGreaterThan(50);
    expect(total((result) => result.stats.transfers)).toBeGreaterThan(10);
    expect(total((result) => result.stats.acknowledged)).toBeGreaterThan(500);
    expect(total((result) => result.stats.network.duplicated)).toBeGreaterThan(0);
  });

  it('replays one seed exactly: same trace hash, different for another seed', () => {
    const first = simulate({ seed: 3 });
    const second = simulate({ seed: 3 });
    expect(second.traceHash).toBe(first.traceHash);
    expect(second.stats).toEqual(first.stats);
    expect(simulate({ seed: 4 }).traceHash).not.toBe(first.traceHash);
  });

  it('fails a run whose liveness phase is too short to converge', () => {
    // With a zero-tick liveness phase nothing can converge: the liveness
    // checker must say so rather than pass vacuously.
    const result = simulate({ seed: 5, livenessTicks: 1, rates: { crash: 0.05 } });
    expect(result.violations.some((violation) => violation.includes('liveness'))).toBe(true);
  });
});
