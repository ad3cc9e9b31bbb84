#!/usr/bin/env node
// `npm run sim -- --seeds 500`: runs seeded simulations of the Raft core and
// reports the seeds that broke a property. `--seed S --verbose` replays one.

import { Command, InvalidArgumentError } from 'commander';
import { simulate, type SimulateOptions } from './simulate';

const PROGRESS_EVERY_SEEDS = 50;

function integer(name: string, minimum: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw);
    if (!Number.isSafeInteger(value) || value < minimum) {
      throw new InvalidArgumentError(`${name} must be an integer of at least ${minimum}, got "${raw}"`);
    }
    return value;
  };
}

interface CliOptions {
  seeds?: number;
  start: number;
  seed?: number;
  verbose: boolean;
  faultTicks?: number;
  livenessTicks?: number;
}

function runMany(count: number, start: number, base: Omit<SimulateOptions, 'seed'>): number {
  let violations = 0;
  const failing: number[] = [];
  for (let offset = 0; offset < count; offset++) {
    const seed = start + offset;
    const result = simulate({ ...base, seed });
    if (result.violations.length > 0) {
      violations += result.violations.length;
      failing.push(seed);
      console.log(`seed ${seed}: ${result.violations[0]}`);
    }
    if ((offset + 1) % PROGRESS_EVERY_SEEDS === 0 && offset + 1 < count) {
      console.log(`progress: ${offset + 1}/${count} seeds, ${failing.length} failing`);
    }
  }
  if (failing.length > 0) console.log(`failing seeds: ${failing.join(' ')} (replay one with --seed S --verbose)`);
  console.log(`sim: ${count} seeds, ${violations} violations`);
  return violations;
}

function runOne(seed: number, verbose: boolean, base: Omit<SimulateOptions, 'seed'>): number {
  const result = simulate({ ...base, seed, ...(verbose ? { onTrace: (line: string) => console.log(line) } : {}) });
  for (const violation of result.violations) console.log(`violation: ${violation}`);
  console.log(`stats ${JSON.stringify(result.stats)}`);
  console.log(`trace ${result.traceHash}`);
  return result.violations.length;
}

function main(argv: string[]): void {
  const program = new Command()
    .name('sim')
    .description('Deterministic simulation of the Raft core: crashes, partitions, membership changes, checked for safety and liveness')
    .option('--seeds <count>', 'number of seeds to run', integer('--seeds', 1))
    .option('--start <seed>', 'first seed of a --seeds run', integer('--start', 0), 1)
    .option('--seed <seed>', 'replay one seed and print its trace hash', integer('--seed', 0))
    .option('--verbose', 'with --seed: print every trace line', false)
    .option('--fault-ticks <ticks>', 'length of the fault phase in ticks', integer('--fault-ticks', 0))
    .option('--liveness-ticks <ticks>', 'bound on the liveness phase in ticks', integer('--liveness-ticks', 1))
    .parse(argv);
  const options = program.opts<CliOptions>();
  const base: Omit<SimulateOptions, 'seed'> = {
    ...(options.faultTicks !== undefined ? { faultTicks: options.faultTicks } : {}),
    ...(options.livenessTicks !== undefined ? { livenessTicks: options.livenessTicks } : {}),
  };
  if (options.seed !== undefined && options.seeds !== undefined) program.error('use either --seed or --seeds, not both');
  if (options.verbose && options.seed === undefined) program.error('--verbose replays one run: give --seed too');
  const violations =
    options.seed !== undefined ? runOne(options.seed, options.verbose, base) : runMany(options.seeds ?? 100, options.start, base);
  process.exitCode = violations > 0 ? 1 : 0;
}

main(process.argv);
