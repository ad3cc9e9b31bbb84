import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';

type Generator = ReturnType<typeof xoroshiro128plus>;

/** An argument outside what a random helper accepts (empty list, inverted range). */
export class RandomRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RandomRangeError';
  }
}

/**
 * A seeded pseudo-random source: every value of a simulation comes from one of
 * these, so a seed replays a whole run. Never mix in Math.random or Date.
 */
export class SeededRandom {
  private constructor(private readonly generator: Generator) {}

  static fromSeed(seed: number): SeededRandom {
    if (!Number.isSafeInteger(seed)) {
      throw new RandomRangeError(`seed must be a safe integer, got ${seed}`);
    }
    // xoroshiro128plus takes a 32-bit seed; fold the high bits in so that
    // seeds above 2^32 do not collide with their low halves.
    const folded = (seed ^ Math.floor(seed / 0x1_0000_0000)) | 0;
    return new SeededRandom(xoroshiro128plus(folded));
  }

  /**
   * An independent stream for one consumer (one node, the network, ...). It
   * jumps 2^64 draws ahead, so adding draws in one consumer does not shift the
   * values another consumer sees.
   */
  fork(): SeededRandom {
    const forked = this.generator.clone();
    forked.jump();
    // Move this stream past the forked one too, so the next fork differs.
    this.generator.jump();
    this.generator.jump();
    return new SeededRandom(forked);
  }

  /** A float in [0, 1). */
  float(): number {
    return uniformFloat64(this.generator);
  }

  /** An integer in [minInclusive, maxInclusive]. */
  int(minInclusive: number, maxInclusive: number): number {
    if (!Number.isSafeInteger(minInclusive) || !Number.isSafeInteger(maxInclusive) || minInclusive > maxInclusive) {
      throw new RandomRangeError(`int range [${minInclusive}, ${maxInclusive}] is not a non-empty integer range`);
    }
    return uniformInt(this.generator, minInclusive, maxInclusive);
  }

  /** True with probability `probability` (0 never, 1 always). */
  chance(probability: number): boolean {
    if (probability <= 0) return false;
    if (probability >= 1) return true;
    return this.float() < probability;
  }

  /** One element of a non-empty list, uniformly. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RandomRangeError('pick from an empty list');
    return items[this.int(0, items.length - 1)] as T;
  }

  /** A shuffled copy (Fisher-Yates); the input is left as it was. */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let index = copy.length - 1; index > 0; index--) {
      const other = this.int(0, index);
      const held = copy[index] as T;
      copy[index] = copy[other] as T;
      copy[other] = held;
    }
    return copy;
  }
}
