import { RandomRangeError, SeededRandom } from './random';

function draws(random: SeededRandom, count: number): number[] {
  return Array.from({ length: count }, () => random.int(0, 1_000_000));
}

describe('SeededRandom', () => {
  it('replays the same sequence for the same seed and differs across seeds', () => {
    expect(draws(SeededRandom.fromSeed(7), 20)).toEqual(draws(SeededRandom.fromSeed(7), 20));
    expect(draws(SeededRandom.fromSeed(7), 20)).not.toEqual(draws(SeededRandom.fromSeed(8), 20));
    // Seeds differing only above bit 32 must not collide.
    expect(draws(SeededRandom.fromSeed(5), 20)).not.toEqual(draws(SeededRandom.fromSeed(5 + 2 ** 32), 20));
  });

  it('gives forks streams independent of how much the parent draws', () => {
    const quiet = SeededRandom.fromSeed(3);
    const busy = SeededRandom.fromSeed(3);
    const quietFork = quiet.fork();
    const busyFork = busy.fork();
    draws(busy, 50);
    expect(draws(busyFork, 10)).toEqual(draws(quietFork, 10));
    const secondFork = quiet.fork();
    expect(draws(secondFork, 10)).not.toEqual(draws(SeededRandom.fromSeed(3).fork(), 10));
  });

  it.each([
    { min: 0, max: 0 },
    { min: -5, max: 5 },
    { min: 10, max: 12 },
  ])('int stays within [$min, $max] and reaches both ends', ({ min, max }) => {
    const random = SeededRandom.fromSeed(11);
    const seen = new Set<number>();
    for (let draw = 0; draw < 500; draw++) {
      const value = random.int(min, max);
      expect(value).toBeGreaterThanOrEqual(min);
      expect(value).toBeLessThanOrEqual(max);
      seen.add(value);
    }
    expect(seen.has(min)).toBe(true);
    expect(seen.has(max)).toBe(true);
  });

  it('float stays in [0, 1)', () => {
    const random = SeededRandom.fromSeed(12);
    for (let draw = 0; draw < 1000; draw++) {
      const value = random.float();
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(1);
    }
  });

  it.each([
    { probability: 0, low: 0, high: 0 },
    { probability: 1, low: 1000, high: 1000 },
    { probability: 0.3, low: 240, high: 360 },
  ])('chance($probability) comes true about that often', ({ probability, low, high }) => {
    const random = SeededRandom.fromSeed(13);
    let hits = 0;
    for (let draw = 0; draw < 1000; draw++) if (random.chance(probability)) hits++;
    expect(hits).toBeGreaterThanOrEqual(low);
    expect(hits).toBeLessThanOrEqual(high);
  });

  it('pick returns members and shuffle returns a permutation without touching its input', () => {
    const random = SeededRandom.fromSeed(14);
    const items = [1, 2, 3, 4, 5, 6];
    for (let draw = 0; draw < 50; draw++) expect(items).toContain(random.pick(items));
    const shuffled = random.shuffle(items);
    expect(items).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...shuffled].sort()).toEqual(items);
    const orders = new Set<string>();
    for (let draw = 0; draw < 50; draw++) orders.add(random.shuffle(items).join(','));
    expect(orders.size).toBeGreaterThan(10);
  });

  it.each([
    { name: 'pick from empty', act: (random: SeededRandom) => random.pick([]) },
    { name: 'inverted int range', act: (random: SeededRandom) => random.int(3, 2) },
    { name: 'fractional int bound', act: (random: SeededRandom) => random.int(0, 2.5) },
    { name: 'unsafe seed', act: () => SeededRandom.fromSeed(2 ** 60) },
  ])('rejects $name', ({ act }) => {
    expect(() => act(SeededRandom.fromSeed(1))).toThrow(RandomRangeError);
  });
});
